"""JSON API for needs: intake, the map's GeoJSON, status changes, surveys, photos."""
from __future__ import annotations

from flask import request, send_file
from flask_babel import gettext as _

from dvc.auth.access import actor_name, audited
from dvc.core.context import today
from dvc.core.errors import Invalid
from dvc.core.schemas import GeoCollectionOut, upload_body
from dvc.extensions import ApiBlueprint
from dvc.needs import operations as ops
from dvc.needs.schemas import (CallIn, DuplicateOut, DuplicateQuery, MergeIn, NeedFilter, NeedIn,
                               NeedOut, PhotoOut, PointIn, StatusIn, SurveyIn, SurveyOut)
from dvc.operations.operations import get_operation

bp = ApiBlueprint("needs_api", __name__, url_prefix="/api/v1",
                  description="Survivors' needs (ニーズ)")


def feature(need, day) -> dict:
    """A need as a GeoJSON feature for the map: no names, phones or addresses."""
    geometry = None if need.lat is None else {"type": "Point",
                                              "coordinates": [need.lon, need.lat]}
    return {"type": "Feature", "id": need.id, "geometry": geometry, "properties": {
        "number": need.number, "status": need.status, "category": need.category,
        "priority": need.priority, "people_min": need.people_min,
        "people_max": need.people_max, "district": need.district,
        "site_id": need.site_id, "vehicle_needed": need.vehicle_needed,
        "care": bool(need.care), "days_waiting": ops.days_waiting(need, day)}}


@bp.route("/operations/<int:op_id>/needs", methods=["POST"])
@bp.arguments(NeedIn)
@bp.response(201, NeedOut)
def post_need(data, op_id):
    """Record a need (intake); it starts as received."""
    return ops.create_need(get_operation(op_id), ops.NeedInput(**data), actor=actor_name())


@bp.route("/operations/<int:op_id>/needs", methods=["GET"])
@bp.arguments(NeedFilter, location="query")
@bp.alt_response(200, schema=GeoCollectionOut, success=True,
                 description="Needs as GeoJSON Points (no names, phones or addresses)")
def list_needs(filters, op_id):
    """Needs as a GeoJSON FeatureCollection, filterable by status, category and district."""
    needs = ops.list_needs(get_operation(op_id), statuses=filters["status"],
                           categories=filters["category"], districts=filters["district"])
    day = today()
    return {"type": "FeatureCollection", "features": [feature(n, day) for n in needs]}


@bp.route("/operations/<int:op_id>/needs/duplicates", methods=["GET"])
@bp.arguments(DuplicateQuery, location="query")
@bp.response(200, DuplicateOut(many=True))
def duplicates(query, op_id):
    """Likely duplicates while typing: same phone, similar name or kana, a nearby point."""
    return ops.find_duplicates(get_operation(op_id), phone=query["phone"],
                               phone2=query["phone2"], name=query["name"],
                               kana=query["kana"], lat=query["lat"], lon=query["lon"])


@bp.route("/needs/<int:need_id>", methods=["GET"])
@bp.response(200, NeedOut)
@audited
def get_need(need_id):
    """One need in full; every view is logged with who and when."""
    need = ops.get_need(need_id)
    ops.log_view(need, actor=actor_name())
    return need


@bp.route("/needs/<int:need_id>", methods=["PATCH"])
@bp.arguments(StatusIn)
@bp.response(200, NeedOut)
def patch_need(data, need_id):
    """Change a need's status by hand; 409 for a transition the rules do not allow."""
    need = ops.get_need(need_id)
    ops.change_status(need, data["status"], actor=actor_name(), reason=data["reason"],
                      referred_to=data["referred_to"])
    return need


@bp.route("/needs/<int:need_id>/point", methods=["PUT"])
@bp.arguments(PointIn)
@bp.response(200, NeedOut)
def put_point(data, need_id):
    """Move a need's point; its district and serving site follow."""
    need = ops.get_need(need_id)
    ops.move_need(need, data["lat"], data["lon"], actor=actor_name())
    return need


@bp.route("/needs/<int:need_id>/calls", methods=["POST"])
@bp.arguments(CallIn)
@bp.response(200, NeedOut)
def post_call(data, need_id):
    """Add a repeat call to an existing need instead of creating a duplicate."""
    need = ops.get_need(need_id)
    ops.add_call(need, data["note"], actor=actor_name())
    return need


@bp.route("/needs/<int:need_id>/merge", methods=["POST"])
@bp.arguments(MergeIn)
@bp.response(200, NeedOut)
def merge(data, need_id):
    """Close this need as a duplicate of `keep_id`."""
    keep = ops.get_need(data["keep_id"])
    ops.merge_needs(ops.get_need(need_id), keep, actor=actor_name())
    return keep


@bp.route("/needs/<int:need_id>/surveys", methods=["POST"])
@bp.arguments(SurveyIn)
@bp.response(201, SurveyOut)
def post_survey(data, need_id):
    """Record a site survey and its decision."""
    return ops.record_survey(ops.get_need(need_id), actor=actor_name(), **data)


@bp.route("/needs/<int:need_id>/photos", methods=["POST"])
@bp.doc(requestBody=upload_body("photo", "JPEG, PNG or WebP, at most 8 MB"))
@bp.response(201, PhotoOut)
def post_photo(need_id):
    """Attach a photo (JPEG, PNG or WebP, at most 8 MB)."""
    upload = request.files.get("photo")
    if upload is None:
        raise Invalid(_("Send a photo."), fields={"photo": "required"})
    return ops.add_photo(ops.get_need(need_id), upload.read(), actor=actor_name())


@bp.route("/needs/<int:need_id>/photos/<int:photo_id>", methods=["GET"])
@bp.doc(responses={"200": {"description": "The photo as stored", "content": {
    kind: {"schema": {"type": "string", "format": "binary"}}
    for kind in ("image/jpeg", "image/png", "image/webp")}}})
@audited
def get_photo(need_id, photo_id):
    """A photo of a need (logged like the record itself)."""
    need = ops.get_need(need_id)
    photo = next((p for p in need.photos if p.id == photo_id), None)
    if photo is None:
        raise Invalid(_("No such photo."), fields={"photo_id": "unknown"}, status=404)
    ops.log_view(need, actor=actor_name())
    return send_file(ops.photo_path(photo), mimetype=photo.mimetype, max_age=0)
