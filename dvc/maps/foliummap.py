"""The coordinator's map as a folium figure, pointed at our own copies of Leaflet and plugins.

folium builds the map (Leaflet map, scale, basemap, the teams' layer); `static/js/coordmap.js`
adds the needs, drawn on one canvas and clustered by itself, and fills it from the JSON API. folium's defaults would load Leaflet,
jQuery, Bootstrap and Font Awesome from CDNs and lock the page's zoom and layout: our subclass
links only the local files it needs and renders no page-wide styles, so the map fits in our
own page. Element names are fixed, so the page (the map's <div>) and the script served beside
it (`map.js`, no inline script) always agree. Should an element ever put a <script> or <style>
into the page itself, `render_parts` gives it the request's CSP nonce, so the page still obeys
the Content Security Policy (dvc/web.py).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import folium
from branca.element import MacroElement
from folium.template import Template
from markupsafe import Markup

from dvc.maps.basemap import MAX_ZOOM, Basemap

# (package, file) of each asset, resolved to a URL by the caller (see vendor.py). The map needs
# Leaflet only; Leaflet.markercluster stays served for the plain folium page of bench/map.py.
LEAFLET_JS = ("leaflet", "leaflet.js")
LEAFLET_CSS = ("leaflet", "leaflet.css")
CLUSTER_JS = ("leaflet-markercluster", "leaflet.markercluster.js")
CLUSTER_CSS = ("leaflet-markercluster", "MarkerCluster.css")
CLUSTER_DEFAULT_CSS = ("leaflet-markercluster", "MarkerCluster.Default.css")

# coordmap.js clusters the needs on a grid of CLUSTER_CELL pixels (Leaflet.markercluster took
# ~300 ms and 20,000 Leaflet objects for 20,000 needs; the grid takes a few ms, redone at each
# zoom). From street level (zoom 17, a few blocks on screen) every need shows on its own;
# needs at the very same spot are offered in the panel.
UNCLUSTERED_ZOOM = 17
CLUSTER_CELL = 60
# An opening <script> or <style> tag without a nonce, in HTML folium rendered itself.
INLINE_TAG = re.compile(r"<(script|style)\b(?![^>]*\bnonce=)", re.IGNORECASE)


class CoordinatorMap(folium.Map):
    """folium's Map without its page-wide styles and zoom lock (we sit inside our own page)."""

    _template = Template("""
        {% macro html(this, kwargs) %}
            <div class="folium-map coordmap-map" id={{ this.get_name()|tojson }}></div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.map(
                {{ this.get_name()|tojson }},
                {
                    center: {{ this.location|tojson }},
                    crs: L.CRS.{{ this.crs }},
                    ...{{ this.options|tojavascript }}
                }
            );
            {%- if this.control_scale %}
            L.control.scale({ imperial: false, maxWidth: 160 }).addTo({{ this.get_name() }});
            {%- endif %}
        {% endmacro %}
    """)


class Handoff(MacroElement):
    """Hand the layers to coordmap.js: `window.dvcMap = {map, teams, tiles, streetZoom, cell}`
    (coordmap.js adds `needs`, its canvas layer)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            window.dvcMap = {
                map: {{ this.map.get_name() }},
                teams: {{ this.teams.get_name() }},
                tiles: {{ this.tiles.get_name() if this.tiles else "null" }},
                streetZoom: {{ this.street_zoom }},
                cell: {{ this.cell }}
            };
        {% endmacro %}
    """)

    def __init__(self, map_, teams, tiles):
        super().__init__()
        self._name = "Handoff"
        self.map, self.teams, self.tiles = map_, teams, tiles
        self.street_zoom, self.cell = UNCLUSTERED_ZOOM, CLUSTER_CELL


def _fixed(element, ident: str):
    element._id = ident  # get_name() is "<kind>_<id>": stable across renders
    return element


def build_map(*, center: tuple[float, float], zoom: int, basemap: Basemap | None,
              asset_url: Callable[[str, str], str]) -> CoordinatorMap:
    """Build the coordinator's map; `asset_url(package, file)` gives a local asset's URL."""
    m = _fixed(CoordinatorMap(location=list(center), zoom_start=zoom, tiles=None,
                              control_scale=True, prefer_canvas=True), "coordinator")
    m.options.update(max_zoom=MAX_ZOOM, min_zoom=5)  # folium gives these to its own tiles only
    m.default_js = [("leaflet", asset_url(*LEAFLET_JS))]
    m.default_css = [("leaflet_css", asset_url(*LEAFLET_CSS))]
    tiles = None
    if basemap is not None:
        tiles = _fixed(folium.TileLayer(
            tiles=basemap.url, attr=basemap.attribution or basemap.url, name="basemap",
            max_zoom=MAX_ZOOM, max_native_zoom=basemap.max_native_zoom, control=False,
            subdomains=""), "basemap")
        tiles.add_to(m)
    teams = _fixed(folium.FeatureGroup(name="teams", control=False), "teams")
    teams.add_to(m)
    _fixed(Handoff(m, teams, tiles), "handoff").add_to(m)
    return m


@dataclass(frozen=True)
class MapParts:
    head: Markup    # <script>/<link> tags of the local assets, for the page's <head>
    html: Markup    # the map's <div>
    script: str     # the JavaScript that builds the map, served as map.js


def with_nonce(html: str, nonce: str | None) -> str:
    """Give every <script> and <style> tag of folium's HTML the page's CSP nonce."""
    if not nonce:
        return html
    return INLINE_TAG.sub(lambda m: f'{m.group(0)} nonce="{nonce}"', html)


def render_parts(m: folium.Map, nonce: str | None = None) -> MapParts:
    """Render the figure the way branca's Figure.render does, but hand back its three parts;
    `nonce` (the request's CSP nonce) goes on any script or style tag in the page's parts."""
    figure = m.get_root()
    figure.header._children.pop("meta_http", None)  # our page has its own <meta charset>
    for child in list(figure._children.values()):
        child.render()
    return MapParts(Markup(with_nonce(figure.header.render(), nonce)),
                    Markup(with_nonce(figure.html.render(), nonce)), figure.script.render())
