"""The after-action report (事後検証報告) of a drill: printable, and the trainer's review form.

It puts together what the log says (overview, metrics, the inject timeline, a suggested
P/S/M/U per objective) and what the trainer adds (the confirmed rating and a note per
objective, strengths, areas for improvement, and an improvement plan with owners and dates).
Controller notes stay out: the report is handed to the players.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import distinct, func, select

from dvc.auth.access import actor_name
from dvc.core.errors import Invalid
from dvc.core.events import Event
from dvc.drills import board
from dvc.drills import operations as ops
from dvc.extensions import db

bp = Blueprint("drill_review", __name__)
PLAN_ROWS = 3  # blank rows offered for new improvement actions


def _participants(drill) -> int:
    return db.session.scalar(select(func.count(distinct(Event.actor))).where(
        Event.operation_id == drill.operation_id, Event.actor.like("user:%")))


def _report(drill) -> dict:
    scenario = ops.scenario_of(drill)
    live = board.live_metrics(drill)
    review = drill.review or {}
    confirmed = review.get("ratings") or {}
    objectives = [{"id": o.id, "title": o.title, "desks": o.desks,
                   "suggested": r["rating"], "reason": r["reason"],
                   "rating": (confirmed.get(o.id) or {}).get("rating") or r["rating"],
                   "note": (confirmed.get(o.id) or {}).get("note", "")}
                  for o, r in zip(scenario.objectives, live["ratings"])]
    timeline = [{k: v for k, v in row.items() if k != "notes"} for row in board.timeline(drill)]
    zone = ZoneInfo(scenario.timezone)
    return {"scenario": scenario, "metrics": live["metrics"], "as_of": live["as_of"],
            "to_local": lambda iso: datetime.fromisoformat(iso).astimezone(zone)
            .strftime("%m/%d %H:%M"),
            "objectives": objectives, "timeline": timeline, "review": review,
            "plan": list(review.get("plan") or []) + [{}] * PLAN_ROWS,
            "participants": _participants(drill)}


@bp.route("/o/<int:op_id>/drill/review")
def page(op_id):
    drill = ops.get_drill(op_id)
    return render_template("drills/after_action.html", op=drill.operation, drill=drill,
                           **_report(drill))


def _posted_review(form) -> dict:
    ratings = {key[len("rating-"):]: {"rating": value or None,
                                      "note": form.get(f"note-{key[len('rating-'):]}", "")}
               for key, value in form.items() if key.startswith("rating-")}
    plan = []
    for i in range(int(form.get("plan_rows", 0) or 0)):
        row = {k: (form.get(f"plan-{i}-{k}") or "").strip() for k in ("action", "owner", "due")}
        if any(row.values()):
            plan.append(row)
    return {"ratings": ratings, "strengths": form.get("strengths", ""),
            "improvements": form.get("improvements", ""), "plan": plan}


def _check_dates(plan: list[dict]) -> None:
    fields = {}
    for i, row in enumerate(plan):
        try:
            if row["due"]:
                date.fromisoformat(row["due"])
        except ValueError:
            fields[f"plan.{i}.due"] = _("Give the date as YYYY-MM-DD.")
    if fields:
        raise Invalid(_("Some answers need fixing."), fields=fields)


@bp.route("/o/<int:op_id>/drill/review", methods=["POST"])
def save(op_id):
    drill = ops.get_drill(op_id)
    review = _posted_review(request.form)
    try:
        _check_dates(review["plan"])
        ops.save_review(drill, review, actor=actor_name())
    except Invalid as error:
        drill.review = review  # shown again as typed (rolled back at the end of the request)
        context = _report(drill)
        return render_template("drills/after_action.html", op=drill.operation, drill=drill,
                               errors=error.fields, message=error.message, **context), 422
    flash(_("The review is saved."), "success")
    return redirect(url_for("drill_review.page", op_id=op_id))
