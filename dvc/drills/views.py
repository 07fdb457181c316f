"""Drill pages (訓練): start one, the trainer's console, each desk's inbox, the reception queue,
and the live 訓練 / DRILL banner on every page of a drill.

Thin: the pages read `board` and start a drill through `operations`; what moves while people
play (the clock, deliveries, acknowledgements, check-ins) their scripts send and read through
the JSON API, and the banner's tick every few seconds is what delivers the injects that fall due.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import FloatField, HiddenField, IntegerField
from wtforms.validators import DataRequired, NumberRange, Optional

from dvc.auth.access import actor_name, visible
from dvc.core.context import today
from dvc.core.errors import DomainError
from dvc.drills import board
from dvc.drills import operations as ops
from dvc.drills.guard import current_drill
from dvc.drills.models import MAX_SPEED, MIN_SPEED, Drill
from dvc.extensions import db
from dvc.operations.models import Operation
from dvc.volunteers.operations import insured_on
from dvc.volunteers.reception import inline_qr

bp = Blueprint("drills", __name__)

STATUS_LABELS = {"ready": _l("Not started"), "running": _l("Running"),
                 "paused": _l("Paused"), "ended": _l("Ended")}
INJECT_STATUS_LABELS = {"waiting": _l("Waiting"), "delivered": _l("Delivered, not acknowledged"),
                        "acknowledged": _l("Acknowledged"), "skipped": _l("Skipped"),
                        "fired": _l("Fired")}
TYPE_LABELS = {"inject": _l("Inject"), "contingency": _l("Contingency"),
               "expected_action": _l("Expected action"), "information": _l("Information")}
METHOD_LABELS = {"phone": _l("Phone"), "walk_in": _l("In person"), "radio": _l("Radio"),
                 "alert": _l("Alert")}
# P/S/M/U, as exercise evaluation guides word them.
RATING_LABELS = {"P": _l("Performed without challenges"), "S": _l("Some challenges"),
                 "M": _l("Major challenges"), "U": _l("Unable to perform")}
# The desk a role plays unless the person chose another (remembered by their browser).
ROLE_DESKS = {"needs_intake": "needs", "reception": "reception", "equipment": "equipment",
              "coordinator": "matching"}
QUEUE_SHOWN = 60  # rows with a QR image each: the rest wait their turn


class StartForm(FlaskForm):
    scenario = HiddenField(validators=[DataRequired()])
    seed = IntegerField(_l("Random seed"), validators=[Optional(), NumberRange(0, 2**31 - 1)])
    speed = FloatField(_l("Clock speed (1x to 600x)"),
                       validators=[Optional(), NumberRange(MIN_SPEED, MAX_SPEED)])


# --- every page of a drill -------------------------------------------------------------------

@bp.app_context_processor
def _drill_of_page():
    """A page about a drill's operation gets that operation (the nav) and the drill (the live
    banner), even when its view only named a need, a team or a site."""
    drill = current_drill()
    return {"op": drill.operation, "banner_drill": drill} if drill is not None else {}


@bp.app_template_global()
def drill_desk(drill: Drill) -> str:
    """The desk the signed-in person plays by default in this drill ('' when none fits)."""
    desk = ROLE_DESKS.get(getattr(current_user, "role", None), "")
    return desk if desk in {d.id for d in ops.scenario_of(drill).desks} else ""


@bp.app_template_global()
def drill_banner_now(drill: Drill) -> dict:
    """The banner's first reading, before its script ticks: the scenario clock and status."""
    tz = ops.scenario_of(drill).timezone
    return {"clock": scenario_time(ops.drill_now(drill), tz), "status": STATUS_LABELS[drill.status]}


@bp.app_template_filter("scenario_time")
def scenario_time(moment: datetime | str | None, tz: str, fmt: str = "%H:%M") -> str:
    """Write a moment (or ISO text) in the scenario's time zone."""
    if not moment:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(ZoneInfo(tz)).strftime(fmt)


