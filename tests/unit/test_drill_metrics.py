"""Drill metrics on hand-made event lists with known answers, and P/S/M/U thresholds."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from dvc.drills.events import DrillEvent
from dvc.drills.metrics import (Rating, Stat, StockOut, compute, default_limits, percentile,
                                rate, report_lines)
from dvc.drills.replay import contingencies, due, schedule
from dvc.drills.scenario import (EventMeasure, MetricMeasure, Objective, load, loads)

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 9, 1, 0, 0, tzinfo=timezone.utc)
END = START + timedelta(hours=1)


def at(m: float) -> datetime:
    return START + timedelta(minutes=m)


def ev(kind: str, m: float, subject: str | None = None, **payload) -> DrillEvent:
    return DrillEvent(kind, at(m), subject, payload)


def metrics_of(events, **kw):
    return compute(events, start=START, end=kw.pop("end", END), **kw)


# --- percentiles ------------------------------------------------------------------------------

@pytest.mark.parametrize("values, q, expected", [
    ([], 50, None),
    ([7], 90, 7),
    (list(range(1, 11)), 50, 5),
    (list(range(1, 11)), 90, 9),
    (list(range(10, 0, -1)), 90, 9),
    ([4, 10, 6], 50, 6),
    ([4, 10, 6], 90, 10),
    (list(range(1, 21)), 90, 18),
    ([1, 2, 3, 4, 5], 50, 3),          # rank ceil(2.5) = 3, not round(2.5) = 2
    (list(range(1, 8)), 90, 7),        # rank ceil(6.3) = 7: the slowest of seven
])
def test_nearest_rank_percentile(values, q, expected):
    assert percentile(values, q) == expected


# --- each metric ------------------------------------------------------------------------------

def test_time_to_open_reception_is_the_first_check_in_after_the_start():
    events = [ev("volunteer.checked_in", -5, volunteer_id=9),  # a staff test before the start
              ev("volunteer.checked_in", 12, volunteer_id=1),
              ev("volunteer.checked_in", 14, volunteer_id=2)]
    assert metrics_of(events).time_to_open_reception == 12.0
    assert metrics_of([]).time_to_open_reception is None


def test_check_in_wait_pairs_arrivals_with_check_ins():
    events = [ev("drill.volunteer_arrived", 0, volunteer_id=1),
              ev("drill.volunteer_arrived", 5, volunteer_id=2),
              ev("drill.volunteer_arrived", 10, volunteer_id=3),
              ev("volunteer.checked_in", 4, volunteer_id=1),
              ev("volunteer.checked_in", 15, volunteer_id=2),
              ev("volunteer.checked_in", 16, volunteer_id=3),
              ev("volunteer.checked_in", 17, volunteer_id=8)]  # came without a drill arrival
    wait = metrics_of(events).checkin_wait
    assert (wait.n, wait.p50, wait.p90, wait.max, wait.censored) == (3, 6.0, 10.0, 10.0, 0)


def test_arrivals_never_checked_in_wait_until_the_end():
    events = [ev("drill.volunteer_arrived", 0, volunteer_id=1),
              ev("volunteer.checked_in", 4, volunteer_id=1),
              ev("drill.volunteer_arrived", 20, volunteer_id=4)]
    wait = metrics_of(events).checkin_wait
    assert (wait.n, wait.censored, wait.p90) == (2, 1, 40.0)


def test_reception_to_dispatch_follows_team_members():
    events = [ev("volunteer.checked_in", 4, volunteer_id=1, headcount=1),
              ev("volunteer.checked_in", 15, volunteer_id=2, headcount=3),
              ev("volunteer.checked_in", 16, volunteer_id=3, headcount=1),
              ev("team.formed", 20, "team:1", need_id=5, member_ids=[1, 2], headcount=4),
              ev("team.dispatched", 30, "team:1", need_id=5),
              ev("team.formed", 40, "team:2", need_id=6, member_ids=[3], headcount=1)]
    m = metrics_of(events)
    d = m.reception_to_dispatch
    assert (d.n, d.p50, d.p90) == (2, 15.0, 26.0)
    assert m.not_dispatched == 1          # volunteer 3's team never left
    assert m.volunteers_checked_in == 5   # people: a group counts its headcount
    assert m.volunteers_dispatched == 4


def test_needs_backlog_every_quarter_hour():
    events = [ev("need.received", 0, "need:1"), ev("need.received", 10, "need:2"),
              ev("need.received", 20, "need:3"),
              ev("need.status_changed", 25, "need:1", to="completed"),
              ev("need.status_changed", 35, "need:3", to="on_hold"),
              ev("need.status_changed", 40, "need:2", to="cancelled")]
    m = metrics_of(events)
    assert [(t - START) / timedelta(minutes=1) for t, _ in m.backlog] == [0, 15, 30, 45, 60]
    assert [n for _, n in m.backlog] == [1, 2, 2, 1, 1]
    assert (m.needs_received, m.needs_closed, m.needs_completed) == (3, 2, 1)
    assert (m.value("backlog_max"), m.value("backlog_end")) == (2, 1)


def test_mismatches_from_team_warnings():
    events = [ev("team.formed", 5, "team:1", need_id=1, member_ids=[1],
                 warnings=["missing_skills", "understaffed"]),
              ev("team.formed", 6, "team:2", need_id=2, member_ids=[2], warnings=[]),
              ev("team.formed", 7, "team:3", need_id=3, member_ids=[3],
                 warnings=["no_light_truck"])]
    m = metrics_of(events)
    assert [(x.team, x.lacking) for x in m.mismatches] == [
        ("team:1", ("missing_skills",)), ("team:3", ("no_light_truck",))]
    assert (m.value("mismatches"), m.teams_unjudged) == (2, 0)


def test_mismatches_computed_when_warnings_are_not_logged():
    events = [ev("need.received", 0, "need:1", skills=["chainsaw"], vehicle_needed=True),
              ev("need.received", 0, "need:2", skills=[], vehicle_needed=False),
              ev("volunteer.registered", 0, "volunteer:1", skills=["driving"], vehicle="car"),
              ev("volunteer.registered", 0, "volunteer:2", skills=["chainsaw"],
                 vehicle="light_truck"),
              ev("team.formed", 5, "team:1", need_id=1, member_ids=[1]),
              ev("team.formed", 6, "team:2", need_id=1, member_ids=[1, 2]),
              ev("team.formed", 7, "team:3", need_id=2, member_ids=[1])]
    m = metrics_of(events)
    assert [(x.team, x.lacking) for x in m.mismatches] == [
        ("team:1", ("missing_skills", "no_light_truck"))]


def test_mismatches_are_unknown_without_warnings_or_data():
    events = [ev("team.formed", 5, "team:1", need_id=1, member_ids=[1])]
    m = metrics_of(events)
    assert (m.teams_formed, m.teams_unjudged, m.value("mismatches")) == (1, 1, None)
    assert metrics_of([]).value("mismatches") == 0


def test_stockouts_when_a_lend_empties_a_shelf_or_is_refused():
    shelf = {"site_id": 1, "item_type_id": 7, "item": "スコップ"}
    events = [ev("equipment.received", 0, "itemtype:7", quantity=5, **shelf),
              ev("equipment.lent", 5, "team:1", quantity=3, **shelf),
              ev("equipment.lent", 6, "team:2", quantity=2, **shelf),    # 0 left: stock-out
              ev("equipment.returned", 20, "team:1", quantity=2, **shelf),
              ev("equipment.lent", 25, "team:3", quantity=1, **shelf),   # 1 left: fine
              ev("equipment.lend_refused", 30, "team:4", requested=5, available=1, **shelf),
              ev("equipment.adjusted", 35, "itemtype:7", quantity=1, **shelf),  # sign unknown
              ev("equipment.lent", 36, "team:5", quantity=1, **shelf),   # not followed
              ev("equipment.lent", 40, "team:6", quantity=1, on_hand=0, **shelf)]  # says 0
    m = metrics_of(events)
    assert [(s.at, s.reason) for s in m.stockouts] == [(at(6), "empty"), (at(30), "refused"),
                                                       (at(40), "empty")]
    assert m.value("stockouts") == 3
    assert m.stockouts[0] == StockOut(at(6), 1, 7, "スコップ", "empty")


def test_shelves_are_kept_apart():
    a = {"site_id": 1, "item_type_id": 7}
    b = {"site_id": 2, "item_type_id": 7}
    events = [ev("equipment.received", 0, None, quantity=2, **a),
              ev("equipment.received", 0, None, quantity=2, **b),
              ev("equipment.lent", 5, None, quantity=2, **a),
              ev("equipment.lent", 6, None, quantity=1, **b)]
    assert [(s.site_id, s.reason) for s in metrics_of(events).stockouts] == [(1, "empty")]


SCENARIO = """\
id: metrics-test
title: 指標テスト
status: exercise
start: 2026-09-01T09:00:00+09:00
seed: 3
speed: 60
duration: "1:00"
desks:
  - {id: needs, name: ニーズ}
