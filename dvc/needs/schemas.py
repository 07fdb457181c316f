"""API shapes for needs: intake, GeoJSON, status changes, surveys."""
from __future__ import annotations

from marshmallow import Schema, fields, validate
from webargs.fields import DelimitedList

from dvc.core.schemas import Whole, id_field
from dvc.needs import models as m


class NeedIn(Schema):
    requester_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    requester_kana = fields.String(load_default="", validate=validate.Length(max=120))
    phone = fields.String(load_default=None, validate=validate.Length(max=30))
    phone2 = fields.String(load_default=None, validate=validate.Length(max=30))
    address = fields.String(required=True, validate=validate.Length(min=1, max=300))
    lat = fields.Float(load_default=None, validate=validate.Range(-90, 90))
    lon = fields.Float(load_default=None, validate=validate.Range(-180, 180))
    district = fields.String(load_default=None, validate=validate.Length(max=60))
    category = fields.String(required=True, validate=validate.OneOf(m.CATEGORIES))
    description = fields.String(load_default="", validate=validate.Length(max=4000))
    damage = fields.String(load_default="unknown", validate=validate.OneOf(m.DAMAGE))
    people_min = Whole(load_default=1, validate=validate.Range(1, 500))
    people_max = Whole(load_default=5, validate=validate.Range(1, 500))
    est_hours = fields.Float(load_default=None, validate=validate.Range(0, 24 * 14,
                                                                        min_inclusive=False))
    skills = fields.List(fields.String(validate=validate.Length(max=40)), load_default=list)
    vehicle_needed = fields.Boolean(load_default=False)
    equipment_wanted = fields.String(load_default=None, validate=validate.Length(max=1000))
    priority = fields.String(load_default="normal", validate=validate.OneOf(m.PRIORITIES))
    elderly = fields.Boolean(load_default=False)
    disabled = fields.Boolean(load_default=False)
    living_alone = fields.Boolean(load_default=False)
    source = fields.String(load_default="phone", validate=validate.OneOf(m.SOURCES))


class NeedOut(Schema):
    """A need in full: only for roles that work with survivors (intake, coordinators)."""

    id = fields.Integer()
    number = fields.String()
    operation_id = fields.Integer()
    site_id = fields.Integer(allow_none=True)
    status = fields.String()
    requester_name = fields.String()
    requester_kana = fields.String()
    phone = fields.String(allow_none=True)
    phone2 = fields.String(allow_none=True)
    address = fields.String()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    district = fields.String(allow_none=True)
    place_check = fields.Boolean()
    shelter_id = fields.Integer(allow_none=True)
    category = fields.String()
    description = fields.String()
    damage = fields.String()
    people_min = fields.Integer()
    people_max = fields.Integer()
    est_hours = fields.Float(allow_none=True)
    skills = fields.List(fields.String())
    vehicle_needed = fields.Boolean()
    equipment_wanted = fields.String(allow_none=True)
    priority = fields.String()
    elderly = fields.Boolean()
    disabled = fields.Boolean()
    living_alone = fields.Boolean()
    source = fields.String()
    received_dt = fields.DateTime()
    status_dt = fields.DateTime()
    referred_to = fields.String(allow_none=True)
    remaining_work = fields.String(allow_none=True)
    merged_into_id = fields.Integer(allow_none=True)


class NeedFilter(Schema):
    status = DelimitedList(fields.String(validate=validate.OneOf(m.STATUSES)), load_default=list)
    category = DelimitedList(fields.String(validate=validate.OneOf(m.CATEGORIES)),
                             load_default=list)
    district = DelimitedList(fields.String(), load_default=list)


class StatusIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf(m.STATUSES))
    reason = fields.String(load_default=None, validate=validate.Length(max=500))
    referred_to = fields.String(load_default=None, validate=validate.Length(max=200))


class PointIn(Schema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))


class DuplicateQuery(Schema):
    phone = fields.String(load_default=None)
    phone2 = fields.String(load_default=None)
    name = fields.String(load_default="")
    kana = fields.String(load_default="")
    lat = fields.Float(load_default=None, validate=validate.Range(-90, 90))
    lon = fields.Float(load_default=None, validate=validate.Range(-180, 180))


class DuplicateOut(Schema):
    id = fields.Integer(attribute="need.id")
    number = fields.String(attribute="need.number")
    status = fields.String(attribute="need.status")
    requester_name = fields.String(attribute="need.requester_name")
    address = fields.String(attribute="need.address")
    category = fields.String(attribute="need.category")
    reasons = fields.List(fields.String())


class CallIn(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class MergeIn(Schema):
    keep_id = id_field(required=True)


class SurveyIn(Schema):
    surveyor = fields.String(required=True, validate=validate.Length(min=1, max=120))
    headcount = Whole(required=True, validate=validate.Range(1, 500))
    hours = fields.Float(required=True, validate=validate.Range(0, 24 * 14, min_inclusive=False))
    tools = fields.String(load_default=None, validate=validate.Length(max=2000))
    hazards = fields.String(load_default=None, validate=validate.Length(max=2000))
    decision = fields.String(required=True, validate=validate.OneOf(m.DECISIONS))
    notes = fields.String(load_default=None, validate=validate.Length(max=4000))
    referred_to = fields.String(load_default=None, validate=validate.Length(max=200))


class SurveyOut(Schema):
    id = fields.Integer()
    need_id = fields.Integer()
    surveyor = fields.String()
    surveyed_dt = fields.DateTime()
    headcount = fields.Integer()
    hours = fields.Float()
    tools = fields.String(allow_none=True)
    hazards = fields.String(allow_none=True)
    decision = fields.String()
    notes = fields.String(allow_none=True)


class PhotoOut(Schema):
    id = fields.Integer()
    need_id = fields.Integer()
    mimetype = fields.String()
    size = fields.Integer()
    uploaded_dt = fields.DateTime()
