"""JSON API for equipment (資機材): item types, stock, low stock, lending and returns."""
from __future__ import annotations

from dvc.auth.access import actor_name
from dvc.equipment import operations as ops
from dvc.equipment.schemas import (AdjustIn, ItemTypeIn, ItemTypeOut, LendIn, MovementOut,
                                   ReceiveIn, ReturnIn, StockOut, TeamEquipmentOut)
from dvc.extensions import ApiBlueprint
from dvc.operations.operations import get_operation
from dvc.teams.operations import get_team

bp = ApiBlueprint("equipment_api", __name__, url_prefix="/api/v1",
                  description="Equipment (資機材): stock per site, lending to teams, returns")


@bp.route("/operations/<int:op_id>/equipment/items", methods=["POST"])
@bp.arguments(ItemTypeIn)
@bp.response(201, ItemTypeOut)
def post_item_type(data, op_id):
    """Add a kind of equipment (スコップ, 一輪車 ...) with its unit and low-stock threshold."""
    return ops.add_item_type(get_operation(op_id), actor=actor_name(), **data)


@bp.route("/operations/<int:op_id>/equipment/items", methods=["GET"])
@bp.response(200, ItemTypeOut(many=True))
def list_item_types(op_id):
    """The operation's kinds of equipment."""
    return ops.item_types(get_operation(op_id))


@bp.route("/operations/<int:op_id>/sites/<int:site_id>/equipment/receive", methods=["POST"])
@bp.arguments(ReceiveIn)
@bp.response(201, MovementOut)
def receive(data, op_id, site_id):
    """Put equipment on a site's shelf (delivered, donated, moved in)."""
    operation = get_operation(op_id)
    return ops.receive_stock(ops.get_site(operation, site_id),
                             ops.get_item_type(operation.id, data["item_type_id"]),
                             data["quantity"], note=data["note"], actor=actor_name())


@bp.route("/operations/<int:op_id>/sites/<int:site_id>/equipment/adjust", methods=["POST"])
@bp.arguments(AdjustIn)
@bp.response(200, StockOut(many=True))
def adjust(data, op_id, site_id):
    """Set a shelf to what a stock count found (棚卸), with the reason; the ledger keeps the
    difference."""
    operation = get_operation(op_id)
    site = ops.get_site(operation, site_id)
    ops.adjust_stock(site, ops.get_item_type(operation.id, data["item_type_id"]),
                     data["on_hand"], note=data["note"], actor=actor_name())
    return ops.stock_levels(operation, site_id=site.id)


@bp.route("/operations/<int:op_id>/equipment/stock", methods=["GET"])
@bp.response(200, StockOut(many=True))
def stock(op_id):
    """Every site's shelf per item, with how many are out with teams and a low flag."""
    return ops.stock_levels(get_operation(op_id))


@bp.route("/operations/<int:op_id>/equipment/low", methods=["GET"])
@bp.response(200, StockOut(many=True))
def low(op_id):
    """Shelves at or below their item's threshold (the map shows these)."""
    return ops.low_stock(get_operation(op_id))


def _team_equipment(team, movements=()):
    return {"team_id": team.id, "site_id": team.site_id,
            "items": ops.outstanding_for_team(team), "movements": list(movements)}


@bp.route("/teams/<int:team_id>/equipment/lend", methods=["POST"])
@bp.arguments(LendIn)
@bp.response(201, TeamEquipmentOut)
def lend(data, team_id):
    """Lend items from the team's site: all or nothing; 409 insufficient_stock with what is
    available."""
    team = get_team(team_id)
    return _team_equipment(team, ops.lend_items(team, data["items"], actor=actor_name()))


@bp.route("/teams/<int:team_id>/equipment/return", methods=["POST"])
@bp.arguments(ReturnIn)
@bp.response(201, TeamEquipmentOut)
def return_(data, team_id):
    """Take items back with their condition; 409 when more than the team has out."""
    team = get_team(team_id)
    return _team_equipment(team, ops.return_items(team, data["items"], actor=actor_name()))


@bp.route("/teams/<int:team_id>/equipment", methods=["GET"])
@bp.response(200, TeamEquipmentOut)
def team_equipment(team_id):
    """What the team has had and still has out, item by item (for the activity report)."""
    return _team_equipment(get_team(team_id))
