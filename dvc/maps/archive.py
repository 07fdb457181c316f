"""Local tile archives for the offline basemap: MBTiles (SQLite) and PMTiles v3.

A municipality prepares an archive of raster tiles before the disaster; `flask --app dvc tiles
import` copies it into instance/tiles/ and records it in instance/tiles/active.json, which the
configuration reads (MAP_TILE_ARCHIVE). Tiles are read per request with the file opened and
closed each time: a laptop serves a few tablets, and nothing is left open between requests.
"""
from __future__ import annotations

import gzip
import json
import os
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from pmtiles.reader import Reader
from pmtiles.tile import Compression, TileType, deserialize_header

ACTIVE = "active.json"  # in instance/tiles/: the archive the map uses
MIMETYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
_FORMATS = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "webp": "webp"}
_PMTILES_TYPES = {TileType.PNG: "png", TileType.JPEG: "jpeg", TileType.WEBP: "webp"}
MAX_ZOOM = 30
SQLITE_MAGIC = b"SQLite format 3\x00"
PMTILES_MAGIC = b"PMTiles"


class ArchiveError(ValueError):
    """The file is not a raster tile archive we can serve."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ArchiveInfo:
    path: Path
    kind: str          # "mbtiles" or "pmtiles"
    format: str        # "png", "jpeg" or "webp"
    min_zoom: int
    max_zoom: int
    attribution: str = ""

    @property
    def mimetype(self) -> str:
        return MIMETYPES[self.format]


def sniff(data: bytes) -> str | None:
    """Return the image format of a tile from its first bytes."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def in_range(z: int, x: int, y: int) -> bool:
    """Tell whether z/x/y names a tile at all (XYZ scheme, as Leaflet asks)."""
    return 0 <= z <= MAX_ZOOM and 0 <= x < (1 << z) and 0 <= y < (1 << z)


class MBTiles:
    """An MBTiles file: SQLite with rows in the TMS scheme (row 0 at the south)."""

    kind = "mbtiles"

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            with closing(self._connect()) as conn:
                meta = dict(conn.execute("SELECT name, value FROM metadata").fetchall())
                zooms = conn.execute("SELECT min(zoom_level), max(zoom_level) FROM tiles")\
                    .fetchone()
                first = conn.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
        except sqlite3.Error as err:
            raise ArchiveError(f"{self.path.name} is not a readable MBTiles file ({err})") \
                from None
        declared = str(meta.get("format") or "").lower()
        fmt = _FORMATS.get(declared)
        if not declared and first is not None:  # older files leave it out: look at a tile
            fmt = sniff(bytes(first[0]))
        if fmt is None:
            raise ArchiveError(f"{self.path.name} holds {meta.get('format') or 'unknown'} tiles; "
                               "the map needs raster tiles (png, jpeg or webp)")
        if zooms[0] is None:
            raise ArchiveError(f"{self.path.name} holds no tiles")
        self.info = ArchiveInfo(self.path, self.kind, fmt, int(zooms[0]), int(zooms[1]),
                                str(meta.get("attribution") or ""))

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True)

    def get(self, z: int, x: int, y: int) -> bytes | None:
        """Return the tile at z/x/y (XYZ), or None."""
        if not in_range(z, x, y):
            return None
        tms_y = (1 << z) - 1 - y
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT tile_data FROM tiles WHERE zoom_level = ? AND "
                               "tile_column = ? AND tile_row = ?", (z, x, tms_y)).fetchone()
        return bytes(row[0]) if row else None


