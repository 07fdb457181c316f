"""Create and change sites."""
from __future__ import annotations

import re

from flask_babel import gettext as _

from dvc.core.context import now
from dvc.core.errors import Conflict, Invalid, NotFound
from dvc.core.events import log_event
from dvc.core.geo import in_japan
from dvc.districts.operations import district_rows, place_points, relocate_all
from dvc.extensions import db
from dvc.operations.models import Operation
from dvc.sites.models import KINDS, Site


def _check_point(lat, lon) -> dict:
    fields = {}
    if lat is not None and not -90 <= lat <= 90:
        fields["lat"] = _("Latitude must be between -90 and 90.")
    if lon is not None and not -180 <= lon <= 180:
        fields["lon"] = _("Longitude must be between -180 and 180.")
    if (lat is None) != (lon is None):
        fields["lat" if lat is None else "lon"] = _("Give both latitude and longitude.")
    elif lat is not None and not fields and not in_japan(lat, lon):
        fields["lat"] = _("This point is outside Japan: check the coordinates.")
    return fields


def create_site(operation: Operation, name: str, kind: str, *, lat: float | None,
                lon: float | None, actor: str) -> Site:
    """Add the main centre or a satellite to an operation."""
    name = (name or "").strip()
    fields = _check_point(lat, lon)
    if not name:
        fields["name"] = _("Enter a name.")
    if kind not in KINDS:
        fields["kind"] = _("Choose main or satellite.")
    elif kind == "main" and operation.main_site is not None:
        fields["kind"] = _("This operation already has a main centre.")
    if fields:
        raise Invalid(_("Some answers need fixing."), fields=fields)
    site = Site(name=name, kind=kind, status="open", lat=lat, lon=lon, opened_dt=now())
    operation.sites.append(site)
    place_points(operation, [site])
    db.session.flush()
    log_event("site.created", actor=actor, operation_id=operation.id, subject=site,
              payload={"name": name, "kind": kind})
    return site


# --- running a site ---------------------------------------------------------------------------

STAMPS = {"open": "opened_dt", "paused": "paused_dt", "closed": "closed_dt"}
HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def set_site_status(site: Site, status: str, *, actor: str) -> None:
    """Open, pause or close a site (times recorded); its open needs move to a serving site."""
    if status not in STAMPS:
        raise Invalid(_("Choose open, paused or closed."), fields={"status": "choice"})
    if site.kind == "main" and status == "closed":
        raise Conflict(_("The main centre cannot be closed while the operation is open."),
                       code="main_site_close")
    if site.status == status:
        return
    before = site.status
    site.status = status
    setattr(site, STAMPS[status], now())
    log_event(f"site.{status}", actor=actor, operation_id=site.operation_id, subject=site,
              payload={"from": before})
    relocate_all(site.operation)


def update_site(site: Site, changes: dict, *, actor: str) -> None:
    """Change a site's point, service area, hours, daily quota or staff."""
    fields = _check_point(changes.get("lat", site.lat), changes.get("lon", site.lon))
    for key in ("opens_at", "closes_at"):
        if key in changes and not HOURS.match(changes[key] or ""):
            fields[key] = _("Give a time as HH:MM, for example 09:00.")
    if changes.get("daily_quota") is not None and changes["daily_quota"] < 0:
        fields["daily_quota"] = _("The quota cannot be negative.")
    known = {d.name for d in district_rows(site.operation)}
    unknown = set(changes.get("service_districts") or ()) - known
    if unknown:
        fields["service_districts"] = _("Unknown districts: %(names)s",
                                        names="、".join(sorted(unknown)))
    if "name" in changes and not (changes["name"] or "").strip():
        fields["name"] = _("Enter a name.")
    if fields:
        raise Invalid(_("Some answers need fixing."), fields=fields)
    for key, value in changes.items():
        setattr(site, key, sorted(set(value)) if key == "service_districts" else value)
    log_event("site.updated", actor=actor, operation_id=site.operation_id, subject=site,
              payload={k: v for k, v in changes.items() if k != "staff"})
    relocate_all(site.operation)


def get_site(site_id: int) -> Site:
    site = db.session.get(Site, site_id)
    if site is None:
        raise NotFound(_("No such site."), code="unknown_site")
    return site


def transfer_volunteers(operation: Operation, to_site: Site, volunteer_ids: list[int], *,
                        actor: str) -> list:
    """Send a batch of today's free checked-in volunteers to another site (the shuttle)."""
    from dvc.teams.operations import busy_volunteer_ids, checked_in_today
    if to_site.operation_id != operation.id:
        raise NotFound(_("No such site."), code="unknown_site")
    if to_site.status != "open":
        raise Conflict(_("This site is not open: volunteers cannot be sent there."),
                       code="site_not_open")
    ids = list(dict.fromkeys(volunteer_ids))
    if not ids:
        raise Invalid(_("Choose the volunteers to send."), fields={"volunteer_ids": "required"})
    checkins = checked_in_today(operation, ids)
    busy = busy_volunteer_ids(ids)
    if busy:
        raise Conflict(_("Already in a team: they stay where their team is."),
                       code="volunteer_busy", data={"volunteer_ids": sorted(busy)})
    moved = [c for c in checkins.values() if c.site_id != to_site.id]
    for checkin in moved:
        checkin.site_id = to_site.id
    log_event("volunteers.transferred", actor=actor, operation_id=operation.id, subject=to_site,
              payload={"volunteer_ids": [c.volunteer_id for c in moved],
                       "people": sum(c.headcount for c in moved)})
    return moved


def shuttle_candidates(site: Site) -> list:
    """Today's check-ins at this site of volunteers free to be sent elsewhere (not in a team)."""
    from dvc.teams.operations import free_checked_in
    return [c for c in free_checked_in(site.operation) if c.site_id == site.id]
