"""The day at a glance: the figures of the live dashboard, counted in the database.

`dashboard_data(operation)` answers, for the app's today and now (the one clock):
arrivals per 15 minutes of local time, the reception queue and how long it has waited, teams
formed / out / back / overdue, needs by status, district and site, equipment out with teams
and low on the shelf, and today's injuries and near-misses. It runs a fixed number of
aggregate queries (eight), whatever the size of the operation: nothing is read row by row
except today's free check-ins (one column, for the waiting-time median, which SQLite cannot
compute) and the few low-stock shelves.
"""
from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Integer, and_, case, cast, extract, func, select

from dvc.core.context import now, today
from dvc.equipment import operations as equipment
from dvc.equipment.models import ItemType, Movement
from dvc.extensions import db
from dvc.needs.models import OPEN, STATUSES as NEED_STATUSES, Need
from dvc.operations.models import Operation
from dvc.reports.daily import day_bounds
from dvc.sites.models import Site
from dvc.teams.models import IN_FIELD, SEVERITIES, Incident, Team, TeamMember
from dvc.volunteers.models import CheckIn

BUCKET = timedelta(minutes=15)
BUCKET_SECONDS = int(BUCKET.total_seconds())
DEFAULT_OPENS_AT = "09:00"


def dashboard_data(operation: Operation) -> dict:
    """Return the dashboard's figures for the operation, today, as plain JSON-ready values."""
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    moment, day = now(), today()
    start, end = day_bounds(day, tz.key)
    sites = _sites(operation)
    return {
        "operation": {"id": operation.id, "name": operation.name, "kind": operation.kind},
        "day": day.isoformat(),
        "as_of": moment.isoformat(),
        "as_of_local": _local(moment, tz),
        "timezone": tz.key,
        "arrivals": _arrivals(operation, day, start, moment, tz, sites),
        "queue": _queue(operation, day, moment, tz),
        "teams": _teams(operation, day, moment),
        "needs": _needs(operation, start, end, sites),
        "equipment": _equipment(operation),
        "incidents": _incidents(operation, start, end),
    }


# --- time ------------------------------------------------------------------------------------

