"""Needs desk pages: intake on the phone, the list, one need in full (every view is logged)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from dvc.auth.access import actor_name, audited
from dvc.core.context import today
from dvc.core.errors import DomainError, Invalid
from dvc.core.forms import show_domain_errors
from dvc.extensions import db
from dvc.needs import labels
from dvc.needs import operations as ops
from dvc.needs.forms import (CallForm, MergeForm, NeedFilterForm, NeedForm, PhotoForm, StatusForm,
                             SurveyForm, need_id_of)
from dvc.needs.models import MANUAL, OPEN, STATUSES, TRANSITIONS
from dvc.operations.operations import get_operation
from dvc.teams.operations import teams_of_need

bp = Blueprint("needs", __name__)
# Roles that work with survivors' personal data; reception does not (same as the API).
CARE = ("elderly", "disabled", "living_alone")


def _need(operation, need_id: int):
    need = ops.get_need(need_id)
    if need.operation_id != operation.id:
        abort(404)
    return need


def _intake_map(operation) -> dict | None:
    """Leaflet for click-to-place, served by the app itself (dvc/maps), or None without it.

    Typed coordinates always work; the map is an extra that needs no internet (the basemap
    tiles are optional: the point, the scale and the sites draw without them).
    """
    if "maps.vendor" not in current_app.view_functions:
        return None
    try:
        from dvc.maps.basemap import choose_basemap
        from dvc.maps.views import asset_url
    except ImportError:
        return None
    config = current_app.config
    basemap = choose_basemap(config.get("MAP_TILE_URL"), config.get("MAP_TILE_ATTRIBUTION"))
    sites = sorted((s for s in operation.sites if s.lat is not None),
                   key=lambda s: s.kind != "main")
    return {"js": asset_url("leaflet", "leaflet.js"), "css": asset_url("leaflet", "leaflet.css"),
            "tiles": basemap.url if basemap else "",
            "attribution": basemap.attribution if basemap else "",
            "max_native_zoom": basemap.max_native_zoom if basemap else 18,
            "sites": [{"name": s.name, "lat": s.lat, "lon": s.lon} for s in sites],
            "centre": [sites[0].lat, sites[0].lon] if sites else [35.6812, 139.7671]}


# --- intake ---------------------------------------------------------------------------------

def _intake_page(operation, form, status=200):
    dup_labels = {"categories": {k: str(v) for k, v in labels.CATEGORIES.items()},
                  "statuses": {k: str(v) for k, v in labels.STATUSES.items()}}
    return render_template("needs/new.html", op=operation, form=form, dup_labels=dup_labels,
                           districts=ops.districts_in(operation),
                           leaflet=_intake_map(operation)), status


@bp.route("/o/<int:op_id>/needs/new", methods=["GET", "POST"])
def new(op_id):
    """Needs intake (ニーズ受付) on the phone; likely duplicates show while typing."""
    operation = get_operation(op_id)
    form = NeedForm()
    if not form.validate_on_submit():
        return _intake_page(operation, form, 422 if request.method == "POST" else 200)
    try:
        need = ops.create_need(operation, form.need_input(), actor=actor_name())
    except Invalid as err:
        if not show_domain_errors(form, err):
            flash(err.message, "error")
        return _intake_page(operation, form, 422)
    except DomainError as err:
        flash(err.message, "error")
        return _intake_page(operation, form, err.status)
    flash(_("Need %(number)s recorded.", number=need.number), "info")
    _add_photos(need, form.uploads())
    return redirect(url_for(".detail", op_id=op_id, need_id=need.id))


def _add_photos(need, uploads, survey=None) -> list[str]:
    """Attach photos; a refused photo is named in a message and the others are kept."""
    failed = []
    for upload in uploads:
        try:
            ops.add_photo(need, upload.read(), actor=actor_name(), survey=survey)
        except Invalid as err:
            failed.append(f"{upload.filename}: {err.message}")
    if failed:
        flash(_("Not saved: %(photos)s. Add these photos again.", photos=" / ".join(failed)),
              "error")
    return failed


# --- list -------------------------------------------------------------------------------------

def _filter_form(operation) -> NeedFilterForm:
    form = NeedFilterForm(formdata=request.args)
    form.status.choices = [("open", _("Open (not finished)")), ("all", _("All"))] + \
        [(s, labels.STATUSES[s]) for s in STATUSES]
    form.category.choices = [("", _("All"))] + list(labels.CATEGORIES.items())
    form.district.choices = [("", _("All"))] + [(d, d) for d in ops.districts_in(operation)]
    form.care.choices = [("", _("All")), ("any", _("Any care flag"))] + list(labels.CARE.items())
    if not form.status.data:
        form.status.data = "open"
    return form


@bp.route("/o/<int:op_id>/needs")
def index(op_id):
    """Needs, continuing ones first, then by priority and waiting time; filterable."""
    operation = get_operation(op_id)
    form = _filter_form(operation)
    form.validate()
    status = form.status.data
    statuses = list(OPEN) if status == "open" else None if status == "all" else [status]
    needs = ops.list_needs(operation, statuses=statuses,
                           categories=[form.category.data] if form.category.data else None,
                           districts=[form.district.data] if form.district.data else None)
    day = today()
    waiting = {n.id: ops.days_waiting(n, day) for n in needs}
    if form.waiting.data and not form.waiting.errors:
        needs = [n for n in needs if waiting[n.id] >= form.waiting.data]
    if form.care.data == "any":
        needs = [n for n in needs if n.care]
    elif form.care.data in CARE:
        needs = [n for n in needs if getattr(n, form.care.data)]
    return render_template("needs/index.html", op=operation, form=form, needs=needs,
                           waiting=waiting)


# --- one need -------------------------------------------------------------------------------

def _status_choices(need) -> list[tuple[str, str]]:
    return [(s, labels.STATUSES[s]) for s in STATUSES if s in TRANSITIONS[need.status] & MANUAL]


def _detail(operation, need, status=200, **forms):
    status_form = forms.get("status_form") or StatusForm(formdata=None)
    status_form.status.choices = _status_choices(need)
    history = ops.need_history(need)
    return render_template(
        "needs/detail.html", op=operation, need=need, status_form=status_form,
        survey_form=forms.get("survey_form") or SurveyForm(formdata=None),
        merge_form=forms.get("merge_form") or MergeForm(formdata=None),
        call_form=forms.get("call_form") or CallForm(formdata=None),
        photo_form=forms.get("photo_form") or PhotoForm(formdata=None),
        history=[e for e in history if e.kind != "need.viewed"],
        views=[e for e in history if e.kind == "need.viewed"],
        teams=teams_of_need(need), days_waiting=ops.days_waiting(need, today()),
        can_survey=need.status in ("received", "survey", "on_hold"),
        can_merge=need.status in ("received", "survey", "ready", "on_hold"),
        is_open=need.status in OPEN), status


@bp.route("/o/<int:op_id>/needs/<int:need_id>")
@audited
def detail(op_id, need_id):
    """One need in full; who looked at it is logged (要配慮個人情報 is inside)."""
    operation = get_operation(op_id)
    need = _need(operation, need_id)
    ops.log_view(need, actor=actor_name())
    return _detail(operation, need)


def _refused(operation, need, err: DomainError, form_name: str, form):
    """Show the need again with the rule's message beside the form that was refused."""
    db.session.rollback()
    if not (isinstance(err, Invalid) and show_domain_errors(form, err)):
        flash(err.message, "error")
    return _detail(operation, need, err.status, **{form_name: form})


