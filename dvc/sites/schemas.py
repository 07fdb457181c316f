"""API shapes for sites (GeoJSON out)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class SiteIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    kind = fields.String(load_default="satellite", validate=validate.OneOf(("main", "satellite")))
    lat = fields.Float(load_default=None, validate=validate.Range(-90, 90))
    lon = fields.Float(load_default=None, validate=validate.Range(-180, 180))


class SitePatch(Schema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    status = fields.String(validate=validate.OneOf(("open", "paused", "closed")))
    lat = fields.Float(validate=validate.Range(-90, 90))
    lon = fields.Float(validate=validate.Range(-180, 180))
    service_districts = fields.List(fields.String(validate=validate.Length(max=60)))
    opens_at = fields.String(validate=validate.Length(max=5))
    closes_at = fields.String(validate=validate.Length(max=5))
    daily_quota = fields.Integer(allow_none=True, validate=validate.Range(0, 100_000))
    staff = fields.String(allow_none=True, validate=validate.Length(max=2000))


class TransferIn(Schema):
    volunteer_ids = fields.List(fields.Integer(), required=True,
                                validate=validate.Length(min=1, max=1000))
