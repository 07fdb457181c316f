"""The drill replay engine: deterministic schedules, Poisson waves, windows, contingencies."""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import shapely

from dvc.core.geo import distance_m
from dvc.drills.events import DrillEvent
from dvc.drills.places import District, fictional_districts
from dvc.drills.replay import Fired, contingencies, due, fire, schedule
from dvc.drills.scenario import load, loads

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "drills").glob("*.yaml"))
MAIN = (35.6836, 139.5595)

HEADER = """\
id: replay-test
title: 再生テスト
status: exercise
start: 2026-09-01T09:00:00+09:00
seed: 11
speed: 60
duration: "6:00"
desks:
  - {id: reception, name: 受付}
  - {id: general, name: 総務}
objectives: []
initial:
  operation: {name: 架空市 訓練, prefecture: 東京都, municipality: 架空市}
  sites:
    - {name: 本部, kind: main, point: [35.6836, 139.5595]}
    - {name: 川辺サテライト, kind: satellite, point: [35.668, 139.588]}
%(districts)s
  volunteers: {pre_registered: %(pre)d}
injects:
"""


def build(injects: str, *, districts: str = "  districts: fictional", pre: int = 10,
          seed: int | None = None):
    text = HEADER % {"districts": districts, "pre": pre} + injects
    if seed is not None:
        text = text.replace("seed: 11", f"seed: {seed}")
    return loads(text)


def wave(rate: float = 120, duration: str = "2:00", extra: str = "") -> str:
    return f"""\
  - number: 1
    at: "+00:30"
    type: inject
    from: 住民
    to: [reception]
    method: walk_in
    message: ボランティアが来た
    payload: {{kind: volunteer_wave, rate: {rate}, duration: "{duration}"{extra}}}
"""


NEEDS = """\
  - number: 2
    at: "+01:00"
    type: inject
    from: 住民
    to: [general]
    method: phone
    message: 依頼
    payload:
      kind: need_requests
      count: 40
      over: "2:00"
      districts: {北町: 1, 川辺: 1}
      categories: {mud_removal: 3, debris: 1}
      people: [2, 5]
"""

CONTINGENT = """\
  - number: 1
    at: "+00:10"
    type: inject
    from: 本部
    to: [reception]
    method: phone
    message: 受付を開けて
    expect: {event: volunteer.checked_in, within: "0:20"}
    contingency: 21
  - number: 2
    at: "+00:30"
    type: inject
    from: 川辺
    to: [general]
    method: radio
    message: 停電
    payload: {kind: site_power_loss, site: 川辺サテライト, duration: "1:00"}
    expect: {event: site.paused, where: {subject: {site: 川辺サテライト}}, within: "0:15"}
    contingency: 22
  - number: 3
    at: "+00:40"
    type: expected_action
    to: [general]
    message: 最初のニーズ受付
    expect: {event: need.received, deadline: "+01:00"}
    contingency: 21
  - number: 21
    type: contingency
    from: 並んでいる人
    to: [reception]
    method: walk_in
    message: まだ？
    payload: {kind: volunteer_wave, rate: 30, duration: "0:30"}
  - number: 22
    type: contingency
    from: 本部
    to: [general]
    method: radio
    message: 川辺の状況は？
    expect: {event: site.paused, where: {subject: {site: 川辺サテライト}}, within: "0:10"}
    contingency: 23
  - number: 23
    type: contingency
    from: 市
    to: [general]
    method: phone
    message: 川辺と連絡がつかない
"""


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# --- determinism ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_same_scenario_and_seed_give_the_same_schedule(path):
    scenario = load(path)
    first, second = schedule(scenario), schedule(scenario)
    assert first.deliveries == second.deliveries
    assert first.pre_registered == second.pre_registered
    assert first.fingerprint() == second.fingerprint()
    assert schedule(scenario, seed=scenario.seed + 1).fingerprint() != first.fingerprint()


def test_schedule_is_identical_in_other_processes_whatever_the_hash_seed():
    path = ROOT / "drills" / "heavy-rain-peak-day.yaml"
    here = schedule(load(path)).fingerprint()
    code = ("import sys; from dvc.drills.scenario import load; "
            "from dvc.drills.replay import schedule; "
            "print(schedule(load(sys.argv[1])).fingerprint())")
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                             text=True, env=env, cwd=ROOT, check=True)
        assert out.stdout.strip() == here


def test_a_different_seed_draws_different_people_and_times():
    a, b = schedule(build(wave())), schedule(build(wave()), seed=12)
    times_a = [d.at for d in a if d.kind == "volunteer_arrival"]
    times_b = [d.at for d in b if d.kind == "volunteer_arrival"]
    assert times_a != times_b


