"""The printed fallback pack: order it, print it (A4), and scan its codes when paper returns."""
from __future__ import annotations

from flask import (Blueprint, current_app, flash, redirect, render_template, request, url_for)
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from dvc.auth.access import actor_name
from dvc.core.errors import DomainError, Invalid
from dvc.core.forms import show_domain_errors
from dvc.fallback import operations as ops
from dvc.operations.operations import get_operation
from dvc.volunteers import labels
from dvc.volunteers.reception import inline_qr

bp = Blueprint("fallback", __name__)
RANGE = _l("Enter a number from 0 to %(n)s.", n=ops.MAX_PER_KIND)
DEFAULT_COUNTS = {"volunteers": 20, "needs": 10, "dispatch": 10}


def grouped(code: str) -> str:
    """Write a code in groups of four, to read out or type."""
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))


def _count(label):
    return IntegerField(label, validators=[InputRequired(RANGE),
                                           NumberRange(0, ops.MAX_PER_KIND, RANGE)])


class PackForm(FlaskForm):
    volunteers = _count(_l("Volunteer registration forms"))
    needs = _count(_l("Need intake forms"))
    dispatch = _count(_l("Dispatch sheets"))


def _index(operation, form, *, found=None, scan_error=None, status=200):
    return render_template("fallback/index.html", op=operation, form=form,
                           packs=list(reversed(ops.list_packs(operation))),
                           found=found, scan_error=scan_error,
                           code=request.args.get("code", "")), status


@bp.route("/o/<int:op_id>/fallback", methods=["GET", "POST"])
def index(op_id):
    """Order a fallback pack, reprint an earlier one, or scan a code from returned paper."""
    operation = get_operation(op_id)
    form = PackForm(data=DEFAULT_COUNTS if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            pack = ops.issue_pack(operation, {k: form[k].data for k in ops.KINDS},
                                  actor=actor_name())
            return redirect(url_for(".pack", op_id=operation.id, pack_id=pack.id))
        except DomainError as err:
            if not (isinstance(err, Invalid) and show_domain_errors(form, err)):
                flash(err.message, "error")
    return _index(operation, form, status=422 if request.method == "POST" else 200)


@bp.route("/o/<int:op_id>/fallback/<int:pack_id>")
def pack(op_id, pack_id):
    """The pack to print: registration slips, need forms and dispatch sheets with codes."""
    operation = get_operation(op_id)
    issued = ops.get_pack(operation, pack_id)
    volunteers = [(serial, code, grouped(code), inline_qr(code))
                  for serial, code in ops.volunteer_codes(operation, issued)]
    needs = [(n, inline_qr(n.code)) for n in ops.form_numbers(operation, issued, "needs")]
    dispatch = [(n, inline_qr(n.code)) for n in ops.form_numbers(operation, issued, "dispatch")]
    return render_template(
        "fallback/pack.html", op=operation, pack=issued, volunteers=volunteers, needs=needs,
        dispatch=dispatch,
        skill_labels=[labels.label(labels.SKILLS, s) for s in current_app.config["SKILLS"]],
        health_labels=[labels.label(labels.HEALTH_QUESTIONS, q)
                       for q in current_app.config["HEALTH_QUESTIONS"]])


@bp.route("/o/<int:op_id>/fallback/scan")
def scan(op_id):
    """Say what a code from returned paper is; an unregistered volunteer code opens the
    ordinary registration form with that code, so the paper becomes a real registration."""
    operation = get_operation(op_id)
    form = PackForm(data=DEFAULT_COUNTS)
    try:
        found = ops.identify(operation, request.args.get("code", ""))
    except DomainError as err:
        return _index(operation, form, scan_error=err.message, status=err.status)
    if found.kind == "volunteer" and found.volunteer_id is None:
        return redirect(url_for("volunteers.register", op_id=operation.id, via="walk_in",
                                code=found.text))
    return _index(operation, form, found=found)
