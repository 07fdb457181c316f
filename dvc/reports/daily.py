"""The daily report (日報): one day's figures and the same figures since the operation opened.

Every figure is computed from the records and the event log with a fixed number of aggregate
queries, whatever the size of the operation: one per family of figures (volunteers; needs
received; surveyed; the day's outcomes; continuing; statuses at the end of the day, two for a
past day; teams; incidents; equipment), each giving the day and the cumulative value together;
nothing is read row by row. Days are local days in the centre's time zone (config TIMEZONE).
How each figure is counted:

Volunteers (受付), from check-ins (CheckIn) on the day; the cumulative column adds up the days
(延べ人数, people-days):
- people: the headcount of the day's check-ins (a group's check-in counts the members who came);
- new / repeat: new when that check-in is the volunteer's (or group's) first in the operation,
  else repeat; cumulative "new" is therefore the number of different people (実人数);
- individuals / in groups: by whether the registration is a group's (団体), with the number of
  group check-ins as "groups";
- from inside / outside the prefecture: the volunteer's prefecture against the operation's
  (config HOME_PREFECTURE when the operation has none);
- by site: where they checked in.

Needs (ニーズ). Duplicates merged into another need are not counted at all (one household):
- received: needs whose received_dt falls in the day (cumulative: received up to its end);
- surveyed: different needs with a site survey (Survey) that day;
- completed / cancelled / referred: different needs whose status changed to that status that
  day (events `need.status_changed`); since opening: needs in that status at the end of the
  day (these statuses are final, so that is every need that ever reached it);
- continuing: different needs a team reported "continuing" (work left, 継続) that day, from
  the activity reports; since opening: different needs ever reported so;
- waiting: needs received by the end of the day and still open then (received, survey,
  ready, assigned, in progress, continuing, on hold), by their status at the end of the day:
  the last status event before it (for the day still going on: their status now). A state,
  not a sum: it has no cumulative value, and
  cumulative received = completed + cancelled + referred + waiting.

Activity:
- teams dispatched and people dispatched: teams whose dispatched_dt falls in the day, and the
  headcount of their members;
- people-hours: for those teams, members' headcount x hours from dispatch to return (or, when
  no return was recorded, to the leader's "finished"); for a team with neither, to now while
  it is within its activity window, else to its due-back time (the end of the window, config
  ACTIVITY_END): such teams are counted in "teams whose hours are estimated";
- injuries and near-misses: incidents (Incident) reported that day, by kind;
- equipment lost / broken: the quantities of the ledger's `lost` and `broken` lines that day.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, distinct, exists, func, literal, select
from sqlalchemy.orm import aliased

from dvc.core.clock import local_day
from dvc.core.context import now, today
from dvc.core.db import UTCDateTime
from dvc.core.errors import Invalid
from dvc.core.events import Event
from dvc.equipment.models import ItemType, Movement
from dvc.extensions import db
from dvc.needs.models import OPEN, Need, Survey
from dvc.operations.models import Operation
from dvc.reports.operations import daily_note
from dvc.teams.models import ActivityReport, Incident, Team, TeamMember
from dvc.volunteers.models import CheckIn, Volunteer

# Statuses a need never leaves.
FINAL = ("completed", "cancelled", "referred")


@dataclass(frozen=True)
class Volunteers:
    people: int = 0
    new: int = 0
    repeat: int = 0
    individuals: int = 0
    in_groups: int = 0
    groups: int = 0
    in_prefecture: int = 0
    out_of_prefecture: int = 0
    by_site: dict = field(default_factory=dict)   # site id -> people


@dataclass(frozen=True)
class Needs:
    received: int = 0
    surveyed: int = 0
    completed: int = 0
    continuing: int = 0
    cancelled: int = 0
    referred: int = 0


@dataclass(frozen=True)
class Activity:
    teams_dispatched: int = 0
    people_dispatched: int = 0
    people_hours: float = 0.0
    teams_estimated: int = 0
    injuries: int = 0
    near_misses: int = 0
    equipment_lost: int = 0
    equipment_broken: int = 0


@dataclass(frozen=True)
class Figures:
    """One column of the report: the day, or everything since opening."""

    volunteers: Volunteers
    needs: Needs
    activity: Activity


@dataclass(frozen=True)
class SiteRow:
    id: int
    name: str
    kind: str


@dataclass(frozen=True)
class ItemLoss:
    """Equipment written off: one item and kind (lost or broken), on the day and in all."""

    item: str
    unit: str
    kind: str
    day: int
    cumulative: int


@dataclass(frozen=True)
class DailyReport:
    operation_id: int
    operation_name: str
    is_drill: bool
    prefecture: str
    day: date
    opened_day: date
    day_number: int               # 第N日: the opening day is day 1
    complete: bool                # False while the day is still going on
    as_of: datetime
    today: Figures
    cumulative: Figures
    waiting: int                  # needs open at the end of the day (or now)
    waiting_by_status: dict
    sites: tuple[SiteRow, ...]
    losses: tuple[ItemLoss, ...]
    note: str = ""
    note_updated_dt: datetime | None = None
    note_actor: str | None = None


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """Return the UTC start and end of a local day."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(0, 0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0, 0), zone)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def opened_day(operation: Operation) -> date:
    """Return the local day the operation opened (its day 1)."""
    return local_day(operation.opened_dt, current_app.config["TIMEZONE"])


