"""Dispatch desk pages: the printable dispatch sheet, the report desk, the safety list."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from dvc.auth.access import actor_name
from dvc.core.context import today
from dvc.core.errors import DomainError, Invalid
from dvc.core.forms import show_domain_errors
from dvc.extensions import db
from dvc.operations.operations import get_operation
from dvc.teams import labels
from dvc.teams import operations as ops
from dvc.teams.forms import DeskReportForm, EmptyForm, RecallForm, ScanForm
from dvc.teams.sheets import MapPoint, sheet_code, sheet_map_svg
from dvc.volunteers.reception import inline_qr

bp = Blueprint("teams", __name__)


@bp.app_context_processor
def _team_labels():
    return {"team_labels": labels}


def _team(operation, team_id: int):
    team = ops.get_team(team_id)
    if team.operation_id != operation.id:
        abort(404)
    return team


# --- dispatch sheet (活動指示書) ------------------------------------------------------------

def _sheet_map(operation, team) -> str | None:
    need = team.need
    if need.lat is None:
        return None
    sites = [MapPoint(s.name, s.lat, s.lon) for s in operation.sites
             if s.lat is not None and s.status != "closed"]
    return sheet_map_svg(MapPoint(need.number, need.lat, need.lon, "need"), sites,
                         title=_("Map of %(number)s", number=need.number))


def _equipment(team):
    """The team's outstanding equipment from the equipment desk (dvc/equipment), or None when
    that desk is not installed: the sheet then leaves the section out."""
    try:
        from dvc.equipment.operations import outstanding_for_team
    except ImportError:
        return None
    return [item for item in outstanding_for_team(team) if item.outstanding > 0]


@bp.route("/o/<int:op_id>/teams/<int:team_id>/sheet")
def sheet(op_id, team_id):
    """The printable dispatch sheet the team carries; its QR reopens the report at the desk."""
    operation = get_operation(op_id)
    team = _team(operation, team_id)
    code = sheet_code(current_app.config["SECRET_KEY"], operation.id, team.id)
    return render_template("teams/sheet.html", op=operation, team=team, need=team.need,
                           code=code, qr=inline_qr(code), map_svg=_sheet_map(operation, team),
                           equipment=_equipment(team))


# --- report desk (活動報告受付) -----------------------------------------------------------

@bp.route("/o/<int:op_id>/reports")
def desk(op_id):
    """The report desk: scan a sheet to open its report; teams out, overdue ones first."""
    operation = get_operation(op_id)
    form = ScanForm(formdata=request.args if "code" in request.args else None)
    status = 200
    if "code" in request.args:
        if form.validate():
            try:
                team = ops.resolve_sheet_code(operation, form.code.data)
                return redirect(url_for(".report", op_id=op_id, team_id=team.id))
            except DomainError as err:
                form.code.errors = [err.message]
                status = err.status
        else:
            status = 422
        form.code.data = ""  # the scanner's next code goes into an empty box
    out = ops.teams_in_field(operation)
    overdue = {t.id for t in ops.overdue_teams(operation)}
    out.sort(key=lambda t: (t.id not in overdue, t.due_back_dt, t.id))
    return render_template("teams/desk.html", op=operation, form=form, out=out,
                           overdue=overdue, waiting=ops.teams_waiting(operation),
                           button=EmptyForm(), recall_form=RecallForm(formdata=None)), status


def _report_page(operation, team, form, status=200):
    return render_template("teams/report.html", op=operation, team=team, form=form,
                           button=EmptyForm()), status


@bp.route("/o/<int:op_id>/teams/<int:team_id>/report", methods=["GET", "POST"])
def report(op_id, team_id):
    """File a team's activity report (completed / continuing) at the desk."""
    operation = get_operation(op_id)
    team = _team(operation, team_id)
    form = DeskReportForm()
    if request.method == "GET":
        return _report_page(operation, team, form)
    if not form.validate_on_submit():
        return _report_page(operation, team, form, 422)
    try:
        ops.report_team(team, actor=actor_name(), reported_by="desk", **form.report())
        if form.returned.data and team.in_field:
            ops.return_team(team, actor=actor_name())
    except DomainError as err:
        db.session.rollback()
        if not (isinstance(err, Invalid) and show_domain_errors(form, err)):
            flash(err.message, "error")
        return _report_page(operation, team, form, err.status)
    flash(_("Report of %(team)s filed: %(outcome)s.", team=team.number,
            outcome=labels.label(labels.OUTCOMES, team.report.outcome)), "info")
    return redirect(url_for(".desk", op_id=op_id))


@bp.route("/o/<int:op_id>/teams/<int:team_id>/return", methods=["POST"])
def returned(op_id, team_id):
    """The team is back at the centre (everyone safe, free for another team)."""
    operation = get_operation(op_id)
    team = _team(operation, team_id)
    if EmptyForm().validate_on_submit():
        try:
            ops.return_team(team, actor=actor_name())
            flash(_("%(team)s is back.", team=team.number), "info")
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
    back = "safety" if request.form.get("back") == "safety" else "desk"
    return redirect(url_for(f".{back}", op_id=op_id))


@bp.route("/o/<int:op_id>/recall", methods=["POST"])
def recall(op_id):
    """Recall every team in the field (heavy rain, aftershock); their phones show it in red."""
    operation = get_operation(op_id)
    form = RecallForm()
    if not form.validate_on_submit():
        for message in form.reason.errors:
            flash(message, "error")
        return redirect(url_for(".desk", op_id=op_id))
    teams = ops.recall_all(operation, actor=actor_name(), reason=form.reason.data.strip())
    flash(ngettext("Recall sent to %(num)d team. Count them back on this page.",
                   "Recall sent to %(num)d teams. Count them back on this page.", len(teams)),
          "error" if teams else "info")
    return redirect(url_for(".desk", op_id=op_id))


# --- safety list for the head of the centre ---------------------------------------------------

@bp.route("/o/<int:op_id>/safety")
def safety(op_id):
    """Who is not back, who was recalled, who was hurt today (安否確認)."""
    operation = get_operation(op_id)
    return render_template("teams/safety.html", op=operation,
                           overdue=ops.overdue_teams(operation),
                           recalled=ops.recalled_not_back(operation),
                           incidents=ops.incidents_on(operation, today()),
                           button=EmptyForm())
