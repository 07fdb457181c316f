"""API shapes for shelters (GeoJSON out)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from dvc.core.schemas import Whole, id_field
from dvc.needs.models import CATEGORIES
from dvc.shelters import models as m

CARE = fields.String(validate=validate.OneOf(m.CARE_TYPES))


class ShelterIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    kind = fields.String(load_default="welfare", validate=validate.OneOf(m.KINDS))
    designation = fields.String(load_default="designated",
                                validate=validate.OneOf(m.DESIGNATIONS))
    status = fields.String(load_default="not_open", validate=validate.OneOf(m.STATUSES))
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    address = fields.String(load_default=None, validate=validate.Length(max=300))
    capacity = Whole(required=True, validate=validate.Range(0, 100_000))
    care_types = fields.List(CARE, load_default=list)
    carers_allowed = fields.Boolean(load_default=True)
    contact = fields.String(load_default=None, validate=validate.Length(max=200))


class ShelterPatch(ShelterIn):
    class Meta:
        partial = True


class OccupancyIn(Schema):
    counts = fields.Dict(keys=fields.String(validate=validate.OneOf((*m.CARE_TYPES, "other"))),
                         values=Whole(validate=validate.Range(max=100_000)), required=True)


class ShelterRequestIn(Schema):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    description = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    people_min = Whole(load_default=1, validate=validate.Range(1, 100))
    people_max = Whole(load_default=5, validate=validate.Range(1, 100))


class RoomQuery(Schema):
    care_type = fields.String(required=True, validate=validate.OneOf(m.CARE_TYPES))
    lat = fields.Float(load_default=None, validate=validate.Range(-90, 90))
    lon = fields.Float(load_default=None, validate=validate.Range(-180, 180))
    need_id = id_field(load_default=None)
    places = Whole(load_default=1, validate=validate.Range(1, 50))


class RoomOut(Schema):
    shelter_id = fields.Integer(attribute="shelter.id")
    name = fields.String(attribute="shelter.name")
    free = fields.Integer(attribute="shelter.free")
    capacity = fields.Integer(attribute="shelter.capacity")
    distance_m = fields.Float()


class ShelterRequestOut(Schema):
    need_id = fields.Integer()
    number = fields.String()
    status = fields.String()
    source = fields.String()
