"""JSON API for shelters: register, update, occupancy, requests, where there is room."""
from __future__ import annotations

from flask_babel import gettext as _

from dvc.auth.access import actor_name
from dvc.core.errors import Invalid
from dvc.core.schemas import GeoCollectionOut, GeoFeatureOut
from dvc.extensions import ApiBlueprint
from dvc.needs.operations import get_need
from dvc.operations.operations import get_operation
from dvc.shelters import operations as ops
from dvc.shelters.schemas import (OccupancyIn, RoomOut, RoomQuery, ShelterIn, ShelterPatch,
                                  ShelterRequestIn, ShelterRequestOut)

bp = ApiBlueprint("shelters_api", __name__, url_prefix="/api/v1",
                  description="Shelters and welfare shelters (福祉避難所)")


def feature(shelter, warnings=()) -> dict:
    """A shelter as a GeoJSON feature (an institution: no one's personal data)."""
    return {"type": "Feature", "id": shelter.id,
            "geometry": {"type": "Point", "coordinates": [shelter.lon, shelter.lat]},
            "properties": {
                "name": shelter.name, "kind": shelter.kind, "designation": shelter.designation,
                "status": shelter.status, "capacity": shelter.capacity,
                "occupied": shelter.occupied, "free": shelter.free,
                "occupancy": shelter.occupancy, "care_types": shelter.care_types,
                "carers_allowed": shelter.carers_allowed, "district": shelter.district,
                "address": shelter.address, "contact": shelter.contact,
                "updated_dt": shelter.updated_dt.isoformat(), "warnings": list(warnings)}}


@bp.route("/operations/<int:op_id>/shelters", methods=["POST"])
@bp.arguments(ShelterIn)
@bp.alt_response(201, schema=GeoFeatureOut, success=True, description="The new shelter")
def post_shelter(data, op_id):
    """Register a shelter."""
    return feature(ops.create_shelter(get_operation(op_id), data, actor=actor_name())), 201


@bp.route("/operations/<int:op_id>/shelters", methods=["GET"])
@bp.alt_response(200, schema=GeoCollectionOut, success=True, description="Shelters as GeoJSON")
def list_shelters(op_id):
    """Every shelter of the operation, as a GeoJSON FeatureCollection."""
    return {"type": "FeatureCollection",
            "features": [feature(s) for s in ops.list_shelters(get_operation(op_id))]}


@bp.route("/shelters/<int:shelter_id>", methods=["PATCH"])
@bp.arguments(ShelterPatch)
@bp.alt_response(200, schema=GeoFeatureOut, success=True, description="The shelter as it is now")
def patch_shelter(data, shelter_id):
    """Change a shelter's details or status (not_open, open, full, closed)."""
    shelter = ops.get_shelter(shelter_id)
    return feature(shelter, ops.update_shelter(shelter, data, actor=actor_name()))


@bp.route("/shelters/<int:shelter_id>/occupancy", methods=["POST"])
@bp.arguments(OccupancyIn)
@bp.alt_response(200, schema=GeoFeatureOut, success=True, description="The shelter as it is now")
def post_occupancy(data, shelter_id):
    """Record who stays now by care type; at capacity the shelter is marked full."""
    shelter = ops.get_shelter(shelter_id)
    return feature(shelter, ops.set_occupancy(shelter, data["counts"], actor=actor_name()))


@bp.route("/shelters/<int:shelter_id>/requests", methods=["POST"])
@bp.arguments(ShelterRequestIn)
@bp.alt_response(201, schema=ShelterRequestOut, success=True, description="The new need")
def post_request(data, shelter_id):
    """A shelter asks for help (cleaning, sorting supplies, companionship): a new need."""
    if data["people_max"] < data["people_min"]:
        raise Invalid(_("Some answers need fixing."), fields={
            "people_max": _("People needed: the maximum must be at least the minimum (1 or more).")})
    need = ops.shelter_request(ops.get_shelter(shelter_id), actor=actor_name(), **data)
    return {"need_id": need.id, "number": need.number, "status": need.status,
            "source": need.source}, 201


@bp.route("/operations/<int:op_id>/shelters/room", methods=["GET"])
@bp.arguments(RoomQuery, location="query")
@bp.response(200, RoomOut(many=True))
def room(query, op_id):
    """Where there is room: the nearest open welfare shelters for a care type, from a point
    or a need."""
    operation = get_operation(op_id)
    lat, lon = query["lat"], query["lon"]
    if query["need_id"] is not None:
        need = get_need(query["need_id"])
        lat, lon = need.lat, need.lon
    if lat is None or lon is None:
        raise Invalid(_("Give a point or a need with a point."), fields={"lat": "required"})
    return ops.find_room(operation, lat, lon, query["care_type"], query["places"])
