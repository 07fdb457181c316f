"""Districts page: open and waiting needs per district, needs to place by hand, importing."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from dvc.core.errors import DomainError
from dvc.core.forms import show_domain_error
from dvc.districts import operations as ops
from dvc.districts.api import import_upload
from dvc.districts.forms import DistrictImportForm
from dvc.extensions import db
from dvc.operations.operations import get_operation

bp = Blueprint("districts", __name__)


def _page(operation, form=None, status: int = 200):
    return render_template(
        "districts/index.html", op=operation, districts=ops.district_rows(operation),
        counts=ops.need_counts(operation), serving=ops.serving_by_district(operation),
        to_check=ops.needs_to_check(operation),
        last=ops.last_import(operation),
        form=form or DistrictImportForm(formdata=None)), status


@bp.route("/o/<int:op_id>/districts")
def index(op_id):
    """Every district with its open needs and needs waiting for a team; needs outside all."""
    return _page(get_operation(op_id))


@bp.route("/o/<int:op_id>/districts/import", methods=["POST"])
def import_file(op_id):
    """Replace the districts with a file's, all or nothing."""
    operation = get_operation(op_id)
    form = DistrictImportForm()
    if not form.validate_on_submit():
        return _page(operation, form, 422)
    try:
        rows = import_upload(operation, form.file.data, form.name_field.data.strip(),
                             layer=(form.layer.data or "").strip() or None)
    except DomainError as err:
        db.session.rollback()
        show_domain_error(form, err, "file")
        flash(_("Nothing was imported: the districts stay as they were."), "error")
        return _page(operation, form, err.status)
    flash(ngettext("%(num)d district imported: %(names)s.",
                   "%(num)d districts imported: %(names)s.", len(rows),
                   names="、".join(r.name for r in rows)), "info")
    repaired = (ops.last_import(operation) or {}).get("repaired")
    if repaired:
        flash(_("Broken outlines were repaired in: %(names)s. Check them on the map.",
                names="、".join(repaired)), "info")
    return redirect(url_for(".index", op_id=operation.id))
