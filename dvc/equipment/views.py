"""The equipment desk (資機材): shelves per site, stock in, lending to teams and returns."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from dvc.auth.access import actor_name
from dvc.core.errors import DomainError, NotFound
from dvc.core.forms import choices
from dvc.equipment import operations as ops
from dvc.equipment.forms import ItemTypeForm, LendForm, ReceiveForm, ReturnForm
from dvc.operations.operations import get_operation
from dvc.teams import labels as team_labels
from dvc.teams.models import ACTIVE
from dvc.teams.operations import get_team

bp = Blueprint("equipment", __name__)
UNBOUND = {"formdata": None}


def _item_choices(types):
    return choices((t.id, f"{t.name}（{t.unit}）") for t in types)


def _receive_form(operation, types, bind=False):
    form = ReceiveForm(**({} if bind else UNBOUND))
    form.site_id.choices = choices((s.id, s.name) for s in operation.sites)
    form.item_type_id.choices = _item_choices(types)
    return form


def _lend_form(team, types, levels, bind=False):
    """Items with what is on the shelf at the team's site, so the desk sees it before lending."""
    form = LendForm(prefix=f"lend{team.id}", **({} if bind else UNBOUND))
    on_hand = {lv.item_type_id: lv.on_hand for lv in levels if lv.site_id == team.site_id}
    left = {t.id: _("%(quantity)s left", quantity=f"{on_hand.get(t.id, 0)}{t.unit}")
            for t in types}
    form.item_type_id.choices = choices((t.id, f"{t.name}（{left[t.id]}）") for t in types)
    return form


def _return_form(team, held, bind=False):
    form = ReturnForm(prefix=f"return{team.id}", **({} if bind else UNBOUND))
    form.item_type_id.choices = choices(
        (h.item_type_id, f"{h.name}（{h.outstanding}{h.unit}）") for h in held if h.outstanding)
    return form


def _desk(operation, *, posted: dict | None = None, status: int = 200):
    """Render the desk; `posted` holds the one form sent back with its errors."""
    posted = posted or {}
    types = ops.item_types(operation)
    teams = ops.teams_at_desk(operation)
    held = ops.outstanding_by_team(t.id for t in teams)
    levels = ops.stock_levels(operation)
    rows = [{"team": team, "held": held[team.id], "can_lend": team.status in ACTIVE,
             "lend": posted.get(("lend", team.id)) or _lend_form(team, types, levels),
             "return": posted.get(("return", team.id)) or _return_form(team, held[team.id])}
            for team in teams]
    return render_template(
        "equipment/desk.html", op=operation, types=types, teams=rows,
        levels={(lv.site_id, lv.item_type_id): lv for lv in levels},
        low=ops.low_stock(operation), team_statuses=team_labels.STATUSES,
        item_form=posted.get("item") or ItemTypeForm(**UNBOUND),
        receive_form=posted.get("receive") or _receive_form(operation, types)), status


def _show_error(form, err: DomainError, fallback: str) -> None:
    """Put a rule's refusal next to the field it concerns, and say it at the top."""
    for name, message in (err.fields or {"": err.message}).items():
        field = getattr(form, name, None) or getattr(form, fallback)
        field.errors = [*field.errors, message]
    flash(err.message, "error")


def _submit(operation, key, form, action, done: str, anchor: str, fallback="quantity"):
    """Validate, change state through operations, then redirect; or show the errors."""
    if form.validate_on_submit():
        try:
            action(form)
        except DomainError as err:
            _show_error(form, err, fallback)
            return _desk(operation, posted={key: form}, status=err.status)
        flash(done, "info")
        return redirect(url_for(".desk", op_id=operation.id, _anchor=anchor))
    return _desk(operation, posted={key: form}, status=422)


def _team_of(operation, team_id: int):
    team = get_team(team_id)
    if team.operation_id != operation.id:
        raise NotFound(_("No such team."), code="unknown_team")
    return team


@bp.route("/o/<int:op_id>/equipment")
def desk(op_id):
    """Shelves per site (low ones marked), stock in, and what each team has out."""
    return _desk(get_operation(op_id))


@bp.route("/o/<int:op_id>/equipment/items", methods=["POST"])
def add_item(op_id):
    operation = get_operation(op_id)

    def add(form):
        ops.add_item_type(operation, form.name.data, unit=form.unit.data,
                          low_stock=form.low_stock.data, per_person=form.per_person.data,
                          actor=actor_name())
    return _submit(operation, "item", ItemTypeForm(), add, _("Item added."), "stock", "name")


@bp.route("/o/<int:op_id>/equipment/receive", methods=["POST"])
def receive(op_id):
    operation = get_operation(op_id)
    form = _receive_form(operation, ops.item_types(operation), bind=True)

    def receive_(form):
        ops.receive_stock(ops.get_site(operation, form.site_id.data),
                          ops.get_item_type(operation.id, form.item_type_id.data),
                          form.quantity.data, note=form.note.data, actor=actor_name())
    return _submit(operation, "receive", form, receive_, _("Stock received."), "stock")


@bp.route("/o/<int:op_id>/equipment/teams/<int:team_id>/lend", methods=["POST"])
def lend(op_id, team_id):
    operation = get_operation(op_id)
    team = _team_of(operation, team_id)
    levels = ops.stock_levels(operation, site_id=team.site_id)
    form = _lend_form(team, ops.item_types(operation), levels, bind=True)

    def lend_(form):
        ops.lend_to_team(team, ops.get_item_type(operation.id, form.item_type_id.data),
                         form.quantity.data, actor=actor_name())
    return _submit(operation, ("lend", team.id), form, lend_,
                   _("Lent to %(team)s.", team=team.number), f"team-{team.id}")


@bp.route("/o/<int:op_id>/equipment/teams/<int:team_id>/return", methods=["POST"])
def take_back(op_id, team_id):
    operation = get_operation(op_id)
    team = _team_of(operation, team_id)
    form = _return_form(team, ops.outstanding_for_team(team), bind=True)

    def return_(form):
        ops.return_from_team(team, ops.get_item_type(operation.id, form.item_type_id.data),
                             form.quantity.data, form.condition.data, actor=actor_name())
    return _submit(operation, ("return", team.id), form, return_,
                   _("Returned by %(team)s.", team=team.number), f"team-{team.id}")
