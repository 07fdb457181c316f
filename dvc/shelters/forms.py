"""Shelters page forms: register, status, occupancy, a shelter's request, where there is room."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, FloatField, IntegerField, RadioField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from dvc.core.forms import choices
from dvc.needs import labels as need_labels
from dvc.needs.forms import need_id_of
from dvc.shelters import labels
from dvc.volunteers.forms import REQUIRED, CheckboxesField, at_most

NUMBER = _l("Enter a number.")
PEOPLE = _l("Between 1 and 100 people.")
PLACES = _l("Between 1 and 50 places.")


class ShelterForm(FlaskForm):
    """Register a shelter (福祉避難所 or a general one)."""

    name = StringField(_l("Name"), validators=[InputRequired(REQUIRED), at_most(120)])
    kind = RadioField(_l("Kind"), default="welfare", choices=choices(labels.KINDS.items()))
    designation = RadioField(_l("Designated or by agreement"), default="designated",
                             choices=choices(labels.DESIGNATIONS.items()))
    lat = FloatField(_l("Latitude"), validators=[Optional()])
    lon = FloatField(_l("Longitude"), validators=[Optional()])
    address = StringField(_l("Address"), validators=[Optional(), at_most(300)])
    capacity = IntegerField(_l("Capacity (people)"), validators=[Optional()])
    care_types = CheckboxesField(_l("Care types accepted"),
                                 choices=choices(labels.CARE_TYPES.items()))
    carers_allowed = BooleanField(_l("Carers may stay too"), default=True)
    contact = StringField(_l("Contact"), validators=[Optional(), at_most(200)])

    def values(self) -> dict:
        """Return the answers as create_shelter's values (the domain judges them)."""
        return {"name": (self.name.data or "").strip(), "kind": self.kind.data,
                "designation": self.designation.data, "lat": self.lat.data,
                "lon": self.lon.data, "address": (self.address.data or "").strip() or None,
                "capacity": self.capacity.data, "care_types": self.care_types.data or [],
                "carers_allowed": bool(self.carers_allowed.data),
                "contact": (self.contact.data or "").strip() or None}


class ShelterStatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=choices(labels.STATUSES.items()),
                         validators=[InputRequired(REQUIRED)])


class _Occupancy(FlaskForm):
    def counts(self) -> dict[str, int]:
        """Return people staying by care type; a blank box counts as nobody."""
        return {key: getattr(self, key).data or 0 for key in labels.OCCUPANCY}


# One number per care type, and "other" for everyone else staying.
OccupancyForm = type("OccupancyForm", (_Occupancy,), {
    key: IntegerField(label, default=0, validators=[Optional()])
    for key, label in labels.OCCUPANCY.items()})


class ShelterRequestForm(FlaskForm):
    """A shelter's own request (cleaning, sorting supplies, companionship): it becomes a need."""

    category = SelectField(_l("What kind of work"), default="cleaning",
                           choices=choices(need_labels.CATEGORIES.items()),
                           validators=[InputRequired(REQUIRED)])
    description = TextAreaField(_l("What is wanted"),
                                validators=[InputRequired(REQUIRED), at_most(2000)])
    people_min = IntegerField(_l("People needed: at least"), default=1,
                              validators=[InputRequired(NUMBER), NumberRange(1, 100, PEOPLE)])
    people_max = IntegerField(_l("People needed: at most"), default=3,
                              validators=[InputRequired(NUMBER), NumberRange(1, 100, PEOPLE)])

    def validate_people_max(self, field):
        if self.people_min.data is not None and field.data is not None \
                and field.data < self.people_min.data:
            raise ValidationError(_l("The most must be at least the least."))


class RoomForm(FlaskForm):
    """Where is there room: a care type, and a need number or a point (a GET form)."""

    class Meta:
        csrf = False

    care_type = SelectField(_l("Care needed"),
                            choices=choices([("", "—"), *labels.CARE_TYPES.items()]),
                            validators=[InputRequired(_l("Choose the care needed."))])
    need_id = StringField(_l("Need number"), validators=[Optional(), at_most(20)])
    lat = FloatField(_l("or latitude"), validators=[Optional(), NumberRange(-90, 90)])
    lon = FloatField(_l("longitude"), validators=[Optional(), NumberRange(-180, 180)])
    places = IntegerField(_l("Places (the person and any carer)"), default=1,
                          validators=[Optional(), NumberRange(1, 50, PLACES)])

    def validate_need_id(self, field):
        if field.data and need_id_of(field.data) is None:
            raise ValidationError(_l("Type a need number such as N00012."))

    def query(self) -> dict:
        return {"need_id": need_id_of(self.need_id.data), "lat": self.lat.data,
                "lon": self.lon.data, "places": self.places.data or 1}
