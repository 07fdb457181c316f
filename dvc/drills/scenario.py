"""Drill scenario files (drills/*.yaml): load, check and return frozen values.

A scenario has a header (id, title, start, seed, speed, desks, objectives), an initial state
(operation, sites, districts, equipment, shelters, pre-registered volunteers) and injects
modelled on the MSEL (Master Scenario Events List). `check` reports every problem with its
line, column and field; `load` returns a `Scenario` or raises `ScenarioError`.

Checking runs in two passes: the JSON Schema (scenario.schema.json, draft 2020-12) first,
then the rules a schema cannot say (unique numbers, references, deadlines after their
inject). The second pass runs only on a file that passed the first, so that one mistake is
not reported twice.
"""
from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jsonschema import Draft202012Validator

from dvc.drills import source
from dvc.drills.events import DRILL_KINDS
from dvc.drills.timeparse import parse_duration, parse_instant, resolve_time

SCHEMA_PATH = Path(__file__).with_name("scenario.schema.json")
DEFAULT_TIMEZONE = "Asia/Tokyo"
FICTIONAL = "fictional"
# The app's default skills (dvc/config.py, Defaults.SKILLS; a unit test checks they agree).
# A centre that configures its own passes them to `check(..., skills=...)`.
DEFAULT_SKILLS = ("heavy_machinery", "nursing", "carpentry", "electrician", "chainsaw", "driving",
                  "languages", "sign_language", "first_aid", "counselling")
# The usual desks of a setup drill (立ち上げ訓練); a scenario names its own.
STANDARD_DESKS = {"general": "総務", "reception": "受付", "needs": "ニーズ",
                  "matching": "マッチング", "equipment": "資機材", "dispatch": "送り出し"}
# Event kinds the app logs (grep log_event( in dvc/), and those the drill engine logs. An
# expected action naming another kind is reported as a warning: it is probably a typo.
APP_EVENT_KINDS = frozenset({
    "operation.opened", "operation.notice_set", "user.created", "user.token_issued",
    "site.created", "site.open", "site.paused", "site.closed", "site.updated",
    "volunteers.transferred", "districts.imported", "report.note_saved",
    "volunteer.registered", "volunteer.code_reissued", "volunteer.insurance_enrolled",
    "volunteer.checked_in",
    "need.received", "need.moved", "need.call_added", "need.merged", "need.status_changed",
    "need.surveyed", "need.photo_added", "need.viewed",
    "matching.accepted", "team.formed", "team.dispatched", "team.on_site", "team.finished",
    "team.returned", "team.disbanded", "team.reported", "team.recall_all",
    "incident.injury", "incident.near_miss",
    "equipment.item_type_added", "equipment.received", "equipment.lent", "equipment.returned",
    "equipment.lost", "equipment.broken", "equipment.adjusted",
    "shelter.created", "shelter.updated", "shelter.occupancy",
})
DRILL_EVENT_KINDS = frozenset(DRILL_KINDS)
KNOWN_EVENT_KINDS = APP_EVENT_KINDS | DRILL_EVENT_KINDS
INJECT_TYPES = ("inject", "contingency", "expected_action", "information")
METHODS = ("phone", "walk_in", "radio", "alert")
# Metrics a measure can bound, and whether each is a duration in minutes (else a count).
METRICS = {
    "time_to_open_reception": True, "checkin_wait_p50": True, "checkin_wait_p90": True,
    "dispatch_p50": True, "dispatch_p90": True, "backlog_max": False, "backlog_end": False,
    "mismatches": False, "stockouts": False, "inject_response_p50": True,
    "inject_response_p90": True, "unacknowledged_injects": False, "contingencies_fired": False,
    "volunteers_checked_in": False, "volunteers_dispatched": False, "needs_received": False,
    "needs_closed": False, "needs_completed": False,
}

Pairs = tuple  # tuple[tuple[str, value], ...]: a mapping kept hashable and in file order


# --- values -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file, and where."""

    line: int
    column: int
    path: str          # the field, e.g. "injects[3].payload.rate" ("" for the whole file)
    message: str
    severity: str = "error"  # "error" stops loading; "warning" does not

    def __str__(self) -> str:
        field_ = f" {self.path}:" if self.path else ""
        return f"{self.line}:{self.column}: {self.severity}:{field_} {self.message}"


class ScenarioError(ValueError):
    """A scenario file has errors; `problems` lists them (warnings included)."""

    def __init__(self, problems: list[Problem], name: str = "scenario"):
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        lines = "\n".join(f"{name}:{p}" for p in errors[:20])
        super().__init__(f"{len(errors)} error(s) in {name}:\n{lines}")


@dataclass(frozen=True)
class Desk:
    id: str
    name: str


@dataclass(frozen=True)
class EventMeasure:
    """The count-th `event` matching `where` within `within` of the start (or inject `after`)."""

    event: str
    within: timedelta
    where: Pairs = ()
    count: int = 1
    after: int | None = None
    some: timedelta | None = None   # S up to this long; default 1.5 x within
    major: timedelta | None = None  # M up to this long; default 2 x within