def test_editing_one_inject_leaves_the_others_draws_alone():
    base = schedule(build(wave() + NEEDS))
    changed = schedule(build(wave(rate=60) + NEEDS))
    needs = [(d.at, d.item.lat, d.item.category) for d in base if d.kind == "need_request"]
    assert needs == [(d.at, d.item.lat, d.item.category) for d in changed
                     if d.kind == "need_request"]


# --- volunteer waves ----------------------------------------------------------------------------

def test_poisson_arrivals_have_about_the_expected_count():
    # 120 parties an hour for two hours: 240 expected, sd about 15.5. Seeded: deterministic.
    counts = [sum(1 for d in schedule(build(wave()), seed=s) if d.kind == "volunteer_arrival")
              for s in range(20)]
    assert all(240 - 70 <= c <= 240 + 70 for c in counts), counts
    assert abs(statistics.mean(counts) - 240) < 3 * 15.5 / 20 ** 0.5 + 1, counts
    assert len(set(counts)) > 1  # they are random draws, not a fixed number


def test_poisson_gaps_look_exponential():
    arrivals = sorted(d.at for d in schedule(build(wave(rate=600, duration="3:00")))
                      if d.kind == "volunteer_arrival")
    gaps = [(b - a).total_seconds() for a, b in zip(arrivals, arrivals[1:])]
    mean = statistics.mean(gaps)
    assert 5.0 < mean < 7.0  # 3600 / 600 = 6 s
    # For an exponential law the standard deviation equals the mean (a fixed rhythm has 0).
    assert 0.8 * mean < statistics.pstdev(gaps) < 1.2 * mean


def test_arrivals_fall_inside_the_wave_and_in_order():
    plan = schedule(build(wave()))
    start = plan.scenario.inject(1).at
    arrivals = [d for d in plan if d.kind == "volunteer_arrival"]
    assert all(start <= d.at < start + timedelta(hours=2) for d in arrivals)
    assert [d.at for d in arrivals] == sorted(d.at for d in arrivals)
    assert [d.key for d in arrivals] == [f"1/arrival/{i}" for i in range(1, len(arrivals) + 1)]
    assert all(d.item.site == "本部" and d.to == ("reception",) for d in arrivals)


def test_arrivals_follow_the_skill_vehicle_and_group_mix():
    extra = (", skills: {chainsaw: 0.5}, vehicle_share: 1, group_share: 0.5, "
             "pre_registered_share: 0")
    people = [d.item.person for d in schedule(build(wave(rate=600, extra=extra)))
              if d.kind == "volunteer_arrival"]
    assert len(people) > 900
    assert 0.4 < sum("chainsaw" in p.skills for p in people) / len(people) < 0.6
    assert all(p.vehicle in ("car", "light_truck") for p in people)
    groups = [p for p in people if p.group_size]
    assert 0.4 < len(groups) / len(people) < 0.6
    assert all(2 <= p.group_size <= 10 and p.group_name for p in groups)
    assert all(p.headcount == (p.group_size or 1) for p in people)


def test_pre_registered_arrivals_come_from_the_pool_once_each():
    plan = schedule(build(wave(extra=", pre_registered_share: 0.5"), pre=40))
    assert len(plan.pre_registered) == 40
    pool = {p.ref: p for p in plan.pre_registered}
    arrivals = [d.item for d in plan if d.kind == "volunteer_arrival"]
    registered = [a.person for a in arrivals if a.registered]
    assert registered and all(pool[p.ref] == p for p in registered)
    assert len({p.ref for p in registered}) == len(registered)
    assert all(not a.registered and a.person.ref not in pool for a in arrivals
               if not a.registered)


def test_when_the_pool_runs_out_arrivals_walk_up():
    plan = schedule(build(wave(extra=", pre_registered_share: 1"), pre=5))
    arrivals = [d.item for d in plan if d.kind == "volunteer_arrival"]
    assert sum(a.registered for a in arrivals) == 5
    assert len(arrivals) > 5


def test_people_are_fictional_and_distinct():
    plan = schedule(build(wave(rate=900, duration="4:00"), pre=200))
    people = list(plan.pre_registered) + [d.item.person for d in plan
                                          if d.kind == "volunteer_arrival"]
    unique = {p.ref: p for p in people}.values()
    assert len(unique) > 3000
    assert all(re.fullmatch(r"090-0\d{3}-\d{4}", p.phone) for p in unique)
    assert all(re.fullmatch(r"070-0\d{3}-\d{4}", p.emergency_phone) for p in unique)
    # The app treats the same phone, or the same name and birth year, as the same person.
    assert len({p.phone for p in unique}) == len(unique)
    assert len({(p.name, p.birth_year) for p in unique}) == len(unique)
    assert all(1950 <= p.birth_year <= 2026 - 18 for p in unique)
    registration = next(iter(unique)).registration()
    assert registration["consent"] is True and registration["phone"].startswith("090-0")


