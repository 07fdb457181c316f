"""What the desks and the trainer see of a running drill: read only, built from the log.

Players see an inject's message, sender, method and desks; never its controller notes.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select

from dvc.core.context import today
from dvc.drills import events as kinds
from dvc.drills import metrics
from dvc.drills.models import Drill, DrillArrival
from dvc.drills.operations import (DRILLS_DIR, drill_events, drill_now, next_inject, refs_of,
                                   scenario_of, shipped_scenarios)
from dvc.drills.scenario import Scenario
from dvc.extensions import db
from dvc.volunteers.models import CheckIn

BOARD_KINDS = frozenset({kinds.INJECT_DELIVERED, kinds.INJECT_ACKNOWLEDGED,
                         kinds.INJECT_SKIPPED, kinds.CONTINGENCY_FIRED})


def utc(moment: datetime) -> str:
    """Times in the API are UTC (the banner shows them in the scenario's time zone)."""
    return moment.astimezone(timezone.utc).isoformat()


def state(drill: Drill) -> dict:
    """The drill's clock and status, for the banner and the console."""
    scenario = scenario_of(drill)
    upcoming = next_inject(drill)
    return {"operation_id": drill.operation_id, "scenario": scenario.id,
            "title": scenario.title, "status": drill.status, "speed": drill.speed,
            "now": utc(drill_now(drill)), "start": utc(scenario.start),
            "end": utc(scenario.end), "timezone": scenario.timezone,
            "power_out": list(drill.power_out or []),
            "next_inject": ({"number": upcoming.number, "at": utc(upcoming.at)}
                            if upcoming else None),
            "desks": [{"id": d.id, "name": d.name} for d in scenario.desks]}


def _acks(log) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for e in log:
        if e.kind == kinds.INJECT_ACKNOWLEDGED:
            out.setdefault(e.payload["inject"], []).append(
                {"desk": e.payload.get("desk"), "at": e.scenario_dt.isoformat(),
                 "actor": e.actor})
    return out


def messages(drill: Drill, desk: str | None = None) -> list[dict]:
    """Delivered messages, newest first, for one desk (or all), with who acknowledged them."""
    scenario = scenario_of(drill)
    log = drill_events(drill, BOARD_KINDS)
    acks = _acks(log)
    out, seen = [], set()
    for e in reversed(log):
        number = e.payload.get("inject")
        if e.kind != kinds.INJECT_DELIVERED or number in seen:
            continue
        seen.add(number)
        inject = scenario.inject(number)
        if desk and inject.to and desk not in inject.to:
            continue
        # No type: a player must not tell a contingency from an ordinary call.
        out.append({"inject": number, "at": e.scenario_dt.isoformat(),
                    "from": inject.sender, "to": list(inject.to), "method": inject.method,
                    "message": inject.message, "acknowledged": acks.get(number, []),
                    "acknowledged_by_desk": any(a["desk"] == desk for a in acks.get(number, []))
                    if desk else bool(acks.get(number))})
    return out


def timeline(drill: Drill) -> list[dict]:
    """Every inject for the trainer: when due, delivered, acknowledged, how fast, what fired."""
    scenario = scenario_of(drill)
    log = drill_events(drill, BOARD_KINDS)
    delivered = {}
    for e in log:
        if e.kind == kinds.INJECT_DELIVERED:
            delivered.setdefault(e.payload["inject"], e.scenario_dt)
    skipped = {e.payload["inject"] for e in log if e.kind == kinds.INJECT_SKIPPED}
    fired = {e.payload["inject"]: e.payload.get("because") for e in log
             if e.kind == kinds.CONTINGENCY_FIRED}
    acks = _acks(log)
    responses = {r.inject: r for r in _measured(drill)[3].inject_responses}
    rows = []
    for inject in sorted(scenario.injects, key=lambda i: (i.at or scenario.end, i.number)):
        at = delivered.get(inject.number)
        response = responses.get(inject.number)
        rows.append({
            "number": inject.number, "type": inject.type, "to": list(inject.to),
            "from": inject.sender, "method": inject.method, "message": inject.message,
            "notes": inject.notes, "due": utc(inject.at) if inject.at else None,
            "delivered": at.isoformat() if at else None,
            "status": _status(inject.number, at, skipped, fired, acks),
            "acknowledged": acks.get(inject.number, []),
            "response_minutes": round(response.response, 1)
            if response and response.response is not None else None,
            "fired_because": fired.get(inject.number),
            "expect": ({"event": inject.expect.event, "desk": inject.expect.desk}
                       if inject.expect else None)})
    return rows


def _status(number, at, skipped, fired, acks) -> str:
    if number in skipped:
        return "skipped"
    if at is None:
        return "waiting" if number not in fired else "fired"
    if acks.get(number):
        return "acknowledged"
    return "delivered"


def _measured(drill: Drill):
    """The drill's events up to now (or its end), its refs and the metrics computed on them."""
    scenario = scenario_of(drill)
    end = min(drill_now(drill), scenario.end)
    log = drill_events(drill, until=end)
    refs = refs_of(drill.operation)
    return end, log, refs, metrics.compute(log, scenario=scenario, end=end, refs=refs)


def live_metrics(drill: Drill) -> dict:
    """The metrics so far and a suggested P/S/M/U per objective."""
    end, log, refs, values = _measured(drill)
    ratings = metrics.rate(scenario_of(drill), values, log, refs=refs)
    return {"as_of": end.isoformat(), "metrics": values.as_dict(),
            "ratings": [{"objective": r.objective, "rating": r.rating, "value": r.value,
                         "bound": r.bound, "reason": r.reason} for r in ratings]}


def catalogue() -> list[tuple[str, Scenario]]:
    """The shipped scenarios a drill starts from, each with its file name (what POST
    /api/v1/drills takes), in file name order."""
    names = [path.stem for path in sorted(DRILLS_DIR.glob("*.yaml"))]
    return list(zip(names, shipped_scenarios()))


def _waiting(drill: Drill, site_id: int | None) -> list:
    """Where-clauses of the reception queue: arrived volunteers not checked in today."""
    checked = select(CheckIn.volunteer_id).where(CheckIn.operation_id == drill.operation_id,
                                                 CheckIn.day == today())
    where = [DrillArrival.operation_id == drill.operation_id,
             DrillArrival.arrived_dt.is_not(None), DrillArrival.volunteer_id.not_in(checked)]
    if site_id is not None:
        where.append(DrillArrival.site_id == site_id)
    return where


def queue(drill: Drill, site_id: int | None = None,
          limit: int | None = None) -> list[DrillArrival]:
    """The drill's reception queue, first come first (only the first `limit`: a headless
    day's queue can be long)."""
    return list(db.session.scalars(select(DrillArrival).where(*_waiting(drill, site_id))
                                   .order_by(DrillArrival.arrived_dt, DrillArrival.id)
                                   .limit(limit)))


def queue_length(drill: Drill, site_id: int | None = None) -> int:
    """How many wait in the drill's reception queue (at one site, or at all)."""
    return db.session.scalar(select(func.count()).select_from(DrillArrival)
                             .where(*_waiting(drill, site_id)))
