"""Form, dispatch, return and report teams: where team state changes."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from dvc.core.context import now, today
from dvc.core.errors import Conflict, Invalid, NotFound
from dvc.core.events import log_event
from dvc.extensions import db
from dvc.needs.models import Need
from dvc.needs.operations import advance_by_team, lock_need
from dvc.operations.models import Operation
from dvc.teams.models import (ACTIVE, IN_FIELD, ActivityReport, Incident, Team, TeamMember)
from dvc.volunteers.models import CheckIn, Volunteer


def _due_back(day) -> datetime:
    hour, minute = map(int, current_app.config["ACTIVITY_END"].split(":"))
    local = datetime.combine(day, time(hour, minute), ZoneInfo(current_app.config["TIMEZONE"]))
    return local.astimezone(ZoneInfo("UTC"))


def busy_volunteer_ids(volunteer_ids) -> set[int]:
    """Return which of these volunteers are in an active team now."""
    return set(db.session.scalars(select(TeamMember.volunteer_id).where(
        TeamMember.volunteer_id.in_(volunteer_ids), TeamMember.active)))


def checked_in_today(operation: Operation, volunteer_ids: list[int]) -> dict[int, CheckIn]:
    """Return these volunteers' check-ins today; refuse if any of them has none."""
    checkins = {c.volunteer_id: c for c in db.session.scalars(select(CheckIn).where(
        CheckIn.operation_id == operation.id, CheckIn.day == today(),
        CheckIn.volunteer_id.in_(volunteer_ids)))}
    missing = [i for i in volunteer_ids if i not in checkins]
    if missing:
        raise Conflict(_("Not checked in today: these volunteers cannot be sent."),
                       code="not_checked_in", data={"volunteer_ids": missing})
    return checkins


def team_warnings(need: Need, volunteers: list[Volunteer], headcount: int) -> list[str]:
    """What a coordinator should know before sending this team (not refusals)."""
    warnings = []
    if headcount < need.people_min:
        warnings.append("understaffed")
    if need.vehicle_needed and not any(v.vehicle == "light_truck" for v in volunteers):
        warnings.append("no_light_truck")
    have = {s for v in volunteers for s in v.skills}
    if set(need.skills) - have:
        warnings.append("missing_skills")
    return warnings


def form_team(operation: Operation, need: Need, member_ids: list[int], leader_id: int, *,
              actor: str) -> tuple[Team, list[str]]:
    """Form a team of today's checked-in, free volunteers for a ready or continuing need."""
    member_ids = list(dict.fromkeys(member_ids))
    if need.operation_id != operation.id:
        raise NotFound(_("No such need."), code="unknown_need")
    lock_need(need)  # its status decides, and a coordinator may be changing it right now
    if need.status not in ("ready", "continuing", "assigned"):
        raise Conflict(_("This need is not ready for a team."), code="need_not_ready",
                       data={"status": need.status})
    if not member_ids or leader_id not in member_ids:
        raise Invalid(_("Choose the members and a leader among them."),
                      fields={"leader_id": "not_a_member"})
    checkins = checked_in_today(operation, member_ids)
    busy = busy_volunteer_ids(member_ids)
    if busy:
        raise _busy(busy)
    headcount = sum(c.headcount for c in checkins.values())
    if headcount > need.people_max:
        raise Invalid(_("Too many people for this need (at most %(n)s).", n=need.people_max),
                      fields={"member_ids": "too_many"})
    day = today()
    team = Team(operation_id=operation.id, need=need, site_id=checkins[leader_id].site_id,
                day=day, leader_id=leader_id, status="formed", formed_dt=now(),
                due_back_dt=_due_back(day))
    team.members = [TeamMember(volunteer_id=i, headcount=checkins[i].headcount)
                    for i in member_ids]
    try:
        with db.session.begin_nested():
            db.session.add(team)
            db.session.flush()
    except IntegrityError:
        # Another coordinator took one of these volunteers a moment ago.
        raise _busy(busy_volunteer_ids(member_ids) or set(member_ids)) from None
    if need.status != "assigned":
        advance_by_team(need, "assigned", actor=actor)
    warnings = team_warnings(need, [c.volunteer for c in checkins.values()], headcount)
    # The warnings go in the log too: drills count mismatches (a skill or vehicle missing).
    log_event("team.formed", actor=actor, operation_id=operation.id, subject=team,
              payload={"need_id": need.id, "member_ids": member_ids, "leader_id": leader_id,
                       "headcount": headcount, "warnings": warnings})
    return team, warnings


def _busy(ids) -> Conflict:
    return Conflict(_("Already in another team: choose other volunteers."),
                    code="volunteer_busy", data={"volunteer_ids": sorted(ids)})