def _back(op_id, need_id, message):
    flash(message, "info")
    return redirect(url_for(".detail", op_id=op_id, need_id=need_id))


@bp.route("/o/<int:op_id>/needs/<int:need_id>/status", methods=["POST"])
def change_status(op_id, need_id):
    operation = get_operation(op_id)
    need = _need(operation, need_id)
    form = StatusForm()
    if not form.validate_on_submit():
        return _detail(operation, need, 422, status_form=form)
    try:
        ops.change_status(need, form.status.data, actor=actor_name(),
                          reason=form.reason.data or None, referred_to=form.referred_to.data)
    except DomainError as err:
        return _refused(operation, need, err, "status_form", form)
    return _back(op_id, need_id, _("Status changed to “%(status)s”.",
                                   status=labels.STATUSES[need.status]))


@bp.route("/o/<int:op_id>/needs/<int:need_id>/surveys", methods=["POST"])
def survey(op_id, need_id):
    operation = get_operation(op_id)
    need = _need(operation, need_id)
    form = SurveyForm()
    if not form.validate_on_submit():
        return _detail(operation, need, 422, survey_form=form)
    try:
        record = ops.record_survey(
            need, surveyor=form.surveyor.data, headcount=form.headcount.data,
            hours=form.hours.data, decision=form.decision.data, actor=actor_name(),
            tools=form.tools.data or None, hazards=form.hazards.data or None,
            notes=form.notes.data or None, referred_to=form.specialist.data or None)
    except DomainError as err:
        return _refused(operation, need, err, "survey_form", form)
    _add_photos(need, form.uploads(), survey=record)
    return _back(op_id, need_id, _("Survey recorded."))


@bp.route("/o/<int:op_id>/needs/<int:need_id>/merge", methods=["POST"])
def merge(op_id, need_id):
    """Close this need as a duplicate of another one, which stays."""
    operation = get_operation(op_id)
    need = _need(operation, need_id)
    form = MergeForm()
    if not form.validate_on_submit():
        return _detail(operation, need, 422, merge_form=form)
    try:
        keep = ops.get_need(need_id_of(form.keep.data))
        if keep.operation_id != operation.id:
            raise Invalid(_("No such need in this operation."), fields={"keep": "unknown"})
        ops.merge_needs(need, keep, actor=actor_name())
    except DomainError as err:
        if err.code == "unknown_need" or "keep" in err.fields:
            err = Invalid(err.message, fields={"keep": err.message})
        return _refused(operation, need, err, "merge_form", form)
    flash(_("%(duplicate)s was merged into this need.", duplicate=need.number), "info")
    return redirect(url_for(".detail", op_id=op_id, need_id=keep.id))


@bp.route("/o/<int:op_id>/needs/<int:need_id>/calls", methods=["POST"])
def call(op_id, need_id):
    """Add a repeat call from the same household to this need."""
    operation = get_operation(op_id)
    need = _need(operation, need_id)
    form = CallForm()
    if not form.validate_on_submit():
        return _detail(operation, need, 422, call_form=form)
    ops.add_call(need, form.note.data, actor=actor_name())
    return _back(op_id, need_id, _("The call was added to %(number)s.", number=need.number))


@bp.route("/o/<int:op_id>/needs/<int:need_id>/photos", methods=["POST"])
def photos(op_id, need_id):
    operation = get_operation(op_id)
    need = _need(operation, need_id)
    form = PhotoForm()
    if not form.validate_on_submit() or not form.uploads():
        form.photos.errors = [*form.photos.errors, _("Choose one or more photos.")]
        return _detail(operation, need, 422, photo_form=form)
    failed = _add_photos(need, form.uploads())
    saved = len(form.uploads()) - len(failed)
    if saved:
        flash(_("%(n)s photo(s) added.", n=saved), "info")
    return redirect(url_for(".detail", op_id=op_id, need_id=need_id))
