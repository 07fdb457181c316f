"""Shelters page: the list, registering, status, occupancy, requests, where there is room."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from dvc.auth.access import actor_name
from dvc.core.errors import DomainError, NotFound
from dvc.core.forms import show_domain_error
from dvc.extensions import db
from dvc.operations.operations import get_operation
from dvc.shelters import labels
from dvc.shelters import operations as ops
from dvc.shelters.forms import (OccupancyForm, RoomForm, ShelterForm, ShelterRequestForm,
                                ShelterStatusForm)

bp = Blueprint("shelters", __name__)
UNBOUND = {"formdata": None}
# Each shelter's own forms on the page, by kind: the form and its field-name prefix.
SHELTER_FORMS = {"status": (ShelterStatusForm, "status"), "occupancy": (OccupancyForm, "occ"),
                 "request": (ShelterRequestForm, "req")}


@bp.app_context_processor
def _shelter_labels():
    return {"shelter_labels": labels}


def _shelter_of(operation, shelter_id: int):
    shelter = ops.get_shelter(shelter_id)
    if shelter.operation_id != operation.id:
        raise NotFound(_("No such shelter."), code="unknown_shelter")
    return shelter


def _shelter_form(kind: str, shelter, **kwargs):
    form_class, prefix = SHELTER_FORMS[kind]
    return form_class(prefix=f"{prefix}{shelter.id}", **kwargs)


def _forms(shelter, posted: dict) -> dict:
    """The forms under one shelter: the one sent back with its errors, the others fresh."""
    def form(kind, **initial):
        return (posted.get((kind, shelter.id))
                or _shelter_form(kind, shelter, **initial, **UNBOUND))
    staying = {key: shelter.occupancy.get(key, 0) for key in labels.OCCUPANCY}
    return {"status": form("status", status=shelter.status),
            "occupancy": form("occupancy", data=staying), "request": form("request")}


def _page(operation, *, posted: dict | None = None, room=None, status: int = 200):
    """Render the shelters page; `posted` holds the one form sent back with its errors."""
    posted = posted or {}
    shelters = ops.list_shelters(operation)
    return render_template(
        "shelters/index.html", op=operation,
        rows=[{"shelter": s, **_forms(s, posted)} for s in shelters],
        by_id={s.id: s for s in shelters},
        new_form=posted.get("new") or ShelterForm(prefix="new", **UNBOUND),
        room_form=room["form"] if room else RoomForm(formdata=None),
        room=room), status


def _warn(warnings) -> None:
    for code in warnings:
        flash(labels.WARNINGS.get(code, code), "error")


def _submit(operation, key, form, action, fallback: str, anchor: str):
    """Validate, change state through operations and redirect; or show the form again."""
    if form.validate_on_submit():
        try:
            done = action(form)
        except DomainError as err:
            db.session.rollback()
            show_domain_error(form, err, fallback)
            flash(err.message, "error")
            return _page(operation, posted={key: form}, status=err.status)
        flash(done, "info")
        return redirect(url_for(".index", op_id=operation.id, _anchor=anchor))
    return _page(operation, posted={key: form}, status=422)


def _submit_for(operation, shelter, kind: str, action, fallback: str):
    """Submit one of a shelter's own forms; back to that shelter on the page."""
    return _submit(operation, (kind, shelter.id), _shelter_form(kind, shelter), action,
                   fallback, f"shelter-{shelter.id}")


@bp.route("/o/<int:op_id>/shelters")
def index(op_id):
    """Every shelter: status, capacity, who is staying by care type, what it accepts."""
    return _page(get_operation(op_id))


@bp.route("/o/<int:op_id>/shelters/room")
def room(op_id):
    """Where is there room: the nearest open welfare shelters for a care type, with distance."""
    operation = get_operation(op_id)
    form = RoomForm(formdata=request.args)
    if not form.validate():
        return _page(operation, room={"form": form, "rooms": None}, status=422)
    try:
        rooms, need = ops.room_near(operation, form.care_type.data, **form.query())
    except DomainError as err:
        show_domain_error(form, err, "need_id")
        return _page(operation, room={"form": form, "rooms": None}, status=err.status)
    return _page(operation, room={"form": form, "rooms": rooms, "need": need})


@bp.route("/o/<int:op_id>/shelters/new", methods=["POST"])
def create(op_id):
    """Register a shelter (not open until someone opens it)."""
    operation = get_operation(op_id)

    def register(form):
        shelter = ops.create_shelter(operation, form.values(), actor=actor_name())
        return _("%(shelter)s registered.", shelter=shelter.name)
    return _submit(operation, "new", ShelterForm(prefix="new"), register, "name",
                   "new-shelter")


@bp.route("/o/<int:op_id>/shelters/<int:shelter_id>/status", methods=["POST"])
def set_status(op_id, shelter_id):
    """Open, mark full or close a shelter."""
    operation = get_operation(op_id)
    shelter = _shelter_of(operation, shelter_id)

    def change(form):
        _warn(ops.update_shelter(shelter, {"status": form.status.data}, actor=actor_name()))
        return _("%(shelter)s: %(status)s.", shelter=shelter.name,
                 status=labels.STATUSES[shelter.status])
    return _submit_for(operation, shelter, "status", change, "status")


@bp.route("/o/<int:op_id>/shelters/<int:shelter_id>/occupancy", methods=["POST"])
def occupancy(op_id, shelter_id):
    """Record who is staying now, by care type (each update is kept as an event)."""
    operation = get_operation(op_id)
    shelter = _shelter_of(operation, shelter_id)

    def record(form):
        _warn(ops.set_occupancy(shelter, form.counts(), actor=actor_name()))
        return _("%(shelter)s: %(occupied)s of %(capacity)s places taken.",
                 shelter=shelter.name, occupied=shelter.occupied, capacity=shelter.capacity)
    return _submit_for(operation, shelter, "occupancy", record, "other")


@bp.route("/o/<int:op_id>/shelters/<int:shelter_id>/request", methods=["POST"])
def request_help(op_id, shelter_id):
    """The shelter asks for help (cleaning, sorting supplies, companionship): a new need."""
    operation = get_operation(op_id)
    shelter = _shelter_of(operation, shelter_id)

    def ask(form):
        need = ops.shelter_request(shelter, category=form.category.data,
                                   description=form.description.data.strip(),
                                   people_min=form.people_min.data,
                                   people_max=form.people_max.data, actor=actor_name())
        db.session.flush()
        link = Markup('<a href="{}">{}</a>').format(
            url_for("needs.detail", op_id=operation.id, need_id=need.id), need.number)
        text = _("Need %(number)s created from the request of %(shelter)s.",
                 number="%(number)s", shelter="%(shelter)s")
        return escape(text) % {"number": link, "shelter": shelter.name}
    return _submit_for(operation, shelter, "request", ask, "description")