def _require(team: Team, allowed: tuple[str, ...]) -> None:
    """Hold the team's row and read it again, then check its status: two coordinators pressing
    the same button at once take turns, and the second is told what the team is doing now."""
    db.session.flush()
    db.session.refresh(team, with_for_update=True)
    if team.status not in allowed:
        raise Conflict(_("The team cannot do this now (it is %(status)s).",
                         status=team.status), code="invalid_team_state",
                       data={"status": team.status})


def _free_members(team: Team) -> None:
    for member in team.members:
        member.active = False


def _move(team: Team, status: str, stamp: str | None, *, actor: str, **payload) -> None:
    team.status = status
    if stamp:
        setattr(team, stamp, now())
    log_event(f"team.{status}", actor=actor, operation_id=team.operation_id, subject=team,
              payload={"need_id": team.need_id, **payload})


def dispatch_team(team: Team, *, transport: str, actor: str) -> None:
    """Send the team out (送り出し); its need is now in progress."""
    _require(team, ("formed",))
    team.transport = transport
    _move(team, "dispatched", "dispatched_dt", actor=actor, transport=transport)
    lock_need(team.need)
    if team.need.status == "assigned":
        advance_by_team(team.need, "in_progress", actor=actor)


def arrive_team(team: Team, *, actor: str) -> None:
    _require(team, ("dispatched",))
    _move(team, "on_site", "arrived_dt", actor=actor)


def finish_team(team: Team, *, actor: str) -> None:
    """The leader says the work is over for today and the team is heading back."""
    _require(team, ("dispatched", "on_site"))
    _move(team, "finished", "finished_dt", actor=actor)


def return_team(team: Team, *, actor: str) -> None:
    """The team is back at the centre: everyone is safe and free for another team."""
    _require(team, IN_FIELD)
    _free_members(team)
    _move(team, "returned", "returned_dt", actor=actor)


def disband_team(team: Team, *, actor: str) -> None:
    """Undo a team before it leaves; its need goes back to the board."""
    _require(team, ("formed",))
    _free_members(team)
    _move(team, "disbanded", None, actor=actor)
    lock_need(team.need)  # a team being formed for it right now must count as another
    others = db.session.scalar(select(Team.id).where(
        Team.need_id == team.need_id, Team.id != team.id, Team.status.in_(ACTIVE)))
    if not others and team.need.status == "assigned":
        advance_by_team(team.need, "ready", actor=actor)


def report_team(team: Team, *, outcome: str, actor: str, reported_by: str,
                remaining_work: str | None = None, people_next: int | None = None,
                requester_situation: str | None = None, notes: str | None = None,
                incidents: list[dict] | None = None) -> ActivityReport:
    """File the activity report; the need becomes completed or continuing."""
    _require(team, (*IN_FIELD, "returned"))
    if team.report is not None:
        raise Conflict(_("This team has already reported."), code="already_reported")
    if outcome == "continuing" and not (remaining_work or "").strip():
        raise Invalid(_("Describe the work that remains."), fields={"remaining_work": "required"})
    report = ActivityReport(team=team, outcome=outcome, remaining_work=remaining_work,
                            people_next=people_next, requester_situation=requester_situation,
                            notes=notes, reported_by=reported_by, reported_dt=now())
    db.session.add(report)
    for incident in incidents or []:
        record_incident(team.operation_id, team=team, actor=actor, **incident)
    log_event("team.reported", actor=actor, operation_id=team.operation_id, subject=team,
              payload={"need_id": team.need_id, "outcome": outcome, "people_next": people_next})
    lock_need(team.need)  # another team of the same need may be reporting right now
    if team.need.status == "in_progress":
        advance_by_team(team.need, outcome, actor=actor, remaining_work=remaining_work)
    return report


def record_incident(operation_id: int, *, kind: str, description: str, actor: str,
                    team: Team | None = None, volunteer_id: int | None = None,
                    severity: str = "minor") -> Incident:
    """Record an injury or a near-miss."""
    if not (description or "").strip():
        raise Invalid(_("Describe what happened."), fields={"description": "required"})
    if volunteer_id is not None:
        volunteer = db.session.get(Volunteer, volunteer_id)
        if volunteer is None or volunteer.operation_id != operation_id:
            message = _("No such volunteer in this operation.")
            raise Invalid(message, fields={"volunteer_id": message})
    incident = Incident(operation_id=operation_id, team=team, volunteer_id=volunteer_id,
                        kind=kind, severity=severity, description=description.strip(),
                        reported_dt=now(), actor=actor)
    db.session.add(incident)
    db.session.flush()
    log_event(f"incident.{kind}", actor=actor, operation_id=operation_id, subject=incident,
              payload={"team_id": team.id if team else None, "severity": severity})
    return incident


