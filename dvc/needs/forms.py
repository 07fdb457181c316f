"""Forms for the needs desk: intake on the phone, status, site survey, merge, repeat call."""
from __future__ import annotations

import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, FloatField, IntegerField, MultipleFileField, RadioField,
                     SelectField, StringField, TelField, TextAreaField)
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from dvc.core.forms import choices
from dvc.needs import labels
from dvc.needs.operations import NeedInput
from dvc.volunteers import labels as volunteer_labels
from dvc.volunteers.forms import REQUIRED, CheckboxesField, at_most

NUMBER = _l("Enter a number.")
HOURS = _l("Estimated hours must be more than 0.")
PEOPLE = _l("Between 1 and 500 people.")


def required():
    # InputRequired, not DataRequired: a typed 0 is an answer the domain rules should judge.
    return InputRequired(REQUIRED)


class NeedForm(FlaskForm):
    """Needs intake (ニーズ受付): laid out in the order people say things on the phone."""

    requester_name = StringField(_l("Requester's name"), validators=[required(), at_most(120)])
    requester_kana = StringField(_l("Name in kana"), validators=[Optional(), at_most(120)])
    phone = TelField(_l("Phone"), validators=[Optional(), at_most(30)])
    phone2 = TelField(_l("Second phone"), validators=[Optional(), at_most(30)])
    address = StringField(_l("Address"), validators=[required(), at_most(300)])
    lat = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(-90, 90)])
    lon = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(-180, 180)])
    district = StringField(_l("District"), validators=[Optional(), at_most(60)])
    category = RadioField(_l("What kind of work"), choices=choices(labels.CATEGORIES.items()),
                          validators=[InputRequired(_l("Choose the kind of work."))])
    description = TextAreaField(_l("What is wanted"), validators=[Optional(), at_most(4000)])
    damage = RadioField(_l("Damage"), default="unknown", choices=choices(labels.DAMAGE.items()))
    people_min = IntegerField(_l("People needed: at least"), default=1,
                              validators=[InputRequired(NUMBER), NumberRange(1, 500, PEOPLE)])
    people_max = IntegerField(_l("People needed: at most"), default=5,
                              validators=[InputRequired(NUMBER), NumberRange(1, 500, PEOPLE)])
    est_hours = FloatField(_l("Estimated hours"), validators=[Optional()])
    skills = CheckboxesField(_l("Skills needed"), choices=[])
    vehicle_needed = BooleanField(_l("A light truck is needed (軽トラ)"))
    equipment_wanted = TextAreaField(_l("Tools and equipment wanted"),
                                     validators=[Optional(), at_most(1000)])
    priority = RadioField(_l("Priority"), default="normal",
                          choices=choices(labels.PRIORITIES.items()))
    elderly = BooleanField(labels.CARE["elderly"])
    disabled = BooleanField(labels.CARE["disabled"])
    living_alone = BooleanField(labels.CARE["living_alone"])
    source = RadioField(_l("How the need came in"), default="phone",
                        choices=choices(labels.SOURCES.items()))
    photos = MultipleFileField(_l("Photos"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.skills.choices = choices((s, volunteer_labels.label(volunteer_labels.SKILLS, s))
                                      for s in current_app.config["SKILLS"])

    def validate_est_hours(self, field):
        if field.data is not None and field.data <= 0:
            raise ValidationError(HOURS)

    def need_input(self) -> NeedInput:
        """Return the answers as the domain's NeedInput."""
        data = {name: getattr(self, name).data for name in NeedInput.__dataclass_fields__}
        for name in ("requester_kana", "description"):
            data[name] = data[name] or ""
        for name in ("phone", "phone2", "district", "equipment_wanted"):
            data[name] = (data[name] or "").strip() or None
        data["skills"] = data["skills"] or []
        return NeedInput(**data)

    def uploads(self) -> list:
        """Return the photo files that were really sent (browsers send one empty part)."""
        return [f for f in (self.photos.data or []) if getattr(f, "filename", "")]


class StatusForm(FlaskForm):
    # validate_choice=False: the domain's transition rules answer a stale or impossible choice
    # with a message people understand, rather than WTForms' "Not a valid choice".
    status = SelectField(_l("New status"), choices=[], validate_choice=False,
                         validators=[InputRequired(_l("Choose the new status."))])
    reason = StringField(_l("Reason"), validators=[Optional(), at_most(500)])
    referred_to = StringField(_l("Specialist group (when referred)"),
                              validators=[Optional(), at_most(200)])


class SurveyForm(FlaskForm):
    """Site survey (現地調査): is the work safe for general volunteers, and how big is it."""

    surveyor = StringField(_l("Surveyor"), validators=[required(), at_most(120)])
    headcount = IntegerField(_l("People needed"),
                             validators=[InputRequired(NUMBER), NumberRange(1, 500, PEOPLE)])
    hours = FloatField(_l("Hours of work"), validators=[InputRequired(NUMBER)])
    tools = TextAreaField(_l("Tools"), validators=[Optional(), at_most(2000)])
    hazards = TextAreaField(_l("Hazards (roof, heavy machinery, structure...)"),
                            validators=[Optional(), at_most(2000)])
    decision = RadioField(_l("Decision"), choices=choices(labels.DECISIONS.items()),
                          validators=[InputRequired(_l("Choose the decision."))])
    specialist = StringField(_l("Specialist group (when specialists only)"),
                             validators=[Optional(), at_most(200)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), at_most(4000)])
    survey_photos = MultipleFileField(_l("Photos from the survey"))

    def validate_hours(self, field):
        if field.data is not None and field.data <= 0:
            raise ValidationError(HOURS)

    def uploads(self) -> list:
        return [f for f in (self.survey_photos.data or []) if getattr(f, "filename", "")]


def need_id_of(text: str | None) -> int | None:
    """Read a need number as staff type it: N00012, n12 or 12."""
    match = re.fullmatch(r"\s*[Nn]?0*(\d{1,9})\s*", text or "")
    return int(match.group(1)) if match else None


class MergeForm(FlaskForm):
    keep = StringField(_l("Need number to keep"), validators=[required(), at_most(20)])

    def validate_keep(self, field):
        if need_id_of(field.data) is None:
            raise ValidationError(_l("Type a need number such as N00012."))


class CallForm(FlaskForm):
    note = TextAreaField(_l("What the caller said"), validators=[Optional(), at_most(2000)])


class PhotoForm(FlaskForm):
    photos = MultipleFileField(_l("Photos"))

    def uploads(self) -> list:
        return [f for f in (self.photos.data or []) if getattr(f, "filename", "")]


class NeedFilterForm(FlaskForm):
    """The needs list's filters (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), choices=[], validate_choice=False)
    category = SelectField(_l("Category"), choices=[], validate_choice=False)
    district = SelectField(_l("District"), choices=[], validate_choice=False)
    waiting = IntegerField(_l("Waiting at least (days)"), validators=[Optional(),
                                                                     NumberRange(0, 3650)])
    care = SelectField(_l("Care (要配慮)"), choices=[], validate_choice=False)

