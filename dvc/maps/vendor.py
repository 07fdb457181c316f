"""Third-party browser assets (Leaflet and its plugins) served from their Python packages.

No CDN: the XStatic packages carry the files, and the app serves them under a URL with the
version in it, so browsers may keep them for a year and an upgrade changes the URL.
"""
from __future__ import annotations

import gzip
import hashlib
import mimetypes
import threading
from dataclasses import dataclass
from pathlib import Path

import xstatic.pkg.leaflet as _leaflet
import xstatic.pkg.leaflet_markercluster as _markercluster

# Text assets worth compressing; images are compressed already.
COMPRESSIBLE = {".js", ".css", ".map", ".json", ".svg"}


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    base_dir: Path


PACKAGES = {p.name: p for p in (
    Package("leaflet", _leaflet.VERSION, Path(_leaflet.BASE_DIR)),
    Package("leaflet-markercluster", _markercluster.VERSION, Path(_markercluster.BASE_DIR)),
)}


@dataclass(frozen=True)
class Asset:
    path: Path
    mimetype: str
    etag: str
    body: bytes
    gzipped: bytes | None  # None when not worth compressing


_cache: dict[tuple[str, str], Asset] = {}
_lock = threading.Lock()


def find(package: str, version: str, filename: str) -> Asset | None:
    """Return a package's file (read and compressed once), or None when there is no such file."""
    pkg = PACKAGES.get(package)
    if pkg is None or version != pkg.version:
        return None
    key = (package, filename)
    with _lock:
        asset = _cache.get(key)
    if asset is not None:
        return asset
    base = pkg.base_dir.resolve()
    path = (base / filename).resolve()
    if not path.is_file() or not path.is_relative_to(base):
        return None
    body = path.read_bytes()
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if mimetype.startswith("text/") or mimetype == "application/javascript":
        mimetype += "; charset=utf-8"
    gzipped = None
    if path.suffix in COMPRESSIBLE and len(body) > 512:
        gzipped = gzip.compress(body, compresslevel=9, mtime=0)
    asset = Asset(path, mimetype, hashlib.blake2b(body, digest_size=12).hexdigest(), body,
                  gzipped)
    with _lock:
        _cache[key] = asset
    return asset
