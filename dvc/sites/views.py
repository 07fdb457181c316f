"""Sites pages: the main centre and satellites for staff, and the public recruitment status."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from dvc.auth.access import actor_name
from dvc.core.errors import DomainError, NotFound
from dvc.core.forms import choices, show_domain_error
from dvc.districts.operations import district_rows
from dvc.extensions import db
from dvc.operations.operations import get_operation
from dvc.sites import labels
from dvc.sites import operations as ops
from dvc.sites.forms import NewSatelliteForm, ShuttleForm, SiteEditForm, SiteStatusForm
from dvc.sites.recruitment import recruitment as site_figures

bp = Blueprint("sites", __name__)
UNBOUND = {"formdata": None}
# Which field a refusal without fields belongs to, by its code.
SHUTTLE_FIELDS = {"site_not_open": "to_site_id", "unknown_site": "to_site_id"}


def _site_of(operation, site_id: int):
    site = ops.get_site(site_id)
    if site.operation_id != operation.id:
        raise NotFound(_("No such site."), code="unknown_site")
    return site


def _edit_form(operation, site, bind=False):
    form = SiteEditForm(prefix=f"site{site.id}", **({} if bind else {**UNBOUND, "obj": site}))
    form.service_districts.choices = choices((d.name, d.name) for d in district_rows(operation))
    return form


def _shuttle_form(operation, from_site, bind=False):
    form = ShuttleForm(**({} if bind else UNBOUND))
    form.from_site_id.choices = choices((s.id, s.name) for s in operation.sites)
    form.to_site_id.choices = choices(
        [("", "—")] + [(s.id, s.name) for s in operation.sites
                       if s.status == "open" and s.id != getattr(from_site, "id", None)])
    if not bind and from_site is not None:
        form.from_site_id.data = from_site.id
    return form


def _from_site(operation, site_id: int | None):
    """The site the shuttle leaves from: the one asked for, else the main centre."""
    if site_id:
        return _site_of(operation, site_id)
    return operation.main_site or next(iter(operation.sites), None)


def _page(operation, *, posted: dict | None = None, from_site=None, status: int = 200):
    """Render the sites page; `posted` holds the one form sent back with its errors."""
    posted = posted or {}
    from_site = from_site or _from_site(operation, request.args.get("from", type=int))
    status_form = SiteStatusForm(**UNBOUND)
    rows = [{"f": figures, "site": figures.site,
             "status": posted.get(("status", figures.site.id)) or status_form,
             "edit": posted.get(("edit", figures.site.id)) or _edit_form(operation, figures.site)}
            for figures in site_figures(operation)]
    return render_template(
        "sites/index.html", op=operation, rows=rows, recruitment_labels=labels.RECRUITMENT,
        add_form=posted.get("add") or NewSatelliteForm(**UNBOUND),
        from_site=from_site,
        candidates=ops.shuttle_candidates(from_site) if from_site else [],
        shuttle=posted.get("shuttle") or _shuttle_form(operation, from_site)), status


def _refuse(form, err: DomainError, fallback) -> None:
    """Put a refusal next to its field (or the fallback field), and say it at the top.

    `fallback` is a field name, or a function of the error that returns one."""
    db.session.rollback()  # the page shows what is stored, not a half-made change
    show_domain_error(form, err, fallback(err) if callable(fallback) else fallback)
    flash(err.message, "error")


def _submit(operation, key, form, action, fallback, anchor: str, **page):
    """Validate, change state through operations and redirect; or show the form again."""
    if form.validate_on_submit():
        try:
            done = action(form)
        except DomainError as err:
            _refuse(form, err, fallback)
            return _page(operation, posted={key: form}, status=err.status, **page)
        flash(done, "info")
        return redirect(url_for(".index", op_id=operation.id, _anchor=anchor,
                                **({"from": page["from_site"].id} if page.get("from_site")
                                   else {})))
    return _page(operation, posted={key: form}, status=422, **page)


@bp.route("/o/<int:op_id>/sites")
def index(op_id):
    """Every site: status and times, service area, hours, today's load, tomorrow's need."""
    return _page(get_operation(op_id))


@bp.route("/o/<int:op_id>/sites/<int:site_id>/status", methods=["POST"])
def set_status(op_id, site_id):
    """Open, pause or close a site (its open needs move to a site still serving)."""
    operation = get_operation(op_id)
    site = _site_of(operation, site_id)

    def change(form):
        ops.set_site_status(site, form.status.data, actor=actor_name())
        return _("%(site)s: %(status)s.", site=site.name,
                 status=labels.STATUSES[form.status.data])
    return _submit(operation, ("status", site.id), SiteStatusForm(), change, "status",
                   f"site-{site.id}")


@bp.route("/o/<int:op_id>/sites/<int:site_id>/edit", methods=["POST"])
def edit(op_id, site_id):
    """Change a site's name, point, service area, hours, daily quota or staff."""
    operation = get_operation(op_id)
    site = _site_of(operation, site_id)

    def save(form):
        ops.update_site(site, form.changes(), actor=actor_name())
        return _("%(site)s saved.", site=site.name)
    return _submit(operation, ("edit", site.id), _edit_form(operation, site, bind=True), save,
                   "name", f"site-{site.id}")


@bp.route("/o/<int:op_id>/sites/new", methods=["POST"])
def add(op_id):
    """Add a satellite (サテライト): it opens at once."""
    operation = get_operation(op_id)

    def create(form):
        site = ops.create_site(operation, form.name.data, "satellite", lat=form.lat.data,
                               lon=form.lon.data, actor=actor_name())
        return _("Satellite %(site)s added and open.", site=site.name)
    return _submit(operation, "add", NewSatelliteForm(), create, "name", "add-satellite")


@bp.route("/o/<int:op_id>/sites/shuttle", methods=["POST"])
def shuttle(op_id):
    """Send chosen free volunteers checked in at one site to another open site."""
    operation = get_operation(op_id)
    from_site = _from_site(operation, request.form.get("from_site_id", type=int))
    form = _shuttle_form(operation, from_site, bind=True)

    def send(form):
        to_site = _site_of(operation, form.to_site_id.data)
        moved = ops.transfer_volunteers(operation, to_site, form.volunteer_ids.data or [],
                                        actor=actor_name())
        return ngettext("%(num)d person sent to %(site)s.", "%(num)d people sent to %(site)s.",
                        sum(c.headcount for c in moved), site=to_site.name)
    return _submit(operation, "shuttle", form, send,
                   lambda err: SHUTTLE_FIELDS.get(err.code, "volunteer_ids"), "shuttle",
                   from_site=from_site)


@bp.route("/o/<int:op_id>/recruitment")
def recruitment(op_id):
    """募集状況: can I come today or tomorrow, and where? Counts only, nobody's data."""
    operation = get_operation(op_id)
    return render_template("sites/recruitment.html", op=operation,
                           sites=site_figures(operation), recruitment_labels=labels.RECRUITMENT)
