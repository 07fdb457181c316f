"""API shapes for districts (GeoJSON out, through dvc.core.schemas)."""
from __future__ import annotations

from marshmallow import Schema, fields


class ImportedOut(Schema):
    imported = fields.Integer(metadata={"description": "How many districts the file held"})
    names = fields.List(fields.String())
