"""The offline basemap in a real browser: with a tile archive set, the coordinator's map draws
its tiles from this server and nothing goes to the online tile host (every other host aborted)."""
from __future__ import annotations

import io
import math
import sqlite3
from contextlib import closing

import pytest
from PIL import Image

pytestmark = pytest.mark.e2e

COORDINATOR, PASSWORD = "coordinator-tiles", "password-coordinator"
CENTRE = (35.68, 139.56)  # the live server's main site: the map opens on it
ZOOM = 13  # dvc/maps/views.py DEFAULT_ZOOM


def xyz(lat: float, lon: float, zoom: int) -> tuple[int, int]:
    n = 1 << zoom
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.fixture
def archive_env(tmp_path, monkeypatch):
    """An MBTiles file around the centre at the map's zoom, set as DVC_MAP_TILE_ARCHIVE."""
    path = tmp_path / "city.mbtiles"
    cx, cy = xyz(*CENTRE, ZOOM)
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript("CREATE TABLE metadata (name TEXT, value TEXT);"
                           "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, "
                           "tile_row INTEGER, tile_data BLOB);")
        conn.executemany("INSERT INTO metadata VALUES (?, ?)",
                         [("format", "png"), ("attribution", "テスト地図")])
        for x in range(cx - 8, cx + 9):
            for y in range(cy - 6, cy + 7):
                buf = io.BytesIO()
                Image.new("RGB", (256, 256), (220, 230 - (x - cx) * 8, 200)).save(buf, "PNG")
                conn.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                             (ZOOM, x, (1 << ZOOM) - 1 - y, buf.getvalue()))
        conn.commit()
    monkeypatch.setenv("DVC_MAP_TILE_ARCHIVE", str(path))
    return path


def test_the_map_draws_tiles_from_the_local_archive(archive_env, live_server, tab):
    from dvc.auth.operations import create_user
    from dvc.extensions import db
    with live_server.app.app_context():
        create_user(COORDINATOR, "coordinator", PASSWORD, actor="e2e")
        db.session.commit()
    tab.sign_in(COORDINATOR, PASSWORD)
    tab.goto(f"/o/{live_server.op_id}/map")
    tab.page.wait_for_function(
        "document.querySelectorAll('img.leaflet-tile-loaded').length >= 6")
    sources = tab.page.eval_on_selector_all("img.leaflet-tile", "els => els.map(e => e.src)")
    assert sources and all(f"/maps/tiles/{ZOOM}/" in s for s in sources), sources
    assert "テスト地図" in tab.page.inner_text(".leaflet-control-attribution")
    tiles = [p for status, p in tab.loaded if p.startswith("/maps/tiles/")]
    assert len(tiles) >= 6
    tab.shot("offline-tiles-map")
    tab.assert_clean()
