"""Staff pages: the list of operations and one operation's home."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from dvc.auth.access import actor_name, visible
from dvc.core.errors import Invalid
from dvc.core.forms import choices, show_domain_errors
from dvc.core.japan import PREFECTURES
from dvc.extensions import db
from dvc.operations.models import Operation
from dvc.operations.operations import create_operation, get_operation, set_notice
from dvc.sites.operations import create_site

bp = Blueprint("operations", __name__)


class OperationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=choices([("real", _l("Real response")),
                                                    ("drill", _l("Drill"))]))
    prefecture = SelectField(_l("Prefecture"), choices=choices((p, p) for p in PREFECTURES),
                             default="東京都")
    municipality = StringField(_l("Municipality"), validators=[Length(max=60)])


class SiteForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=choices([("main", _l("Main centre")),
                                                    ("satellite", _l("Satellite"))]))
    lat = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(-90, 90)])
    lon = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(-180, 180)])


class NoticeForm(FlaskForm):
    notice = TextAreaField(_l("Notice to volunteers"), validators=[Length(max=2000)])


def refuse(form: FlaskForm, err: Invalid) -> None:
    """Show a refused rule: its message on top, its field messages beside the fields."""
    show_domain_errors(form, err)
    flash(err.message, "error")


@bp.route("/")
def index():
    operations = db.session.scalars(visible(
        db.select(Operation), Operation.id).order_by(Operation.status.desc(),
                                                     Operation.id.desc())).all()
    return render_template("operations/index.html", operations=operations, form=OperationForm())


@bp.route("/operations", methods=["POST"])
def create():
    form = OperationForm()
    if form.validate_on_submit():
        try:
            operation = create_operation(form.name.data, form.kind.data, actor=actor_name(),
                                         prefecture=form.prefecture.data,
                                         municipality=form.municipality.data)
            return redirect(url_for(".detail", op_id=operation.id))
        except Invalid as err:
            refuse(form, err)
    operations = db.session.scalars(visible(db.select(Operation), Operation.id)
                                    .order_by(Operation.id.desc())).all()
    return render_template("operations/index.html", operations=operations, form=form), 422


def _detail(operation, site_form=None, notice_form=None, status=200):
    notice_form = notice_form or NoticeForm(notice=operation.notice)
    return render_template("operations/detail.html", op=operation,
                           site_form=site_form or SiteForm(), notice_form=notice_form), status


@bp.route("/o/<int:op_id>")
def detail(op_id):
    return _detail(get_operation(op_id))


@bp.route("/o/<int:op_id>/sites", methods=["POST"])
def add_site(op_id):
    operation = get_operation(op_id)
    form = SiteForm()
    if form.validate_on_submit():
        try:
            create_site(operation, form.name.data, form.kind.data, lat=form.lat.data,
                        lon=form.lon.data, actor=actor_name())
            flash(_("Site added."), "info")
            return redirect(url_for(".detail", op_id=op_id))
        except Invalid as err:
            refuse(form, err)
    return _detail(operation, site_form=form, status=422)


@bp.route("/o/<int:op_id>/notice", methods=["POST"])
def update_notice(op_id):
    operation = get_operation(op_id)
    form = NoticeForm()
    if form.validate_on_submit():
        set_notice(operation, form.notice.data, actor=actor_name())
        flash(_("Notice saved."), "info")
        return redirect(url_for(".detail", op_id=op_id))
    return _detail(operation, notice_form=form, status=422)