def _epoch(column):
    """Seconds since 1970 of a naive-UTC datetime column, in SQL (SQLite or PostgreSQL)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return cast(func.floor(extract("epoch", column)), Integer)


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M")


def _minutes_of(hhmm: str) -> int:
    hours, minutes = map(int, hhmm.split(":"))
    return hours * 60 + minutes


def arrival_window(first: int | None, last: int | None, current: int, opens: int,
                   closes: int) -> range:
    """Return the 15-minute buckets (indexes from local midnight) the arrivals chart shows: from
    the earlier of the opening time and the first arrival to the later of the end of activity,
    the last arrival and now, so that the axis stays put through the day."""
    low = min(opens // 15, first if first is not None else opens // 15)
    high = max(-(-closes // 15), (last if last is not None else 0) + 1, current + 1)
    return range(max(low, 0), min(high, 24 * 4))


# --- sections -------------------------------------------------------------------------------

def _sites(operation: Operation) -> list[tuple[int, str, str, str]]:
    return db.session.execute(select(Site.id, Site.name, Site.status, Site.opens_at).where(
        Site.operation_id == operation.id).order_by(Site.kind != "main", Site.id)).all()


def _arrivals(operation, day, start, moment, tz, sites) -> dict:
    """Check-ins and people per 15 minutes of local time, and per site."""
    bucket = (_epoch(CheckIn.checked_in_dt) - int(start.timestamp())) // BUCKET_SECONDS
    rows = db.session.execute(
        select(bucket, CheckIn.site_id, func.count(), func.sum(CheckIn.headcount),
               func.min(CheckIn.checked_in_dt), func.max(CheckIn.checked_in_dt))
        .where(CheckIn.operation_id == operation.id, CheckIn.day == day)
        .group_by(bucket, CheckIn.site_id)).all()
    per_bucket: dict[int, list[int]] = {}
    per_site: dict[int, list[int]] = {}
    first = last = None
    for index, site_id, checkins, people, earliest, latest in rows:
        b = per_bucket.setdefault(int(index), [0, 0])
        s = per_site.setdefault(site_id, [0, 0])
        b[0] += checkins
        b[1] += int(people or 0)
        s[0] += checkins
        s[1] += int(people or 0)
        first = earliest if first is None else min(first, earliest)
        last = latest if last is None else max(last, latest)
    open_times = [_minutes_of(opens) for _id, _name, status, opens in sites
                  if status != "closed" and opens] or [_minutes_of(DEFAULT_OPENS_AT)]
    window = arrival_window(min(per_bucket, default=None), max(per_bucket, default=None),
                            int((moment - start).total_seconds()) // BUCKET_SECONDS,
                            min(open_times), _minutes_of(current_app.config["ACTIVITY_END"]))
    names = {site_id: name for site_id, name, _status, _opens in sites}
    return {
        "checkins": sum(c for c, _p in per_bucket.values()),
        "people": sum(p for _c, p in per_bucket.values()),
        "bucket_minutes": BUCKET_SECONDS // 60,
        "first": _local(first, tz) if first else None,
        "last": _local(last, tz) if last else None,
        "buckets": [{"start": _local(start + i * BUCKET, tz),
                     "checkins": per_bucket.get(i, [0, 0])[0],
                     "people": per_bucket.get(i, [0, 0])[1]} for i in window],
        "by_site": [{"site_id": site_id, "name": name, "checkins": per_site[site_id][0],
                     "people": per_site[site_id][1]}
                    for site_id, name in names.items() if site_id in per_site],
    }


def _queue(operation, day, moment, tz) -> dict:
    """Today's check-ins not in an active team. "Waiting" are those never in a team today
    (disbanded teams do not count): how long they have stood there since checking in is the
    reception queue's wait. Those back from a team and free again are counted apart, since
    their check-in time says nothing about a wait."""
    active = select(TeamMember.volunteer_id).where(TeamMember.active)
    teamed_today = (select(TeamMember.volunteer_id).join(Team, Team.id == TeamMember.team_id)
                    .where(Team.operation_id == operation.id, Team.day == day,
                           Team.status != "disbanded"))
    rows = db.session.execute(
        select(CheckIn.checked_in_dt, CheckIn.headcount,
               case((CheckIn.volunteer_id.in_(teamed_today), 1), else_=0))
        .where(CheckIn.operation_id == operation.id, CheckIn.day == day,
               CheckIn.volunteer_id.not_in(active))).all()
    waiting = [(checked_in, people) for checked_in, people, teamed in rows if not teamed]
    waits = sorted(max(0, int((moment - checked_in).total_seconds())) // 60
                   for checked_in, _people in waiting)
    oldest = min((checked_in for checked_in, _people in waiting), default=None)
    return {
        "checkins": len(waiting),
        "people": sum(people for _checked_in, people in waiting),
        "wait_p50_min": statistics.median_low(waits) if waits else None,
        "wait_max_min": waits[-1] if waits else None,
        "oldest": _local(oldest, tz) if oldest else None,
        "free_checkins": len(rows),
        "free_people": sum(people for _checked_in, people, _teamed in rows),
    }


def _teams(operation, day, moment) -> dict:
    """Teams of today and any still out from earlier days, by what they are doing now."""
    out = Team.status.in_(IN_FIELD)
    # One row per member: teams are counted distinct, people summed.
    rows = db.session.execute(
        select(Team.status, func.count(Team.id.distinct()), func.sum(TeamMember.headcount),
               func.count(case((and_(out, Team.due_back_dt < moment), Team.id)).distinct()),
               func.count(case((and_(out, Team.recalled_dt.is_not(None)), Team.id)).distinct()),
               func.count(case((Team.day == day, Team.id)).distinct()))
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(Team.operation_id == operation.id,
               (Team.day == day) | Team.status.in_(("formed", *IN_FIELD)))
        .group_by(Team.status)).all()
    by_status = {status: (count, int(heads or 0), int(late or 0), int(recalled or 0),
                          int(of_today or 0))
                 for status, count, heads, late, recalled, of_today in rows}

    def total(statuses, field=0):
        return sum(by_status.get(s, (0, 0, 0, 0, 0))[field] for s in statuses)
    return {
        "formed_today": total(("formed", *IN_FIELD, "returned"), 4),
        "waiting": total(("formed",)),
        "out": total(IN_FIELD),
        "people_out": total(IN_FIELD, 1),
        "back": total(("returned",)),
        "people_back": total(("returned",), 1),
        "overdue": total(IN_FIELD, 2),
        "recalled_out": total(IN_FIELD, 3),
        "by_status": {s: total((s,)) for s in ("formed", *IN_FIELD, "returned")},
    }


def _empty_statuses() -> dict[str, int]:
    return dict.fromkeys(NEED_STATUSES, 0)


def _needs(operation, start, end, sites) -> dict:
    """Needs of the whole operation by status, and by district and by site; merged duplicates
    are one household's second record and are not counted."""
    rows = db.session.execute(
        select(Need.district, Need.site_id, Need.status, func.count(),
               func.sum(case((and_(Need.received_dt >= start, Need.received_dt < end), 1),
                             else_=0)),
               func.sum(case((and_(Need.status == "completed", Need.status_dt >= start,
                                   Need.status_dt < end), 1), else_=0)))
        .where(Need.operation_id == operation.id, Need.merged_into_id.is_(None))
        .group_by(Need.district, Need.site_id, Need.status)).all()
    by_status = _empty_statuses()
    districts: dict[str | None, dict[str, int]] = {}
    by_site: dict[int | None, dict[str, int]] = {}
    received = completed = 0
    for district, site_id, status, count, new, done in rows:
        by_status[status] += count
        districts.setdefault(district, _empty_statuses())[status] += count
        by_site.setdefault(site_id, _empty_statuses())[status] += count
        received += int(new or 0)
        completed += int(done or 0)
    names = {site_id: name for site_id, name, _status, _opens in sites}
    order = list(names)

    def entry(counts: dict[str, int]) -> dict:
        return {"open": sum(counts[s] for s in OPEN), "total": sum(counts.values()),
                "by_status": counts}
    return {
        "total": sum(by_status.values()),
        "open": sum(by_status[s] for s in OPEN),
        "received_today": received,
        "completed_today": completed,
        "by_status": by_status,
        "by_district": [{"district": d, **entry(districts[d])}
                        for d in sorted(districts, key=lambda d: (d is None, d or ""))],
        "by_site": [{"site_id": s, "name": names.get(s), **entry(by_site[s])}
                    for s in sorted(by_site, key=lambda s: (s is None, order.index(s)
                                                            if s in names else len(order)))],
    }


