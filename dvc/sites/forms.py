"""Sites page forms: a satellite's details, open / pause / close, a new satellite, the shuttle."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, NumberRange, Optional

from dvc.core.forms import choices
from dvc.sites import labels
from dvc.volunteers.forms import REQUIRED, CheckboxesField, at_most

LAT = _l("Latitude must be between -90 and 90.")
LON = _l("Longitude must be between -180 and 180.")
QUOTA = _l("Enter a number of people (0 or more), or leave it blank for no limit.")


def int_or_none(value):
    """Coerce a select's value to an id; the empty first choice ("—") is no answer."""
    return None if value in ("", None) else int(value)


def lat_field():
    return FloatField(_l("Latitude"), validators=[Optional(), NumberRange(-90, 90, LAT)])


def lon_field():
    return FloatField(_l("Longitude"), validators=[Optional(), NumberRange(-180, 180, LON)])


class SiteEditForm(FlaskForm):
    """A site's point, service area, hours, daily quota and staff (prefix: one per site)."""

    name = StringField(_l("Name"), validators=[InputRequired(REQUIRED), at_most(120)])
    lat = lat_field()
    lon = lon_field()
    service_districts = CheckboxesField(_l("Districts it serves (service area)"), choices=[])
    opens_at = StringField(_l("Opens at"), validators=[InputRequired(REQUIRED), at_most(5)])
    closes_at = StringField(_l("Closes at"), validators=[InputRequired(REQUIRED), at_most(5)])
    daily_quota = IntegerField(_l("Daily quota (people; blank: no limit)"),
                               validators=[Optional(), NumberRange(0, 100_000, QUOTA)])
    staff = TextAreaField(_l("Staff"), validators=[Optional(), at_most(2000)])

    def changes(self) -> dict:
        """Return the answers as update_site's changes."""
        return {"name": self.name.data.strip(), "lat": self.lat.data, "lon": self.lon.data,
                "service_districts": self.service_districts.data or [],
                "opens_at": self.opens_at.data.strip(), "closes_at": self.closes_at.data.strip(),
                "daily_quota": self.daily_quota.data,
                "staff": (self.staff.data or "").strip() or None}


class SiteStatusForm(FlaskForm):
    """Open, pause or close: the button pressed carries the status."""

    status = SelectField(_l("Status"), choices=choices(labels.STATUSES.items()),
                         validators=[InputRequired(REQUIRED)])


class NewSatelliteForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(REQUIRED), at_most(120)])
    lat = lat_field()
    lon = lon_field()


class ShuttleForm(FlaskForm):
    """Send free checked-in volunteers from one site to another (the shuttle)."""

    from_site_id = SelectField(_l("From"), coerce=int, validators=[InputRequired(REQUIRED)])
    # The operation judges who may go (checked in today, not in a team): it says why not.
    volunteer_ids = CheckboxesField(_l("Volunteers to send"), coerce=int, choices=[],
                                    validate_choice=False)
    to_site_id = SelectField(_l("To"), coerce=int_or_none,
                             validators=[InputRequired(_l("Choose the site to send them to."))])
