"""API field shapes shared by every domain's schemas."""
from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

# Ids are PostgreSQL INTEGERs: a larger number names no record, and sending it to the database
# fails there (SQLite: OverflowError) instead of answering "not found" or "fix this field".
MAX_ID = 2**31 - 1
ID_RANGE = validate.Range(1, MAX_ID)


class Whole(fields.Integer):
    """A whole number that refuses 2.5 people (marshmallow would make it 2) and any JSON number
    written with a point; digits in a string (a query parameter) are still read."""

    def _validated(self, value):
        if isinstance(value, float):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


def id_field(**kwargs) -> Whole:
    """Return an integer field for a record's id (1 .. MAX_ID)."""
    return Whole(validate=ID_RANGE, **kwargs)


# --- GeoJSON out (the map, sites, shelters, districts) --------------------------------------

class GeoFeatureOut(Schema):
    """A GeoJSON Feature: `geometry` is a Point, a Polygon or null; `properties` vary by layer."""

    type = fields.String(required=True, validate=validate.OneOf(["Feature"]))
    id = fields.Integer()
    geometry = fields.Dict(allow_none=True, required=True)
    properties = fields.Dict(required=True)


class GeoCollectionOut(Schema):
    """A GeoJSON FeatureCollection."""

    class Meta:
        unknown = INCLUDE  # a layer may add a count beside the features (districts: outside)

    type = fields.String(required=True, validate=validate.OneOf(["FeatureCollection"]))
    features = fields.List(fields.Nested(GeoFeatureOut), required=True)


def upload_body(field: str, description: str, **extra: dict) -> dict:
    """Document a multipart upload of one file (`field`) and optional text fields."""
    properties = {field: {"type": "string", "format": "binary", "description": description},
                  **extra}
    return {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": properties, "required": [field]}}}}