def parse_day(raw: str | None) -> date | None:
    """Read ?date=YYYY-MM-DD; None when not given."""
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(_("Give the date as YYYY-MM-DD."), fields={"date": "format"}) from None


def report_day(operation: Operation, day: date | str | None) -> date:
    """Check the day asked for (default: today, or the closing day); refuse days before the
    operation opened or still to come."""
    if isinstance(day, str) or day is None:
        day = parse_day(day)
    first = opened_day(operation)
    if day is None:
        return max(min(today(), _last_day(operation)), first)
    if day < first:
        raise Invalid(_("The operation opened on %(day)s: choose that day or a later one.",
                        day=first.isoformat()), fields={"date": "before_opening"})
    if day > today():
        raise Invalid(_("That day has not come yet."), fields={"date": "future"})
    return day


def _last_day(operation: Operation) -> date:
    """The operation's last day: the day it closed, or today."""
    if operation.closed_dt is not None:
        return local_day(operation.closed_dt, current_app.config["TIMEZONE"])
    return today()


def build_daily_report(operation: Operation, day: date) -> DailyReport:
    """Compute the report of one local day: the day's figures and those since opening."""
    start, end = day_bounds(day, current_app.config["TIMEZONE"])
    moment = now()
    prefecture = operation.prefecture or current_app.config["HOME_PREFECTURE"]
    vol_day, vol_all = _volunteers(operation.id, day, prefecture)
    at_end = _status_at(operation.id, end, moment)
    needs_day, needs_all = _needs(operation.id, start, end, at_end)
    act_day, act_all = _activity(operation.id, start, end, moment)
    losses = _losses(operation.id, start, end)
    act_day = _with_losses(act_day, losses, "day")
    act_all = _with_losses(act_all, losses, "cumulative")
    by_status = {status: at_end.get(status, 0) for status in OPEN}
    note = daily_note(operation, day)
    first = opened_day(operation)
    return DailyReport(
        operation_id=operation.id, operation_name=operation.name, is_drill=operation.is_drill,
        prefecture=prefecture, day=day, opened_day=first, day_number=(day - first).days + 1,
        complete=end <= moment, as_of=min(moment, end),
        today=Figures(vol_day, needs_day, act_day), cumulative=Figures(vol_all, needs_all, act_all),
        waiting=sum(by_status.values()), waiting_by_status=by_status,
        sites=tuple(SiteRow(s.id, s.name, s.kind) for s in operation.sites), losses=losses,
        note=note.text if note else "", note_updated_dt=note.updated_dt if note else None,
        note_actor=note.actor if note else None)


# --- volunteers ------------------------------------------------------------------------------

