"""The coordinator's map page, the script folium writes for it, and the vendored assets."""
from __future__ import annotations

from flask import (Blueprint, Response, abort, current_app, render_template, request, url_for)
from werkzeug.exceptions import HTTPException

from dvc.auth.access import allow, public
from dvc.maps import style
from dvc.maps import vendor as vendored
from dvc.maps.basemap import Basemap, choose_basemap
from dvc.maps.foliummap import MapParts, build_map, render_parts
from dvc.needs import labels as need_labels
from dvc.needs.models import CATEGORIES, PRIORITIES, STATUSES
from dvc.operations.operations import get_operation
from dvc.volunteers import labels

bp = Blueprint("maps", __name__)
COORD = ("coordinator",)
# Only when the operation has no site with a point yet: Tokyo Station.
DEFAULT_CENTRE = (35.6812, 139.7671)
DEFAULT_ZOOM = 13
# Where the app will serve tiles from a local archive (MAP_TILE_ARCHIVE); the endpoint comes
# with the tile-archive issue. Until it exists the setting changes nothing.
ARCHIVE_ENDPOINT = "maps.tile"
ARCHIVE_PATH = "/maps/tiles/{z}/{x}/{y}.png"
# Low stock (在庫僅少) comes from the equipment domain when that API exists.
LOW_STOCK_PATH = "/api/v1/operations/{op}/equipment/low"
YEAR = 365 * 24 * 3600


def asset_url(package: str, filename: str) -> str:
    """URL of a vendored file; the version in it lets browsers keep it for a year."""
    return url_for("maps.vendor", package=package, version=vendored.PACKAGES[package].version,
                   filename=filename)


def _archive_url() -> str | None:
    config = current_app.config
    if config.get("MAP_TILE_ARCHIVE") and ARCHIVE_ENDPOINT in current_app.view_functions:
        return request.script_root + ARCHIVE_PATH
    return None


def _centre(operation) -> tuple[float, float]:
    sites = sorted((s for s in operation.sites if s.lat is not None),
                   key=lambda s: s.kind != "main")
    return (sites[0].lat, sites[0].lon) if sites else DEFAULT_CENTRE


def _basemap() -> Basemap | None:
    config = current_app.config
    return choose_basemap(config.get("MAP_TILE_URL"), config.get("MAP_TILE_ATTRIBUTION"),
                          _archive_url())


def map_parts(operation) -> MapParts:
    """Build the operation's folium map (the same every time for the same settings)."""
    return render_parts(build_map(center=_centre(operation), zoom=DEFAULT_ZOOM,
                                  basemap=_basemap(), asset_url=asset_url))


def _route_exists(path: str) -> bool:
    try:
        current_app.url_map.bind("").match(path, method="GET")
    except HTTPException:
        return False
    return True


@bp.route("/o/<int:op_id>/map")
@allow(*COORD)
def coordinator(op_id):
    """The coordinator's map: needs, teams in the field, forming and dispatching teams."""
    operation = get_operation(op_id)
    low_stock = LOW_STOCK_PATH.format(op=operation.id)
    return render_template(
        "maps/coordinator.html", op=operation, parts=map_parts(operation),
        has_basemap=_basemap() is not None,
        low_stock_url=(request.script_root + low_stock) if _route_exists(low_stock) else "",
        refresh_seconds=max(1, int(current_app.config.get("MAP_REFRESH_SECONDS") or 15)),
        statuses=STATUSES, categories=CATEGORIES, priorities=PRIORITIES,
        colours=style.STATUS_COLOURS, priority_styles=style.PRIORITY_STYLES,
        hidden_statuses=style.HIDDEN_BY_DEFAULT, waiting=style.WAITING,
        status_labels={k: str(v) for k, v in need_labels.STATUSES.items()},
        category_labels={k: str(v) for k, v in need_labels.CATEGORIES.items()},
        priority_labels={k: str(v) for k, v in need_labels.PRIORITIES.items()},
        damage_labels={k: str(v) for k, v in need_labels.DAMAGE.items()},
        care_labels={k: str(v) for k, v in need_labels.CARE.items()},
        skill_labels={k: labels.label(labels.SKILLS, k) for k in current_app.config["SKILLS"]},
        vehicle_labels={k: str(v) for k, v in labels.VEHICLES.items()})


@bp.route("/o/<int:op_id>/map/map.js")
@allow(*COORD)
def map_script(op_id):
    """The script folium wrote for this map (served, not inlined, so a strict CSP can hold)."""
    script = map_parts(get_operation(op_id)).script
    response = Response(script, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/static/vendor/<package>/<version>/<path:filename>")
@public
def vendor(package, version, filename):
    """Leaflet and its plugins from their Python packages (XStatic), compressed when asked."""
    asset = vendored.find(package, version, filename)
    if asset is None:
        abort(404)
    etag = f'"{asset.etag}"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={YEAR}, immutable",
               "Vary": "Accept-Encoding"}
    if etag in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers=headers)
    body = asset.body
    if asset.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, content_type=asset.mimetype, headers=headers)

