"""JSON API for districts: the polygons with their open needs, and importing a file."""
from __future__ import annotations

import tempfile
from pathlib import Path

from flask import request
from flask_babel import gettext as _

from dvc.auth.access import actor_name
from dvc.core.errors import Invalid
from dvc.core.schemas import GeoCollectionOut, upload_body
from dvc.districts import operations as ops
from dvc.districts.schemas import ImportedOut
from dvc.extensions import ApiBlueprint
from dvc.operations.operations import get_operation

bp = ApiBlueprint("districts_api", __name__, url_prefix="/api/v1",
                  description="Districts (地区)")


@bp.route("/operations/<int:op_id>/districts", methods=["GET"])
@bp.alt_response(200, schema=GeoCollectionOut, success=True,
                 description="Districts as GeoJSON polygons; `outside`: needs outside them all")
def list_districts(op_id):
    """Districts as GeoJSON, with open needs, needs waiting for a team and serving sites."""
    operation = get_operation(op_id)
    counts = ops.need_counts(operation)
    serving = ops.serving_by_district(operation)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": d.id, "geometry": d.geometry, "properties": {
            "name": d.name, "source": d.source,
            "open_needs": counts.get(d.name, {}).get("open", 0),
            "waiting_needs": counts.get(d.name, {}).get("waiting", 0),
            "sites": [s.id for s in serving.get(d.name, [])]}}
        for d in ops.district_rows(operation)],
        "outside": len(ops.needs_to_check(operation))}


@bp.route("/operations/<int:op_id>/districts/import", methods=["POST"])
@bp.doc(requestBody=upload_body(
    "file", "GeoJSON, GeoPackage or zipped Shapefile",
    name_field={"type": "string", "description": "The field holding each district's name"},
    layer={"type": "string", "description": "The layer to read (GeoPackage)"}))
@bp.alt_response(201, schema=ImportedOut, success=True)
def import_districts(op_id):
    """Replace the districts with a file (GeoJSON, GeoPackage or zipped Shapefile; admin)."""
    operation = get_operation(op_id)
    upload = request.files.get("file")
    name_field = (request.form.get("name_field") or "").strip()
    if upload is None or not upload.filename:
        raise Invalid(_("Choose a district file."), fields={"file": "required"})
    if not name_field:
        raise Invalid(_("Name the field that holds each district's name."),
                      fields={"name_field": "required"})
    rows = import_upload(operation, upload, name_field,
                         layer=(request.form.get("layer") or "").strip() or None)
    return {"imported": len(rows), "names": [r.name for r in rows]}, 201


def import_upload(operation, upload, name_field: str, *, layer: str | None = None):
    """Save the upload to a temporary file (the readers need a path) and import it."""
    suffix = Path(upload.filename).suffix.lower()[:10]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"districts{suffix}"
        upload.save(path)
        return ops.import_districts(operation, path, name_field, source=upload.filename,
                                    actor=actor_name(), layer=layer)
