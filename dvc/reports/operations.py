"""Save the head of the centre's notes on a day's report: the only state reports change."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from dvc.core.context import now
from dvc.core.errors import Invalid
from dvc.core.events import log_event
from dvc.extensions import db
from dvc.operations.models import Operation
from dvc.reports.models import DailyNote

# The report prints on one A4 page: the notes get a box of about this many characters.
MAX_NOTE_CHARS = 800


def daily_note(operation: Operation, day: date) -> DailyNote | None:
    """Return the notes saved for this day, if any."""
    return db.session.scalar(select(DailyNote).where(DailyNote.operation_id == operation.id,
                                                     DailyNote.day == day))


def save_daily_note(operation: Operation, day: date, text: str, *, actor: str) -> DailyNote:
    """Write (or replace) the notes of the head of the centre for one day's report."""
    text = (text or "").strip().replace("\r\n", "\n")
    if len(text) > MAX_NOTE_CHARS:
        raise Invalid(_("Notes fit on the printed page up to %(n)s characters.",
                        n=MAX_NOTE_CHARS), fields={"text": "too_long"})
    note = daily_note(operation, day)
    if note is None:
        note = DailyNote(operation_id=operation.id, day=day)
        db.session.add(note)
    note.text, note.updated_dt, note.actor = text, now(), actor
    db.session.flush()
    # The text stays out of the log: the report holds it, the log says who wrote when.
    log_event("report.note_saved", actor=actor, operation_id=operation.id, subject=note,
              payload={"day": day.isoformat(), "chars": len(text)})
    return note
