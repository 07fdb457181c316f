"""Drill scenario files: schema and semantic errors with their line and field; shipped files."""
from __future__ import annotations

import ast
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from dvc.drills import scenario as sc
from dvc.drills.scenario import Problem, ScenarioError, check, check_text, load, loads

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "drills").glob("*.yaml"))

# Line numbers in the tables below refer to this text: keep it as it is.
BASE = """\
id: test-drill
title: テスト訓練
status: exercise
start: 2026-09-01T09:00:00+09:00
seed: 7
speed: 60
duration: "2:00"
desks:
  - {id: reception, name: 受付}
  - {id: needs, name: ニーズ}
objectives:
  - id: open
    title: 受付開始
    measure: {event: volunteer.checked_in, within: "0:30"}
initial:
  operation: {name: 架空市 訓練, prefecture: 東京都, municipality: 架空市}
  sites:
    - {name: 本部, kind: main, point: [35.6836, 139.5595]}
    - {name: 北町サテライト, kind: satellite, point: [35.699, 139.548]}
  districts: fictional
  volunteers: {pre_registered: 10}
injects:
  - number: 1
    at: "+00:00"
    type: inject
    from: 市災害対策本部
    to: [reception]
    method: phone
    message: 受付を開設してください
    expect: {event: volunteer.checked_in, within: "0:15"}
    contingency: 2
  - number: 2
    type: contingency
    from: 並んでいる人
    to: [reception]
    method: walk_in
    message: まだですか
  - number: 3
    at: "+00:10"
    type: information
    from: 住民
    to: [needs]
    method: phone
    message: 片付けをお願いしたい
    payload:
      kind: need_requests
      count: 5
      districts: [北町]
"""


def edited(old: str, new: str) -> str:
    assert BASE.count(old) == 1, f"the table's anchor {old!r} must occur once in BASE"
    return BASE.replace(old, new)


def problems_of(text: str, base=None) -> list[Problem]:
    return check_text(text, base=base)


def find(problems: list[Problem], path: str) -> Problem:
    hits = [p for p in problems if p.path == path]
    assert hits, f"no problem at {path!r}; got {[str(p) for p in problems]}"
    return hits[0]


def test_base_is_valid_and_loads():
    assert problems_of(BASE) == []
    scenario = loads(BASE)
    assert scenario.id == "test-drill"
    assert scenario.start == datetime(2026, 9, 1, 0, 0, tzinfo=timezone.utc)
    assert scenario.end - scenario.start == timedelta(hours=2)
    assert [i.number for i in scenario.injects] == [1, 2, 3]
    assert scenario.inject(2).at is None and scenario.inject(1).contingency == 2
    assert scenario.inject(3).payload.districts == (("北町", 1.0),)
    assert scenario.initial.main_site.name == "本部"