@bp.app_template_filter("hours_minutes")
def hours_minutes(length: timedelta) -> str:
    """Write a length as H:MM."""
    minutes = int(length.total_seconds()) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


# --- starting a drill ------------------------------------------------------------------------

def _drill_operations() -> list:
    query = select(Operation, Drill).join(Drill, Drill.operation_id == Operation.id)
    return db.session.execute(visible(query, Operation.id).order_by(Operation.id.desc())).all()


def _index(form: StartForm, status: int = 200):
    return render_template("drills/index.html", scenarios=board.catalogue(), form=form,
                           drills=_drill_operations(), status_labels=STATUS_LABELS), status


@bp.route("/drills")
def index():
    """The shipped scenarios to start a drill from, and the drills so far."""
    return _index(StartForm(formdata=None))


@bp.route("/drills", methods=["POST"])
def start():
    """Start a drill from a shipped scenario and open its console."""
    form = StartForm()
    names = {name for name, _scenario in board.catalogue()}
    if form.validate_on_submit():
        if form.scenario.data not in names:  # only shipped files: never a path
            form.scenario.errors = [_("Choose one of the scenarios below.")]
            return _index(form, 422)
        try:
            drill = ops.start_drill(ops.shipped_scenario(form.scenario.data), actor=actor_name(),
                                    seed=form.seed.data, speed=form.speed.data)
        except DomainError as err:
            form.scenario.errors = [err.message]
            return _index(form, 422)
        ops.give_to_creator(drill, current_user)
        return redirect(url_for(".console", op_id=drill.operation_id))
    return _index(form, 422)


# --- the trainer's console -------------------------------------------------------------------

@bp.route("/o/<int:op_id>/drill/console")
def console(op_id):
    """Clock controls, the timeline of injects with the controllers' notes, live metrics."""
    drill = ops.get_drill(op_id)
    scenario = ops.scenario_of(drill)
    return render_template(
        "drills/console.html", op=drill.operation, drill=drill, scenario=scenario,
        state=board.state(drill), timeline=board.timeline(drill),
        live=board.live_metrics(drill), status_labels=STATUS_LABELS,
        inject_status_labels=INJECT_STATUS_LABELS, type_labels=TYPE_LABELS,
        rating_labels=RATING_LABELS, desks={d.id: d.name for d in scenario.desks},
        objectives={o.id: o for o in scenario.objectives})


# --- the desks -------------------------------------------------------------------------------

@bp.route("/o/<int:op_id>/drill/inbox")
def inbox(op_id):
    """Messages delivered to my desk, newest first, to acknowledge: what a caller or visitor
    would say, never the controllers' notes nor whether it is a contingency."""
    drill = ops.get_drill(op_id)
    return render_template("drills/inbox.html", op=drill.operation, drill=drill,
                           scenario=ops.scenario_of(drill), method_labels=METHOD_LABELS)


@bp.route("/o/<int:op_id>/drill/queue")
def queue(op_id):
    """The drill's reception queue: arrived volunteers, their codes, a check-in button each."""
    drill = ops.get_drill(op_id)
    operation = drill.operation
    site_id = request.args.get("site_id", type=int)
    day = today()
    rows = [{"arrival": a, "volunteer": a.volunteer, "insured": insured_on(a.volunteer, day),
             "headcount": a.volunteer.group.size if a.volunteer.group else 1,
             "qr": inline_qr(a.code)} for a in board.queue(drill, site_id, limit=QUEUE_SHOWN)]
    context = dict(op=operation, drill=drill, scenario=ops.scenario_of(drill), rows=rows,
                   waiting=board.queue_length(drill, site_id), site_id=site_id,
                   sites={s.id: s.name for s in operation.sites},
                   health_questions=current_app.config["HEALTH_QUESTIONS"])
    if request.args.get("part") == "rows":  # the page's script refreshes the list alone
        return render_template("drills/_queue_rows.html", **context)
    return render_template("drills/queue.html", **context)
