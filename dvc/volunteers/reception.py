"""Reception desk pages: the kiosk, today's roster, name tags and posters."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from dvc.core import codes
from dvc.core.context import today
from dvc.core.errors import Invalid, NotFound
from dvc.extensions import db
from dvc.operations.operations import get_operation
from dvc.sites.models import Site
from dvc.volunteers import labels, qr
from dvc.volunteers.models import CheckIn
from dvc.volunteers.roster import roster

bp = Blueprint("reception", __name__)


def _site(operation, site_id: int | None) -> Site | None:
    if not site_id:
        return operation.main_site
    site = db.session.get(Site, site_id)
    if site is None or site.operation_id != operation.id:
        raise NotFound(_("No such site."), code="unknown_site")
    return site


def _day_arg() -> date:
    try:
        return date.fromisoformat(request.args["date"]) if request.args.get("date") else today()
    except ValueError:
        raise Invalid(_("Give the date as YYYY-MM-DD."), fields={"date": "format"}) from None


def inline_qr(data: str) -> Markup:
    """Return an SVG QR code to place in a page (posters print sharp at any size)."""
    svg = qr.svg(data).decode()
    return Markup(svg[svg.index("<svg"):])


@bp.route("/o/<int:op_id>/reception")
def kiosk(op_id):
    """The reception kiosk: scan, camera, or search; confirm health and insurance."""
    operation = get_operation(op_id)
    site = _site(operation, request.args.get("site_id", type=int))
    return render_template(
        "reception/kiosk.html", op=operation, site=site,
        health_questions=current_app.config["HEALTH_QUESTIONS"],
        skill_labels={k: labels.label(labels.SKILLS, k) for k in current_app.config["SKILLS"]},
        vehicle_labels={k: str(v) for k, v in labels.VEHICLES.items()})


@bp.route("/o/<int:op_id>/roster")
def roster_page(op_id):
    """Today's roster: count, list, groups, new vs repeat, in vs out of prefecture."""
    operation = get_operation(op_id)
    site_id = request.args.get("site_id", type=int)
    _site(operation, site_id)
    return render_template("reception/roster.html", op=operation, site_id=site_id,
                           r=roster(operation, _day_arg(), site_id))


@bp.route("/o/<int:op_id>/nametags")
def nametags(op_id):
    """Printable name tags: an A4 sheet of labels or a 62 mm label roll."""
    operation = get_operation(op_id)
    fmt = "roll" if request.args.get("format") == "roll" else "a4"
    ids = [int(i) for i in request.args.getlist("checkin") if i.isdigit()]
    if ids:
        checkins = db.session.scalars(db.select(CheckIn).where(
            CheckIn.id.in_(ids), CheckIn.operation_id == operation.id)
            .order_by(CheckIn.id)).all()
    else:
        checkins = roster(operation, _day_arg(), request.args.get("site_id", type=int)).checkins
    return render_template("reception/nametags.html", op=operation, checkins=checkins, fmt=fmt)


@bp.route("/o/<int:op_id>/posters/register")
def register_poster(op_id):
    """A poster whose QR opens walk-in registration on a volunteer's own phone."""
    operation = get_operation(op_id)
    url = url_for("volunteers.register", op_id=operation.id, via="walk_in", _external=True)
    return render_template("reception/poster_register.html", op=operation, url=url,
                           qr=inline_qr(url))


@bp.route("/o/<int:op_id>/sites/<int:site_id>/poster")
def checkin_poster(op_id, site_id):
    """Today's self check-in poster for the entrance; its code changes every day."""
    operation = get_operation(op_id)
    site = _site(operation, site_id)
    day = today()
    day_code = codes.daily_poster_code(current_app.config["SECRET_KEY"], operation.id, site.id, day)
    url = url_for("volunteers.self_checkin", op_id=operation.id, site_id=site.id,
                  day_code=day_code, _external=True)
    return render_template("reception/poster_checkin.html", op=operation, site=site, day=day,
                           url=url, qr=inline_qr(url))
