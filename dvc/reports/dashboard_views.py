"""The live dashboard: its page (also for the wall of the centre), the panels it polls, and
its JSON API for other systems (a prefectural council's own screens)."""
from __future__ import annotations

import hashlib

from flask import Blueprint, current_app, get_template_attribute, jsonify, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup
from marshmallow import Schema, fields

from dvc.extensions import ApiBlueprint
from dvc.maps.style import STATUS_COLOURS
from dvc.needs import labels as need_labels
from dvc.needs.models import OPEN
from dvc.operations.operations import get_operation
from dvc.reports import charts
from dvc.reports.dashboard import dashboard_data
from dvc.teams import labels as team_labels

bp = Blueprint("dashboard", __name__)
api_bp = ApiBlueprint("dashboard_api", __name__, url_prefix="/api/v1",
                      description="The day at a glance (live dashboard)")

REFRESH_SECONDS = 15
PANELS = ("figures", "arrivals", "queue", "teams", "needs", "districts", "sites", "equipment",
          "incidents")
PANELS_TEMPLATE = "reports/dashboard_panels.html"
# The longest wait at reception that is still all right (minutes); longer is shown in red.
# Paper reception gave 20-30 minutes (Kurashiki); that is the wait to beat.
QUEUE_WARN_MINUTES = 20
# Chart sizes in SVG units, near the size they are shown at, so that text stays as large as
# the page's: cards of ~400 px on a laptop; on the wall (1920 px, four columns) larger type.
SIZES = {False: {"column": {"width": 720, "height": 240, "font": 15},
                 "rows": {"width": 380, "label_width": 120, "row_height": 30, "font": 15}},
         True: {"column": {"width": 720, "height": 190, "font": 18},
                "rows": {"width": 420, "label_width": 150, "row_height": 34, "font": 20}}}


# --- page and panels --------------------------------------------------------------------------

def _current_bucket(as_of_local: str, minutes: int) -> str:
    hours, mins = map(int, as_of_local.split(":"))
    return f"{hours:02d}:{mins - mins % minutes:02d}"


def _no_district() -> str:
    return _("No district")


def _no_site() -> str:
    return _("No site")


def _status_rows(entries: list[dict], name) -> list[charts.Row]:
    colours = tuple(STATUS_COLOURS[s] for s in OPEN)
    return [charts.Row(name(e), tuple(e["by_status"][s] for s in OPEN), colours)
            for e in entries]


def build_charts(data: dict, wall: bool = False) -> dict[str, Markup]:
    """Draw the dashboard's charts (SVG) from its figures; the tables beside them on the page
    (ids in `described_by`) hold the same numbers."""
    column, rows = SIZES[wall]["column"], SIZES[wall]["rows"]
    arrivals = data["arrivals"]
    now_bucket = _current_bucket(data["as_of_local"], arrivals["bucket_minutes"])
    columns = [charts.Column(b["start"], b["people"], tick=b["start"].endswith(":00"),
                             current=b["start"] == now_bucket,
                             title=_("%(time)s: %(people)s people (%(checkins)s check-ins)",
                                     time=b["start"], people=b["people"],
                                     checkins=b["checkins"]))
               for b in arrivals["buckets"]]
    needs = data["needs"]
    by_status = [charts.Row(str(need_labels.STATUSES[s]), (needs["by_status"][s],),
                            (STATUS_COLOURS[s],)) for s in OPEN]
    drawn = {
        "arrivals": charts.column_chart(
            columns, described_by="arrivals-table", **column,
            label=_("Volunteers arrived per 15 minutes today: %(people)s people in all.",
                    people=arrivals["people"])),
        "needs": charts.bar_rows(
            by_status, described_by="needs-table", **rows,
            label=_("Open needs by status: %(open)s open.", open=needs["open"])),
        "districts": charts.bar_rows(
            _status_rows(needs["by_district"], lambda e: e["district"] or _no_district()),
            described_by="districts-table", label=_("Open needs by district, by status."),
            **rows),
        "sites": charts.bar_rows(
            _status_rows(needs["by_site"], lambda e: e["name"] or _no_site()),
            described_by="sites-table", label=_("Open needs by site, by status."), **rows),
    }
    return {name: Markup(svg) for name, svg in drawn.items()}


def render_panels(data: dict, wall: bool = False) -> dict[str, str]:
    """Render each panel of the page (the page shows them; the script swaps changed ones)."""
    drawn = build_charts(data, wall)
    options = {"warn_minutes": QUEUE_WARN_MINUTES, "open_statuses": OPEN,
               "colours": STATUS_COLOURS,
               "severities": {k: str(v) for k, v in team_labels.SEVERITIES.items()}}
    return {name: str(get_template_attribute(PANELS_TEMPLATE, name)(data, drawn, options))
            for name in PANELS}


def _digest(html: str) -> str:
    return hashlib.sha1(html.encode()).hexdigest()[:16]


def _wall() -> bool:
    return request.args.get("wall") == "1"


