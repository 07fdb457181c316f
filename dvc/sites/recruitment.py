"""How many volunteers each site can take today and wants tomorrow (募集状況): reads only."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from math import ceil

from sqlalchemy import func, select

from dvc.core.context import today
from dvc.extensions import db
from dvc.needs.models import WAITING, Need
from dvc.operations.models import Operation
from dvc.sites.models import Site

NEARLY_FULL = 0.8   # of the quota: the public page says "nearly full" from here


@dataclass(frozen=True)
class SiteInflow:
    site: Site
    status: str              # open | nearly_full | full | closed
    today_people: int
    quota: int | None
    people_needed: int       # by its ready and continuing needs
    equipment_limit: int | None
    tomorrow: int            # recommended number of volunteers tomorrow
    tomorrow_date: date


def people_today(site: Site, day: date | None = None) -> int:
    from dvc.volunteers.models import CheckIn
    return db.session.scalar(select(func.coalesce(func.sum(CheckIn.headcount), 0)).where(
        CheckIn.site_id == site.id, CheckIn.day == (day or today())))


def quota_left(site: Site) -> int | None:
    """People the site can still check in today, or None when it has no quota."""
    if site.daily_quota is None:
        return None
    return max(site.daily_quota - people_today(site), 0)


def people_needed(site: Site) -> int:
    """People its ready and continuing needs ask for (a continuing need: what its team said)."""
    from dvc.teams.models import ActivityReport, Team
    needs = db.session.scalars(select(Need).where(Need.site_id == site.id,
                                                  Need.status.in_(WAITING))).all()
    asked = dict(db.session.execute(
        select(Team.need_id, ActivityReport.people_next).join(ActivityReport)
        .where(Team.need_id.in_([n.id for n in needs]), ActivityReport.people_next.is_not(None))
        .order_by(ActivityReport.id)).all())
    return sum(asked.get(n.id) or ceil((n.people_min + n.people_max) / 2) for n in needs)


def equipment_limit(site: Site) -> int | None:
    """People the site can equip: its shelf of the scarcest one-per-person item, if any."""
    from dvc.equipment.models import ItemType, Stock
    return db.session.scalar(select(func.min(Stock.on_hand)).join(ItemType).where(
        Stock.site_id == site.id, ItemType.per_person))


def inflow(site: Site) -> SiteInflow:
    """Today's load and tomorrow's recommended volunteers for one site."""
    now_people, needed, limit = people_today(site), people_needed(site), equipment_limit(site)
    caps = [c for c in (needed, limit, site.daily_quota) if c is not None]
    return SiteInflow(site=site, status=_status(site, now_people), today_people=now_people,
                      quota=site.daily_quota, people_needed=needed, equipment_limit=limit,
                      tomorrow=min(caps), tomorrow_date=today() + timedelta(days=1))


def _status(site: Site, people: int) -> str:
    if site.status != "open" or site.daily_quota == 0:
        return "closed"
    if site.daily_quota is None:
        return "open"
    if people >= site.daily_quota:
        return "full"
    return "nearly_full" if people >= NEARLY_FULL * site.daily_quota else "open"


def recruitment(operation: Operation) -> list[SiteInflow]:
    """Every site's figures for the public recruitment page: no personal data."""
    return [inflow(site) for site in operation.sites]
