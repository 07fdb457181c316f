"""Equipment desk forms: add an item, receive stock, lend to a team, take back from a team."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from dvc.core.forms import choices
from dvc.equipment import labels
from dvc.equipment.operations import MAX_QUANTITY

QUANTITY = _l("Enter a quantity of at least 1.")
CHOOSE = _l("Choose one.")


def quantity_field():
    return IntegerField(_l("Quantity"), validators=[InputRequired(QUANTITY),
                                                    NumberRange(1, MAX_QUANTITY, QUANTITY)])


def item_field():
    return SelectField(_l("Item"), coerce=int, validators=[InputRequired(CHOOSE)],
                       validate_choice=True)


class ItemTypeForm(FlaskForm):
    name = StringField(_l("Item"), validators=[DataRequired(), Length(max=80)])
    unit = StringField(_l("Unit"), default="個", validators=[DataRequired(), Length(max=20)])
    low_stock = IntegerField(_l("Low when at or below"), default=0,
                             validators=[InputRequired(), NumberRange(0, MAX_QUANTITY)])
    per_person = BooleanField(_l("One per volunteer (limits how many a site can send out)"))


class ReceiveForm(FlaskForm):
    site_id = SelectField(_l("Site"), coerce=int, validators=[InputRequired(CHOOSE)])
    item_type_id = item_field()
    quantity = quantity_field()
    note = StringField(_l("Note (from whom)"), validators=[Optional(), Length(max=500)])


class LendForm(FlaskForm):
    item_type_id = item_field()
    quantity = quantity_field()


class ReturnForm(FlaskForm):
    item_type_id = item_field()
    quantity = quantity_field()
    condition = RadioField(_l("Condition"), default="good",
                           choices=choices(labels.CONDITIONS.items()))
