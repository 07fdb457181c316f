"""Report pages: the daily report (日報) and its files, the public daily figures, the
prefecture view, and the export of a whole operation for the records."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.validators import Length

from dvc.auth.access import actor_name, visible
from dvc.core.context import today
from dvc.core.errors import Invalid
from dvc.core.forms import show_domain_errors
from dvc.extensions import db
from dvc.operations.models import Operation
from dvc.operations.operations import get_operation
from dvc.reports import exports
from dvc.reports.daily import build_daily_report, opened_day, report_day
from dvc.reports.operations import MAX_NOTE_CHARS, save_daily_note
from dvc.reports.table import report_rows, section_label

bp = Blueprint("reports", __name__)


class NoteForm(FlaskForm):
    text = TextAreaField(_l("Notes from the head of the centre"),
                         validators=[Length(max=MAX_NOTE_CHARS)])


def _filename(report, ext: str) -> str:
    return f"daily-report-{report.operation_id}-{report.day.isoformat()}.{ext}"


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store"})


def _asked_report(op_id):
    """Return the operation and the report of the day in ?date= (see `report_day`)."""
    operation = get_operation(op_id)
    day = report_day(operation, request.args.get("date"))
    return operation, build_daily_report(operation, day)


def _daily_page(operation, day, form=None, status=200):
    report = build_daily_report(operation, day)
    form = form or NoteForm(formdata=None, text=report.note)
    return render_template("reports/daily.html", op=operation, report=report,
                           rows=report_rows(report), section_label=section_label, form=form,
                           max_note=MAX_NOTE_CHARS), status


@bp.route("/o/<int:op_id>/reports/daily")
def daily(op_id):
    operation = get_operation(op_id)
    return _daily_page(operation, report_day(operation, request.args.get("date")))


@bp.route("/o/<int:op_id>/reports/daily/note", methods=["POST"])
def save_note(op_id):
    operation = get_operation(op_id)
    day = report_day(operation, request.args.get("date"))
    form = NoteForm()
    if form.validate_on_submit():
        try:
            save_daily_note(operation, day, form.text.data, actor=actor_name())
            flash(_("Notes saved."), "info")
            return redirect(url_for(".daily", op_id=op_id, date=day.isoformat()))
        except Invalid as err:
            show_domain_errors(form, err)
    return _daily_page(operation, day, form=form, status=422)


@bp.route("/o/<int:op_id>/reports/daily.csv")
def daily_csv(op_id):
    _operation, report = _asked_report(op_id)
    return _download(exports.daily_csv(report), "text/csv; charset=utf-8",
                     _filename(report, "csv"))


@bp.route("/o/<int:op_id>/reports/daily.xlsx")
def daily_xlsx(op_id):
    _operation, report = _asked_report(op_id)
    return _download(exports.daily_xlsx(report),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     _filename(report, "xlsx"))


@bp.route("/o/<int:op_id>/stats")
def stats(op_id):
    """The day's figures as councils publish them: counts only, nobody's data."""
    operation, report = _asked_report(op_id)
    return render_template("reports/stats.html", op=operation, report=report,
                           rows=report_rows(report, public=True), section_label=section_label)


@bp.route("/prefecture")
def prefecture():
    """Every open operation's figures for today, side by side (a prefecture-wide server)."""
    operations = db.session.scalars(visible(select(Operation), Operation.id)
                                    .where(Operation.status == "open")
                                    .order_by(Operation.kind.desc(), Operation.id)).all()
    day = today()
    reports = [build_daily_report(op, max(day, opened_day(op))) for op in operations]
    return render_template("reports/prefecture.html", reports=reports, day=day,
                           operations={op.id: op for op in operations}, figures=KEY_FIGURES)


# The prefecture view's rows: (key, label, how to read it from a report).
KEY_FIGURES = (
    ("volunteers", _l("Volunteers today"), lambda r: r.today.volunteers.people),
    ("volunteers_total", _l("Volunteers since opening"), lambda r: r.cumulative.volunteers.people),
    ("out_of_prefecture", _l("From outside the prefecture"),
     lambda r: r.today.volunteers.out_of_prefecture),
    ("needs_received", _l("Needs received today"), lambda r: r.today.needs.received),
    ("needs_completed", _l("Needs completed today"), lambda r: r.today.needs.completed),
    ("needs_waiting", _l("Needs waiting"), lambda r: r.waiting),
    ("needs_total", _l("Needs received since opening"), lambda r: r.cumulative.needs.received),
    ("teams_dispatched", _l("Teams dispatched today"),
     lambda r: r.today.activity.teams_dispatched),
    ("people_hours", _l("People-hours today"), lambda r: r.today.activity.people_hours),
    ("injuries", _l("Injuries today"), lambda r: r.today.activity.injuries),
    ("near_misses", _l("Near-misses today"), lambda r: r.today.activity.near_misses),
)


# --- export of a whole operation (admin: it holds personal data) -----------------------------

@bp.route("/o/<int:op_id>/export")
def export(op_id):
    return render_template("reports/export.html", op=get_operation(op_id))


def _export(op_id, build, mimetype: str, stem: str, ext: str) -> Response:
    """Send one export file, anonymised when ?anonymised=1 (the name says which)."""
    anonymised = request.args.get("anonymised") in ("1", "true", "yes")
    name = f"{stem}-{op_id}{'-anonymised' if anonymised else ''}.{ext}"
    return _download(build(get_operation(op_id), anonymised=anonymised), mimetype, name)


@bp.route("/o/<int:op_id>/export/needs.gpkg")
def export_needs(op_id):
    return _export(op_id, exports.needs_geopackage, "application/geopackage+sqlite3",
                   "needs", "gpkg")


@bp.route("/o/<int:op_id>/export/operation.zip")
def export_zip(op_id):
    return _export(op_id, exports.operation_zip, "application/zip", "operation", "zip")
