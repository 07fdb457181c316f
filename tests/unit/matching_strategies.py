"""Hypothesis strategies and plan checks shared by the matching tests (pure: no app)."""
from __future__ import annotations

import pytest
from hypothesis import strategies as st

from dvc.matching.model import Instance, Need, Plan, Volunteer, objective, violations

# Few skills, so that coverage is often at stake on small instances.
SKILLS = ("chainsaw", "driving", "nursing")
PRIORITIES = ("urgent", "high", "normal", "low")


@st.composite
def instances(draw, max_volunteers: int = 25, max_needs: int = 8, max_sites: int = 3,
              max_headcount: int = 3) -> Instance:
    """Draw a small Instance: several sites, groups (members share a site), skills, vehicles,
    experience, leaders, headcounts above 1; ids distinct but not contiguous, in any order."""
    sites = list(range(1, draw(st.integers(1, max_sites)) + 1))
    n_vol = draw(st.integers(0, max_volunteers))
    n_need = draw(st.integers(0, max_needs))
    vol_ids = draw(st.lists(st.integers(1, 500), min_size=n_vol, max_size=n_vol, unique=True))
    need_ids = draw(st.lists(st.integers(1, 500), min_size=n_need, max_size=n_need,
                             unique=True))
    n_groups = draw(st.integers(0, 4))
    group_site = {g: draw(st.sampled_from(sites)) for g in range(101, 101 + n_groups)}
    volunteers = []
    for vid in vol_ids:
        group = draw(st.sampled_from([None, None, *group_site])) if group_site else None
        site = group_site[group] if group is not None else draw(st.sampled_from(sites))
        volunteers.append(Volunteer(
            id=vid, site_id=site, group_id=group,
            skills=draw(st.frozensets(st.sampled_from(SKILLS), max_size=2)),
            vehicle=draw(st.booleans()), experience=draw(st.integers(0, 6)),
            leader_capable=draw(st.booleans()),
            headcount=draw(st.sampled_from([1, 1, 1, *range(2, max_headcount + 1)]))))
    needs = []
    for nid in need_ids:
        people_min = draw(st.integers(1, 5))
        needs.append(Need(
            id=nid, site_id=draw(st.sampled_from(sites)), people_min=people_min,
            people_max=people_min + draw(st.integers(0, 4)),
            skills=draw(st.frozensets(st.sampled_from(SKILLS), max_size=2)),
            vehicle=draw(st.booleans()), priority=draw(st.sampled_from(PRIORITIES)),
            continuing=draw(st.booleans()), days_waiting=draw(st.integers(0, 20)),
            distance_km=draw(st.floats(0, 15, allow_nan=False).map(lambda d: round(d, 1)))))
    return Instance(volunteers=tuple(volunteers), needs=tuple(needs))


def check_plan(instance: Instance, plan: Plan) -> None:
    """Assert what every plan must satisfy, whoever made it."""
    assert violations(instance, plan) == []
    assert plan.objective == pytest.approx(objective(instance, plan.teams), abs=1e-6)
    placed = [i for t in plan.teams for i in t.member_ids]
    all_volunteers = sorted(v.id for v in instance.volunteers)
    assert sorted(placed + list(plan.unassigned_volunteer_ids)) == all_volunteers
    served = [t.need_id for t in plan.teams]
    assert sorted(served + list(plan.unserved_need_ids)) == sorted(n.id for n in instance.needs)
    leader_capable = {v.id for v in instance.volunteers if v.leader_capable}
    for team in plan.teams:
        if leader_capable & set(team.member_ids):
            assert team.leader_id in leader_capable, f"team of need {team.need_id}"
