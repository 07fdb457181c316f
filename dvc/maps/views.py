"""The coordinator's map page, the script folium writes for it, and the vendored assets."""
from __future__ import annotations

import logging
from dataclasses import replace

from flask import (Blueprint, Response, abort, current_app, render_template, request, url_for)
from flask_login import current_user
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from dvc.auth.access import PUBLIC, roles_of
from dvc.maps import archive as tile_archive
from dvc.maps import layers, style
from dvc.maps import vendor as vendored
from dvc.maps.basemap import Basemap, choose_basemap
from dvc.maps.foliummap import MapParts, build_map, render_parts, with_nonce
from dvc.maps.overview import build_overview
from dvc.needs import labels as need_labels
from dvc.needs.models import CATEGORIES, PRIORITIES, STATUSES
from dvc.operations.operations import get_operation
from dvc.shelters import labels as shelter_labels
from dvc.sites import labels as site_labels
from dvc.volunteers import labels

bp = Blueprint("maps", __name__)
log = logging.getLogger(__name__)
# Only when the operation has no site with a point yet: Tokyo Station.
DEFAULT_CENTRE = (35.6812, 139.7671)
DEFAULT_ZOOM = 13
# Where the app serves tiles from a local archive (MAP_TILE_ARCHIVE, dvc/maps/archive.py).
ARCHIVE_ENDPOINT = "maps.tile"
ARCHIVE_PATH = "/maps/tiles/{z}/{x}/{y}.png"
# Low stock (在庫僅少) comes from the equipment domain when that API exists.
LOW_STOCK_PATH = "/api/v1/operations/{op}/equipment/low"
# The layers' data (GeoJSON), each from its own domain's API.
LAYER_PATHS = {"districts": "/api/v1/operations/{op}/districts",
               "sites": "/api/v1/operations/{op}/sites",
               "shelters": "/api/v1/operations/{op}/shelters"}
YEAR = 365 * 24 * 3600
# Built folium maps kept (one per centre and basemap; a server has one or a few).
PARTS_KEPT = 32
# A day: a reimported archive changes its tiles' ETag, and tablets revalidate cheaply.
TILE_CACHE = "public, max-age=86400"


def asset_url(package: str, filename: str) -> str:
    """URL of a vendored file; the version in it lets browsers keep it for a year."""
    return url_for("maps.vendor", package=package, version=vendored.PACKAGES[package].version,
                   filename=filename)


def _archive():
    """Return the local tile archive, or None (none set, or unreadable: then online tiles)."""
    try:
        return tile_archive.archive_for(current_app._get_current_object())
    except tile_archive.ArchiveError as err:
        log.warning("tile archive not used: %s", err.message)
        return None


def _archive_url() -> str | None:
    config = current_app.config
    if config.get("MAP_TILE_ARCHIVE") and ARCHIVE_ENDPOINT in current_app.view_functions \
            and _archive() is not None:
        return request.script_root + ARCHIVE_PATH
    return None


def _centre(operation) -> tuple[float, float]:
    sites = sorted((s for s in operation.sites if s.lat is not None),
                   key=lambda s: s.kind != "main")
    return (sites[0].lat, sites[0].lon) if sites else DEFAULT_CENTRE


def _basemap() -> Basemap | None:
    config = current_app.config
    basemap = choose_basemap(config.get("MAP_TILE_URL"), config.get("MAP_TILE_ATTRIBUTION"),
                             _archive_url())
    archive = _archive() if basemap is not None and basemap.local else None
    if archive is not None:
        # Past the archive's deepest zoom Leaflet enlarges its tiles instead of asking for more;
        # the archive's own attribution says whose map it is.
        basemap = replace(basemap, max_native_zoom=archive.info.max_zoom,
                          attribution=archive.info.attribution or basemap.attribution)
    return basemap


def map_parts(operation) -> MapParts:
    """The operation's folium map: the same for the same settings, so built once for them
    (a build is ~6 ms, which the page and map.js would otherwise pay at every load)."""
    key = (_centre(operation), DEFAULT_ZOOM, _basemap(), request.script_root)
    built = current_app.extensions.setdefault("dvc.map_parts", {})
    parts = built.get(key)
    if parts is None:
        if len(built) >= PARTS_KEPT:
            built.clear()
        parts = built[key] = render_parts(build_map(center=key[0], zoom=DEFAULT_ZOOM,
                                                    basemap=key[2], asset_url=asset_url))
    nonce = getattr(request, "csp_nonce", None)  # Talisman's (dvc/web.py)
    if not nonce:
        return parts
    return replace(parts, head=Markup(with_nonce(parts.head, nonce)),
                   html=Markup(with_nonce(parts.html, nonce)))