def recall_all(operation: Operation, *, actor: str, reason: str) -> list[Team]:
    """Recall every team in the field (heavy rain, aftershock); leaders' phones show it."""
    teams = teams_in_field(operation)
    moment = now()
    for team in teams:
        if team.recalled_dt is None:
            team.recalled_dt = moment
    log_event("team.recall_all", actor=actor, operation_id=operation.id,
              payload={"reason": reason, "team_ids": [t.id for t in teams]})
    return teams


def teams_in_field(operation: Operation) -> list[Team]:
    return list(db.session.scalars(select(Team).where(
        Team.operation_id == operation.id, Team.status.in_(IN_FIELD)).order_by(Team.id)))


def overdue_teams(operation: Operation) -> list[Team]:
    """Teams still out after the end of the activity window: chase them (安否確認)."""
    moment = now()
    return [t for t in teams_in_field(operation) if t.due_back_dt < moment]


def get_team(team_id: int) -> Team:
    team = db.session.get(Team, team_id)
    if team is None:
        raise NotFound(_("No such team."), code="unknown_team")
    return team


def active_team_of(volunteer: Volunteer) -> Team | None:
    """The team a volunteer is in now, if any."""
    return db.session.scalar(select(Team).join(TeamMember).where(
        TeamMember.volunteer_id == volunteer.id, TeamMember.active))


def free_checked_in(operation: Operation) -> list[CheckIn]:
    """Today's check-ins of volunteers not in an active team: the reception queue."""
    busy = select(TeamMember.volunteer_id).where(TeamMember.active)
    return list(db.session.scalars(select(CheckIn).where(
        CheckIn.operation_id == operation.id, CheckIn.day == today(),
        CheckIn.volunteer_id.not_in(busy)).order_by(CheckIn.checked_in_dt, CheckIn.id)))


def days_active_before(volunteer_ids) -> dict[int, int]:
    """Return how many earlier days each volunteer checked in (experience, for leaders)."""
    if not volunteer_ids:
        return {}
    rows = db.session.execute(select(CheckIn.volunteer_id, func.count()).where(
        CheckIn.volunteer_id.in_(volunteer_ids), CheckIn.day < today())
        .group_by(CheckIn.volunteer_id))
    return dict(rows.all())


# --- reading for the dispatch and safety pages ----------------------------------------------

def teams_of_need(need: Need) -> list[Team]:
    """Return every team sent (or about to be sent) to this need, oldest first."""
    return list(db.session.scalars(select(Team).where(Team.need_id == need.id).order_by(Team.id)))


def teams_waiting(operation: Operation) -> list[Team]:
    """Return teams formed but not yet sent out: their dispatch sheets are to be printed."""
    return list(db.session.scalars(select(Team).where(
        Team.operation_id == operation.id, Team.status == "formed").order_by(Team.id)))


def recalled_not_back(operation: Operation) -> list[Team]:
    """Return recalled teams still in the field (the head of the centre counts them home)."""
    return [t for t in teams_in_field(operation) if t.recalled_dt is not None]


def incidents_on(operation: Operation, day) -> list[Incident]:
    """Return the injuries and near-misses recorded on a local day, newest first."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    start = datetime.combine(day, time(0, 0), zone).astimezone(ZoneInfo("UTC"))
    end = datetime.combine(day + timedelta(days=1), time(0, 0), zone).astimezone(ZoneInfo("UTC"))
    return list(db.session.scalars(select(Incident).where(
        Incident.operation_id == operation.id, Incident.reported_dt >= start,
        Incident.reported_dt < end).order_by(Incident.reported_dt.desc(), Incident.id.desc())))


def resolve_sheet_code(operation: Operation, text: str) -> Team:
    """Return the team whose dispatch sheet was scanned (or whose number was typed)."""
    from dvc.teams.sheets import SheetCodeError, read_sheet_code
    try:
        ref = read_sheet_code(current_app.config["SECRET_KEY"], operation.id, text)
    except SheetCodeError as err:
        if err.reason == "checksum":
            raise Invalid(_("This sheet is not from this operation, or its code is damaged: "
                            "type the team number printed beside the code."),
                          code="sheet_code_damaged", fields={"code": "checksum"}) from None
        raise Invalid(_("This is not a dispatch sheet's code. Scan the QR in the sheet's report "
                        "section, or type the team number (for example T0012)."),
                      code="sheet_code_malformed", fields={"code": err.reason}) from None
    team = db.session.get(Team, ref.team_id)
    if team is None or team.operation_id != operation.id:
        raise NotFound(_("No team with this number in this operation."), code="unknown_team")
    return team


def recall_reason(team: Team) -> str | None:
    """Return why the centre recalled this team (shown in red on every member's phone)."""
    from dvc.core.events import Event
    if team.recalled_dt is None:
        return None
    event = db.session.scalar(select(Event).where(
        Event.operation_id == team.operation_id, Event.kind == "team.recall_all")
        .order_by(Event.id.desc()).limit(1))
    return event.payload.get("reason") if event else None