@dataclass(frozen=True)
class MetricMeasure:
    """A bound on a metric: at most `max` or at least `min`."""

    metric: str
    max: float | None = None
    min: float | None = None
    some: float | None = None
    major: float | None = None


Measure = Union[EventMeasure, MetricMeasure]


@dataclass(frozen=True)
class Objective:
    id: str
    title: str
    measure: Measure
    desks: tuple[str, ...] = ()


@dataclass(frozen=True)
class OperationSpec:
    name: str
    prefecture: str
    municipality: str


@dataclass(frozen=True)
class SiteSpec:
    name: str
    kind: str  # main | satellite
    lat: float
    lon: float
    quota: int | None = None
    service_districts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemSpec:
    name: str
    unit: str
    stock: Pairs  # (site name, quantity)
    low_stock: int = 0
    per_person: bool = False


@dataclass(frozen=True)
class ShelterSpec:
    name: str
    kind: str  # welfare | general
    lat: float
    lon: float
    capacity: int
    care_types: tuple[str, ...] = ()
    occupancy: Pairs = ()


@dataclass(frozen=True)
class VolunteerProfile:
    """Who the pre-registered volunteers are (walk-ups follow each wave's own mix)."""

    pre_registered: int = 0
    skills: Pairs = (("driving", 0.12), ("first_aid", 0.08), ("carpentry", 0.05))
    vehicle_share: float = 0.15
    group_share: float = 0.1


@dataclass(frozen=True)
class InitialState:
    operation: OperationSpec
    sites: tuple[SiteSpec, ...]
    districts: str | None = None        # FICTIONAL, or an absolute path
    district_name_field: str = "name"
    equipment: tuple[ItemSpec, ...] = ()
    shelters: tuple[ShelterSpec, ...] = ()
    volunteers: VolunteerProfile = VolunteerProfile()

    @property
    def main_site(self) -> SiteSpec:
        return next(s for s in self.sites if s.kind == "main")

    def site(self, name: str) -> SiteSpec:
        return next(s for s in self.sites if s.name == name)

    def shelter(self, name: str) -> ShelterSpec:
        return next(s for s in self.shelters if s.name == name)


@dataclass(frozen=True)
class NeedRequests:
    """A batch of need requests from fictional households."""

    count: int
    over: timedelta = timedelta(0)
    site: str | None = None
    districts: Pairs = ()       # (district, weight); empty: all districts
    categories: Pairs = (("mud_removal", 5.0), ("furniture_removal", 3.0), ("tidying", 1.0),
                         ("cleaning", 1.0), ("debris", 1.0), ("transport", 0.5))
    priorities: Pairs = (("urgent", 0.05), ("high", 0.2), ("normal", 0.6), ("low", 0.15))
    people: tuple[int, int] = (2, 6)
    hours: tuple[float, float] = (2.0, 4.0)
    skills: Pairs = ()          # (skill, share of needs asking for it)
    vehicle_share: float = 0.2
    elderly_share: float = 0.3
    source: str = "phone"
    kind: str = "need_requests"


@dataclass(frozen=True)
class VolunteerWave:
    """Arrivals as a Poisson process: `rate` parties per hour for `duration`."""

    rate: float
    duration: timedelta
    site: str | None = None
    skills: Pairs = (("driving", 0.12), ("first_aid", 0.08), ("carpentry", 0.05))
    group_share: float = 0.1
    vehicle_share: float = 0.15
    pre_registered_share: float = 0.5
    kind: str = "volunteer_wave"


@dataclass(frozen=True)
class Injury:
    description: str
    severity: str = "minor"
    kind: str = "injury"


@dataclass(frozen=True)
class WeatherWarning:
    level: str       # advisory 注意報 | warning 警報 | emergency 特別警報
    phenomenon: str
    area: str = ""
    kind: str = "weather_warning"


@dataclass(frozen=True)
class SitePowerLoss:
    site: str
    duration: timedelta | None = None  # None: not restored during the drill
    kind: str = "site_power_loss"


@dataclass(frozen=True)
class ShelterSurge:
    shelter: str
    care_type: str
    people: int
    kind: str = "shelter_surge"


@dataclass(frozen=True)
class RecordedArrival:
    ref: str                 # "v12": the recorded volunteer (no name is recorded)
    at: timedelta            # after the inject
    site: str | None = None
    headcount: int = 1
    skills: tuple[str, ...] = ()
    vehicle: str = "none"
    insured: bool = False


@dataclass(frozen=True)
class RecordedNeed:
    ref: str                 # "n3"
    at: timedelta
    category: str
    lat: float
    lon: float
    priority: str = "normal"
    people: tuple[int, int] = (2, 5)
    hours: float = 3.0
    skills: tuple[str, ...] = ()
    vehicle_needed: bool = False
    elderly: bool = False
    district: str | None = None
    source: str = "phone"


@dataclass(frozen=True)
class RecordedAction:
    """Something the centre did on the recorded day, naming recorded people, needs, teams."""

    at: timedelta
    do: str                  # check_in | need_status | form_team | dispatch | report
    volunteer: str | None = None
    need: str | None = None
    team: str | None = None
    members: tuple[str, ...] = ()
    leader: str | None = None
    headcount: int | None = None
    outcome: str | None = None
    to: str | None = None    # need_status: the need's new status


