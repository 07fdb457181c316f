"""The offline basemap: tile archives the test builds itself (MBTiles and PMTiles), imported with
the CLI and served to the coordinator's map at /maps/tiles/{z}/{x}/{y}.png."""
from __future__ import annotations

import io
import json
import shlex
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from PIL import Image
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import write as write_pmtiles

from dvc.maps import archive

README_TILES = ["flask --app dvc tiles import basemap.mbtiles",
                "flask --app dvc tiles import basemap.pmtiles",
                "flask --app dvc tiles status"]
# Zoom 1 has four tiles; each gets its own colour by its XYZ position (y = 0 is the north).
COLOURS = {(0, 0): (200, 0, 0), (1, 0): (0, 200, 0), (0, 1): (0, 0, 200), (1, 1): (200, 200, 0)}


def tile_image(colour, fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(buf, format=fmt)
    return buf.getvalue()


def colour_of(data: bytes):
    return Image.open(io.BytesIO(data)).convert("RGB").getpixel((128, 128))


def make_mbtiles(path: Path, fmt: str = "png", attribution: str = "© 例の市") -> Path:
    """An MBTiles file with the four zoom-1 tiles, rows in the TMS scheme as the spec says."""
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript("CREATE TABLE metadata (name TEXT, value TEXT);"
                           "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, "
                           "tile_row INTEGER, tile_data BLOB);")
        conn.executemany("INSERT INTO metadata VALUES (?, ?)",
                         [("name", "test"), ("format", fmt), ("minzoom", "1"),
                          ("maxzoom", "1"), ("attribution", attribution)])
        pil = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}.get(fmt, "PNG")
        for (x, y), colour in COLOURS.items():
            tms_row = (1 << 1) - 1 - y
            conn.execute("INSERT INTO tiles VALUES (1, ?, ?, ?)",
                         (x, tms_row, tile_image(colour, pil)))
        conn.commit()
    return path


def make_pmtiles(path: Path, tile_type=TileType.PNG) -> Path:
    """A PMTiles v3 file with the same four tiles, written with the pmtiles package."""
    with write_pmtiles(str(path)) as writer:
        for (x, y), colour in sorted(COLOURS.items(), key=lambda i: zxy_to_tileid(1, *i[0])):
            writer.write_tile(zxy_to_tileid(1, x, y), tile_image(colour))
        writer.finalize({"tile_type": tile_type, "tile_compression": Compression.NONE},
                        {"attribution": "© PMTiles 例"})
    return path


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """A fresh instance/ folder for apps made in this test."""
    folder = tmp_path / "instance"
    folder.mkdir()
    monkeypatch.setenv("DVC_INSTANCE_PATH", str(folder))
    return folder


def login_coordinator(app, create_user):
    create_user("coordinator", "tile-coordinator")
    client = app.test_client()
    client.post("/login", data={"username": "tile-coordinator",
                                "password": "password-coordinator"})
    return client


@pytest.mark.parametrize("maker", [make_mbtiles, make_pmtiles])
def test_tiles_come_out_in_xyz_order_with_their_type(maker, tmp_path, make_app):
    path = maker(tmp_path / f"t.{maker.__name__[5:]}")
    app = make_app(MAP_TILE_ARCHIVE=str(path))
    client = app.test_client()
    for (x, y), colour in COLOURS.items():
        response = client.get(f"/maps/tiles/1/{x}/{y}.png")
        assert response.status_code == 200
        assert response.content_type == "image/png"
        assert colour_of(response.data) == colour, (x, y)  # the TMS row was flipped
        assert "max-age" in response.headers["Cache-Control"]
    for missing in ("/maps/tiles/2/0/0.png", "/maps/tiles/1/2/0.png", "/maps/tiles/0/0/0.png"):
        response = client.get(missing)
        assert response.status_code == 404 and response.data == b""


def test_an_unchanged_tile_is_revalidated_without_a_body(tmp_path, make_app):
    app = make_app(MAP_TILE_ARCHIVE=str(make_mbtiles(tmp_path / "t.mbtiles")))
    client = app.test_client()
    first = client.get("/maps/tiles/1/0/0.png")
    again = client.get("/maps/tiles/1/0/0.png", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_jpeg_archives_are_served_as_jpeg(tmp_path, make_app):
    app = make_app(MAP_TILE_ARCHIVE=str(make_mbtiles(tmp_path / "j.mbtiles", fmt="jpg")))
    response = app.test_client().get("/maps/tiles/1/1/1.png")
    assert response.content_type == "image/jpeg"
    assert max(abs(a - b) for a, b in zip(colour_of(response.data), COLOURS[(1, 1)])) < 8


def test_no_archive_means_no_tiles(client):
    assert client.get("/maps/tiles/1/0/0.png").status_code == 404


def test_vector_and_broken_archives_are_refused(tmp_path):
    with pytest.raises(archive.ArchiveError, match="raster"):
        archive.open_archive(make_mbtiles(tmp_path / "v.mbtiles", fmt="pbf"))
    with pytest.raises(archive.ArchiveError, match="raster"):
        archive.open_archive(make_pmtiles(tmp_path / "v.pmtiles", tile_type=TileType.MVT))
    junk = tmp_path / "junk.mbtiles"
    junk.write_bytes(b"not a tile archive")
    with pytest.raises(archive.ArchiveError, match="neither"):
        archive.open_archive(junk)


@pytest.mark.parametrize("command", README_TILES[:2])
def test_import_makes_the_archive_the_coordinators_basemap(command, instance, tmp_path,
                                                           make_app, operation, create_user,
                                                           monkeypatch):
    source = tmp_path / "prepared"
    source.mkdir()
    make_mbtiles(source / "basemap.mbtiles")
    make_pmtiles(source / "basemap.pmtiles")
    monkeypatch.chdir(source)
    app = make_app()
    runner = app.test_cli_runner()
    result = runner.invoke(args=shlex.split(command)[3:])
    assert result.exit_code == 0, result.output
    name = shlex.split(command)[-1]
    assert (instance / "tiles" / name).read_bytes() == (source / name).read_bytes()
    active = json.loads((instance / "tiles" / "active.json").read_text())
    assert active["MAP_TILE_ARCHIVE"] == f"tiles/{name}"
    status = runner.invoke(args=shlex.split(README_TILES[2])[3:])
    assert status.exit_code == 0 and "zoom 1-1" in status.output

    # A new app (the server restarted) reads the setting and the map asks this server.
    fresh = make_app()
    assert fresh.config["MAP_TILE_ARCHIVE"] == f"tiles/{name}"
    client = login_coordinator(fresh, create_user)
    js = client.get(f"/o/{operation[0]}/map/map.js").text
    assert json.dumps("/maps/tiles/{z}/{x}/{y}.png") in js
    assert "cyberjapandata" not in js
    assert '"maxNativeZoom": 1,' in js  # past the archive's zoom, Leaflet enlarges its tiles
    attribution = "© 例の市" if name.endswith(".mbtiles") else "© PMTiles 例"
    assert json.dumps(attribution) in js  # the archive's own attribution
    assert colour_of(client.get("/maps/tiles/1/1/0.png").data) == COLOURS[(1, 0)]


def test_import_refuses_what_it_cannot_serve(instance, tmp_path, make_app):
    bad = tmp_path / "notes.mbtiles"
    bad.write_text("hello")
    result = make_app().test_cli_runner().invoke(args=["tiles", "import", str(bad)])
    assert result.exit_code != 0 and "neither" in result.output
    assert "Traceback" not in result.output
    assert not (instance / "tiles" / "active.json").exists()
