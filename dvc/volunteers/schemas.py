"""API shapes for volunteers and check-ins."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate, validates

from dvc.core.japan import PREFECTURES
from dvc.core.schemas import Whole, id_field
from dvc.volunteers.models import INSURANCE, VEHICLES


class RegistrationIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    kana = fields.String(required=True, validate=validate.Length(min=1, max=120))
    phone = fields.String(required=True, validate=validate.Length(min=10, max=30))
    email = fields.Email(load_default=None)
    prefecture = fields.String(required=True, validate=validate.OneOf(PREFECTURES))
    municipality = fields.String(required=True, validate=validate.Length(min=1, max=60))
    birth_year = Whole(required=True, validate=validate.Range(1901, 2100))
    emergency_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    emergency_phone = fields.String(required=True, validate=validate.Length(min=10, max=30))
    skills = fields.List(fields.String(), load_default=list)
    vehicle = fields.String(load_default="none", validate=validate.OneOf(VEHICLES))
    insurance = fields.String(load_default="none", validate=validate.OneOf(INSURANCE))
    insurance_council = fields.String(load_default=None, validate=validate.Length(max=120))
    insurance_date = fields.Date(load_default=None)
    group_name = fields.String(load_default=None, validate=validate.Length(max=120))
    group_size = Whole(load_default=None, validate=validate.Range(2, 500))
    group_members = fields.String(load_default=None, validate=validate.Length(max=4000))
    consent = fields.Boolean(required=True)
    language = fields.String(load_default="ja", validate=validate.OneOf(("ja", "ja-easy", "en")))

    @validates("skills")
    def _known_skills(self, value, **_kw):
        unknown = set(value) - set(current_app.config["SKILLS"])
        if unknown:
            raise ValidationError(_("Unknown skills: %(skills)s",
                                    skills=", ".join(sorted(unknown))))


class RegisteredOut(Schema):
    id = fields.Integer()
    number = fields.String()
    code = fields.String(metadata={"description": "The volunteer's code; shown only once."})
    page_url = fields.String()
    qr_png_url = fields.String()
    qr_svg_url = fields.String()


class GroupOut(Schema):
    id = fields.Integer()
    name = fields.String()
    size = fields.Integer()
    member_names = fields.String(allow_none=True)


class VolunteerOut(Schema):
    """What reception sees: enough to greet and check in, no phones or addresses."""

    id = fields.Integer()
    number = fields.String()
    name = fields.String()
    kana = fields.String()
    prefecture = fields.String()
    birth_year = fields.Integer()
    skills = fields.List(fields.String())
    vehicle = fields.String()
    insurance = fields.String()
    group = fields.Nested(GroupOut, allow_none=True)


class CheckInOut(Schema):
    id = fields.Integer()
    volunteer_id = fields.Integer()
    site_id = fields.Integer()
    site_name = fields.String(attribute="site.name")
    day = fields.Date()
    checked_in_dt = fields.DateTime()
    headcount = fields.Integer()
    method = fields.String()
    insurance_enrolled_now = fields.Boolean()
    volunteer = fields.Nested(VolunteerOut)


class LookupIn(Schema):
    code = fields.String(required=True, validate=validate.Length(max=2000))


class LookupOut(Schema):
    volunteer = fields.Nested(VolunteerOut)
    insured = fields.Boolean()
    checkin = fields.Nested(CheckInOut, allow_none=True)
    health_questions = fields.List(fields.String())


class CheckInIn(Schema):
    code = fields.String(validate=validate.Length(max=2000))
    volunteer_id = id_field()
    site_id = id_field(load_default=None)
    health_ok = fields.Boolean(required=True)
    health = fields.Dict(keys=fields.String(), values=fields.Boolean(), load_default=dict)
    insurance_enrolled_now = fields.Boolean(load_default=False)
    headcount = Whole(load_default=None, validate=validate.Range(1, 500))
    method = fields.String(load_default="scan",
                           validate=validate.OneOf(("scan", "camera", "search", "group")))


class CheckInQuery(Schema):
    date = fields.Date(load_default=None)
    site_id = id_field(load_default=None)


class SearchQuery(Schema):
    q = fields.String(required=True, validate=validate.Length(min=2, max=100))


class DecodeOut(Schema):
    text = fields.String()
