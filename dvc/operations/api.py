"""JSON API for operations and their sites."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from dvc.auth.access import actor_name, visible
from dvc.core.japan import PREFECTURES
from dvc.extensions import ApiBlueprint, db
from dvc.operations import models
from dvc.operations.models import Operation
from dvc.operations.operations import create_operation

bp = ApiBlueprint("operations_api", __name__, url_prefix="/api/v1",
                  description="Operations (one activation of a centre)")


class OperationIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(load_default="real", validate=validate.OneOf(models.KINDS))
    prefecture = fields.String(load_default=None, validate=validate.OneOf(PREFECTURES))
    municipality = fields.String(load_default=None, validate=validate.Length(max=60))


class OperationOut(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    status = fields.String()
    prefecture = fields.String(allow_none=True)
    municipality = fields.String(allow_none=True)
    opened_dt = fields.DateTime()


@bp.route("/operations", methods=["GET"])
@bp.response(200, OperationOut(many=True))
def list_operations():
    """List operations, open ones first."""
    return db.session.scalars(visible(db.select(Operation), Operation.id).order_by(
        Operation.status.desc(), Operation.id.desc())).all()


@bp.route("/operations", methods=["POST"])
@bp.arguments(OperationIn)
@bp.response(201, OperationOut)
def post_operation(data):
    """Open an operation (kind `real` or `drill`)."""
    return create_operation(actor=actor_name(), **data)