def _volunteers(op_id: int, day: date, prefecture: str) -> tuple[Volunteers, Volunteers]:
    earlier = aliased(CheckIn)
    # New: no check-in of the same volunteer on an earlier day (a probe of the unique
    # (volunteer_id, day) index per row: cheaper than grouping every volunteer's first day).
    new = ~exists().where(earlier.volunteer_id == CheckIn.volunteer_id, earlier.day < CheckIn.day)
    # Flags are computed in a subquery and grouped outside it: PostgreSQL cannot tell that a
    # GROUP BY expression with its own bound parameters is the one in the select list.
    rows = (select((CheckIn.day == day).label("today"), CheckIn.site_id, CheckIn.headcount,
                    Volunteer.group_id.is_not(None).label("grouped"),
                    (Volunteer.prefecture == prefecture).label("home"), new.label("new"))
            .join(Volunteer, Volunteer.id == CheckIn.volunteer_id)
            .where(CheckIn.operation_id == op_id, CheckIn.day <= day).subquery())

    def people_if(flag):
        return func.sum(case((flag, rows.c.headcount), else_=0))

    query = (select(rows.c.today, rows.c.site_id, func.sum(rows.c.headcount),
                    people_if(rows.c.new), people_if(rows.c.grouped),
                    func.sum(case((rows.c.grouped, 1), else_=0)), people_if(rows.c.home))
             .group_by(rows.c.today, rows.c.site_id))
    counts = {"day": defaultdict(int), "cumulative": defaultdict(int)}
    sites = {"day": defaultdict(int), "cumulative": defaultdict(int)}
    for is_today, site_id, people, new_people, grouped, groups, home in db.session.execute(query):
        for column in ("day", "cumulative") if is_today else ("cumulative",):
            c = counts[column]
            c["people"] += people
            c["new"] += new_people
            c["repeat"] += people - new_people
            c["in_groups"] += grouped
            c["individuals"] += people - grouped
            c["groups"] += groups
            c["in_prefecture"] += home
            c["out_of_prefecture"] += people - home
            sites[column][site_id] += people
    return tuple(Volunteers(**counts[c], by_site=dict(sites[c]))  # type: ignore[return-value]
                 for c in ("day", "cumulative"))


# --- needs -----------------------------------------------------------------------------------

def _counted_needs():
    return (Need.merged_into_id.is_(None),)


def _needs(op_id: int, start: datetime, end: datetime,
           at_end: dict[str, int]) -> tuple[Needs, Needs]:
    day, cumulative = {}, {}
    received = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((Need.received_dt >= start, 1),
                                                         else_=0)), 0))
        .where(Need.operation_id == op_id, Need.received_dt < end, *_counted_needs())).one()
    cumulative["received"], day["received"] = received
    surveyed = db.session.execute(
        select(func.count(distinct(Survey.need_id)),
               func.count(distinct(case((Survey.surveyed_dt >= start, Survey.need_id)))))
        .join(Need, Need.id == Survey.need_id)
        .where(Need.operation_id == op_id, Survey.surveyed_dt < end, *_counted_needs())).one()
    cumulative["surveyed"], day["surveyed"] = surveyed
    # The day's outcomes from the log; since opening, a final status (completed, cancelled,
    # referred: no way out of them) is where a need is at the end of the day.
    changes = (select(Event.subject_id, Event.payload["to"].as_string().label("to"))
               .join(Need, Need.id == Event.subject_id)
               .where(Event.operation_id == op_id, Event.kind == "need.status_changed",
                      Event.scenario_dt >= start, Event.scenario_dt < end, *_counted_needs())
               .subquery())
    day.update(db.session.execute(
        select(changes.c.to, func.count(distinct(changes.c.subject_id)))
        .where(changes.c.to.in_(FINAL)).group_by(changes.c.to)).all())
    cumulative.update({status: at_end.get(status, 0) for status in FINAL})
    # Continuing: the teams' own reports of work left (活動報告「継続」).
    continuing = db.session.execute(
        select(func.count(distinct(Team.need_id)),
               func.count(distinct(case((ActivityReport.reported_dt >= start, Team.need_id)))))
        .select_from(ActivityReport).join(Team, Team.id == ActivityReport.team_id)
        .where(Team.operation_id == op_id, ActivityReport.outcome == "continuing",
               ActivityReport.reported_dt < end)).one()
    cumulative["continuing"], day["continuing"] = continuing
    return Needs(**day), Needs(**cumulative)


def _status_at(op_id: int, end: datetime, moment: datetime) -> dict[str, int]:
    """Count needs by their status at `end`: the last status event before it, or, for a day
    still going on, the status they have now (nothing has happened after now)."""
    if end > moment:
        rows = db.session.execute(
            select(Need.status, func.count())
            .where(Need.operation_id == op_id, *_counted_needs()).group_by(Need.status))
        return dict(rows.all())
    last = (select(func.max(Event.id)).where(
        Event.operation_id == op_id, Event.kind == "need.status_changed",
        Event.scenario_dt < end).group_by(Event.subject_id))
    received = (Need.operation_id == op_id, Need.received_dt < end, *_counted_needs())
    # Start from the last events (one per need, by primary key), not from the needs: joining
    # events to needs by subject probes every subject type's rows with the same id.
    latest = (select(Event.payload["to"].as_string().label("status"))
              .join(Need, Need.id == Event.subject_id)
              .where(Event.id.in_(last), *received).subquery())
    found = dict(db.session.execute(select(latest.c.status, func.count())
                                    .group_by(latest.c.status)).all())
    # Needs with no status event yet are still "received".
    total = db.session.scalar(select(func.count()).select_from(Need).where(*received))
    found["received"] = found.get("received", 0) + total - sum(found.values())
    return found


