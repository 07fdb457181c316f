"""Record a day: turn an operation's records and event log into a scenario file that replays it.

Any operation (a real day or a drill) can be exported. Nothing personal leaves: no names,
phones, addresses or notes are written (the replay makes fictional people and households), and
every need's point is moved by up to JITTER_M in a random direction, deterministically per
operation. What is kept: when each volunteer arrived (their check-in time), their skills, vehicle
and group size; when each need came in, its kind, size and district; and what the centre did
(check-ins, need status changes made by hand, teams formed, dispatched and reported).
"""
from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import yaml
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from dvc.core.errors import Invalid
from dvc.core.events import Event
from dvc.drills.timeparse import offset_text
from dvc.extensions import db
from dvc.needs.models import MANUAL, OPEN, Need
from dvc.operations.models import Operation
from dvc.teams.models import Team
from dvc.volunteers.models import CheckIn

JITTER_M = 150
MARGIN = timedelta(minutes=30)
REPLAY_SPEED = 60
TEAM_KINDS = ("team.formed", "team.dispatched", "team.reported")


def export_scenario(operation: Operation, day: date | None = None) -> str:
    """Return a scenario (YAML text) that replays one service day of an operation."""
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    day = day or _last_day(operation, tz)
    start_local = datetime(day.year, day.month, day.day, tzinfo=tz)
    day_events = _events(operation, start_local, start_local + timedelta(days=1))
    if not day_events:
        raise Invalid(_("Nothing happened on that day: choose a day with activity."),
                      fields={"day": "empty"})
    start = _floor_hour(day_events[0].scenario_dt.astimezone(tz)) - timedelta(hours=0)
    end = day_events[-1].scenario_dt.astimezone(tz) + MARGIN
    recorded = _Recorder(operation, start, day_events, random.Random(f"dvc-export/{operation.id}"),
                         _carried_over(operation, start_local))
    doc = {
        "id": f"recorded-{operation.id}-{day:%Y%m%d}",
        "title": f"記録の再生: {operation.name} {day:%Y/%m/%d}",
        "description": "記録された一日の再生（氏名・電話・住所は架空、位置はずらしてあります）",
        "status": "exercise", "start": start.isoformat(), "timezone": str(tz),
        "seed": operation.id, "speed": REPLAY_SPEED,
        "duration": _duration(end - start),
        "desks": [{"id": "reception", "name": "受付"}, {"id": "needs", "name": "ニーズ"},
                  {"id": "matching", "name": "マッチング"}, {"id": "dispatch", "name": "送り出し"}],
        "objectives": [
            {"id": "checkin-wait", "title": "受付の待ち時間（90パーセンタイル）20分以内",
             "desks": ["reception"], "measure": {"metric": "checkin_wait_p90", "max": 20}},
            {"id": "dispatch-time", "title": "受付から送り出しまで（中央値）45分以内",
             "desks": ["matching", "dispatch"], "measure": {"metric": "dispatch_p50", "max": 45}}],
        "initial": _initial(operation),
        "injects": [{
            "number": 1, "at": "+00:00", "type": "information", "from": "記録",
            "to": ["reception", "needs", "matching", "dispatch"], "method": "alert",
            "message": f"{day:%Y/%m/%d} の記録を再生します。",
            "payload": {"kind": "recorded_day", "arrivals": recorded.arrivals(),
                        "needs": recorded.needs(), "actions": recorded.actions()}}],
    }
    return "# " + _("Recorded with flask drill export: fictional names, moved points.") + "\n" + \
        yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)


def _last_day(operation: Operation, tz) -> date:
    last = db.session.scalar(select(CheckIn.day).where(CheckIn.operation_id == operation.id)
                             .order_by(CheckIn.day.desc()).limit(1))
    if last is None:
        raise Invalid(_("Nobody checked in yet: there is no day to record."),
                      fields={"day": "empty"})
    return last


def _events(operation: Operation, since: datetime, until: datetime) -> list[Event]:
    kinds = ("volunteer.checked_in", "need.received", "need.status_changed", *TEAM_KINDS)
    return list(db.session.scalars(select(Event).where(
        Event.operation_id == operation.id, Event.kind.in_(kinds), Event.scenario_dt >= since,
        Event.scenario_dt < until).order_by(Event.scenario_dt, Event.id)))


def _carried_over(operation: Operation, since: datetime) -> list[tuple[Need, str]]:
    """Needs still open when the day began, with the status each had then."""
    needs = db.session.scalars(select(Need).where(
        Need.operation_id == operation.id, Need.received_dt < since).order_by(Need.id)).all()
    last = {}
    for event in db.session.scalars(select(Event).where(
            Event.operation_id == operation.id, Event.kind == "need.status_changed",
            Event.scenario_dt < since).order_by(Event.scenario_dt, Event.id)):
        last[event.subject_id] = event.payload.get("to")
    out = []
    for need in needs:
        status = last.get(need.id, "received")
        if status in OPEN:
            # A team's state does not carry into the replay: the need waits for a new team.
            out.append((need, status if status in MANUAL else "ready"))
    return out


