"""Register shelters, record who is staying, their requests, and where there is room."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from dvc.core.context import now
from dvc.core.errors import Invalid, NotFound
from dvc.core.events import log_event
from dvc.core.geo import in_japan
from dvc.districts import shelters as pure
from dvc.districts.operations import place_points
from dvc.extensions import db
from dvc.operations.models import Operation
from dvc.shelters.models import CARE_TYPES, DESIGNATIONS, KINDS, STATUSES, Shelter

EDITABLE = ("name", "kind", "designation", "lat", "lon", "address", "capacity", "care_types",
            "carers_allowed", "contact")


def _check(values: dict) -> None:
    fields = {}
    if not (values.get("name") or "").strip():
        fields["name"] = _("Enter a name.")
    if values.get("kind") not in KINDS:
        fields["kind"] = _("Choose welfare or general.")
    if values.get("designation") not in DESIGNATIONS:
        fields["designation"] = _("Choose designated or by agreement.")
    lat, lon = values.get("lat"), values.get("lon")
    if lat is None or lon is None or not in_japan(lat, lon):
        fields["lat"] = _("Give the shelter's point in Japan (pick it on the map).")
    if values.get("capacity") is None or values["capacity"] < 0:
        fields["capacity"] = _("Enter the capacity: zero or more people.")
    unknown = set(values.get("care_types") or ()) - set(CARE_TYPES)
    if unknown:
        fields["care_types"] = _("Unknown care types: %(types)s", types=", ".join(sorted(unknown)))
    if fields:
        raise Invalid(_("Some answers need fixing."), fields=fields)


def _check_area(operation: Operation, values: dict) -> None:
    """A shelter is in the centre's area, as its needs are (not out at sea)."""
    from dvc.needs.operations import check_in_area
    check_in_area(operation, values.get("lat"), values.get("lon"))


def create_shelter(operation: Operation, values: dict, *, actor: str) -> Shelter:
    """Register a shelter (not open until someone opens it)."""
    values = {"kind": "welfare", "designation": "designated", "care_types": [],
              "carers_allowed": True, **values}
    _check(values)
    _check_area(operation, values)
    moment = now()
    shelter = Shelter(operation_id=operation.id, status=values.pop("status", "not_open"),
                      occupancy={}, status_dt=moment, updated_dt=moment,
                      **{k: values.get(k) for k in EDITABLE})
    shelter.care_types = sorted(set(shelter.care_types))
    place_points(operation, [shelter])
    db.session.add(shelter)
    db.session.flush()
    log_event("shelter.created", actor=actor, operation_id=operation.id, subject=shelter,
              payload={"name": shelter.name, "kind": shelter.kind, "capacity": shelter.capacity})
    return shelter


def update_shelter(shelter: Shelter, changes: dict, *, actor: str) -> list[str]:
    """Change a shelter's details or status; return warnings (e.g. now over capacity)."""
    values = {k: getattr(shelter, k) for k in EDITABLE} | {
        k: v for k, v in changes.items() if k in EDITABLE}
    _check(values)
    if "lat" in changes or "lon" in changes:
        _check_area(db.session.get(Operation, shelter.operation_id), values)
    if "status" in changes and changes["status"] not in STATUSES:
        raise Invalid(_("Some answers need fixing."), fields={"status": "choice"})
    for key in EDITABLE:
        if key in changes:
            setattr(shelter, key, sorted(set(changes[key])) if key == "care_types"
                    else changes[key])
    if "status" in changes and changes["status"] != shelter.status:
        shelter.status = changes["status"]
        shelter.status_dt = now()
    if "lat" in changes or "lon" in changes:
        place_points(db.session.get(Operation, shelter.operation_id), [shelter])
    shelter.updated_dt = now()
    warnings = _fill_check(shelter)
    log_event("shelter.updated", actor=actor, operation_id=shelter.operation_id,
              subject=shelter, payload={k: v for k, v in changes.items() if k != "contact"})
    return warnings


