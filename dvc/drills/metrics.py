"""Drill metrics from the event log, and a suggested P/S/M/U rating per objective.

Pure: a list of events (Event rows, dicts or DrillEvents: kind, scenario_dt, subject, payload)
in, frozen values out. Durations are in minutes. Percentiles use the nearest-rank method
(p90 of 10 values is the 9th smallest), so that they are always one of the observed values.

What each metric reads (the app logs all but the drill.* kinds and the fields marked *):

- time to open reception: the first `volunteer.checked_in` at or after the start.
- check-in wait: `drill.volunteer_arrived` {volunteer_id} -> the next `volunteer.checked_in`
  {volunteer_id}. Arrivals still waiting at the end count as waiting until the end
  (`censored`), so that a reception that stops checking in cannot look fast.
- reception to dispatch: `volunteer.checked_in` {volunteer_id} -> the first `team.dispatched`
  of a team whose `team.formed` {member_ids} has the volunteer. Volunteers never sent out are
  not counted (`Metrics.not_dispatched` says how many).
- needs backlog: needs open every 15 minutes: `need.received` opens a need (subject need:N),
  `need.status_changed` {to} to completed, cancelled or referred closes it.
- mismatches: teams sent without a required skill or a light truck: `team.formed`
  {warnings*} ("missing_skills", "no_light_truck"); without warnings, computed from
  `need.received` {skills*, vehicle_needed*} and `volunteer.registered` {skills*, vehicle*}.
- stock-outs: `equipment.lend_refused`* {site_id, item_type_id, item}, and shelves a lend
  empties, followed from `equipment.*` {site_id, item_type_id, quantity, on_hand*}
  (`equipment.adjusted` needs on_hand* or on_hand_change*, else its shelf is not followed).
- response per inject: `drill.inject_delivered` {inject} -> the first
  `drill.inject_acknowledged` {inject} or the inject's expected action.
- contingencies fired: `drill.contingency_fired` {inject, because}.

P/S/M/U (performed / some difficulty / major difficulty / unable), suggested for the trainer
to confirm:

- an event within a time T (from the start, or from inject `after` being delivered):
  P when it happened within T; S within `some` (default 1.5 T); M within `major`
  (default 2 T); U later or never.
- a metric at most B: P when value <= B; S <= `some`; M <= `major`; else U. Defaults for
  minutes: 1.25 B and 1.5 B; for counts: B + max(1, ceil(B/4)) and B + max(2, ceil(B/2)).
- a metric at least B: P when value >= B; S >= `some` (default 0.8 B); M >= `major`
  (default 0.6 B); else U.
- no data (no arrivals to time, an `after` inject never delivered): not rated (None).
"""
from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from dvc.drills.events import DrillEvent, Refs, as_events, first_match
from dvc.drills.scenario import METRICS, EventMeasure, MetricMeasure, Objective, Scenario

BUCKET = timedelta(minutes=15)
CLOSED = ("completed", "cancelled", "referred")
MISMATCH_WARNINGS = ("missing_skills", "no_light_truck")
EVENT_SOME, EVENT_MAJOR = 1.5, 2.0
MINUTES_SOME, MINUTES_MAJOR = 1.25, 1.5
MIN_SOME, MIN_MAJOR = 0.8, 0.6
RATINGS = ("P", "S", "M", "U")


def minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60.0


def percentile(values: Iterable[float], q: float) -> float | None:
    """Return the nearest-rank q-th percentile (0 < q <= 100), or None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Stat:
    """A waiting time's distribution, in minutes."""

    n: int
    p50: float | None
    p90: float | None
    max: float | None
    censored: int = 0  # still waiting at the end: counted as waiting until the end

    @classmethod
    def of(cls, values: list[float], censored: int = 0) -> "Stat":
        return cls(len(values), percentile(values, 50), percentile(values, 90),
                   max(values) if values else None, censored)


@dataclass(frozen=True)
class Mismatch:
    at: datetime
    team: str | None          # "team:12"
    need_id: int | None
    lacking: tuple[str, ...]  # "missing_skills", "no_light_truck"


@dataclass(frozen=True)
class StockOut:
    at: datetime
    site_id: int | None
    item_type_id: int | None
    item: str | None
    reason: str  # "empty" (a lend emptied the shelf) | "refused" (a lend was refused)


@dataclass(frozen=True)
class InjectResponse:
    inject: int
    delivered: datetime
    acknowledged: datetime | None
    action: datetime | None  # the expected action, when the scenario was given

    @property
    def answered(self) -> datetime | None:
        times = [t for t in (self.acknowledged, self.action) if t is not None]
        return min(times) if times else None

    @property
    def response(self) -> float | None:
        """Minutes from delivery to acknowledgement or action, whichever came first."""
        return minutes(self.answered - self.delivered) if self.answered else None