def _floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _duration(delta: timedelta) -> str:
    minutes = math.ceil(delta.total_seconds() / 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def _initial(operation: Operation) -> dict:
    sites = [{"name": s.name, "kind": s.kind, "point": [s.lat, s.lon],
              **({"quota": s.daily_quota} if s.daily_quota is not None else {})}
             for s in operation.sites if s.lat is not None]
    return {"operation": {"name": f"{operation.name}（記録の再生・訓練）",
                          "prefecture": operation.prefecture or "東京都",
                          "municipality": operation.municipality or "架空市"},
            "sites": sites, "districts": "fictional"}


class _Recorder:
    """Number the day's volunteers (v1...), needs (n1...) and teams (t1...) in time order."""

    def __init__(self, operation, start, events, rng, carried):
        self.operation, self.start, self.events, self.rng = operation, start, events, rng
        self.carried = carried
        self.refs: dict[tuple[str, int], str] = {}
        self.sites = {s.id: s.name for s in operation.sites}

    def ref(self, kind: str, id_: int) -> str:
        key = (kind, id_)
        if key not in self.refs:
            count = sum(1 for k, _ in self.refs if k == kind)
            self.refs[key] = f"{kind[0]}{count + 1}"
        return self.refs[key]

    def at(self, event: Event) -> str:
        return offset_text(event.scenario_dt - self.start)[1:]  # a duration: no sign

    def arrivals(self) -> list[dict]:
        ids = [e.subject_id for e in self.events if e.kind == "volunteer.checked_in"]
        checkins = {c.id: c for c in db.session.scalars(
            select(CheckIn).where(CheckIn.id.in_(ids)))}
        out = []
        for event in self.events:
            checkin = checkins.get(event.subject_id) if event.kind == "volunteer.checked_in" \
                else None
            if checkin is None:
                continue
            v = checkin.volunteer
            out.append({"ref": self.ref("volunteer", v.id), "at": self.at(event),
                        "site": self.sites.get(checkin.site_id),
                        "headcount": v.group.size if v.group and v.group.size else 1,
                        "skills": list(v.skills or []), "vehicle": v.vehicle,
                        "insured": v.insurance == "home"})
        return out

    def needs(self) -> list[dict]:
        ids = [e.subject_id for e in self.events if e.kind == "need.received"]
        needs = {n.id: n for n in db.session.scalars(select(Need).where(Need.id.in_(ids)))}
        timed = [(need, "0:00") for need, _status in self.carried]
        timed += [(needs[e.subject_id], self.at(e)) for e in self.events
                  if e.kind == "need.received" and e.subject_id in needs]
        return [self.need(need, at) for need, at in timed if need.lat is not None]

    def need(self, need: Need, at: str) -> dict:
        return {"ref": self.ref("need", need.id), "at": at, "category": need.category,
                "priority": need.priority,
                "people": [need.people_min, max(need.people_min, need.people_max)],
                "hours": float(need.est_hours or 3), "skills": list(need.skills or []),
                "vehicle_needed": bool(need.vehicle_needed), "elderly": bool(need.elderly),
                "point": self.jitter(need.lat, need.lon), "district": need.district,
                "source": need.source}

    def jitter(self, lat: float, lon: float) -> list[float]:
        angle = self.rng.uniform(0, 2 * math.pi)
        metres = self.rng.uniform(JITTER_M / 3, JITTER_M)
        dlat = metres * math.cos(angle) / 111_320
        dlon = metres * math.sin(angle) / (111_320 * math.cos(math.radians(lat)))
        return [round(lat + dlat, 6), round(lon + dlon, 6)]

    def actions(self) -> list[dict]:
        teams = {t.id: t for t in db.session.scalars(select(Team).where(Team.id.in_(
            [e.subject_id for e in self.events if e.kind in TEAM_KINDS])))}
        out = [{"at": "0:00:01", "do": "need_status", "need": self.refs[("need", need.id)],
                "to": status} for need, status in self.carried
               if status != "received" and ("need", need.id) in self.refs]
        for event in self.events:
            row = self.action(event, teams)
            if row is not None:
                out.append({"at": self.at(event), **row})
        return out

    def action(self, event: Event, teams: dict) -> dict | None:
        payload = event.payload or {}
        if event.kind == "volunteer.checked_in":
            volunteer = payload.get("volunteer_id")
            return {"do": "check_in", "volunteer": self.refs.get(("volunteer", volunteer)),
                    "headcount": payload.get("headcount") or 1} \
                if ("volunteer", volunteer) in self.refs else None
        if event.kind == "need.status_changed":
            # By hand only: what teams do to a need follows from the team actions.
            manual = payload.get("to") in MANUAL and payload.get("from") != "assigned" \
                and payload.get("reason") != "merged"
            need = ("need", event.subject_id)
            return {"do": "need_status", "need": self.refs[need], "to": payload["to"]} \
                if manual and need in self.refs else None
        team = teams.get(event.subject_id)
        if team is None or ("need", team.need_id) not in self.refs:
            return None
        if event.kind == "team.formed":
            members = [self.refs.get(("volunteer", m.volunteer_id)) for m in team.members]
            if None in members:
                return None
            return {"do": "form_team", "team": self.ref("team", team.id),
                    "need": self.refs[("need", team.need_id)], "members": members,
                    "leader": self.refs.get(("volunteer", team.leader_id), members[0])}
        if ("team", team.id) not in self.refs:
            return None
        if event.kind == "team.dispatched":
            return {"do": "dispatch", "team": self.refs[("team", team.id)]}
        return {"do": "report", "team": self.refs[("team", team.id)],
                "outcome": payload.get("outcome") or "completed"}