def _equipment(operation) -> dict:
    """Equipment with teams now (lent minus returned, lost and broken), and low shelves."""
    held = func.sum(case((Movement.kind == "lend", Movement.quantity), else_=-Movement.quantity))
    rows = db.session.execute(
        select(ItemType.id, ItemType.name, ItemType.unit, held)
        .join(ItemType, ItemType.id == Movement.item_type_id)
        .where(Movement.operation_id == operation.id, Movement.team_id.is_not(None))
        .group_by(ItemType.id, ItemType.name, ItemType.unit)
        .having(held > 0).order_by(ItemType.id)).all()
    low = equipment.low_stock(operation)
    return {
        "out": [{"item_type_id": i, "name": name, "unit": unit, "quantity": int(quantity)}
                for i, name, unit, quantity in rows],
        "out_total": sum(int(quantity) for *_rest, quantity in rows),
        "low": [{"site_id": s.site_id, "site": s.site_name, "item_type_id": s.item_type_id,
                 "name": s.name, "unit": s.unit, "on_hand": s.on_hand,
                 "low_stock": s.low_stock} for s in low],
    }


def _incidents(operation, start, end) -> dict:
    """Injuries (by severity) and near-misses recorded today."""
    rows = db.session.execute(
        select(Incident.kind, Incident.severity, func.count())
        .where(Incident.operation_id == operation.id, Incident.reported_dt >= start,
               Incident.reported_dt < end)
        .group_by(Incident.kind, Incident.severity)).all()
    severity = dict.fromkeys(SEVERITIES, 0)
    near_misses = 0
    for kind, level, count in rows:
        if kind == "injury":
            severity[level] += count
        else:
            near_misses += count
    return {"injuries": sum(severity.values()), "near_misses": near_misses,
            "injuries_by_severity": severity}
