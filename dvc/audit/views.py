"""The audit trail page: who viewed or changed survivors' and volunteers' records, searched
by the head of the centre, and its CSV."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import gettext as _

from dvc.audit import labels
from dvc.audit import operations as ops
from dvc.audit.forms import AuditFilterForm
from dvc.core.context import today
from dvc.operations.operations import get_operation

bp = Blueprint("audit", __name__)


def _filter_form(operation) -> AuditFilterForm:
    form = AuditFilterForm(formdata=request.args)
    form.kind.choices = [("", _("All"))] + [(k, labels.kind_label(k))
                                            for k in ops.audit_kinds(operation)]
    return form


def _page_number() -> int:
    return request.args.get("page", 1, type=int) or 1


def _render(operation, form, page=None, status=200):
    return render_template(
        "audit/index.html", op=operation, form=form, page=page,
        actors=ops.audit_actors(operation), subjects=labels.SUBJECTS,
        kind_label=labels.kind_label, record_number=ops.record_number, details=ops.details,
        query={k: v for k, v in request.args.items() if k != "page"}), status


@bp.route("/o/<int:op_id>/audit")
def index(op_id):
    """The operation's trail, newest first, filtered by who, which record, what and when."""
    operation = get_operation(op_id)
    form = _filter_form(operation)
    if not form.validate():
        return _render(operation, form, status=422)
    return _render(operation, form, ops.audit_events(operation, form.audit_filter(),
                                                     _page_number()))


@bp.route("/o/<int:op_id>/audit.csv")
def export_csv(op_id):
    """The same search as a CSV file: every matching event, not one page."""
    operation = get_operation(op_id)
    form = _filter_form(operation)
    if not form.validate():
        return _render(operation, form, status=422)
    lines = ops.csv_lines(operation, form.audit_filter())
    name = f"audit-{op_id}-{today().isoformat()}.csv"
    return Response(stream_with_context(lines), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