objectives:
  - id: first-need
    title: 最初のニーズ
    measure: {event: need.received, within: "0:20"}
  - id: recall
    title: 帰還指示
    measure: {event: team.recall_all, within: "0:10", after: 3}
  - id: wait
    title: 待ち時間
    measure: {metric: checkin_wait_p90, max: 20}
initial:
  operation: {name: 架空市 訓練, prefecture: 東京都, municipality: 架空市}
  sites:
    - {name: 本部, kind: main, point: [35.6836, 139.5595]}
injects:
  - {number: 1, at: "+00:00", type: information, from: 市, to: [needs], method: phone,
     message: 開設}
  - {number: 2, at: "+00:10", type: inject, from: 住民, to: [needs], method: phone,
     message: 依頼, expect: {event: need.received, within: "0:15"}}
  - {number: 3, type: contingency, from: 気象庁, to: [needs], method: alert, message: 大雨}
  - {number: 4, at: "+00:20", type: inject, from: 住民, to: [needs], method: phone,
     message: 依頼2, expect: {event: need.received, within: "0:15"}, contingency: 3}
"""


def test_response_per_inject_is_the_first_acknowledgement_or_action():
    scenario = loads(SCENARIO)
    events = [ev("drill.inject_delivered", 0, inject=1),
              ev("drill.inject_acknowledged", 3, inject=1, desk="needs"),
              ev("drill.inject_acknowledged", 5, inject=1, desk="needs"),
              ev("drill.inject_delivered", 10, inject=2),
              ev("need.received", 12, "need:1"),
              ev("drill.inject_acknowledged", 14, inject=2, desk="needs"),
              ev("drill.inject_delivered", 20, inject=4)]
    m = compute(events, scenario=scenario)
    responses = {r.inject: r.response for r in m.inject_responses}
    assert responses == {1: 3.0, 2: 2.0, 4: None}
    assert m.value("unacknowledged_injects") == 1
    assert (m.value("inject_response_p50"), m.value("inject_response_p90")) == (2.0, 3.0)
    # Without the scenario the expected action is unknown: only acknowledgements count.
    assert {r.inject: r.response for r in metrics_of(events).inject_responses}[2] == 4.0


def test_contingencies_fired_are_counted():
    events = [ev("drill.contingency_fired", 35, inject=3, because=4)]
    m = metrics_of(events)
    assert [(c.inject, c.because) for c in m.contingencies_fired] == [(3, 4)]
    assert m.value("contingencies_fired") == 1


def test_event_rows_and_dicts_give_the_same_metrics():
    rows = [SimpleNamespace(kind="need.received", scenario_dt=at(1), subject_type="need",
                            subject_id=1, payload={}),
            {"kind": "need.status_changed", "scenario_dt": at(20), "subject_type": "need",
             "subject_id": 1, "payload": {"to": "completed"}}]
    plain = [ev("need.received", 1, "need:1"),
             ev("need.status_changed", 20, "need:1", to="completed")]
    assert metrics_of(rows).as_dict() == metrics_of(plain).as_dict()
    assert metrics_of(rows).needs_completed == 1


def test_as_dict_is_json_and_stable():
    events = [ev("drill.volunteer_arrived", 0, volunteer_id=1),
              ev("volunteer.checked_in", 4, volunteer_id=1)]
    text = json.dumps(metrics_of(events).as_dict(), sort_keys=True)
    assert text == json.dumps(metrics_of(list(events)).as_dict(), sort_keys=True)
    assert json.loads(text)["values"]["checkin_wait_p90"] == 4.0


# --- ratings ------------------------------------------------------------------------------------

def objective(measure) -> Objective:
    return Objective("o", "目標", measure)


@pytest.mark.parametrize("event_at, rating", [
    (20, "P"), (30, "P"), (31, "S"), (45, "S"), (46, "M"), (60, "M"), (61, "U"), (None, "U"),
])
def test_event_within_ratings(event_at, rating):
    events = [] if event_at is None else [ev("need.received", event_at, "need:1")]
    measure = EventMeasure("need.received", timedelta(minutes=30))
    m = metrics_of(events, end=START + timedelta(hours=2))
    result = rate([objective(measure)], m, events)[0]
    assert result.rating == rating
    assert result.value == event_at


def test_event_ratings_honour_some_major_and_count():
    measure = EventMeasure("need.received", timedelta(minutes=10), count=2,
                           some=timedelta(minutes=12), major=timedelta(minutes=14))
    events = [ev("need.received", 2, "need:1"), ev("need.received", 13, "need:2")]
    assert rate([objective(measure)], metrics_of(events), events)[0].rating == "M"
    events[1] = ev("need.received", 12, "need:2")
    assert rate([objective(measure)], metrics_of(events), events)[0].rating == "S"


def test_event_ratings_count_from_the_after_inject():
    scenario = loads(SCENARIO)
    events = [ev("need.received", 5, "need:1"),
              ev("drill.inject_delivered", 30, inject=3),
              ev("team.recall_all", 44, None)]
    ratings = {r.objective: r for r in rate(scenario, compute(events, scenario=scenario),
                                            events)}
    assert (ratings["first-need"].rating, ratings["first-need"].value) == ("P", 5.0)
    assert (ratings["recall"].rating, ratings["recall"].value) == ("S", 14.0)
    # The contingency never fired: its objective was not tested.
    quiet = [ev("need.received", 5, "need:1")]
    recall = rate(scenario, compute(quiet, scenario=scenario), quiet)[1]
    assert recall.rating is None and "not tested" in recall.reason


def with_value(metric: str, value):
    """Return metrics whose `metric` is `value` (built by hand, no events)."""
    base = metrics_of([])
    if metric == "checkin_wait_p90":
        return replace(base, checkin_wait=Stat(1, value, value, value))
    if metric == "stockouts":
        return replace(base, stockouts=tuple(StockOut(START, 1, 1, "x", "refused")
                                             for _ in range(value)))
    if metric == "needs_completed":
        return replace(base, needs_completed=value)
    if metric == "time_to_open_reception":
        return replace(base, time_to_open_reception=value)
    raise AssertionError(metric)


@pytest.mark.parametrize("metric, bound, value, rating", [
    # minutes, at most 20: S up to 25 (x1.25), M up to 30 (x1.5)
    ("checkin_wait_p90", 20, 12.0, "P"), ("checkin_wait_p90", 20, 20.0, "P"),
    ("checkin_wait_p90", 20, 25.0, "S"), ("checkin_wait_p90", 20, 30.0, "M"),
    ("checkin_wait_p90", 20, 30.1, "U"),
    # counts, at most 0: S at 1, M at 2
    ("stockouts", 0, 0, "P"), ("stockouts", 0, 1, "S"), ("stockouts", 0, 2, "M"),
    ("stockouts", 0, 3, "U"),
    # counts, at most 3: S up to 4, M up to 5
    ("stockouts", 3, 3, "P"), ("stockouts", 3, 4, "S"), ("stockouts", 3, 5, "M"),
    ("stockouts", 3, 6, "U"),
])
def test_metric_at_most_ratings(metric, bound, value, rating):
    measure = MetricMeasure(metric, max=bound)
    assert rate([objective(measure)], with_value(metric, value), [])[0].rating == rating


@pytest.mark.parametrize("value, rating", [(70, "P"), (60, "P"), (48, "S"), (47, "M"),
                                           (36, "M"), (35, "U"), (0, "U")])
def test_metric_at_least_ratings(value, rating):
    measure = MetricMeasure("needs_completed", min=60)
    assert rate([objective(measure)], with_value("needs_completed", value), [])[0].rating == \
        rating


def test_metric_ratings_honour_some_and_major():
    measure = MetricMeasure("checkin_wait_p90", max=10, some=15, major=20)
    grades = [rate([objective(measure)], with_value("checkin_wait_p90", v), [])[0].rating
              for v in (10, 15, 20, 21)]
    assert grades == ["P", "S", "M", "U"]


def test_no_data_is_not_rated_but_no_reception_is_unable():
    wait = rate([objective(MetricMeasure("checkin_wait_p90", max=20))], metrics_of([]), [])[0]
    assert wait.rating is None and "no data" in wait.reason
    opened = rate([objective(MetricMeasure("time_to_open_reception", max=30))],
                  metrics_of([]), [])[0]
    assert opened.rating == "U"


@pytest.mark.parametrize("metric, bound, upper, limits", [
    ("checkin_wait_p90", 20, True, (25.0, 30.0)),
    ("stockouts", 0, True, (1, 2)),
    ("mismatches", 10, True, (13, 15)),
    ("needs_completed", 50, False, (40.0, 30.0)),
])
def test_default_limits(metric, bound, upper, limits):
    assert default_limits(metric, bound, upper) == limits


# --- a whole drill, played by a simple scripted policy ------------------------------------

def play(path: Path) -> tuple[dict, list[Rating]]:
    """Play a shipped scenario with naive desks (no app): check in every arrival after 4
    minutes, log each need, acknowledge every message after 2 minutes."""
    scenario = load(path)
    plan = schedule(scenario)
    events, volunteer_ids = [], {}
    for delivery in due(plan, None, scenario.end):
        t = delivery.at
        if delivery.kind == "message":
            events.append(DrillEvent("drill.inject_delivered", t, None,
                                     {"inject": delivery.inject}))
            events.append(DrillEvent("drill.inject_acknowledged", t + timedelta(minutes=2),
                                     None, {"inject": delivery.inject}))
        elif delivery.kind == "volunteer_arrival":
            vid = volunteer_ids.setdefault(delivery.item.person.ref, len(volunteer_ids) + 1)
            events.append(DrillEvent("drill.volunteer_arrived", t, None, {"volunteer_id": vid}))
            payload = {"volunteer_id": vid, "headcount": delivery.item.person.headcount}
            events.append(DrillEvent("volunteer.checked_in", t + timedelta(minutes=4),
                                     f"checkin:{vid}", payload))
        elif delivery.kind == "need_request":
            events.append(DrillEvent("need.received", t, f"need:{delivery.key}", {}))
    fired = contingencies(plan, events, scenario.end)
    events += [DrillEvent("drill.contingency_fired", f.at, None,
                          {"inject": f.number, "because": f.because}) for f in fired]
    metrics = compute(events, scenario=scenario)
    return metrics.as_dict(), rate(scenario, metrics, events)


def test_a_played_drill_gives_identical_metrics_every_time():
    path = ROOT / "drills" / "earthquake-setup.yaml"
    first, ratings = play(path)
    second, again = play(path)
    assert first == second and ratings == again
    assert first["values"]["checkin_wait_p90"] == 4.0
    assert first["values"]["inject_response_p90"] == 2.0
    by_id = {r.objective: r.rating for r in ratings}
    assert by_id["open-reception"] == "P" and by_id["checkin-wait"] == "P"
    assert by_id["first-dispatch"] == "U"  # the naive desks never send a team out
    lines = report_lines(compute([], start=START), ratings)
    assert any(line.startswith("objective first-dispatch: U") for line in lines)


def test_an_unfollowed_shelf_is_not_taken_for_empty():
    shelf = {"site_id": 1, "item_type_id": 7}
    events = [ev("equipment.received", 0, None, quantity=5, **shelf),
              ev("equipment.adjusted", 5, None, quantity=2, **shelf),   # up or down? unknown
              ev("equipment.received", 6, None, quantity=1, **shelf),
              ev("equipment.lent", 7, None, quantity=1, **shelf),
              ev("equipment.adjusted", 8, None, quantity=2, on_hand_change=-2, on_hand=2,
                 **shelf),
              ev("equipment.lent", 9, None, quantity=2, **shelf)]       # 2 -> 0: stock-out
    assert [s.at for s in metrics_of(events).stockouts] == [at(9)]