# (anchor, replacement, line, field, words in the message)
SCHEMA_ERRORS = [
    ("    method: phone\n    message: 受付", "    methd: phone\n    message: 受付", 28,
     "injects[0].methd", "unknown field 'methd' (did you mean 'method'?)"),
    ("    method: phone\n    message: 受付", "    methd: phone\n    message: 受付", 23,
     "injects[0]", "missing required field 'method'"),
    ("speed: 60", "speed: fast", 6, "speed", "should be a number"),
    ("method: walk_in", "method: fax", 36, "injects[1].method", "'fax' is not allowed here"),
    ('at: "+00:10"', 'at: "9時"', 39, "injects[2].at", "is not a time"),
    ("status: exercise", "status: real", 3, "status", "must be 'exercise'"),
    ("point: [35.6836, 139.5595]", "point: [35.6836]", 18, "initial.sites[0].point",
     "should be a pair [latitude, longitude]"),
    ("point: [35.699, 139.548]", "point: [135.699, 139.548]", 19, "initial.sites[1].point[0]",
     "maximum of 46"),
    ("      count: 5", "      count: 0", 47, "injects[2].payload.count", "minimum of 1"),
    ("      kind: need_requests", "      kind: flood", 46, "injects[2].payload.kind",
     "'flood' is not allowed here"),
    ("      districts: [北町]", "      districts: [北町]\n      categories: {mud: 1}", 49,
     "injects[2].payload.categories.mud", "'mud' is not allowed here"),
    ("      count: 5", "      count: 5\n      colour: red", 48, "injects[2].payload.colour",
     "unknown field 'colour'"),
    ('duration: "2:00"', "duration: two hours", 7, "duration", "is not a duration"),
    ("seed: 7", "seed: -1", 5, "seed", "minimum of 0"),
    ("  - {id: needs, name: ニーズ}", "  - {id: Needs Desk, name: ニーズ}", 10, "desks[1].id",
     "is not a name"),
    ('measure: {event: volunteer.checked_in, within: "0:30"}',
     'measure: {event: checked in, within: "0:30"}', 14, "objectives[0].measure.event",
     "is not an event kind"),
    ('measure: {event: volunteer.checked_in, within: "0:30"}',
     "measure: {metric: speed_of_light, max: 3}", 14, "objectives[0].measure.metric",
     "'speed_of_light' is not allowed here"),
    ("seed: 7\n", "", 1, "", "missing required field 'seed'"),
    ("    to: [needs]", "    to: needs", 42, "injects[2].to", "should be an array"),
    ('expect: {event: volunteer.checked_in, within: "0:15"}',
     'expect: {event: site.paused, where: {subject: {place: 本部}}, within: "0:15"}', 30,
     "injects[0].expect.where.subject", "reference such as {site: 本部}"),
    # YAML 1.1 reads a key `no` as False: it stays the name it looks like.
    ("  - number: 3\n", "  - number: 3\n    no: 4\n", 39, "injects[2].no", "unknown field 'no'"),
    ("seed: 7", "seed: 7\nseed: 8", 6, "seed", "'seed' is given twice"),
    ("    message: まだですか", "\tmessage: まだですか", 37, "", "not valid YAML"),
]


@pytest.mark.parametrize("old, new, line, path, words", SCHEMA_ERRORS,
                         ids=[f"{c[3] or 'file'}:{c[4][:24]}" for c in SCHEMA_ERRORS])
def test_schema_errors_name_the_line_and_field(old, new, line, path, words):
    problems = problems_of(edited(old, new))
    problem = find(problems, path)
    assert problem.severity == "error"
    assert problem.line == line, str(problem)
    assert words in problem.message, str(problem)


def test_unknown_field_points_at_the_key_column():
    problem = find(problems_of(edited("    method: phone\n    message: 受付",
                                       "    methd: phone\n    message: 受付")),
                   "injects[0].methd")
    assert (problem.line, problem.column) == (28, 5)


def test_value_errors_point_at_the_value_column():
    problem = find(problems_of(edited("speed: 60", "speed: fast")), "speed")
    assert (problem.line, problem.column) == (6, 8)


def test_base_60_numbers_stay_times():
    # Unquoted, YAML 1.1 reads 2:00 as 120 and 1:30 as 90; a scenario means hours.
    scenario = loads(edited('duration: "2:00"', "duration: 2:00"))
    assert scenario.duration == timedelta(hours=2)
    scenario = loads(edited('within: "0:15"', "within: 1:30"))
    assert scenario.inject(1).expect.within == timedelta(hours=1, minutes=30)