def _refresh_seconds() -> int:
    return max(1, int(current_app.config.get("DASHBOARD_REFRESH_SECONDS") or REFRESH_SECONDS))


@bp.route("/o/<int:op_id>/dashboard")
def page(op_id):
    """The day at a glance; ?wall=1 for the big screen of the centre (no menu, big type)."""
    operation = get_operation(op_id)
    data = dashboard_data(operation)
    wall = _wall()
    panels = render_panels(data, wall)
    return render_template(
        "reports/dashboard.html", op=operation, data=data, wall=wall,
        panels={name: Markup(html) for name, html in panels.items()},
        digests={name: _digest(html) for name, html in panels.items()},
        refresh_seconds=_refresh_seconds(),
        text={"updated": _("Last updated %(time)s"),
              "stale": _("No answer from the server since %(time)s: the figures may be out of "
                         "date. Trying again every %(seconds)s seconds."),
              "signed_out": _("You are signed out: reload the page to sign in again."),
              "as_of": _("As of %(time)s")})


@bp.route("/o/<int:op_id>/dashboard/panels")
def panels(op_id):
    """The page's panels as HTML, with a digest each: the script redraws those that changed."""
    data = dashboard_data(get_operation(op_id))
    rendered = render_panels(data, _wall())
    response = jsonify(as_of=data["as_of"], as_of_local=data["as_of_local"], day=data["day"],
                       panels={name: {"digest": _digest(html), "html": html}
                               for name, html in rendered.items()})
    response.headers["Cache-Control"] = "no-store"
    return response


# --- JSON API ---------------------------------------------------------------------------------

class _Bucket(Schema):
    start = fields.String(metadata={"description": "local HH:MM"})
    checkins = fields.Integer()
    people = fields.Integer()


class _SiteArrivals(Schema):
    site_id = fields.Integer()
    name = fields.String()
    checkins = fields.Integer()
    people = fields.Integer()


class _Arrivals(Schema):
    checkins = fields.Integer()
    people = fields.Integer()
    bucket_minutes = fields.Integer()
    first = fields.String(allow_none=True)
    last = fields.String(allow_none=True)
    buckets = fields.List(fields.Nested(_Bucket))
    by_site = fields.List(fields.Nested(_SiteArrivals))


class _Queue(Schema):
    checkins = fields.Integer(metadata={"description": "checked in today, never in a team"})
    people = fields.Integer()
    wait_p50_min = fields.Integer(allow_none=True)
    wait_max_min = fields.Integer(allow_none=True)
    oldest = fields.String(allow_none=True)
    free_checkins = fields.Integer(metadata={"description": "checked in, in no team now"})
    free_people = fields.Integer()


class _Teams(Schema):
    formed_today = fields.Integer()
    waiting = fields.Integer()
    out = fields.Integer()
    people_out = fields.Integer()
    back = fields.Integer()
    people_back = fields.Integer()
    overdue = fields.Integer()
    recalled_out = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())


class _NeedGroup(Schema):
    open = fields.Integer()
    total = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())


class _District(_NeedGroup):
    district = fields.String(allow_none=True)


class _Site(_NeedGroup):
    site_id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)


class _Needs(Schema):
    total = fields.Integer()
    open = fields.Integer()
    received_today = fields.Integer()
    completed_today = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_district = fields.List(fields.Nested(_District))
    by_site = fields.List(fields.Nested(_Site))


class _ItemOut(Schema):
    item_type_id = fields.Integer()
    name = fields.String()
    unit = fields.String()
    quantity = fields.Integer()


class _LowShelf(Schema):
    site_id = fields.Integer()
    site = fields.String()
    item_type_id = fields.Integer()
    name = fields.String()
    unit = fields.String()
    on_hand = fields.Integer()
    low_stock = fields.Integer()


class _Equipment(Schema):
    out = fields.List(fields.Nested(_ItemOut))
    out_total = fields.Integer()
    low = fields.List(fields.Nested(_LowShelf))


class _Incidents(Schema):
    injuries = fields.Integer()
    near_misses = fields.Integer()
    injuries_by_severity = fields.Dict(keys=fields.String(), values=fields.Integer())


class _Operation(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()


class DashboardOut(Schema):
    operation = fields.Nested(_Operation)
    day = fields.String()
    as_of = fields.String()
    as_of_local = fields.String()
    timezone = fields.String()
    arrivals = fields.Nested(_Arrivals)
    queue = fields.Nested(_Queue)
    teams = fields.Nested(_Teams)
    needs = fields.Nested(_Needs)
    equipment = fields.Nested(_Equipment)
    incidents = fields.Nested(_Incidents)


@api_bp.route("/operations/<int:op_id>/dashboard", methods=["GET"])
@api_bp.response(200, DashboardOut)
def dashboard(op_id):
    """Today's figures: arrivals per 15 minutes, the reception queue, teams, needs by status,
    district and site, equipment out and low, injuries. Anonymous counts only."""
    return dashboard_data(get_operation(op_id))