@dataclass(frozen=True)
class RecordedDay:
    """A recorded day (flask drill export): replayed as it happened."""

    arrivals: tuple[RecordedArrival, ...] = ()
    needs: tuple[RecordedNeed, ...] = ()
    actions: tuple[RecordedAction, ...] = ()
    kind: str = "recorded_day"


Payload = Union[NeedRequests, VolunteerWave, Injury, WeatherWarning, SitePowerLoss, ShelterSurge,
                RecordedDay]


@dataclass(frozen=True)
class Expectation:
    """The expected action: an event (with these fields) by the deadline."""

    event: str
    where: Pairs = ()
    within: timedelta | None = None   # after the inject is delivered (or fired)
    deadline: datetime | None = None  # a fixed scenario time
    desk: str | None = None

    def deadline_after(self, delivered: datetime) -> datetime:
        """Return the deadline of an inject delivered at `delivered`."""
        return delivered + self.within if self.within is not None else self.deadline


@dataclass(frozen=True)
class Inject:
    """One MSEL row. `notes` are for controllers only: never show them to players."""

    number: int
    type: str                  # inject | contingency | expected_action | information
    message: str
    at: datetime | None = None  # None for a contingency: it fires when an action is missed
    sender: str = ""           # "from" in the file
    to: tuple[str, ...] = ()
    method: str | None = None
    payload: Payload | None = None
    expect: Expectation | None = None
    contingency: int | None = None
    objectives: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    start: datetime
    timezone: str
    seed: int
    speed: float
    duration: timedelta
    desks: tuple[Desk, ...]
    objectives: tuple[Objective, ...]
    initial: InitialState
    injects: tuple[Inject, ...]
    status: str = "exercise"
    description: str = ""
    path: str | None = None

    @property
    def end(self) -> datetime:
        return self.start + self.duration

    def inject(self, number: int) -> Inject:
        return next(i for i in self.injects if i.number == number)

    def desk(self, desk_id: str) -> Desk:
        return next(d for d in self.desks if d.id == desk_id)


# --- entry points -----------------------------------------------------------------------

def check(path: str | Path, *, skills: Iterable[str] = DEFAULT_SKILLS) -> list[Problem]:
    """Return every problem of a scenario file (errors and warnings), in line order."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [Problem(1, 1, "", f"no such file: {path}")]
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(1, 1, "", f"cannot read the file: {exc}")]
    return _check(text, path.parent, skills)[0]


def check_text(text: str, *, base: str | Path | None = None,
               skills: Iterable[str] = DEFAULT_SKILLS) -> list[Problem]:
    """Check scenario text; relative file names are read from `base` (default: cwd)."""
    return _check(text, Path(base or "."), skills)[0]


def load(path: str | Path, *, skills: Iterable[str] = DEFAULT_SKILLS) -> Scenario:
    """Load a scenario file; raise ScenarioError when it has errors."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(1, 1, "", f"cannot read the file: {exc}")],
                            str(path)) from None
    return _load(text, path.parent, skills, name=str(path), path=str(path.resolve()))


def loads(text: str, *, base: str | Path | None = None,
          skills: Iterable[str] = DEFAULT_SKILLS) -> Scenario:
    """Load scenario text; raise ScenarioError when it has errors."""
    return _load(text, Path(base or "."), skills, name="scenario", path=None)


def _load(text, base, skills, *, name, path) -> Scenario:
    problems, data = _check(text, base, skills)
    if any(p.severity == "error" for p in problems):
        raise ScenarioError(problems, name)
    return _build(data, base, path)


def _check(text: str, base: Path, skills) -> tuple[list[Problem], dict | None]:
    try:
        doc = source.read(text)
    except source.SourceError as exc:
        return [Problem(exc.mark.line, exc.mark.column, "", exc.message)], None
    problems = [Problem(m.line, m.column, _path_text(p), msg) for m, p, msg in doc.issues]
    if not isinstance(doc.data, dict):
        return problems + [Problem(1, 1, "", "a scenario is a block of fields (id, title, "
                                             "start, ...): this file is empty or a list")], None
    problems += _schema_problems(doc)
    if not problems:
        problems += _Semantics(doc, base, frozenset(skills)).run()
    return _sorted(problems), doc.data


def _sorted(problems: list[Problem]) -> list[Problem]:
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda p: (p.line, p.column, p.path, p.message))


# --- schema pass ------------------------------------------------------------------------

