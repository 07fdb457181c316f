"""Create and change sites."""
from __future__ import annotations

from flask_babel import gettext as _

from dvc.core.errors import Invalid
from dvc.core.events import log_event
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
    site = Site(name=name, kind=kind, status="open", lat=lat, lon=lon)
    operation.sites.append(site)
    db.session.flush()
    log_event("site.created", actor=actor, operation_id=operation.id, subject=site,
              payload={"name": name, "kind": kind})
    return site
