"""Forms for the report desk and the leader's phone: the activity report (活動報告), recall."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from dvc.core.forms import choices
from dvc.teams import labels
from dvc.volunteers.forms import REQUIRED, at_most


class ReportForm(FlaskForm):
    """What the leader reports: completed, or continuing with what is left and who is needed."""

    outcome = RadioField(_l("Outcome"), choices=choices(labels.OUTCOMES.items()),
                         validators=[InputRequired(_l("Choose completed or continuing."))])
    remaining_work = TextAreaField(_l("Work that remains"), validators=[Optional(), at_most(4000)])
    people_next = IntegerField(_l("People needed next time"), validators=[
        Optional(), NumberRange(1, 500, _l("Between 1 and 500 people."))])
    requester_situation = TextAreaField(_l("The requester's situation"),
                                        validators=[Optional(), at_most(4000)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), at_most(4000)])
    injury = TextAreaField(_l("Injuries (who, what happened, what was done)"),
                           validators=[Optional(), at_most(2000)])
    injury_severity = SelectField(_l("How serious"), default="minor",
                                  choices=choices(labels.SEVERITIES.items()))
    near_miss = TextAreaField(_l("Near-misses (ヒヤリハット)"), validators=[Optional(), at_most(2000)])

    def report(self) -> dict:
        """Return the answers as keyword arguments of teams.operations.report_team."""
        incidents = []
        if (self.injury.data or "").strip():
            incidents.append({"kind": "injury", "description": self.injury.data,
                              "severity": self.injury_severity.data})
        if (self.near_miss.data or "").strip():
            incidents.append({"kind": "near_miss", "description": self.near_miss.data})
        text = {name: (getattr(self, name).data or "").strip() or None
                for name in ("remaining_work", "requester_situation", "notes")}
        return {"outcome": self.outcome.data, "people_next": self.people_next.data,
                "incidents": incidents, **text}


class DeskReportForm(ReportForm):
    returned = BooleanField(_l("The team is back at the centre"), default=True)


class ScanForm(FlaskForm):
    """The report desk's scanner input (a GET form: the scanner types the code and Enter)."""

    class Meta:
        csrf = False

    code = StringField(_l("Scan the QR on the dispatch sheet, or type the team number"),
                       validators=[InputRequired(REQUIRED), Length(max=200)])


class RecallForm(FlaskForm):
    reason = StringField(_l("Reason for the recall"),
                         validators=[InputRequired(_l("Say why every team must come back.")),
                                     at_most(500)])


class EmptyForm(FlaskForm):
    """A button that only needs CSRF protection (returned, arrived, finished)."""