# (anchor, replacement, line, field, words, severity)
SEMANTIC_ERRORS = [
    ("  - number: 3", "  - number: 1", 38, "injects[2].number", "inject number 1 is used twice",
     "error"),
    ("contingency: 2", "contingency: 9", 31, "injects[0].contingency", "no inject number 9",
     "error"),
    ("contingency: 2", "contingency: 3", 31, "injects[0].contingency",
     "inject 3 is of type information, not contingency", "error"),
    ("contingency: 2", "contingency: 9", 32, "injects[1].number",
     "contingency 2 is never fired", "warning"),
    ("    to: [needs]", "    to: [need]", 42, "injects[2].to[0]",
     "no desk 'need' in desks (did you mean 'needs'?)", "error"),
    ('within: "0:15"}', 'deadline: "+00:00"}', 30, "injects[0].expect.deadline",
     "the deadline must be after the inject's time", "error"),
    ('within: "0:15"}', 'within: "0:15", deadline: "+00:30"}', 30, "injects[0].expect",
     "not both", "error"),
    ("    type: contingency", '    at: "+00:30"\n    type: contingency', 33, "injects[1].at",
     "a contingency has no time", "error"),
    ('    at: "+00:10"\n', "", 38, "injects[2]", "missing required field 'at'", "error"),
    ('at: "+00:10"', 'at: "08:00"', 39, "injects[2].at", "before the scenario starts", "error"),
    ('at: "+00:10"', 'at: "+03:00"', 39, "injects[2].at", "after the scenario ends", "warning"),
    ('at: "+00:10"', 'at: "25:00"', 39, "injects[2].at", "is not a clock time", "error"),
    ("districts: [北町]", "districts: [北区]", 48, "injects[2].payload.districts[0]",
     "no district '北区'", "error"),
    ("name: 架空市 訓練,", "name: 架空市,", 16, "initial.operation.name", "must say 訓練",
     "error"),
    ("kind: satellite", "kind: main", 19, "initial.sites[1].kind",
     "only one site can be the main centre", "error"),
    ("districts: fictional", "districts: nowhere.geojson", 20, "initial.districts",
     "no districts file 'nowhere.geojson'", "error"),
    ("start: 2026-09-01T09:00:00+09:00", "start: 2026-09-01T09:00:00+08:00", 4, "start",
     "does not match Asia/Tokyo", "error"),
    ("      districts: [北町]", "      districts: [北町]\n      skills: {juggling: 0.5}", 49,
     "injects[2].payload.skills.juggling", "unknown skill 'juggling'", "error"),
    ('{event: volunteer.checked_in, within: "0:15"}',
     '{event: volunteer.checkedin, within: "0:15"}', 30, "injects[0].expect.event",
     "did you mean 'volunteer.checked_in'?", "warning"),
    ('{event: volunteer.checked_in, within: "0:15"}',
     '{event: site.paused, where: {subject: {site: 南町サテライト}}, within: "0:15"}', 30,
     "injects[0].expect.where.subject.site", "no site '南町サテライト'", "error"),
    ('measure: {event: volunteer.checked_in, within: "0:30"}',
     "measure: {metric: checkin_wait_p90, max: 20, min: 5}", 14, "objectives[0].measure",
     "give either 'max' (at most) or 'min' (at least), not both", "error"),
    ('measure: {event: volunteer.checked_in, within: "0:30"}',
     "measure: {metric: checkin_wait_p90, max: 20, some: 10}", 14,
     "objectives[0].measure.some", "'some' must be at least the bound", "error"),
    ('within: "0:30"}', 'within: "0:30", after: 8}', 14, "objectives[0].measure.after",
     "no inject number 8", "error"),
    ("    type: information", "    type: expected_action", 38, "injects[2]",
     "an expected_action row needs 'expect'", "error"),
    ("    type: information", "    type: expected_action\n    expect: {event: need.received, "
     'within: "0:30"}', 46, "injects[2].payload", "is not delivered", "error"),
    ("      kind: need_requests", "      kind: need_requests\n      people: [6, 2]", 47,
     "injects[2].payload.people", "6 is more than 2", "error"),
    ("      count: 5\n      districts: [北町]",
     "      count: 5\n      districts: {北町: 0}", 48, "injects[2].payload.districts",
     "at least one weight must be above 0", "error"),
]


