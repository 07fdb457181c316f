"""Import districts, and place needs, sites and shelters in them (stored, not per request)."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from dvc.core.context import now
from dvc.core.events import log_event
from dvc.districts.geometry import (ERRORS, DistrictFileError, DistrictSet, locate,
                                    read_districts)
from dvc.districts.models import District
from dvc.districts.serving import ServiceSite, serving_sites
from dvc.extensions import db
from dvc.needs.models import OPEN, WAITING, Need
from dvc.operations.models import Operation

# Built district sets by operation, rebuilt when the operation's districts change.
_CACHE: dict[tuple[int, tuple], DistrictSet] = {}


def metric_crs() -> str:
    return current_app.config["METRIC_CRS"]


def district_rows(operation: Operation) -> list[District]:
    return list(db.session.scalars(select(District).where(
        District.operation_id == operation.id).order_by(District.name)))


def district_set(operation: Operation) -> DistrictSet | None:
    """The operation's districts ready for spatial joins, or None when it has none."""
    rows = district_rows(operation)
    if not rows:
        return None
    # Ids are reused after a re-import (SQLite) and a drill's clock can stand still: the names
    # are in the key too, and every import forgets the operation's sets (_forget).
    key = (operation.id, tuple((r.id, r.name, r.imported_dt.isoformat()) for r in rows))
    if key not in _CACHE:
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = DistrictSet.from_geojson([(r.name, r.geometry) for r in rows],
                                               metric_crs())
    return _CACHE[key]


def _forget(operation: Operation) -> None:
    """Drop the cached district sets of an operation whose districts are being replaced."""
    for key in list(_CACHE):  # a copy in one step: other threads may add sets meanwhile
        if key[0] == operation.id:
            _CACHE.pop(key, None)


def import_districts(operation: Operation, path, name_field: str, *, source: str,
                     actor: str, layer: str | None = None) -> list[District]:
    """Replace the operation's districts with a file's, all or nothing, and re-place everything.

    Reading the file raises DistrictFileError before anything is changed. `layer` chooses one
    layer of a file that has several (a GeoPackage often does).
    """
    try:
        found = read_districts(path, name_field, metric_crs(), layer=layer or None)
    except DistrictFileError as error:
        raise translated(error) from None
    db.session.execute(delete(District).where(District.operation_id == operation.id))
    _forget(operation)
    stamp = now()
    rows = [District(operation_id=operation.id, name=name, geometry=geometry,
                     source=source[:200], imported_dt=stamp)
            for name, geometry in found.to_geojson()]
    db.session.add_all(rows)
    db.session.flush()
    log_event("districts.imported", actor=actor, operation_id=operation.id, subject=None,
              payload={"source": source, "count": len(rows), "names": list(found.names),
                       "repaired": list(found.repaired)})
    relocate_all(operation)
    return rows


def last_import(operation: Operation) -> dict | None:
    """What the current districts came from: source, count, repaired outlines, when and who."""
    from dvc.core.events import Event
    event = db.session.scalar(select(Event).where(
        Event.operation_id == operation.id, Event.kind == "districts.imported")
        .order_by(Event.id.desc()).limit(1))
    if event is None:
        return None
    return {**event.payload, "repaired": event.payload.get("repaired") or [],
            "at": event.scenario_dt, "actor": event.actor}


def store_districts(operation: Operation, items: list[tuple[str, dict]], *, source: str,
                    actor: str) -> None:
    """Store ready-made districts (the demo's fictional city) and re-place everything."""
    _forget(operation)
    stamp = now()
    db.session.add_all(District(operation_id=operation.id, name=name, geometry=geometry,
                                source=source, imported_dt=stamp) for name, geometry in items)
    db.session.flush()
    log_event("districts.imported", actor=actor, operation_id=operation.id, subject=None,
              payload={"source": source, "count": len(items), "names": [n for n, _ in items]})
    relocate_all(operation)


def service_sites(operation: Operation) -> list[ServiceSite]:
    return [ServiceSite(s.id, s.lat, s.lon, s.status, frozenset(s.service_districts or ()))
            for s in operation.sites]


def place_needs(operation: Operation, needs: list[Need]) -> None:
    """Put needs in their districts and at their serving sites (one spatial join for all)."""
    if not needs:
        return
    districts = district_set(operation)
    points = [(n.lat, n.lon) for n in needs]
    if districts is not None:
        for need, name in zip(needs, locate(points, districts)):
            located = need.lat is not None
            need.place_check = located and name is None
            if located and name is not None:
                need.district = name
    served = serving_sites(points, service_sites(operation), [n.district for n in needs],
                           crs=metric_crs())
    main = operation.main_site
    for need, site_id in zip(needs, served):
        need.site_id = site_id if site_id is not None else (main.id if main else None)


def place_points(operation: Operation, things: list) -> None:
    """Store the district of sites or shelters (anything with lat, lon and district)."""
    districts = district_set(operation)
    if districts is None or not things:
        return
    for thing, name in zip(things, locate([(t.lat, t.lon) for t in things], districts)):
        thing.district = name


def open_needs(operation: Operation) -> list[Need]:
    return list(db.session.scalars(select(Need).where(
        Need.operation_id == operation.id, Need.status.in_(OPEN))))


def relocate_all(operation: Operation) -> None:
    """After districts or service areas change: place sites, shelters and open needs again.

    Closed needs keep the district and site they were done under (the records stay true).
    """
    from dvc.shelters.models import Shelter
    place_points(operation, list(operation.sites))
    place_points(operation, list(db.session.scalars(
        select(Shelter).where(Shelter.operation_id == operation.id))))
    place_needs(operation, open_needs(operation))


def need_counts(operation: Operation) -> dict[str | None, dict[str, int]]:
    """Open needs, and those waiting for a team, per district."""
    rows = db.session.execute(select(Need.district, Need.status, func.count()).where(
        Need.operation_id == operation.id, Need.status.in_(OPEN))
        .group_by(Need.district, Need.status)).all()
    counts: dict[str | None, dict[str, int]] = {}
    for district, status, n in rows:
        entry = counts.setdefault(district, {"open": 0, "waiting": 0})
        entry["open"] += n
        entry["waiting"] += n if status in WAITING else 0
    return counts


def serving_by_district(operation: Operation) -> dict[str, list]:
    """The sites whose service area holds each district."""
    serving: dict[str, list] = {}
    for site in operation.sites:
        for name in site.service_districts or ():
            serving.setdefault(name, []).append(site)
    return serving


def needs_to_check(operation: Operation) -> list[Need]:
    """Open needs whose point lies outside every district: a person must look at them.

    A closed need keeps the flag it was closed with (closed needs are not placed again), so
    the status is what leaves it out."""
    return list(db.session.scalars(select(Need).where(
        Need.operation_id == operation.id, Need.place_check, Need.status.in_(OPEN))
        .order_by(Need.id)))


def translated(error: DistrictFileError) -> DistrictFileError:
    """The same error in the reader's language (the pure reader speaks English)."""
    params = {k: v for k, v in error.data.items() if k != "reason"}
    if error.reason not in ERRORS:
        return error
    return DistrictFileError(_(ERRORS[error.reason], **params), error.field,
                             reason=error.reason, data=params)
