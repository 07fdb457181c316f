"""The matching engine: every strategy's plans obey the model's hard rules; the default one also
makes the choices a coordinator would (tricky cases, each cross-checked with the exact MILP)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings

from dvc.matching.engine import STRATEGIES, suggest
from dvc.matching.model import Instance, Need, Volunteer, objective
from dvc.matching.reference import solve_exact
from dvc.matching.samples import random_instance
from tests.unit.matching_strategies import check_plan, instances

ALL = sorted(STRATEGIES)


def test_registry_names_the_strategies_the_app_offers():
    assert {"default", "first_come"} <= set(ALL)


@pytest.mark.parametrize("strategy", ALL)
@settings(max_examples=100, deadline=None)
@given(instance=instances())
def test_every_plan_is_feasible_scored_and_complete(strategy, instance):
    plan = suggest(instance, strategy=strategy)
    check_plan(instance, plan)
    assert all(team.reason.strip() for team in plan.teams)


@pytest.mark.parametrize("strategy", ALL)
@settings(max_examples=30, deadline=None)
@given(instance=instances())
def test_same_instance_same_plan(strategy, instance):
    assert suggest(instance, strategy=strategy) == suggest(instance, strategy=strategy)


@pytest.mark.parametrize("strategy", ALL)
@pytest.mark.parametrize("seed", [1, 2])
def test_realistic_instance(strategy, seed):
    instance = random_instance(200, 50, seed=seed)
    plan = suggest(instance, strategy=strategy)
    check_plan(instance, plan)
    assert plan.teams


# --- tricky cases -----------------------------------------------------------------------

def vol(id, site=1, **kw):
    return Volunteer(id=id, site_id=site, **kw)


def need(id, lo, hi, site=1, **kw):
    return Need(id=id, site_id=site, people_min=lo, people_max=hi, **kw)


def team_of(plan, need_id):
    return next((t for t in plan.teams if t.need_id == need_id), None)


def exact_objective(instance):
    result = solve_exact(instance, time_limit=20)
    assert result.status == "optimal"
    return result.objective


@pytest.mark.parametrize("strategy", ALL)
def test_group_larger_than_any_need_stays_whole_and_unassigned(strategy):
    group = [vol(i, group_id=7) for i in range(1, 7)]          # six people, needs take <= 4
    instance = Instance(volunteers=(*group, vol(10), vol(11), vol(12)),
                        needs=(need(1, 2, 4, priority="high"), need(2, 2, 3)))
    plan = suggest(instance, strategy=strategy)
    check_plan(instance, plan)
    assert {1, 2, 3, 4, 5, 6} <= set(plan.unassigned_volunteer_ids)
    assert [t.need_id for t in plan.teams] == [1]                # three singles serve one
    assert set(team_of(plan, 1).member_ids) <= {10, 11, 12}
    if strategy == "default":                                     # and all three go
        assert set(team_of(plan, 1).member_ids) == {10, 11, 12}


@pytest.mark.parametrize("strategy", ALL)
def test_group_that_fits_is_placed_whole(strategy):
    group = [vol(i, group_id=3) for i in (1, 2, 3)]
    instance = Instance(volunteers=tuple(group), needs=(need(1, 2, 5),))
    plan = suggest(instance, strategy=strategy)
    check_plan(instance, plan)
    assert set(team_of(plan, 1).member_ids) == {1, 2, 3}


@pytest.mark.parametrize("strategy", ALL)
def test_group_spread_over_two_sites_is_never_placed(strategy):
    instance = Instance(volunteers=(vol(1, group_id=5), vol(2, site=2, group_id=5), vol(3),
                                    vol(4, site=2)),
                        needs=(need(1, 1, 3), need(2, 1, 3, site=2)))
    plan = suggest(instance, strategy=strategy)
    check_plan(instance, plan)
    assert {1, 2} <= set(plan.unassigned_volunteer_ids)
    assert list(team_of(plan, 1).member_ids) == [3]
    assert list(team_of(plan, 2).member_ids) == [4]


@pytest.mark.parametrize("strategy", ALL)
def test_no_vehicle_holder_leaves_vehicle_needs_unserved(strategy):
    instance = Instance(volunteers=tuple(vol(i) for i in range(1, 7)),
                        needs=(need(1, 2, 3, vehicle=True, priority="urgent"), need(2, 2, 3),
                               need(3, 1, 2, vehicle=True)))
    plan = suggest(instance, strategy=strategy)
    check_plan(instance, plan)
    assert set(plan.unserved_need_ids) == {1, 3}
    assert team_of(plan, 2) is not None


@pytest.mark.parametrize("strategy", ALL)
def test_skill_nobody_has_leaves_the_need_unserved(strategy):
    instance = Instance(
        volunteers=(vol(1, skills=frozenset({"driving"})), vol(2), vol(3), vol(4)),
        needs=(need(1, 1, 4, skills=frozenset({"chainsaw"}), priority="urgent"),
               need(2, 1, 4, skills=frozenset({"driving", "chainsaw"})), need(3, 2, 4)))
    plan = suggest(instance, strategy=strategy)
    check_plan(instance, plan)
    assert set(plan.unserved_need_ids) == {1, 2}
    if strategy == "default":                                     # a whiteboard stops at 2
        assert set(team_of(plan, 3).member_ids) == {1, 2, 3, 4}


@pytest.mark.parametrize("strategy", ALL)
def test_needs_at_another_site_are_not_staffed_from_here(strategy):
    instance = Instance(volunteers=(vol(1), vol(2)),
                        needs=(need(1, 1, 2, site=2, priority="urgent"), need(2, 1, 2)))
    plan = suggest(instance, strategy=strategy)
    check_plan(instance, plan)
    assert list(plan.unserved_need_ids) == [1]


def test_more_volunteers_than_work_serves_every_need_to_its_max():
    people = [vol(i, experience=i % 5, vehicle=i == 7, skills=frozenset({"carpentry"})
                  if i == 12 else frozenset()) for i in range(1, 21)]
    needs = (need(1, 2, 4), need(2, 3, 5, vehicle=True), need(3, 1, 3, skills=frozenset(
        {"carpentry"}), priority="low"))
    instance = Instance(volunteers=tuple(people), needs=needs)
    plan = suggest(instance)
    check_plan(instance, plan)
    assert not plan.unserved_need_ids
    for n in needs:
        assert len(team_of(plan, n.id).member_ids) == n.people_max
    assert len(plan.unassigned_volunteer_ids) == 20 - 12
    assert plan.objective == pytest.approx(exact_objective(instance))


def test_more_work_than_volunteers_serves_the_most_valuable_needs():
    # Four people, five needs of two each: the urgent and the high one are worth the most.
    # The low need waits longest and comes first on the whiteboard; it should still wait.
    instance = Instance(
        volunteers=tuple(vol(i) for i in range(1, 5)),
        needs=(need(1, 2, 2, priority="low", days_waiting=10), need(2, 2, 2),
               need(3, 2, 2, priority="urgent", distance_km=12),
               need(4, 2, 2, priority="high", continuing=True), need(5, 2, 2, priority="low")))
    plan = suggest(instance)
    check_plan(instance, plan)
    assert {t.need_id for t in plan.teams} == {3, 4}
    assert plan.objective == pytest.approx(exact_objective(instance))


def test_a_big_urgent_need_beats_two_small_low_ones():
    instance = Instance(volunteers=tuple(vol(i) for i in range(1, 5)),
                        needs=(need(1, 2, 2, priority="low"), need(2, 2, 2, priority="low"),
                               need(3, 4, 4, priority="urgent")))
    plan = suggest(instance)
    check_plan(instance, plan)
    assert [t.need_id for t in plan.teams] == [3]
    assert plan.objective == pytest.approx(exact_objective(instance))


def test_the_only_skilled_volunteer_goes_where_the_skill_is_needed():
    instance = Instance(
        volunteers=(vol(1, skills=frozenset({"chainsaw"})), vol(2), vol(3), vol(4)),
        needs=(need(1, 2, 2, priority="high"),
               need(2, 2, 2, priority="high", skills=frozenset({"chainsaw"}))))
    plan = suggest(instance)
    check_plan(instance, plan)
    assert not plan.unserved_need_ids
    assert 1 in team_of(plan, 2).member_ids


@pytest.mark.parametrize("strategy", ALL)
def test_a_leader_capable_volunteer_becomes_leader(strategy):
    instance = Instance(volunteers=(vol(1, experience=30), vol(2, leader_capable=True),
                                    vol(3, experience=2)),
                        needs=(need(1, 3, 3),))
    plan = suggest(instance, strategy=strategy)
    check_plan(instance, plan)
    assert team_of(plan, 1).leader_id == 2


def test_without_a_leader_capable_member_the_most_experienced_leads():
    instance = Instance(volunteers=(vol(1, experience=1), vol(2, experience=9), vol(3)),
                        needs=(need(1, 3, 3),))
    plan = suggest(instance)
    assert team_of(plan, 1).leader_id == 2


@pytest.mark.parametrize("strategy", ALL)
def test_empty_instances(strategy):
    for instance in (Instance((), ()), Instance((vol(1),), ()), Instance((), (need(1, 1, 2),))):
        plan = suggest(instance, strategy=strategy)
        check_plan(instance, plan)
        assert not plan.teams and plan.objective == 0.0


def test_objective_is_the_models():
    instance = random_instance(60, 15, seed=5)
    plan = suggest(instance)
    assert plan.objective == pytest.approx(objective(instance, plan.teams))
    assert plan.objective > 0