# --- need requests ----------------------------------------------------------------------------

def test_need_requests_fall_inside_their_districts():
    plan = schedule(build(NEEDS))
    needs = [d for d in plan if d.kind == "need_request"]
    assert len(needs) == 40
    start = plan.scenario.inject(2).at
    assert all(start <= d.at <= start + timedelta(hours=2) for d in needs)
    shapes = {name: shapely.geometry.shape(g) for name, g in fictional_districts(*MAIN)}
    for d in needs:
        need = d.item
        assert need.district in ("北町", "川辺")
        # shapely is the independent judge of our ray casting
        assert shapes[need.district].contains(shapely.Point(need.lon, need.lat)), need
        assert need.category in ("mud_removal", "debris")
        assert 2 <= need.people_min <= need.people_max <= 5
        assert re.fullmatch(r"080-0\d{3}-\d{4}", need.phone)
        assert need.address.startswith(f"架空市{need.district}")
        assert need.need_input()["category"] == need.category
    assert Counter(d.item.district for d in needs).keys() == {"北町", "川辺"}
    assert len({d.item.phone for d in needs}) == 40


def test_without_polygons_needs_are_placed_around_the_site():
    injects = NEEDS.replace("      districts: {北町: 1, 川辺: 1}\n", "      site: 川辺サテライト\n")
    plan = schedule(build(injects, districts=""))
    needs = [d.item for d in plan if d.kind == "need_request"]
    assert plan.districts == ()
    assert all(distance_m(n.lat, n.lon, 35.668, 139.588) <= 1500.5 for n in needs)
    assert all(n.district is None and n.site == "川辺サテライト" for n in needs)


def test_the_fictional_city_is_built_around_the_main_site():
    plan = schedule(build(NEEDS))
    names = [name for name, _ in plan.districts]
    assert names == ["中央", "北町", "南町", "東町", "西町", "川辺", "山手"]
    centre = District.from_geojson("中央", dict(plan.districts)["中央"])
    assert centre.contains(*MAIN)


def test_need_requests_without_over_arrive_at_once():
    plan = schedule(build(NEEDS.replace('      over: "2:00"\n', "")))
    times = {d.at for d in plan if d.kind == "need_request"}
    assert times == {plan.scenario.inject(2).at}


# --- other payloads, windows -------------------------------------------------------------------

def test_power_loss_and_restoration_are_two_deliveries():
    plan = schedule(build(CONTINGENT))
    power = [(d.kind, d.at - plan.scenario.start) for d in plan if d.inject == 2]
    assert power == [("message", minutes(30)), ("site_power_loss", minutes(30)),
                     ("site_power_restored", minutes(90))]


def test_expected_action_rows_and_contingencies_are_not_scheduled():
    plan = schedule(build(CONTINGENT))
    assert {d.inject for d in plan} == {1, 2}
    assert [n for n, _ in plan.contingent] == [21, 22, 23]


def test_due_returns_each_delivery_once_over_consecutive_windows():
    plan = schedule(build(wave() + NEEDS))
    start = plan.scenario.start
    ticks = [None] + [start + minutes(7 * i) for i in range(0, 60)]
    seen = []
    for since, until in zip(ticks, ticks[1:]):
        window = due(plan, since, until)
        assert all((since is None or d.at > since) and d.at <= until for d in window)
        seen.extend(window)
    assert [d.key for d in seen] == [d.key for d in plan.deliveries]
    assert len({d.key for d in seen}) == len(seen)


def test_due_includes_the_start_and_orders_message_before_payload():
    plan = schedule(build(CONTINGENT))
    at_30 = due(plan, plan.scenario.start + minutes(29), plan.scenario.start + minutes(30))
    assert [d.key for d in at_30] == ["2", "2/power_lost"]
    assert due(plan, None, plan.scenario.start) == []
    assert [d.key for d in due(plan, None, plan.scenario.start + minutes(10))] == ["1"]


# --- contingencies ---------------------------------------------------------------------------

def ev(kind: str, at_minutes: float, scenario, subject=None, **payload) -> DrillEvent:
    return DrillEvent(kind, scenario.start + minutes(at_minutes), subject, payload)


REFS = {"site": {"川辺サテライト": 2, "本部": 1}}


def fired_numbers(plan, events, now_minutes, refs=REFS):
    now = plan.scenario.start + minutes(now_minutes)
    return [(f.number, f.because, (f.at - plan.scenario.start) / minutes(1))
            for f in contingencies(plan, events, now, refs)]


def test_nothing_fires_before_a_deadline():
    plan = schedule(build(CONTINGENT))
    assert fired_numbers(plan, [], 29.9) == []


def test_a_missed_action_fires_its_contingency_at_the_deadline():
    plan = schedule(build(CONTINGENT))
    assert fired_numbers(plan, [], 30) == [(21, 1, 30.0)]


