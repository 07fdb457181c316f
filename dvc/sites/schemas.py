"""API shapes for sites (GeoJSON out)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from dvc.core.schemas import Whole, id_field


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
    daily_quota = Whole(allow_none=True, validate=validate.Range(0, 100_000))
    staff = fields.String(allow_none=True, validate=validate.Length(max=2000))


class TransferIn(Schema):
    volunteer_ids = fields.List(id_field(), required=True,
                                validate=validate.Length(min=1, max=1000))


class TransferOut(Schema):
    site_id = fields.Integer()
    moved = fields.List(fields.Integer(), metadata={"description": "Volunteers who moved"})
    people = fields.Integer(metadata={"description": "People moved, groups counted in full"})


class RecruitmentSiteOut(Schema):
    site_id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    status = fields.String(metadata={"description": "Recruitment status (募集状況)"})
    opens_at = fields.String(allow_none=True)
    closes_at = fields.String(allow_none=True)
    today = fields.Integer()
    quota = fields.Integer(allow_none=True)
    tomorrow = fields.Integer(metadata={"description": "Volunteers wanted tomorrow"})
    tomorrow_date = fields.Date()


class RecruitmentOut(Schema):
    """Public figures: counts only, no personal data."""

    operation = fields.String()
    sites = fields.List(fields.Nested(RecruitmentSiteOut))