# --- teams, incidents, equipment -------------------------------------------------------------

def _seconds(start, end):
    """Seconds from one datetime expression to another, in SQL (SQLite or PostgreSQL)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def _activity(op_id: int, start: datetime, end: datetime,
              moment: datetime) -> tuple[Activity, Activity]:
    now_ = literal(moment, UTCDateTime())
    # When no return (or "finished") was recorded: to now while the team is within its
    # activity window, and never past the window's end, so a forgotten return adds no hours.
    window_end = case((Team.due_back_dt > Team.dispatched_dt, Team.due_back_dt),
                      else_=Team.dispatched_dt)
    estimate = case((window_end < now_, window_end), else_=now_)
    back = func.coalesce(Team.returned_dt, Team.finished_dt)
    seconds = _seconds(Team.dispatched_dt, func.coalesce(back, estimate))
    people = (select(func.coalesce(func.sum(TeamMember.headcount), 0))
              .where(TeamMember.team_id == Team.id).scalar_subquery())
    teams = (select((Team.dispatched_dt >= start).label("today"), people.label("people"),
                    case((seconds > 0, seconds), else_=0).label("seconds"),
                    back.is_(None).label("estimated"))
             .where(Team.operation_id == op_id, Team.dispatched_dt.is_not(None),
                    Team.dispatched_dt < end).subquery())
    query = (select(teams.c.today, func.count(), func.sum(teams.c.people),
                    func.sum(teams.c.people * teams.c.seconds),
                    func.sum(case((teams.c.estimated, 1), else_=0)))
             .group_by(teams.c.today))
    day, cumulative = defaultdict(float), defaultdict(float)
    for is_today, count, people_out, person_seconds, estimated in db.session.execute(query):
        for c in (day, cumulative) if is_today else (cumulative,):
            # PostgreSQL sums into numeric (Decimal): make every figure a plain number.
            c["teams_dispatched"] += int(count)
            c["people_dispatched"] += int(people_out or 0)
            c["people_hours"] += float(person_seconds or 0) / 3600
            c["teams_estimated"] += int(estimated or 0)
    incidents = db.session.execute(
        select(Incident.kind, func.count(),
               func.coalesce(func.sum(case((Incident.reported_dt >= start, 1), else_=0)), 0))
        .where(Incident.operation_id == op_id, Incident.reported_dt < end)
        .group_by(Incident.kind))
    names = {"injury": "injuries", "near_miss": "near_misses"}
    for kind, total, on_day in incidents:
        cumulative[names[kind]], day[names[kind]] = total, on_day
    return _activity_of(day), _activity_of(cumulative)


def _activity_of(values: dict) -> Activity:
    ints = {k: int(v) for k, v in values.items() if k != "people_hours"}
    return Activity(**ints, people_hours=round(values.get("people_hours", 0.0), 1))


def _losses(op_id: int, start: datetime, end: datetime) -> tuple[ItemLoss, ...]:
    rows = db.session.execute(
        select(ItemType.name, ItemType.unit, Movement.kind,
               func.coalesce(func.sum(case((Movement.moved_dt >= start, Movement.quantity),
                                           else_=0)), 0),
               func.sum(Movement.quantity))
        .join(ItemType, ItemType.id == Movement.item_type_id)
        .where(Movement.operation_id == op_id, Movement.kind.in_(("lost", "broken")),
               Movement.moved_dt < end)
        .group_by(ItemType.id, ItemType.name, ItemType.unit, Movement.kind)
        .order_by(ItemType.name, Movement.kind))
    return tuple(ItemLoss(name, unit, kind, int(on_day), int(total))
                 for name, unit, kind, on_day, total in rows)


def _with_losses(activity: Activity, losses, column: str) -> Activity:
    return replace(activity,
                   equipment_lost=sum(getattr(x, column) for x in losses if x.kind == "lost"),
                   equipment_broken=sum(getattr(x, column) for x in losses
                                        if x.kind == "broken"))