def _endpoint(path: str) -> str | None:
    try:
        return current_app.url_map.bind("").match(path, method="GET")[0]
    except HTTPException:
        return None


def _route_exists(path: str) -> bool:
    return _endpoint(path) is not None


def layer_sources(operation) -> dict[str, dict]:
    """Where each layer's data is, and whether this user may read it: layers.js asks only
    what it may, so a refused layer is said on the page, not logged as a failed request."""
    sources = {}
    for name, template in LAYER_PATHS.items():
        path = template.format(op=operation.id)
        endpoint = _endpoint(path)
        roles = roles_of(endpoint) if endpoint else None
        if endpoint is None:
            state = "missing"
        elif roles is PUBLIC or (roles is not None and current_user.has_role(*roles)):
            state = "ok"
        else:
            state = "denied"
        sources[name] = {"url": request.script_root + path if state == "ok" else "",
                         "state": state}
    return sources


@bp.route("/o/<int:op_id>/map")
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
        layer_config={"sources": layer_sources(operation), "style": layers.page_style(),
                      "text": layers.page_text()},
        colours=style.STATUS_COLOURS, priority_styles=style.PRIORITY_STYLES,
        hidden_statuses=style.HIDDEN_BY_DEFAULT, waiting=style.WAITING,
        status_labels={k: str(v) for k, v in need_labels.STATUSES.items()},
        category_labels={k: str(v) for k, v in need_labels.CATEGORIES.items()},
        priority_labels={k: str(v) for k, v in need_labels.PRIORITIES.items()},
        damage_labels={k: str(v) for k, v in need_labels.DAMAGE.items()},
        care_labels={k: str(v) for k, v in need_labels.CARE.items()},
        skill_labels={k: labels.label(labels.SKILLS, k) for k in current_app.config["SKILLS"]},
        vehicle_labels={k: str(v) for k, v in labels.VEHICLES.items()})


@bp.route("/o/<int:op_id>/map/overview")
def overview(op_id):
    """The overview map for the morning meeting: one A4 landscape page, no script needed."""
    operation = get_operation(op_id)
    data = layers.overview_data(operation)
    stamp = layers.local_stamp()
    drawn = build_overview(data.districts, data.sites, data.shelters, stamp=stamp,
                           crs=current_app.config["METRIC_CRS"], words=layers.words())
    return render_template(
        "maps/overview.html", op=operation, svg=Markup(drawn.svg), data=data, stamp=stamp,
        site_statuses=site_labels.STATUSES,
        site_kinds=site_labels.KINDS, shelter_kinds=shelter_labels.KINDS,
        occupancy=layers.OCCUPANCY, shelter_class=style.shelter_class)


@bp.route("/o/<int:op_id>/map/map.js")
def map_script(op_id):
    """The script folium wrote for this map (served, not inlined, so a strict CSP can hold)."""
    script = map_parts(get_operation(op_id)).script
    response = Response(script, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/maps/tiles/<int:z>/<int:x>/<int:y>.png")
def tile(z, x, y):
    """A basemap tile from the local archive (the .png is the URL's; the type is the tile's)."""
    archive = _archive()
    if archive is None:
        return Response(status=404, headers={"Cache-Control": "no-store"})
    etag = f'"{archive.path.stat().st_mtime_ns:x}-{z}-{x}-{y}"'
    headers = {"ETag": etag, "Cache-Control": TILE_CACHE}
    if etag in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers=headers)
    data = archive.get(z, x, y)
    if data is None:  # outside the area the municipality prepared: Leaflet leaves it blank
        return Response(status=404, headers={"Cache-Control": "public, max-age=3600"})
    mimetype = tile_archive.MIMETYPES.get(tile_archive.sniff(data) or archive.info.format)
    return Response(data, content_type=mimetype, headers=headers)


@bp.route("/static/vendor/<package>/<version>/<path:filename>")
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

