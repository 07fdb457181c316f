"""API shapes for equipment: item types, stock, lending and returns."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from dvc.core.schemas import Whole, id_field
from dvc.equipment import models as m
from dvc.equipment.operations import MAX_QUANTITY

QUANTITY = validate.Range(1, MAX_QUANTITY)


class ItemTypeIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    unit = fields.String(load_default="個", validate=validate.Length(min=1, max=20))
    low_stock = Whole(load_default=0, validate=validate.Range(0, MAX_QUANTITY))
    per_person = fields.Boolean(load_default=False)


class ItemTypeOut(Schema):
    id = fields.Integer()
    operation_id = fields.Integer()
    name = fields.String()
    unit = fields.String()
    low_stock = fields.Integer(metadata={"description": "A shelf this low or lower is low"})
    per_person = fields.Boolean(metadata={"description": "One per volunteer (gloves, shovels)"})


class ReceiveIn(Schema):
    item_type_id = id_field(required=True)
    quantity = Whole(required=True, validate=QUANTITY)
    note = fields.String(load_default=None, validate=validate.Length(max=500))


class AdjustIn(Schema):
    item_type_id = id_field(required=True)
    on_hand = Whole(required=True, validate=validate.Range(0, MAX_QUANTITY))
    note = fields.String(required=True, validate=validate.Length(min=1, max=500))


class MovementOut(Schema):
    id = fields.Integer()
    item_type_id = fields.Integer()
    item = fields.String(attribute="item_type.name")
    site_id = fields.Integer()
    team_id = fields.Integer(allow_none=True)
    kind = fields.String()
    quantity = fields.Integer()
    on_hand_change = fields.Integer()
    condition = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    actor = fields.String()
    moved_dt = fields.DateTime()


class StockOut(Schema):
    site_id = fields.Integer()
    site_name = fields.String()
    item_type_id = fields.Integer()
    name = fields.String()
    unit = fields.String()
    on_hand = fields.Integer()
    out = fields.Integer(metadata={"description": "Lent to teams and not back yet"})
    low_stock = fields.Integer()
    low = fields.Boolean()


class LendLine(Schema):
    item_type_id = id_field(required=True)
    quantity = Whole(required=True, validate=QUANTITY)


class ReturnLine(LendLine):
    condition = fields.String(load_default="good",
                              validate=validate.OneOf(m.RETURN_CONDITIONS),
                              metadata={"description": "damaged and lost are written off"})


class LendIn(Schema):
    items = fields.List(fields.Nested(LendLine), required=True,
                        validate=validate.Length(min=1, max=50))


class ReturnIn(Schema):
    items = fields.List(fields.Nested(ReturnLine), required=True,
                        validate=validate.Length(min=1, max=50))


class OutstandingOut(Schema):
    item_type_id = fields.Integer()
    name = fields.String()
    unit = fields.String()
    lent = fields.Integer()
    returned = fields.Integer()
    lost = fields.Integer()
    broken = fields.Integer()
    outstanding = fields.Integer()


class TeamEquipmentOut(Schema):
    team_id = fields.Integer()
    site_id = fields.Integer()
    items = fields.List(fields.Nested(OutstandingOut))
    movements = fields.List(fields.Nested(MovementOut),
                            metadata={"description": "The ledger lines this request wrote"})
