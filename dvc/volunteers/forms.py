"""The registration form (pre-registration and walk-in) and the self check-in form."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, EmailField, IntegerField, RadioField, SelectField,
                     SelectMultipleField, StringField, TextAreaField, TelField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from dvc.core.forms import choices
from dvc.core.japan import PREFECTURES
from dvc.volunteers import labels
from dvc.volunteers.operations import Registration


# Our own words, so that plain Japanese (やさしい日本語) reaches the error messages too.
REQUIRED = _l("Please fill this in.")
TOO_LONG = _l("This is too long.")
PHONE = _l("Enter a phone number of 10 or 11 digits.")
YEAR = _l("Enter the year you were born, e.g. 1985.")
GROUP_SIZE = _l("A group has at least 2 people.")


def required():
    return DataRequired(REQUIRED)


def at_most(n: int):
    return Length(max=n, message=TOO_LONG)


def phone_rules():
    return [DataRequired(REQUIRED), Length(min=10, max=30, message=PHONE)]


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RegistrationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[required(), at_most(120)])
    kana = StringField(_l("Name in kana (furigana)"), validators=[required(), at_most(120)])
    phone = TelField(_l("Mobile phone"), validators=phone_rules())
    email = EmailField(_l("Email (optional)"), validators=[Optional(), at_most(200)])
    prefecture = SelectField(_l("Prefecture you live in"),
                             choices=choices([("", "—")] + [(p, p) for p in PREFECTURES]),
                             validators=[required()])
    municipality = StringField(_l("City, town or village"),
                               validators=[required(), at_most(60)])
    birth_year = IntegerField(_l("Year of birth"),
                              validators=[InputRequired(YEAR), NumberRange(1901, 2100, YEAR)])
    emergency_name = StringField(_l("Emergency contact: name"),
                                 validators=[required(), at_most(120)])
    emergency_phone = TelField(_l("Emergency contact: phone"),
                               validators=phone_rules())
    skills = CheckboxesField(_l("Skills and licences"), choices=[])
    vehicle = RadioField(_l("Vehicle you can bring"), default="none",
                         choices=choices(labels.VEHICLES.items()))
    insurance = RadioField(_l("Volunteer activity insurance"), default="none",
                           choices=choices((k, v) for k, v in labels.INSURANCE.items()
                                           if k != "centre"))
    insurance_council = StringField(_l("Council where you enrolled"),
                                    validators=[Optional(), at_most(120)])
    insurance_date = DateField(_l("Date you enrolled"), validators=[Optional()])
    group_name = StringField(_l("Group name (if you come as a group)"),
                             validators=[Optional(), at_most(120)])
    group_size = IntegerField(_l("Number of people in the group, you included"),
                              validators=[Optional(), NumberRange(2, 500, GROUP_SIZE)])
    group_members = TextAreaField(_l("Members' names (optional)"),
                                  validators=[Optional(), at_most(4000)])
    consent = BooleanField(_l("I agree to the privacy terms."),
                           validators=[DataRequired(_l("Agree to the privacy terms to register."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.skills.choices = choices((s, labels.label(labels.SKILLS, s))
                                      for s in current_app.config["SKILLS"])

    def registration(self, language: str) -> Registration:
        """Return the answers as the domain's Registration."""
        data = {name: getattr(self, name).data for name in (
            "name", "kana", "phone", "email", "prefecture", "municipality", "birth_year",
            "emergency_name", "emergency_phone", "skills", "vehicle", "insurance",
            "insurance_council", "insurance_date", "group_name", "group_size", "group_members",
            "consent")}
        data["group_name"] = (data["group_name"] or "").strip() or None
        return Registration(language=language, **data)


class SelfCheckInForm(FlaskForm):
    """Today's health questions (added per configured question), and a typed code if needed."""

    code = StringField(_l("Your code"), validators=[Optional(), at_most(2000)])

    def answers(self) -> dict[str, bool]:
        return {q: getattr(self, f"health_{q}").data == "yes"
                for q in current_app.config["HEALTH_QUESTIONS"]}


def self_checkin_form() -> SelfCheckInForm:
    """Build the self check-in form with one yes/no field per health question."""
    class Form(SelfCheckInForm):
        pass
    for question in current_app.config["HEALTH_QUESTIONS"]:
        setattr(Form, f"health_{question}", RadioField(
            labels.label(labels.HEALTH_QUESTIONS, question),
            choices=choices([("yes", _l("Yes")), ("no", _l("No"))]),
            validators=[InputRequired(_l("Answer this question."))]))
    return Form()
