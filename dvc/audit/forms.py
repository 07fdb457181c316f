"""The audit trail's filters."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Optional, ValidationError

from dvc.audit.operations import AuditFilter
from dvc.volunteers.forms import at_most

DATE = _l("Enter a date like 2026-11-22.")


class AuditFilterForm(FlaskForm):
    """Who, which record, what and when (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    actor = StringField(_l("Who"), validators=[Optional(), at_most(80)])
    record = StringField(_l("Record"), validators=[Optional(), at_most(120)])
    kind = SelectField(_l("What"), choices=[], validate_choice=False)
    start = DateField(_l("From date"), validators=[Optional()], invalid_value_message=DATE)
    end = DateField(_l("To date"), validators=[Optional()], invalid_value_message=DATE)

    def validate_end(self, field):
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end date is before the start date."))

    def audit_filter(self) -> AuditFilter:
        """Return the answers as the query's filter."""
        return AuditFilter(actor=self.actor.data or "", record=self.record.data or "",
                           kind=self.kind.data or "", start=self.start.data, end=self.end.data)
