"""Which basemap the map draws under the needs: a pure choice from the settings."""
from __future__ import annotations

from dataclasses import dataclass

# The GSI standard map (地理院タイル 標準地図) has tiles up to zoom 18; Leaflet scales them past it.
GSI_MAX_NATIVE_ZOOM = 18
MAX_ZOOM = 19


@dataclass(frozen=True)
class Basemap:
    url: str            # a Leaflet tile URL template, absolute or on this server
    attribution: str    # HTML, as Leaflet's attribution control shows it
    max_native_zoom: int = GSI_MAX_NATIVE_ZOOM
    local: bool = False  # served by this app, so it works with no internet


def choose_basemap(tile_url: str | None, attribution: str | None,
                   archive_url: str | None = None) -> Basemap | None:
    """Return the basemap to draw, or None for none (the map works without tiles).

    Tiles served by the app from a local tile archive win (they work offline); otherwise the
    configured tile URL; an empty URL means no basemap at all.
    """
    if archive_url:
        return Basemap(archive_url, attribution or "", local=True)
    if tile_url and tile_url.strip():
        url = tile_url.strip()
        return Basemap(url, attribution or "", local=url.startswith("/"))
    return None
