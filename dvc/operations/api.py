"""JSON API for operations and their sites."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from dvc.auth.access import actor_name, allow
from dvc.auth.models import ROLES
from dvc.core.japan import PREFECTURES
from dvc.extensions import db
from dvc.operations import models
from dvc.operations.models import Operation
from dvc.operations.operations import create_operation, get_operation
from dvc.sites import models as site_models
from dvc.sites.operations import create_site

bp = Blueprint("operations_api", __name__, url_prefix="/api/v1",
               description="Operations (one activation of a centre) and their sites")


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


class SiteIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    kind = fields.String(load_default="main", validate=validate.OneOf(site_models.KINDS))
    lat = fields.Float(load_default=None, validate=validate.Range(-90, 90))
    lon = fields.Float(load_default=None, validate=validate.Range(-180, 180))


class SiteOut(Schema):
    id = fields.Integer()
    operation_id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    status = fields.String()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)


@bp.route("/operations", methods=["GET"])
@bp.response(200, OperationOut(many=True))
@allow(*ROLES)
def list_operations():
    """List operations, open ones first."""
    return db.session.scalars(
        db.select(Operation).order_by(Operation.status.desc(), Operation.id.desc())).all()


@bp.route("/operations", methods=["POST"])
@bp.arguments(OperationIn)
@bp.response(201, OperationOut)
@allow("admin")
def post_operation(data):
    """Open an operation (kind `real` or `drill`)."""
    return create_operation(actor=actor_name(), **data)


@bp.route("/operations/<int:op_id>/sites", methods=["GET"])
@bp.response(200, SiteOut(many=True))
@allow(*ROLES)
def list_sites(op_id):
    """List the sites of an operation."""
    return get_operation(op_id).sites


@bp.route("/operations/<int:op_id>/sites", methods=["POST"])
@bp.arguments(SiteIn)
@bp.response(201, SiteOut)
@allow("admin")
def post_site(data, op_id):
    """Add the main centre or a satellite."""
    return create_site(get_operation(op_id), actor=actor_name(), **data)
