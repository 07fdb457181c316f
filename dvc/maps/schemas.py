"""API shapes for the map's compact needs (dvc.maps.compact)."""
from __future__ import annotations

from marshmallow import Schema, fields


class CompactNeedsOut(Schema):
    columns = fields.List(fields.String(), metadata={"description": "The order of each row"})
    codes = fields.Dict(keys=fields.String(), values=fields.List(
        fields.String(allow_none=True)), metadata={
        "description": "Coded columns (status, category, priority, district): row values are "
                       "indexes into these lists (a need without a district: null)"})
    rows = fields.List(fields.List(fields.Raw(allow_none=True)),
                       metadata={"description": "One array per need, in `columns` order"})