@pytest.mark.parametrize("old, new, line, path, words, severity", SEMANTIC_ERRORS,
                         ids=[f"{c[3]}:{c[4][:24]}" for c in SEMANTIC_ERRORS])
def test_semantic_errors_name_the_line_and_field(old, new, line, path, words, severity):
    problems = problems_of(edited(old, new))
    hits = [p for p in problems if p.path == path and words in p.message]
    assert hits, f"wanted {path}: {words}; got {[str(p) for p in problems]}"
    assert hits[0].line == line, str(hits[0])
    assert hits[0].severity == severity


def test_contingency_without_expect_is_an_error():
    text = edited("    message: 片付けをお願いしたい\n",
                  "    message: 片付けをお願いしたい\n    contingency: 2\n")
    problem = find(problems_of(text), "injects[2].contingency")
    assert "give 'expect' too" in problem.message and problem.line == 45


CONTINGENCY_TAIL = """\
  - number: 4
    type: contingency
    from: 本部
    to: [reception]
    method: radio
    message: 連絡してください
    expect: {event: site.paused, within: "0:10"}
    contingency: %s
"""


def test_contingencies_that_fire_each_other_in_a_loop_are_an_error():
    text = edited("    message: まだですか\n", "    message: まだですか\n"
                  '    expect: {event: site.paused, within: "0:10"}\n    contingency: 4\n')
    problems = problems_of(text + CONTINGENCY_TAIL % 2)
    loop = [p for p in problems if "loop" in p.message]
    assert loop and "2 -> 4 -> 2" in loop[0].message
    assert problems_of(text + CONTINGENCY_TAIL % 4)[0].message == \
        "an inject cannot be its own contingency"


def test_a_contingency_chain_without_a_loop_is_fine():
    text = edited("    message: まだですか\n", "    message: まだですか\n"
                  '    expect: {event: site.paused, within: "0:10"}\n    contingency: 4\n')
    tail = CONTINGENCY_TAIL.replace("    expect: {event: site.paused, within: \"0:10\"}\n"
                                    "    contingency: %s\n", "")
    assert [p for p in problems_of(text + tail) if p.severity == "error"] == []


def test_contingency_deadline_must_be_relative():
    text = edited("    message: まだですか\n", "    message: まだですか\n"
                  '    expect: {event: site.paused, deadline: "+01:00"}\n')
    problem = find(problems_of(text), "injects[1].expect.deadline")
    assert "use 'within'" in problem.message


def test_schema_errors_come_before_semantic_ones():
    # A schema error stops the second pass: the unknown desk is not reported yet.
    text = edited("speed: 60", "speed: fast").replace("to: [needs]", "to: [nobody]")
    assert [p.path for p in problems_of(text)] == ["speed"]


def test_problem_reads_like_a_compiler_message():
    problem = find(problems_of(edited("speed: 60", "speed: fast")), "speed")
    assert str(problem) == "6:8: error: speed: should be a number, not 'fast'"


def test_load_raises_with_the_problems(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(edited("speed: 60", "speed: fast"), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load(path)
    assert [p.line for p in caught.value.problems] == [6]
    assert f"{path}:6:8" in str(caught.value)


def test_check_reports_a_missing_file(tmp_path):
    problems = check(tmp_path / "missing.yaml")
    assert len(problems) == 1 and "no such file" in problems[0].message


def test_empty_file_is_one_clear_problem():
    problems = problems_of("")
    assert len(problems) == 1 and "empty" in problems[0].message


def test_warnings_do_not_stop_loading():
    text = edited('at: "+00:10"', 'at: "+03:00"')
    assert {p.severity for p in problems_of(text)} == {"warning"}
    assert loads(text).inject(3).at == loads(BASE).start + timedelta(hours=3)


# --- times -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("+00:30", datetime(2026, 9, 1, 0, 30, tzinfo=timezone.utc)),
    ("+26:00:30", datetime(2026, 9, 2, 2, 0, 30, tzinfo=timezone.utc)),
    ("10:15", datetime(2026, 9, 1, 1, 15, tzinfo=timezone.utc)),
    ("2026-09-01T12:00:00+09:00", datetime(2026, 9, 1, 3, 0, tzinfo=timezone.utc)),
    ("2026-09-01T03:00:00Z", datetime(2026, 9, 1, 3, 0, tzinfo=timezone.utc)),
])
def test_inject_times(text, expected):
    scenario = loads(edited('at: "+00:10"', f'at: "{text}"').replace('duration: "2:00"',
                                                                       'duration: "30:00"'))
    assert scenario.inject(3).at == expected