@dataclass(frozen=True)
class ContingencyFired:
    inject: int
    at: datetime
    because: int | None


@dataclass(frozen=True)
class Metrics:
    start: datetime
    end: datetime | None
    time_to_open_reception: float | None
    checkin_wait: Stat
    reception_to_dispatch: Stat
    not_dispatched: int
    backlog: tuple[tuple[datetime, int], ...]
    mismatches: tuple[Mismatch, ...]
    teams_unjudged: int       # teams whose fit could not be judged (no warnings, no data)
    teams_formed: int
    stockouts: tuple[StockOut, ...]
    inject_responses: tuple[InjectResponse, ...]
    contingencies_fired: tuple[ContingencyFired, ...]
    volunteers_checked_in: int   # people (a group counts its headcount)
    volunteers_dispatched: int   # people in teams sent out
    needs_received: int
    needs_closed: int
    needs_completed: int

    @property
    def inject_response(self) -> Stat:
        answered = [r.response for r in self.inject_responses if r.response is not None]
        return Stat.of(answered)

    def value(self, name: str) -> float | None:
        """Return the metric a measure names (see scenario.METRICS)."""
        if name not in METRICS:
            raise KeyError(name)
        backlog = [n for _, n in self.backlog]
        mismatch_count = None if self.teams_formed and self.teams_unjudged == self.teams_formed \
            else len(self.mismatches)
        return {
            "time_to_open_reception": self.time_to_open_reception,
            "checkin_wait_p50": self.checkin_wait.p50, "checkin_wait_p90": self.checkin_wait.p90,
            "dispatch_p50": self.reception_to_dispatch.p50,
            "dispatch_p90": self.reception_to_dispatch.p90,
            "backlog_max": max(backlog) if backlog else 0,
            "backlog_end": backlog[-1] if backlog else 0,
            "mismatches": mismatch_count, "stockouts": len(self.stockouts),
            "inject_response_p50": self.inject_response.p50,
            "inject_response_p90": self.inject_response.p90,
            "unacknowledged_injects": sum(1 for r in self.inject_responses if r.answered is None),
            "contingencies_fired": len(self.contingencies_fired),
            "volunteers_checked_in": self.volunteers_checked_in,
            "volunteers_dispatched": self.volunteers_dispatched,
            "needs_received": self.needs_received, "needs_closed": self.needs_closed,
            "needs_completed": self.needs_completed,
        }[name]

    def as_dict(self) -> dict:
        """Return the metrics as JSON-ready values (minutes to 0.01), in a fixed order."""
        def r(x):
            return None if x is None else round(x, 2)

        def stat(s: Stat):
            return {"n": s.n, "p50": r(s.p50), "p90": r(s.p90), "max": r(s.max),
                    "censored": s.censored}
        return {
            "values": {name: r(self.value(name)) for name in METRICS},
            "checkin_wait": stat(self.checkin_wait),
            "reception_to_dispatch": stat(self.reception_to_dispatch),
            "not_dispatched": self.not_dispatched,
            "backlog": [[t.isoformat(), n] for t, n in self.backlog],
            "mismatches": [{"at": m.at.isoformat(), "team": m.team, "need_id": m.need_id,
                            "lacking": list(m.lacking)} for m in self.mismatches],
            "teams_unjudged": self.teams_unjudged,
            "stockouts": [{"at": s.at.isoformat(), "site_id": s.site_id,
                           "item_type_id": s.item_type_id, "item": s.item, "reason": s.reason}
                          for s in self.stockouts],
            "inject_responses": [{"inject": i.inject, "delivered": i.delivered.isoformat(),
                                  "response": r(i.response)} for i in self.inject_responses],
            "contingencies_fired": [{"inject": c.inject, "at": c.at.isoformat(),
                                     "because": c.because} for c in self.contingencies_fired],
        }


# --- computing ------------------------------------------------------------------------------

