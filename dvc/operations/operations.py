"""Open, close and annotate operations."""
from __future__ import annotations

from functools import cache

from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from dvc.core.context import now
from dvc.core.errors import Conflict, Invalid, NotFound
from dvc.core.events import log_event
from dvc.extensions import db
from dvc.operations.models import KINDS, Operation


def create_operation(name: str, kind: str, *, actor: str, prefecture: str | None = None,
                     municipality: str | None = None) -> Operation:
    """Open a new operation (a real response or a drill)."""
    name = (name or "").strip()
    fields = {}
    if not name:
        fields["name"] = _("Enter a name.")
    if kind not in KINDS:
        fields["kind"] = _("Choose real or drill.")
    if fields:
        raise Invalid(_("Some answers need fixing."), fields=fields)
    operation = Operation(name=name, kind=kind, status="open", prefecture=prefecture,
                          municipality=municipality, opened_dt=now())
    db.session.add(operation)
    db.session.flush()
    log_event("operation.opened", actor=actor, operation_id=operation.id, subject=operation,
              payload={"name": name, "kind": kind})
    return operation


def set_notice(operation: Operation, notice: str, *, actor: str) -> None:
    """Replace the notice every volunteer sees on their own page."""
    operation.notice = (notice or "").strip() or None
    log_event("operation.notice_set", actor=actor, operation_id=operation.id, subject=operation)


def close_operation(operation: Operation, *, actor: str) -> None:
    """Close an operation (the centre ends its response); its personal data is purged later."""
    from dvc.teams.models import ACTIVE, Team
    if operation.status == "closed":
        raise Conflict(_("This operation is closed."), code="operation_closed")
    # Nobody may still be out in the field, or waiting to go, when the centre closes.
    active = db.session.scalar(db.select(db.func.count()).select_from(Team).where(
        Team.operation_id == operation.id, Team.status.in_(ACTIVE)))
    if active:
        raise Conflict(_("%(n)s teams are still out or formed: bring them back or disband them "
                         "before closing.", n=active), code="teams_active", data={"teams": active})
    operation.status, operation.closed_dt = "closed", now()
    log_event("operation.closed", actor=actor, operation_id=operation.id, subject=operation)


@cache  # built once, when first used (the models are all mapped by then)
def _operation_statement():
    """Nearly every request reads its operation: its sites come with it (a check-in reads its
    site, a page the site list), and the statement is made once, so SQLAlchemy skips building
    it and its cache key again: a third of a query's CPU (bench/checkin.py)."""
    return (select(Operation).options(joinedload(Operation.sites))
            .where(Operation.id == bindparam("operation_id")))


def get_operation(operation_id: int) -> Operation:
    """Return the operation, with its sites, or raise NotFound."""
    operation = db.session.execute(_operation_statement(), {"operation_id": operation_id}
                                   ).unique().scalar_one_or_none()
    if operation is None:
        raise NotFound(_("No such operation."), code="unknown_operation")
    return operation