def test_absolute_deadline_resolves_on_the_start_day():
    scenario = loads(edited('within: "0:15"}', 'deadline: "09:20"}'))
    assert scenario.inject(1).expect.deadline == datetime(2026, 9, 1, 0, 20, tzinfo=timezone.utc)
    assert scenario.inject(1).expect.deadline_after(scenario.start) == \
        datetime(2026, 9, 1, 0, 20, tzinfo=timezone.utc)


# --- districts files ---------------------------------------------------------------------------

def _square(name: str, lon: float, lat: float, size: float = 0.01) -> dict:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Feature", "properties": {"name": name},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def test_geojson_districts_are_read_relative_to_the_scenario(tmp_path):
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "d.geojson").write_text(json.dumps({
        "type": "FeatureCollection",
        "features": [_square("北町", 139.55, 35.70), _square("南町", 139.55, 35.66)]}))
    text = edited("districts: fictional", "districts: maps/d.geojson")
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    assert check(path) == []
    assert load(path).initial.districts == str((tmp_path / "maps" / "d.geojson").resolve())
    path.write_text(text.replace("districts: [北町]", "districts: [中央]"), encoding="utf-8")
    problem = find(check(path), "injects[2].payload.districts[0]")
    assert "no district '中央'" in problem.message


def test_a_broken_geojson_is_reported(tmp_path):
    (tmp_path / "d.geojson").write_text('{"type": "FeatureCollection", "features": [')
    path = tmp_path / "s.yaml"
    path.write_text(edited("districts: fictional", "districts: d.geojson"), encoding="utf-8")
    problem = find(check(path), "initial.districts")
    assert "cannot read the districts file" in problem.message and problem.line == 20


def test_other_district_formats_are_accepted_with_a_warning(tmp_path):
    (tmp_path / "d.gpkg").write_bytes(b"not checked")
    path = tmp_path / "s.yaml"
    path.write_text(edited("districts: fictional", "districts: d.gpkg"), encoding="utf-8")
    problems = check(path)
    assert [(p.severity, p.path) for p in problems] == [("warning", "initial.districts")]


def test_district_names_without_districts_are_an_error():
    text = edited("  districts: fictional\n", "")
    problem = find(problems_of(text), "injects[2].payload.districts[0]")
    assert "has no districts" in problem.message


# --- shipped scenarios ---------------------------------------------------------------------

def test_at_least_three_scenarios_are_shipped():
    ids = {load(path).id for path in SHIPPED}
    assert len(SHIPPED) >= 3 and len(ids) == len(SHIPPED)
    assert {"earthquake-setup-2h", "heavy-rain-peak-day", "welfare-shelter-power-cut"} <= ids


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenarios_pass_check_without_warnings(path):
    assert [str(p) for p in check(path)] == []
    scenario = load(path)
    assert "訓練" in scenario.initial.operation.name
    assert scenario.status == "exercise"
    contingencies = {i.number for i in scenario.injects if i.type == "contingency"}
    assert {i.contingency for i in scenario.injects if i.contingency} == contingencies