def compute(events: Iterable, *, start: datetime | None = None, end: datetime | None = None,
            scenario: Scenario | None = None, refs: Refs | None = None,
            bucket: timedelta = BUCKET) -> Metrics:
    """Compute the drill metrics from events (start and end default to the scenario's)."""
    if start is None:
        if scenario is None:
            raise ValueError("give start or scenario")
        start = scenario.start
    if end is None and scenario is not None:
        end = scenario.end
    log = as_events(events)
    checkins = [e for e in log if e.kind == "volunteer.checked_in"]
    first_open = next((e.at for e in checkins if e.at >= start), None)
    wait = _checkin_wait(log, end)
    dispatch, not_dispatched, sent_people = _dispatch(log)
    mismatches, unjudged, formed = _mismatches(log)
    needs = _needs(log, start, end, bucket)
    return Metrics(
        start=start, end=end,
        time_to_open_reception=minutes(first_open - start) if first_open else None,
        checkin_wait=wait, reception_to_dispatch=dispatch, not_dispatched=not_dispatched,
        backlog=needs["backlog"], mismatches=mismatches, teams_unjudged=unjudged,
        teams_formed=formed, stockouts=_stockouts(log),
        inject_responses=_responses(log, scenario, refs),
        contingencies_fired=tuple(ContingencyFired(e.payload.get("inject"), e.at,
                                                   e.payload.get("because"))
                                  for e in log if e.kind == "drill.contingency_fired"),
        volunteers_checked_in=sum(e.payload.get("headcount") or 1 for e in checkins),
        volunteers_dispatched=sent_people, needs_received=needs["received"],
        needs_closed=needs["closed"], needs_completed=needs["completed"])


def _checkin_wait(log: list[DrillEvent], end: datetime | None) -> Stat:
    waiting: dict[object, deque] = defaultdict(deque)
    waits = []
    for event in log:
        volunteer = event.payload.get("volunteer_id")
        if event.kind == "drill.volunteer_arrived":
            waiting[volunteer].append(event.at)
        elif event.kind == "volunteer.checked_in" and waiting[volunteer]:
            waits.append(minutes(event.at - waiting[volunteer].popleft()))
    left = [t for queue in waiting.values() for t in queue]
    censored = [minutes(end - t) for t in left if end is not None and end >= t]
    return Stat.of(waits + censored, censored=len(censored))


def _dispatch(log: list[DrillEvent]) -> tuple[Stat, int, int]:
    checked_in: dict[object, datetime] = {}
    members: dict[str, list] = {}
    headcounts: dict[str, int] = {}
    sent: set[str] = set()
    times = []
    for event in log:
        if event.kind == "volunteer.checked_in":
            checked_in.setdefault(event.payload.get("volunteer_id"), event.at)
        elif event.kind == "team.formed":
            ids = list(event.payload.get("member_ids") or [])
            members[event.subject] = ids
            headcounts[event.subject] = event.payload.get("headcount") or len(ids)
        elif event.kind == "team.dispatched" and event.subject not in sent:
            sent.add(event.subject)
            for volunteer in members.get(event.subject, []):
                if volunteer in checked_in:
                    times.append(minutes(event.at - checked_in.pop(volunteer)))
    return Stat.of(times), len(checked_in), sum(headcounts.get(t, 0) for t in sent)


def _mismatches(log: list[DrillEvent]) -> tuple[tuple[Mismatch, ...], int, int]:
    need_wants: dict[object, tuple[set, bool]] = {}
    volunteer_has: dict[object, tuple[set, str]] = {}
    out, unjudged, formed = [], 0, 0
    for event in log:
        p = event.payload
        ident = _id(event.subject)
        if event.kind == "need.received" and ("skills" in p or "vehicle_needed" in p):
            need_wants[ident] = (set(p.get("skills") or ()), bool(p.get("vehicle_needed")))
        elif event.kind == "volunteer.registered" and ("skills" in p or "vehicle" in p):
            volunteer_has[ident] = (set(p.get("skills") or ()), p.get("vehicle") or "none")
        elif event.kind == "team.formed":
            formed += 1
            lacking = _lacking(p, need_wants, volunteer_has)
            if lacking is None:
                unjudged += 1
            elif lacking:
                out.append(Mismatch(event.at, event.subject, p.get("need_id"), lacking))
    return tuple(out), unjudged, formed


def _lacking(payload, need_wants, volunteer_has) -> tuple[str, ...] | None:
    if "warnings" in payload:
        return tuple(w for w in payload["warnings"] or () if w in MISMATCH_WARNINGS)
    need = need_wants.get(payload.get("need_id"))
    team = [volunteer_has.get(v) for v in payload.get("member_ids") or ()]
    if need is None or not team or None in team:
        return None
    skills, vehicle_needed = need
    lacking = []
    if skills - {s for have, _ in team for s in have}:
        lacking.append("missing_skills")
    if vehicle_needed and not any(vehicle == "light_truck" for _, vehicle in team):
        lacking.append("no_light_truck")
    return tuple(lacking)


def _id(subject: str | None):
    if not subject or ":" not in subject:
        return None
    text = subject.split(":", 1)[1]
    return int(text) if text.lstrip("-").isdigit() else text