class PMTiles:
    """A PMTiles v3 file, read with the `pmtiles` package."""

    kind = "pmtiles"

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            with open(self.path, "rb") as f:
                header = deserialize_header(f.read(127))
                reader = Reader(self._source(f))
                meta = reader.metadata() if header["metadata_length"] else {}
        except Exception as err:  # the library raises bare exceptions of many kinds
            raise ArchiveError(f"{self.path.name} is not a readable PMTiles v3 file "
                               f"({type(err).__name__})") from None
        fmt = _PMTILES_TYPES.get(header["tile_type"])
        if fmt is None:
            raise ArchiveError(f"{self.path.name} holds {header['tile_type'].name.lower()} "
                               "tiles; the map needs raster tiles (png, jpeg or webp)")
        if header["internal_compression"] != Compression.GZIP or \
                header["tile_compression"] not in (Compression.NONE, Compression.GZIP,
                                                   Compression.UNKNOWN):
            raise ArchiveError(f"{self.path.name} uses a compression this server cannot read")
        self._gzipped = header["tile_compression"] == Compression.GZIP
        self.info = ArchiveInfo(self.path, self.kind, fmt, header["min_zoom"],
                                header["max_zoom"], str(meta.get("attribution") or ""))

    @staticmethod
    def _source(f):
        def get_bytes(offset: int, length: int) -> bytes:
            f.seek(offset)
            return f.read(length)
        return get_bytes

    def get(self, z: int, x: int, y: int) -> bytes | None:
        """Return the tile at z/x/y (XYZ), or None."""
        if not in_range(z, x, y):
            return None
        with open(self.path, "rb") as f:
            data = Reader(self._source(f)).get(z, x, y)
        if data is None:
            return None
        return gzip.decompress(data) if self._gzipped else bytes(data)


def open_archive(path: Path) -> MBTiles | PMTiles:
    """Open a tile archive, telling MBTiles from PMTiles by their first bytes."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            magic = f.read(16)
    except OSError as err:
        raise ArchiveError(f"cannot read {path}: {err.strerror}") from None
    if magic.startswith(PMTILES_MAGIC):
        return PMTiles(path)
    if magic.startswith(SQLITE_MAGIC):
        return MBTiles(path)
    raise ArchiveError(f"{path.name} is neither an MBTiles nor a PMTiles file")


def configured_path(app) -> Path | None:
    """Return the archive MAP_TILE_ARCHIVE names (relative paths are in instance/), or None."""
    value = app.config.get("MAP_TILE_ARCHIVE")
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else Path(app.instance_path) / path


def archive_for(app) -> MBTiles | PMTiles | None:
    """Return the app's tile archive (opened once per file version), None when none is set;
    raise ArchiveError when the one set cannot be used."""
    path = configured_path(app)
    if path is None:
        return None
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        raise ArchiveError(f"the tile archive {path} is missing") from None
    cached = app.extensions.get("dvc.tile_archive")
    if cached and cached[0] == (path, stamp):
        return cached[1]
    archive = open_archive(path)
    app.extensions["dvc.tile_archive"] = ((path, stamp), archive)
    return archive


def read_active(instance: Path) -> dict:
    """Return the setting `tiles import` recorded (MAP_TILE_ARCHIVE)."""
    path = Path(instance) / "tiles" / ACTIVE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    value = data.get("MAP_TILE_ARCHIVE") if isinstance(data, dict) else None
    return {"MAP_TILE_ARCHIVE": value} if isinstance(value, str) and value else {}


def import_archive(source: Path, instance: Path, name: str | None = None) -> ArchiveInfo:
    """Check a tile archive, copy it into instance/tiles/ and make it the active basemap."""
    checked = open_archive(source).info
    folder = Path(instance) / "tiles"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name or Path(source).name)
    if target.suffix.lower() not in (".mbtiles", ".pmtiles"):
        target = target.with_name(target.name + "." + checked.kind)
    if target.resolve() != Path(source).resolve():
        tmp = target.with_name(target.name + ".tmp")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    info = open_archive(target).info
    active = {"MAP_TILE_ARCHIVE": f"tiles/{target.name}"}
    tmp = folder / (ACTIVE + ".tmp")
    tmp.write_text(json.dumps(active, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, folder / ACTIVE)
    return info
