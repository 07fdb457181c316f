"""Volunteer-facing pages: register, my code, self check-in. Plain Japanese is one click away."""
from __future__ import annotations

from flask import (Blueprint, Response, abort, current_app, flash, g, redirect, render_template,
                   request, url_for)
from flask_babel import gettext as _

from dvc.core import codes
from dvc.core.context import today
from dvc.core.errors import Conflict, DomainError, Forbidden, Invalid
from dvc.core.forms import show_domain_errors
from dvc.extensions import db
from dvc.operations.operations import get_operation
from dvc.sites.models import Site
from dvc.teams import operations as teams
from dvc.teams.forms import EmptyForm, ReportForm
from dvc.volunteers import operations as ops
from dvc.volunteers import qr
from dvc.volunteers.forms import RegistrationForm, self_checkin_form

bp = Blueprint("volunteers", __name__)
CODE_COOKIE = "dvc_vcode"
CODE_COOKIE_AGE = 60 * 60 * 24 * 180  # a response lasts months; the phone keeps the code


@bp.route("/o/<int:op_id>/register", methods=["GET", "POST"])
def register(op_id):
    """Pre-registration on a phone, or walk-in registration on the kiosk tablet."""
    operation = get_operation(op_id)
    form = RegistrationForm()
    via = "walk_in" if request.args.get("via") == "walk_in" else "pre"
    paper_code = request.args.get("code") or None  # pre-printed on a paper form (fallback pack)
    if form.validate_on_submit():
        try:
            _volunteer, token = ops.register_volunteer(
                operation, form.registration(g.lang), via=via, actor="public", code=paper_code)
            return redirect(url_for(".my_page", token=token, new=1))
        except Invalid as err:
            if not show_domain_errors(form, err):
                flash(err.message, "error")
        except Conflict as err:
            if err.code == "code_taken":
                flash(err.message, "error")
            else:
                form.phone.errors = [*form.phone.errors, err.message]
    status = 422 if request.method == "POST" else 200
    return render_template("volunteers/register.html", op=operation, form=form, via=via,
                           closed=operation.status != "open", paper_code=paper_code), status


def _volunteer_or_404(token: str):
    volunteer = ops.volunteer_by_token(token)
    if volunteer is None:
        abort(404)
    return volunteer


@bp.route("/v/<token>")
def my_page(token):
    """The volunteer's own page: their QR code, today's status and the centre's notice."""
    volunteer = _volunteer_or_404(token)
    return _my_page(volunteer, codes.normalize(token), new=request.args.get("new") == "1")


def _my_page(volunteer, token: str, *, new: bool = False, report_form=None, status: int = 200):
    # A leader's page also carries the team's task, the requester's phone and the report.
    team = teams.active_team_of(volunteer)
    leads = team is not None and team.leader_id == volunteer.id
    response = current_app.make_response((render_template(
        "volunteers/my_page.html", volunteer=volunteer, token=token,
        checkin=ops.todays_checkin(volunteer), insured=ops.insured_on(volunteer, today()),
        new=new, team=team, leads=leads, recall_reason=teams.recall_reason(team) if team else None,
        report_form=report_form or ReportForm(formdata=None), button=EmptyForm()), status))
    # Kept on the phone so that today's entrance poster can check them in with one tap.
    response.set_cookie(CODE_COOKIE, token, max_age=CODE_COOKIE_AGE, httponly=True,
                        samesite="Lax", secure=request.is_secure)
    response.headers["Cache-Control"] = "private, no-store"
    # The code in the URL never goes to another site; this page's own forms still send it,
    # as CSRF checks over HTTPS want a same-site Referer (no-referrer broke them there).
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _led_team(token: str, team_id: int):
    """Return the volunteer and the team they lead now: the code in the URL is the credential."""
    volunteer = _volunteer_or_404(token)
    team = teams.active_team_of(volunteer)
    if team is None or team.id != team_id or team.leader_id != volunteer.id:
        raise Forbidden(_("Only the team's leader can do this, from their own page."),
                        code="not_leader")
    return volunteer, team


@bp.route("/v/<token>/team/<int:team_id>/<any(arrive, finish):step>", methods=["POST"])
def team_step(token, team_id, step):
    """The leader's "arrived" and "finished" buttons."""
    volunteer, team = _led_team(token, team_id)
    action = {"arrive": teams.arrive_team, "finish": teams.finish_team}[step]
    try:
        action(team, actor=f"volunteer:{volunteer.id}")
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
    return redirect(url_for(".my_page", token=codes.normalize(token)))


@bp.route("/v/<token>/team/<int:team_id>/report", methods=["POST"])
def team_report(token, team_id):
    """The leader's activity report from the field: completed, or continuing."""
    volunteer, team = _led_team(token, team_id)
    form = ReportForm()
    if form.validate_on_submit():
        try:
            teams.report_team(team, actor=f"volunteer:{volunteer.id}", reported_by="leader",
                              **form.report())
            flash(_("Report sent. Thank you: come back to the centre safely."), "info")
            return redirect(url_for(".my_page", token=codes.normalize(token)))
        except DomainError as err:
            db.session.rollback()
            if not (isinstance(err, Invalid) and show_domain_errors(form, err)):
                flash(err.message, "error")
    return _my_page(volunteer, codes.normalize(token), report_form=form, status=422)


def _image(data: bytes, mimetype: str) -> Response:
    return Response(data, mimetype=mimetype,
                    headers={"Cache-Control": "private, max-age=86400"})


@bp.route("/v/<token>/qr.png")
def qr_png(token):
    _volunteer_or_404(token)
    return _image(qr.png(codes.normalize(token)), "image/png")


@bp.route("/v/<token>/qr.svg")
def qr_svg(token):
    _volunteer_or_404(token)
    return _image(qr.svg(codes.normalize(token)), "image/svg+xml")


@bp.route("/o/<int:op_id>/s/<int:site_id>/<day_code>", methods=["GET", "POST"])
def self_checkin(op_id, site_id, day_code):
    """Check in from one's own phone via today's entrance poster, after the health questions."""
    operation = get_operation(op_id)
    site = db.session.get(Site, site_id)
    if site is None or site.operation_id != operation.id:
        abort(404)
    if not codes.poster_code_valid(current_app.config["SECRET_KEY"], operation.id, site.id,
                                   today(), day_code):
        return render_template("volunteers/self_checkin.html", op=operation, site=site,
                               stale=True, form=None, volunteer=None), 410
    form = self_checkin_form()
    known = ops.volunteer_by_token(request.cookies.get(CODE_COOKIE, ""))
    volunteer = known if known and known.operation_id == operation.id else None
    error = None
    if form.validate_on_submit():
        try:
            volunteer = volunteer or ops.resolve_code(operation, form.code.data or "")
            answers = form.answers()
            checkin, _created = ops.check_in(
                operation, volunteer, site_id=site.id, health_ok=all(answers.values()),
                health=answers, insurance_enrolled_now=False, method="self",
                actor=f"volunteer:{volunteer.id}")
            return render_template("volunteers/checked_in.html", volunteer=volunteer,
                                   checkin=checkin)
        except DomainError as err:
            error = err
    status = 422 if request.method == "POST" else 200
    return render_template("volunteers/self_checkin.html", op=operation, site=site, stale=False,
                           form=form, volunteer=volunteer, error=error), status