def _needs(log: list[DrillEvent], start: datetime, end: datetime | None,
           bucket: timedelta) -> dict:
    last = end or max((e.at for e in log), default=start)
    ticks = []
    t = start
    while t <= last:
        ticks.append(t)
        t += bucket
    if ticks[-1] < last:
        ticks.append(last)
    open_: set = set()
    completed: set = set()
    received = closed = 0
    backlog = []
    i = 0
    for tick in ticks:
        while i < len(log) and log[i].at <= tick:
            event = log[i]
            i += 1
            if event.kind == "need.received":
                received += 1
                open_.add(event.subject)
            elif event.kind == "need.status_changed" and event.payload.get("to") in CLOSED:
                if event.subject in open_:
                    open_.discard(event.subject)
                    closed += 1
                if event.payload.get("to") == "completed":
                    completed.add(event.subject)
        backlog.append((tick, len(open_)))
    return {"backlog": tuple(backlog), "received": received, "closed": closed,
            "completed": len(completed)}


def _stockouts(log: list[DrillEvent]) -> tuple[StockOut, ...]:
    shelves: dict[tuple, int] = {}   # followed shelves; one never seen holds 0, as in the app
    unknown: set[tuple] = set()      # shelves whose level an event did not let us follow
    out = []
    signs = {"equipment.received": 1, "equipment.returned": 1, "equipment.lent": -1,
             "equipment.lost": 0, "equipment.broken": 0}
    for event in log:
        p = event.payload
        shelf = (p.get("site_id"), p.get("item_type_id"))
        if event.kind == "equipment.lend_refused":
            out.append(StockOut(event.at, *shelf, p.get("item"), "refused"))
            continue
        if not event.kind.startswith("equipment.") or event.kind == "equipment.item_type_added":
            continue
        before = None if shelf in unknown else shelves.get(shelf, 0)
        if "on_hand" in p:
            after = p["on_hand"]
        elif before is None:
            continue
        elif event.kind in signs:
            after = before + signs[event.kind] * (p.get("quantity") or 0)
        elif event.kind == "equipment.adjusted" and "on_hand_change" in p:
            after = before + p["on_hand_change"]
        else:
            unknown.add(shelf)
            continue
        unknown.discard(shelf)
        shelves[shelf] = after
        if event.kind in ("equipment.lent", "equipment.adjusted") and after <= 0 \
                and (before is None or before > 0):
            out.append(StockOut(event.at, *shelf, p.get("item"), "empty"))
    return tuple(out)


def _responses(log: list[DrillEvent], scenario: Scenario | None,
               refs: Refs | None) -> tuple[InjectResponse, ...]:
    delivered: dict[int, datetime] = {}
    for event in log:
        number = event.payload.get("inject")
        if event.kind == "drill.inject_delivered" and number not in delivered:
            delivered[number] = event.at
    numbers = {i.number: i for i in scenario.injects} if scenario else {}
    out = []
    for number, at in sorted(delivered.items(), key=lambda kv: (kv[1], kv[0])):
        ack = next((e.at for e in log if e.kind == "drill.inject_acknowledged"
                    and e.payload.get("inject") == number and e.at >= at), None)
        inject = numbers.get(number)
        action = None
        if inject is not None and inject.expect is not None:
            done = first_match(log, inject.expect.event, inject.expect.where, refs, since=at)
            action = done.at if done else None
        out.append(InjectResponse(number, at, ack, action))
    return tuple(out)


# --- rating ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rating:
    """A suggested rating; the trainer confirms or changes it in the after-action report."""

    objective: str
    rating: str | None     # "P" | "S" | "M" | "U"; None: not rated (no data)
    value: float | None    # minutes to the event, or the metric's value
    bound: float           # within (minutes) or the metric's bound
    reason: str


def rate(objectives: Scenario | Iterable[Objective], metrics: Metrics, events: Iterable, *,
         refs: Refs | None = None) -> list[Rating]:
    """Suggest P/S/M/U for each objective from the events and metrics (thresholds above)."""
    scenario = objectives if isinstance(objectives, Scenario) else None
    objectives = scenario.objectives if scenario else tuple(objectives)
    log = as_events(events)
    out = []
    for objective in objectives:
        if isinstance(objective.measure, EventMeasure):
            out.append(_rate_event(objective, objective.measure, metrics, log, refs, scenario))
        else:
            out.append(_rate_metric(objective, objective.measure, metrics))
    return out


def _grade(value: float, limits: tuple[float, float, float], upper: bool) -> str:
    for rating, limit in zip(RATINGS, limits):
        if (value <= limit) if upper else (value >= limit):
            return rating
    return "U"