def test_shipped_scenarios_cover_the_issue():
    by_id = {load(path).id: load(path) for path in SHIPPED}
    setup = by_id["earthquake-setup-2h"]
    assert setup.duration == timedelta(hours=2)
    peak = by_id["heavy-rain-peak-day"]
    assert {s.kind for s in peak.initial.sites} == {"main", "satellite"}
    assert (peak.start.hour, peak.start.minute, peak.end.hour) == (8, 30, 16)
    assert peak.start.utcoffset() == timedelta(hours=9)
    surge = by_id["welfare-shelter-power-cut"]
    kinds = {type(i.payload).__name__ for i in surge.injects if i.payload}
    assert {"ShelterSurge", "SitePowerLoss"} <= kinds
    assert any(s.kind == "welfare" for s in surge.initial.shelters)


# --- the scenario format agrees with the app ------------------------------------------------

def test_skills_agree_with_the_app_defaults():
    from dvc.config import Defaults
    assert set(sc.DEFAULT_SKILLS) == set(Defaults.SKILLS)


def test_enums_agree_with_the_models():
    from dvc.districts.fictional import SEEDS
    from dvc.districts.shelters import CARE_TYPES
    from dvc.drills.places import FICTIONAL_NAMES
    from dvc.needs.models import CATEGORIES, PRIORITIES, SOURCES
    from dvc.sites.models import KINDS as SITE_KINDS
    from dvc.teams.models import SEVERITIES
    defs = sc.schema()["$defs"]
    assert tuple(defs["category"]["enum"]) == CATEGORIES
    assert tuple(defs["priority"]["enum"]) == PRIORITIES
    assert tuple(defs["care_type"]["enum"]) == CARE_TYPES
    assert tuple(defs["need_requests"]["properties"]["source"]["enum"]) == SOURCES
    assert tuple(defs["injury"]["properties"]["severity"]["enum"]) == SEVERITIES
    assert tuple(defs["initial"]["properties"]["sites"]["items"]["properties"]["kind"]["enum"]) \
        == SITE_KINDS
    assert FICTIONAL_NAMES == tuple(SEEDS)
    metric_enum = defs["metric_measure"]["properties"]["metric"]["enum"]
    assert metric_enum == list(sc.METRICS)


def test_app_event_kinds_are_logged_by_the_app():
    from dvc.equipment.operations import EVENTS
    from dvc.sites.models import STATUSES as SITE_STATUSES
    from dvc.teams.models import INCIDENT_KINDS, STATUSES as TEAM_STATUSES
    dynamic = ({f"team.{s}" for s in TEAM_STATUSES} | {f"site.{s}" for s in SITE_STATUSES}
               | {f"incident.{k}" for k in INCIDENT_KINDS} | set(EVENTS.values()))
    text = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "dvc").rglob("*.py")
                     if "drills" not in p.parts)
    literal = set(re.findall(r'log_event\(\s*"([a-z_.]+)"', text))
    missing = sorted(k for k in sc.APP_EVENT_KINDS if k not in literal | dynamic)
    assert missing == []


def test_the_schema_is_valid_draft_2020_12():
    from jsonschema import Draft202012Validator
    Draft202012Validator.check_schema(sc.schema())
    assert sc.schema()["$schema"].endswith("2020-12/schema")


# The pure core of drills; the rest of dvc/drills is the app side.
PURE = ("scenario", "replay", "metrics", "events", "fictional", "places", "timeparse", "source")


def test_drill_modules_import_nothing_from_flask_or_sqlalchemy():
    allowed_dvc = ("dvc.drills", *(f"dvc.drills.{m}" for m in PURE), "dvc.districts.fictional")
    for path in sorted((ROOT / "dvc" / "drills").glob("*.py")):
        if path.stem not in PURE + ("__init__",):
            continue  # the app side of drills (models, operations, views) lives beside it
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                assert root not in ("flask", "flask_sqlalchemy", "sqlalchemy", "flask_babel",
                                    "werkzeug"), f"{path.name} imports {name}"
                if root == "dvc":
                    assert name in allowed_dvc, f"{path.name} imports {name}"