def set_occupancy(shelter: Shelter, counts: dict[str, int], *, actor: str) -> list[str]:
    """Record how many people stay now, by care type (each update is an event)."""
    fields = {k: _("Counts cannot be negative.") for k, v in counts.items() if v < 0}
    fields |= {k: _("Unknown care type.") for k in counts
               if k not in CARE_TYPES and k != "other"}
    if fields:
        raise Invalid(_("Some answers need fixing."), fields=fields)
    shelter.occupancy = {k: v for k, v in {**shelter.occupancy, **counts}.items() if v}
    shelter.updated_dt = now()
    warnings = _fill_check(shelter)
    log_event("shelter.occupancy", actor=actor, operation_id=shelter.operation_id,
              subject=shelter, payload={"occupancy": shelter.occupancy,
                                        "occupied": shelter.occupied,
                                        "capacity": shelter.capacity,
                                        "status": shelter.status})
    return warnings


def _fill_check(shelter: Shelter) -> list[str]:
    """Full at capacity (and warn past it); room again reopens a shelter marked full."""
    if shelter.occupied >= shelter.capacity and shelter.status == "open":
        shelter.status, shelter.status_dt = "full", now()
    elif shelter.occupied < shelter.capacity and shelter.status == "full":
        shelter.status, shelter.status_dt = "open", now()
    return ["over_capacity"] if shelter.occupied > shelter.capacity else []


def shelter_request(shelter: Shelter, *, category: str, description: str, people_min: int,
                    people_max: int, actor: str):
    """Turn a shelter's request (cleaning, sorting supplies, companionship) into a need."""
    from dvc.needs.operations import NeedInput, create_need
    need = create_need(db.session.get(Operation, shelter.operation_id), NeedInput(
        requester_name=shelter.name, requester_kana="", phone=None,
        address=shelter.address or shelter.name, lat=shelter.lat, lon=shelter.lon,
        category=category, description=description, people_min=people_min,
        people_max=people_max, source="shelter"), actor=actor)
    need.shelter_id = shelter.id
    return need


def get_shelter(shelter_id: int) -> Shelter:
    shelter = db.session.get(Shelter, shelter_id)
    if shelter is None:
        raise NotFound(_("No such shelter."), code="unknown_shelter")
    return shelter


def list_shelters(operation: Operation) -> list[Shelter]:
    return list(db.session.scalars(select(Shelter).where(
        Shelter.operation_id == operation.id).order_by(Shelter.id)))


def as_pure(shelter: Shelter) -> pure.Shelter:
    return pure.Shelter(id=shelter.id, name=shelter.name, kind=shelter.kind,
                        status=shelter.status, lat=shelter.lat, lon=shelter.lon,
                        capacity=shelter.capacity, occupancy=dict(shelter.occupancy),
                        care_types=frozenset(shelter.care_types))


def find_room(operation: Operation, lat: float, lon: float, care_type: str,
              places: int = 1, limit: int = 5) -> list[pure.Room]:
    """The nearest open welfare shelters with room for this care type, with distances."""
    if care_type not in CARE_TYPES:
        raise Invalid(_("Some answers need fixing."), fields={"care_type": "choice"})
    return pure.find_room(lat, lon, care_type, [as_pure(s) for s in list_shelters(operation)],
                          limit, places=places, crs=current_app.config["METRIC_CRS"])


def room_near(operation: Operation, care_type: str, *, need_id: int | None = None,
              lat: float | None = None, lon: float | None = None,
              places: int = 1) -> tuple[list[pure.Room], object | None]:
    """Where there is room from a need's point or a given point; return the rooms and the need."""
    from dvc.needs.models import Need
    need = None
    if need_id is not None:
        need = db.session.get(Need, need_id)
        if need is None or need.operation_id != operation.id:
            raise Invalid(_("No such need in this operation."),
                          fields={"need_id": _("No such need in this operation.")})
        if need.lat is None or need.lon is None:
            message = _("This need has no point yet: give a point instead.")
            raise Invalid(message, fields={"need_id": message})
        lat, lon = need.lat, need.lon
    elif lat is None or lon is None:
        message = _("Give a need number, or a point (latitude and longitude).")
        raise Invalid(message, fields={"need_id": message})
    return find_room(operation, lat, lon, care_type, places), need