def _rate_event(objective: Objective, m: EventMeasure, metrics: Metrics, log, refs,
                scenario: Scenario | None) -> Rating:
    within = minutes(m.within)
    origin, origin_text = metrics.start, "the start"
    if m.after is not None:
        origin = next((e.at for e in log if e.kind == "drill.inject_delivered"
                       and e.payload.get("inject") == m.after), None)
        if origin is None and scenario is not None:
            inject = next((i for i in scenario.injects if i.number == m.after), None)
            origin = inject.at if inject is not None else None
        if origin is None:
            return Rating(objective.id, None, None, within,
                          f"inject {m.after} was not delivered: not tested")
        origin_text = f"inject {m.after}"
    hit = first_match(log, m.event, m.where, refs, since=origin, count=m.count)
    what = m.event if m.count == 1 else f"{m.count} x {m.event}"
    if hit is None:
        return Rating(objective.id, "U", None, within, f"{what} did not happen")
    value = minutes(hit.at - origin)
    some = minutes(m.some) if m.some is not None else within * EVENT_SOME
    major = minutes(m.major) if m.major is not None else within * EVENT_MAJOR
    rating = _grade(value, (within, some, major), upper=True)
    return Rating(objective.id, rating, value, within,
                  f"{what} {value:.1f} min after {origin_text} (target {within:g} min)")


def default_limits(metric: str, bound: float, upper: bool) -> tuple[float, float]:
    """Return the default (some, major) limits of a metric bound."""
    if not upper:
        return bound * MIN_SOME, bound * MIN_MAJOR
    if METRICS[metric]:
        return bound * MINUTES_SOME, bound * MINUTES_MAJOR
    return bound + max(1, math.ceil(bound / 4)), bound + max(2, math.ceil(bound / 2))


def _rate_metric(objective: Objective, m: MetricMeasure, metrics: Metrics) -> Rating:
    upper = m.max is not None
    bound = m.max if upper else m.min
    value = metrics.value(m.metric)
    if value is None:
        if m.metric == "time_to_open_reception":
            return Rating(objective.id, "U", None, bound, "reception never checked anyone in")
        return Rating(objective.id, None, None, bound, f"no data for {m.metric}: not rated")
    some, major = default_limits(m.metric, bound, upper)
    some = m.some if m.some is not None else some
    major = m.major if m.major is not None else major
    rating = _grade(value, (bound, some, major), upper)
    unit = " min" if METRICS[m.metric] else ""
    sign = "<=" if upper else ">="
    return Rating(objective.id, rating, value, bound,
                  f"{m.metric} = {value:.1f}{unit} (target {sign} {bound:g}{unit})")


def report_lines(metrics: Metrics, ratings: Iterable[Rating] = ()) -> list[str]:
    """Return the metrics and ratings as plain text lines (for `flask drill run`)."""
    def fmt(x, unit=" min"):
        return "-" if x is None else f"{x:.1f}{unit}"
    lines = [
        f"time to open reception: {fmt(metrics.time_to_open_reception)}",
        f"check-in wait p50/p90: {fmt(metrics.checkin_wait.p50)} / "
        f"{fmt(metrics.checkin_wait.p90)} (n={metrics.checkin_wait.n}, "
        f"still waiting {metrics.checkin_wait.censored})",
        f"reception to dispatch p50/p90: {fmt(metrics.reception_to_dispatch.p50)} / "
        f"{fmt(metrics.reception_to_dispatch.p90)} (n={metrics.reception_to_dispatch.n}, "
        f"not sent {metrics.not_dispatched})",
        f"needs: received {metrics.needs_received}, completed {metrics.needs_completed}, "
        f"closed {metrics.needs_closed}, backlog max {metrics.value('backlog_max')}, "
        f"at end {metrics.value('backlog_end')}",
        f"volunteers: checked in {metrics.volunteers_checked_in}, "
        f"sent out {metrics.volunteers_dispatched}",
        f"mismatches: {fmt(metrics.value('mismatches'), '')} "
        f"(teams formed {metrics.teams_formed}, not judged {metrics.teams_unjudged})",
        f"stock-outs: {len(metrics.stockouts)}",
        f"inject response p50/p90: {fmt(metrics.inject_response.p50)} / "
        f"{fmt(metrics.inject_response.p90)}, unanswered "
        f"{metrics.value('unacknowledged_injects')}",
        f"contingencies fired: {len(metrics.contingencies_fired)}",
    ]
    lines += [f"objective {r.objective}: {r.rating or '-'} ({r.reason})" for r in ratings]
    return lines