@lru_cache(maxsize=1)
def schema() -> dict:
    """Return the scenario JSON Schema."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


def _path_text(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _pattern_hint(pattern: str) -> str | None:
    defs = schema()["$defs"]
    hints = {
        defs["time"]["pattern"]: "is not a time: write +HH:MM after the start (+00:30), "
                                 "HH:MM on the start day (10:15), or an ISO time with its offset",
        defs["duration"]["pattern"]: "is not a duration: write H:MM (0:30, 02:00)",
        defs["instant"]["pattern"]: "is not a date and time with its offset: write e.g. "
                                    "2026-09-01T09:00:00+09:00",
        defs["name"]["pattern"]: "is not a name: use lower case letters, digits and _ "
                                 "(e.g. reception)",
        defs["event_kind"]["pattern"]: "is not an event kind: write e.g. volunteer.checked_in",
    }
    return hints.get(pattern)


def _schema_problems(doc: source.Document) -> list[Problem]:
    problems = []
    for error in _validator().iter_errors(doc.data):
        problems.extend(_explain(error, doc))
    return problems


def _explain(error, doc: source.Document) -> list[Problem]:
    path = tuple(error.absolute_path)

    def at(p, message, key=False):
        mark = doc.mark(p, key=key)
        return Problem(mark.line, mark.column, _path_text(p), message)

    kind = error.validator
    if kind == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        return [at(path, f"missing required field '{name}'")
                for name in error.validator_value if name not in instance]
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(error.schema.get("properties", {}))
        out = []
        for name in error.instance:
            if name in known:
                continue
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else \
                f" (known: {', '.join(known)})" if known else ""
            out.append(at((*path, name), f"unknown field '{name}'{hint}", key=True))
        return out
    if "propertyNames" in error.relative_schema_path and isinstance(error.instance, str):
        options = error.validator_value if kind == "enum" else None
        text = f"'{error.instance}' is not allowed here" + (
            f": use one of {', '.join(map(str, options))}" if options else
            f" ({error.message})")
        return [at((*path, error.instance), text, key=True)]
    if kind == "enum":
        return [at(path, f"{error.instance!r} is not allowed here: use one of "
                         f"{', '.join(map(str, error.validator_value))}")]
    if kind == "const":
        return [at(path, f"must be {error.validator_value!r}, not {error.instance!r}")]
    if kind == "pattern":
        hint = _pattern_hint(error.validator_value)
        return [at(path, f"{error.instance!r} {hint}" if hint else error.message)]
    if kind == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        article = "an" if wanted[0] in "aeiou" else "a"
        return [at(path, f"should be {article} {wanted}, not {error.instance!r}")]
    if kind == "exclusiveMinimum":
        return [at(path, f"must be more than {error.validator_value}, not {error.instance!r}")]
    if kind == "anyOf":
        return [at(path, "should be a plain value or a reference such as {site: 本部}")]
    if kind in ("minItems", "maxItems") and error.schema.get("prefixItems"):
        return [at(path, f"should be a pair [{_pair_hint(error.schema)}], "
                         f"not {error.instance!r}")]
    return [at(path, error.message)]


def _pair_hint(schema_: dict) -> str:
    desc = schema_.get("description", "")
    return desc.split("]")[0].lstrip("[") if desc.startswith("[") else "a, b"


# --- semantic pass ------------------------------------------------------------------------

class _Semantics:
    """The rules the schema cannot say; runs on schema-valid data only."""

    def __init__(self, doc: source.Document, base: Path, skills: frozenset[str]):
        self.doc, self.data, self.base, self.skills = doc, doc.data, base, skills
        self.problems: list[Problem] = []
        self.tz = self.data.get("timezone", DEFAULT_TIMEZONE)
        self.start: datetime | None = None
        self.end: datetime | None = None
        self.districts: set[str] | None = None  # None: unknown (not checked)
        initial = self.data["initial"]
        self.sites = {s["name"] for s in initial["sites"]}
        self.shelters = {s["name"]: s for s in initial.get("shelters", [])}
        self.items = {e["item"] for e in initial.get("equipment", [])}
        self.desks = {d["id"] for d in self.data["desks"]}
        self.injects = {}  # number -> inject data (the first with that number)
        self.times: dict[int, datetime] = {}

    def error(self, path, message, *, key=False, severity="error"):
        mark = self.doc.mark(path, key=key)
        self.problems.append(Problem(mark.line, mark.column, _path_text(path), message,
                                     severity))

    def warn(self, path, message, *, key=False):
        self.error(path, message, key=key, severity="warning")

    def run(self) -> list[Problem]:
        self.header()
        self.initial()
        self.inject_numbers()
        for i, inject in enumerate(self.data["injects"]):
            self.inject(("injects", i), inject)
        self.contingency_rules()
        self.objectives()
        return self.problems

    # header
    def header(self):
        self.unique(("desks",), "id", "desk")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            self.error(("timezone",), f"unknown time zone '{self.tz}' (e.g. Asia/Tokyo)")
            self.tz = DEFAULT_TIMEZONE
        try:
            self.start = parse_instant(self.data["start"])
        except ValueError as exc:
            self.error(("start",), str(exc))
            return
        zone_offset = self.start.astimezone(ZoneInfo(self.tz)).utcoffset()
        if self.start.utcoffset() != zone_offset:
            self.error(("start",), f"the offset of the start does not match {self.tz} "
                                   f"(UTC{_hours(zone_offset)} then)")
        self.end = self.start + parse_duration(self.data["duration"])
        if self.end == self.start:
            self.error(("duration",), "a drill lasts longer than 0:00")

    def unique(self, path, key, what):
        seen = set()
        for i, item in enumerate(self.doc_get(path)):
            if item[key] in seen:
                self.error((*path, i, key), f"another {what} already has the {key} "
                                            f"'{item[key]}'")
            seen.add(item[key])

    def doc_get(self, path):
        value = self.data
        for part in path:
            value = value[part]
        return value

    # initial state
    def initial(self):
        initial = self.data["initial"]
        name = initial["operation"]["name"]
        if "訓練" not in name:
            self.error(("initial", "operation", "name"), "a drill's operation name must say "
                                                         "訓練, so no one takes it for real")
        self.unique(("initial", "sites"), "name", "site")
        mains = [i for i, s in enumerate(initial["sites"]) if s["kind"] == "main"]
        if not mains:
            self.error(("initial", "sites"), "one site must be the main centre (kind: main)")
        for i in mains[1:]:
            self.error(("initial", "sites", i, "kind"), "only one site can be the main centre")
        self.load_districts(initial)
        for i, site in enumerate(initial["sites"]):
            for j, district in enumerate(site.get("service_districts", [])):
                self.district(("initial", "sites", i, "service_districts", j), district)
        if "equipment" in initial:
            self.unique(("initial", "equipment"), "item", "item")
        for i, item in enumerate(initial.get("equipment", [])):
            for site in item["stock"]:
                self.site(("initial", "equipment", i, "stock", site), site, key=True)
        if "shelters" in initial:
            self.unique(("initial", "shelters"), "name", "shelter")
        for i, shelter in enumerate(initial.get("shelters", [])):
            if shelter["kind"] == "general" and shelter.get("care_types"):
                self.warn(("initial", "shelters", i, "care_types"),
                          "care types are for welfare shelters (福祉避難所)")
        for name_ in initial.get("volunteers", {}).get("skills", {}):
            self.skill(("initial", "volunteers", "skills", name_), name_)

    def load_districts(self, initial):
        value = initial.get("districts")
        if value is None:
            return
        path = ("initial", "districts")
        if value == FICTIONAL:
            from dvc.drills.places import FICTIONAL_NAMES
            self.districts = set(FICTIONAL_NAMES)
            return
        file = (self.base / value)
        if not file.is_file():
            self.error(path, f"no districts file '{value}' (looked for {file}); give a path "
                             "relative to the scenario, or 'fictional'")
            return
        if file.suffix.lower() not in (".geojson", ".json"):
            self.warn(path, "the drill engine reads only GeoJSON: district names are not "
                            "checked and need points are placed around the sites")
            return
        from dvc.drills.places import PlacesError, read_geojson
        try:
            polygons = read_geojson(file, initial.get("district_name_field", "name"))
        except PlacesError as exc:
            self.error(path, f"cannot read the districts file: {exc}")
            return
        self.districts = {name for name, _ in polygons}

    def district(self, path, name, *, key=False):
        if self.districts is None:
            if self.data["initial"].get("districts") is None:
                self.error(path, f"district '{name}' is named but the scenario has no districts "
                                 "(initial.districts)", key=key)
            return
        if name not in self.districts:
            self.error(path, f"no district '{name}'{_suggest(name, self.districts)}", key=key)

    def site(self, path, name, *, key=False):
        if name not in self.sites:
            self.error(path, f"no site '{name}' in initial.sites{_suggest(name, self.sites)}",
                       key=key)

    def skill(self, path, name):
        if name not in self.skills:
            self.error(path, f"unknown skill '{name}'{_suggest(name, self.skills)}", key=True)

    # injects
    def inject_numbers(self):
        for i, inject in enumerate(self.data["injects"]):
            number = inject["number"]
            if number in self.injects:
                self.error(("injects", i, "number"), f"inject number {number} is used twice")
            else:
                self.injects[number] = inject

    def inject(self, path, inject):
        kind = inject["type"]
        if kind == "contingency":
            if "at" in inject:
                self.error((*path, "at"), "a contingency has no time: it fires when the "
                                          "expected action it backs up is missed", key=True)
        elif "at" not in inject:
            self.error(path, "missing required field 'at' (when the inject is delivered)")
        else:
            self.inject_time(path, inject)
        for j, desk in enumerate(inject.get("to", [])):
            self.desk((*path, "to", j), desk)
        if kind == "expected_action" and "expect" not in inject:
            self.error(path, "an expected_action row needs 'expect' (the event that shows it "
                             "was done)")
        if kind == "expected_action" and "payload" in inject:
            self.error((*path, "payload"), "an expected_action row is not delivered: put the "
                                           "payload on an inject", key=True)
        if "contingency" in inject and "expect" not in inject:
            self.error((*path, "contingency"), "a contingency backs up an expected action: "
                                               "give 'expect' too", key=True)
        if "expect" in inject:
            self.expect((*path, "expect"), inject)
        for j, objective in enumerate(inject.get("objectives", [])):
            ids = {o["id"] for o in self.data["objectives"]}
            if objective not in ids:
                self.error((*path, "objectives", j),
                           f"no objective '{objective}'{_suggest(objective, ids)}")
        if "payload" in inject:
            self.payload((*path, "payload"), inject["payload"])

    def inject_time(self, path, inject):
        if self.start is None:
            return
        try:
            moment = resolve_time(inject["at"], self.start, self.tz)
        except ValueError as exc:
            self.error((*path, "at"), str(exc))
            return
        self.times[inject["number"]] = moment
        if moment < self.start:
            self.error((*path, "at"), "this is before the scenario starts")
        elif self.end and moment > self.end:
            self.warn((*path, "at"), "this is after the scenario ends (start + duration)")

    def desk(self, path, desk):
        if desk not in self.desks:
            self.error(path, f"no desk '{desk}' in desks{_suggest(desk, self.desks)}")

    def expect(self, path, inject):
        expect = inject["expect"]
        if "desk" in expect:
            self.desk((*path, "desk"), expect["desk"])
        self.event_kind((*path, "event"), expect["event"])
        self.where((*path, "where"), expect.get("where", {}))
        has_within, has_deadline = "within" in expect, "deadline" in expect
        if has_within == has_deadline:
            self.error(path, "give either 'within' (after the inject) or 'deadline' (a "
                             "scenario time), not " + ("both" if has_within else "neither"))
            return
        if has_deadline and inject["type"] == "contingency":
            self.error((*path, "deadline"), "a contingency has no fixed time: use 'within'",
                       key=True)
            return
        if has_within and parse_duration(expect["within"]) == timedelta(0):
            self.error((*path, "within"), "the deadline must be after the inject: give more "
                                          "than 0:00")
        if has_deadline and self.start is not None:
            try:
                deadline = resolve_time(expect["deadline"], self.start, self.tz)
            except ValueError as exc:
                self.error((*path, "deadline"), str(exc))
                return
            at = self.times.get(inject["number"])
            if at is not None and deadline <= at:
                self.error((*path, "deadline"), "the deadline must be after the inject's time "
                                                f"({inject['at']})")

    def event_kind(self, path, kind):
        if kind not in KNOWN_EVENT_KINDS:
            self.warn(path, f"the app logs no event '{kind}'"
                            f"{_suggest(kind, KNOWN_EVENT_KINDS)}")

    def where(self, path, where):
        for key, value in where.items():
            if isinstance(value, dict):
                (ref_kind, name), = value.items()
                names = {"site": self.sites, "shelter": set(self.shelters),
                         "item": self.items, "desk": self.desks,
                         "inject": set(self.injects)}[ref_kind]
                if name not in names:
                    self.error((*path, key, ref_kind), f"no {ref_kind} {name!r}"
                                                       f"{_suggest(str(name), map(str, names))}")

    def payload(self, path, payload):
        kind = payload["kind"]
        if kind == "need_requests":
            self.need_requests(path, payload)
        elif kind == "volunteer_wave":
            if "site" in payload:
                self.site((*path, "site"), payload["site"])
            for skill in payload.get("skills", {}):
                self.skill((*path, "skills", skill), skill)
            pre = self.data["initial"].get("volunteers", {}).get("pre_registered", 0)
            if payload.get("pre_registered_share", 0) > 0 and not pre:
                self.warn((*path, "pre_registered_share"), "no volunteers are pre-registered "
                          "(initial.volunteers.pre_registered): all arrivals will be walk-ups",
                          key=True)
        elif kind == "site_power_loss":
            self.site((*path, "site"), payload["site"])
        elif kind == "recorded_day":
            self.recorded_day(path, payload)
        elif kind == "shelter_surge":
            name = payload["shelter"]
            if name not in self.shelters:
                self.error((*path, "shelter"), f"no shelter '{name}' in initial.shelters"
                                               f"{_suggest(name, self.shelters)}")
            elif self.shelters[name]["kind"] == "welfare" and \
                    payload["care_type"] not in self.shelters[name].get("care_types", []):
                self.warn((*path, "care_type"), f"'{name}' does not take {payload['care_type']} "
                                                "(its care_types): the surge will overflow it")

    def recorded_day(self, path, payload):
        for i, arrival in enumerate(payload.get("arrivals", [])):
            if "site" in arrival:
                self.site((*path, "arrivals", i, "site"), arrival["site"])
        known = {"volunteer": {a["ref"] for a in payload.get("arrivals", [])},
                 "need": {n["ref"] for n in payload.get("needs", [])}, "team": set()}
        for i, action in enumerate(payload.get("actions", [])):
            for key in ("volunteer", "need", "leader", "members", "team"):
                kind = "volunteer" if key in ("leader", "members") else key
                refs = action.get(key, [])
                for ref in refs if isinstance(refs, list) else [refs]:
                    if ref not in known[kind] and not (key == "team" and
                                                       action["do"] == "form_team"):
                        self.error((*path, "actions", i, key),
                                   f"'{ref}' is not a recorded {kind} before this action")
            if action["do"] == "form_team" and "team" in action:
                known["team"].add(action["team"])

    def need_requests(self, path, payload):
        if "site" in payload:
            self.site((*path, "site"), payload["site"])
        districts = payload.get("districts", [])
        if isinstance(districts, list):
            for j, name in enumerate(districts):
                self.district((*path, "districts", j), name)
        else:
            for name in districts:
                self.district((*path, "districts", name), name, key=True)
            self.weights((*path, "districts"), districts)
        for key in ("categories", "priorities"):
            if key in payload:
                self.weights((*path, key), payload[key])
        for key in ("people", "hours"):
            if key in payload and payload[key][0] > payload[key][1]:
                self.error((*path, key), f"[fewest, most]: {payload[key][0]} is more than "
                                         f"{payload[key][1]}")
        for skill in payload.get("skills", {}):
            self.skill((*path, "skills", skill), skill)

    def weights(self, path, weights):
        if weights and not any(w > 0 for w in weights.values()):
            self.error(path, "at least one weight must be above 0")

    def contingency_rules(self):
        referenced = set()
        for i, inject in enumerate(self.data["injects"]):
            target = inject.get("contingency")
            if target is None:
                continue
            path = ("injects", i, "contingency")
            referenced.add(target)
            if target not in self.injects:
                self.error(path, f"no inject number {target}")
            elif self.injects[target]["type"] != "contingency":
                self.error(path, f"inject {target} is of type "
                                 f"{self.injects[target]['type']}, not contingency")
            elif target == inject["number"]:
                self.error(path, "an inject cannot be its own contingency")
        for i, inject in enumerate(self.data["injects"]):
            if inject["type"] == "contingency" and inject["number"] not in referenced:
                self.warn(("injects", i, "number"), f"contingency {inject['number']} is never "
                                                    "fired: no inject names it")
        self.cycles()

    def cycles(self):
        for i, inject in enumerate(self.data["injects"]):
            seen, number = [inject["number"]], inject.get("contingency")
            while number in self.injects and number not in seen:
                seen.append(number)
                number = self.injects[number].get("contingency")
            if number == inject["number"] and inject["type"] == "contingency":
                chain = " -> ".join(map(str, [*seen, number]))
                self.error(("injects", i, "contingency"), f"contingencies fire in a loop: {chain}")

    def objectives(self):
        self.unique(("objectives",), "id", "objective")
        for i, objective in enumerate(self.data["objectives"]):
            path = ("objectives", i)
            for j, desk in enumerate(objective.get("desks", [])):
                self.desk((*path, "desks", j), desk)
            measure = objective["measure"]
            mpath = (*path, "measure")
            if "metric" in measure:
                self.metric_measure(mpath, measure)
                continue
            self.event_kind((*mpath, "event"), measure["event"])
            self.where((*mpath, "where"), measure.get("where", {}))
            if "after" in measure and measure["after"] not in self.injects:
                self.error((*mpath, "after"), f"no inject number {measure['after']}")
            within = parse_duration(measure["within"])
            some = parse_duration(measure["some"]) if "some" in measure else None
            major = parse_duration(measure["major"]) if "major" in measure else None
            if within == timedelta(0):
                self.error((*mpath, "within"), "give more than 0:00")
            if some is not None and some < within:
                self.error((*mpath, "some"), "'some' must be at least 'within'")
            if major is not None and major < (some or within):
                self.error((*mpath, "major"), "'major' must be at least 'some' and 'within'")

    def metric_measure(self, path, measure):
        if ("max" in measure) == ("min" in measure):
            self.error(path, "give either 'max' (at most) or 'min' (at least), not "
                             + ("both" if "max" in measure else "neither"))
            return
        bound = measure.get("max", measure.get("min"))
        upper = "max" in measure
        some, major = measure.get("some"), measure.get("major")
        wrong = (lambda a, b: a < b) if upper else (lambda a, b: a > b)
        word = "at least" if upper else "at most"
        if some is not None and wrong(some, bound):
            self.error((*path, "some"), f"'some' must be {word} the bound ({bound})", key=True)
        if major is not None and wrong(major, some if some is not None else bound):
            self.error((*path, "major"), f"'major' must be {word} 'some' and the bound",
                       key=True)


def _suggest(name: str, options) -> str:
    close = difflib.get_close_matches(name, sorted(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _hours(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# --- building the values -------------------------------------------------------------------

def _pairs(mapping: dict | None, cast=float) -> Pairs:
    return tuple((k, cast(v)) for k, v in (mapping or {}).items())


def _where(where: dict | None) -> Pairs:
    return tuple((k, tuple(v.items())[0] if isinstance(v, dict) else v)
                 for k, v in (where or {}).items())


def _build(data: dict, base: Path, path: str | None) -> Scenario:
    tz = data.get("timezone", DEFAULT_TIMEZONE)
    start = parse_instant(data["start"])

    def when(text):
        return resolve_time(text, start, tz)

    objectives = tuple(Objective(id=o["id"], title=o["title"], desks=tuple(o.get("desks", [])),
                                 measure=_measure(o["measure"]))
                       for o in data["objectives"])
    return Scenario(
        id=data["id"], title=data["title"], status=data["status"], start=start, timezone=tz,
        seed=data["seed"], speed=float(data["speed"]), duration=parse_duration(data["duration"]),
        desks=tuple(Desk(d["id"], d["name"]) for d in data["desks"]), objectives=objectives,
        initial=_initial(data["initial"], base),
        injects=tuple(_inject(i, when) for i in data["injects"]),
        description=data.get("description", ""), path=path)


def _measure(m: dict) -> Measure:
    if "metric" in m:
        return MetricMeasure(metric=m["metric"], max=m.get("max"), min=m.get("min"),
                             some=m.get("some"), major=m.get("major"))
    optional = {k: parse_duration(m[k]) for k in ("some", "major") if k in m}
    return EventMeasure(event=m["event"], within=parse_duration(m["within"]),
                        where=_where(m.get("where")), count=m.get("count", 1),
                        after=m.get("after"), **optional)


def _initial(d: dict, base: Path) -> InitialState:
    op = d["operation"]
    districts = d.get("districts")
    if districts is not None and districts != FICTIONAL:
        districts = str((base / districts).resolve())
    volunteers = d.get("volunteers", {})
    given = {k: float(volunteers[k]) for k in ("vehicle_share", "group_share") if k in volunteers}
    if "skills" in volunteers:
        given["skills"] = _pairs(volunteers["skills"])
    profile = VolunteerProfile(pre_registered=volunteers.get("pre_registered", 0), **given)
    return InitialState(
        operation=OperationSpec(op["name"], op["prefecture"], op["municipality"]),
        sites=tuple(SiteSpec(name=s["name"], kind=s["kind"], lat=float(s["point"][0]),
                             lon=float(s["point"][1]), quota=s.get("quota"),
                             service_districts=tuple(s.get("service_districts", [])))
                    for s in d["sites"]),
        districts=districts, district_name_field=d.get("district_name_field", "name"),
        equipment=tuple(ItemSpec(name=e["item"], unit=e["unit"], stock=_pairs(e["stock"], int),
                                 low_stock=e.get("low", 0), per_person=e.get("per_person", False))
                        for e in d.get("equipment", [])),
        shelters=tuple(ShelterSpec(name=s["name"], kind=s["kind"], lat=float(s["point"][0]),
                                   lon=float(s["point"][1]), capacity=s["capacity"],
                                   care_types=tuple(s.get("care_types", [])),
                                   occupancy=_pairs(s.get("occupancy"), int))
                       for s in d.get("shelters", [])),
        volunteers=profile)


def _inject(d: dict, when) -> Inject:
    expect = None
    if "expect" in d:
        e = d["expect"]
        expect = Expectation(event=e["event"], where=_where(e.get("where")),
                             within=parse_duration(e["within"]) if "within" in e else None,
                             deadline=when(e["deadline"]) if "deadline" in e else None,
                             desk=e.get("desk"))
    return Inject(number=d["number"], type=d["type"], message=d["message"],
                  at=when(d["at"]) if "at" in d else None, sender=d.get("from", ""),
                  to=tuple(d.get("to", [])), method=d.get("method"),
                  payload=_payload(d["payload"]) if "payload" in d else None, expect=expect,
                  contingency=d.get("contingency"), objectives=tuple(d.get("objectives", [])),
                  notes=d.get("notes", ""))


def _payload(p: dict) -> Payload:
    kind = p["kind"]
    rest = {k: v for k, v in p.items() if k != "kind"}
    if kind == "need_requests":
        districts = rest.pop("districts", ())
        if isinstance(districts, list):
            districts = {name: 1.0 for name in districts}
        for key in ("categories", "priorities", "skills"):
            if key in rest:
                rest[key] = _pairs(rest[key])
        for key in ("people", "hours"):
            if key in rest:
                rest[key] = tuple(rest[key])
        if "over" in rest:
            rest["over"] = parse_duration(rest["over"])
        return NeedRequests(districts=_pairs(districts), **rest)
    if kind == "volunteer_wave":
        rest["duration"] = parse_duration(rest["duration"])
        if "skills" in rest:
            rest["skills"] = _pairs(rest["skills"])
        return VolunteerWave(**rest)
    if kind == "injury":
        return Injury(**rest)
    if kind == "weather_warning":
        return WeatherWarning(**rest)
    if kind == "site_power_loss":
        if "duration" in rest:
            rest["duration"] = parse_duration(rest["duration"])
        return SitePowerLoss(**rest)
    if kind == "recorded_day":
        return _recorded(rest)
    return ShelterSurge(**rest)


def _recorded(p: dict) -> RecordedDay:
    arrivals = tuple(RecordedArrival(**{**a, "at": parse_duration(a["at"]),
                                        "skills": tuple(a.get("skills", ()))})
                     for a in p.get("arrivals", ()))
    needs = []
    for n in p.get("needs", ()):
        rest = {k: v for k, v in n.items() if k != "point"}
        lat, lon = n["point"]
        needs.append(RecordedNeed(**{**rest, "at": parse_duration(n["at"]), "lat": lat, "lon": lon,
                                     "skills": tuple(n.get("skills", ())),
                                     "people": tuple(n.get("people", (2, 5)))}))
    actions = tuple(RecordedAction(**{**a, "at": parse_duration(a["at"]),
                                      "members": tuple(a.get("members", ()))})
                    for a in p.get("actions", ()))
    return RecordedDay(arrivals=arrivals, needs=tuple(needs), actions=actions)