@pytest.mark.parametrize("at, fires", [
    (5, True),      # before the inject was delivered: it does not count
    (10, False),    # at delivery
    (29, False),    # inside the window
    (30, False),    # on the deadline
    (31, True),     # too late
])
def test_an_action_counts_only_between_delivery_and_deadline(at, fires):
    plan = schedule(build(CONTINGENT))
    scenario = plan.scenario
    events = [ev("volunteer.checked_in", at, scenario, volunteer_id=1)]
    assert (21 in [n for n, *_ in fired_numbers(plan, events, 35)]) is fires


def test_where_fields_and_references_must_match():
    plan = schedule(build(CONTINGENT))
    s = plan.scenario
    right = [ev("site.paused", 40, s, subject="site:2")]
    wrong = [ev("site.paused", 40, s, subject="site:1")]
    assert 22 not in [n for n, *_ in fired_numbers(plan, right, 46)]
    assert (22, 2, 45.0) in fired_numbers(plan, wrong, 46)
    # Without the reference the site cannot be recognised: the action is not seen.
    assert 22 in [n for n, *_ in fired_numbers(plan, right, 46, refs={})]


def test_a_late_delivery_moves_the_deadline():
    plan = schedule(build(CONTINGENT))
    s = plan.scenario
    late = [ev("drill.inject_delivered", 25, s, inject=1)]
    assert 21 not in [n for n, *_ in fired_numbers(plan, late, 44)]
    assert (21, 1, 45.0) in fired_numbers(plan, late, 45)


def test_a_skipped_inject_expects_nothing():
    plan = schedule(build(CONTINGENT))
    skipped = [ev("drill.inject_skipped", 10, plan.scenario, inject=1),
               ev("drill.inject_skipped", 40, plan.scenario, inject=3)]
    assert 21 not in [n for n, *_ in fired_numbers(plan, skipped, 50)]


def test_a_contingency_named_twice_fires_once_at_the_earliest_deadline():
    plan = schedule(build(CONTINGENT))
    fired = [f for f in fired_numbers(plan, [], 120) if f[0] == 21]
    assert fired == [(21, 1, 30.0)]
    # With inject 1's action done, inject 3's fixed deadline (+01:00) fires it.
    done = [ev("volunteer.checked_in", 15, plan.scenario, volunteer_id=1)]
    assert [f for f in fired_numbers(plan, done, 120) if f[0] == 21] == [(21, 3, 60.0)]


def test_contingencies_chain_from_when_they_fired():
    plan = schedule(build(CONTINGENT))
    # 2 delivered at +30, deadline +45: 22 fires at +45; its own deadline +55 fires 23.
    assert [f for f in fired_numbers(plan, [], 54.9) if f[0] in (22, 23)] == [(22, 2, 45.0)]
    assert [f for f in fired_numbers(plan, [], 55) if f[0] in (22, 23)] == \
        [(22, 2, 45.0), (23, 22, 55.0)]
    late_action = [ev("site.paused", 50, plan.scenario, subject="site:2")]
    assert [f[0] for f in fired_numbers(plan, late_action, 120) if f[0] in (22, 23)] == [22]


def test_contingencies_is_idempotent_and_ignores_future_events():
    plan = schedule(build(CONTINGENT))
    future = [ev("volunteer.checked_in", 200, plan.scenario, volunteer_id=1)]
    assert fired_numbers(plan, future, 40) == fired_numbers(plan, [], 40)
    assert fired_numbers(plan, [], 40) == fired_numbers(plan, [], 40)


def test_fire_shifts_a_contingency_payload_to_when_it_fired():
    plan = schedule(build(CONTINGENT))
    fired = Fired(21, plan.scenario.start + minutes(30), 1)
    items = fire(plan, fired)
    assert items[0].kind == "message" and items[0].at == fired.at
    arrivals = [d for d in items if d.kind == "volunteer_arrival"]
    assert arrivals and all(fired.at <= d.at < fired.at + minutes(30) for d in arrivals)
    window = due(plan, fired.at - minutes(1), fired.at + minutes(60), fired=[fired])
    assert {d.key for d in items} <= {d.key for d in window}
    assert fire(plan, fired) == items  # the same people every time it is fired


def test_events_can_be_plain_dicts_or_rows():
    from types import SimpleNamespace
    plan = schedule(build(CONTINGENT))
    s = plan.scenario
    as_dict = {"kind": "site.paused", "scenario_dt": s.start + minutes(40),
               "subject_type": "site", "subject_id": 2, "payload": {}}
    as_row = SimpleNamespace(**as_dict)
    for event in (as_dict, as_row):
        assert 22 not in [n for n, *_ in fired_numbers(plan, [event], 46)]
