"""Layered configuration: defaults -> instance/config.py -> environment -> test override.

`DATABASE_URL` selects the database; every other setting can be given as `DVC_<NAME>`
(JSON values are parsed, so `DVC_SKILLS='["nursing"]'` works).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    TIMEZONE = "Asia/Tokyo"
    # The prefecture the centre's operations are in by default, for in/out-of-prefecture counts.
    HOME_PREFECTURE = "東京都"
    BABEL_DEFAULT_LOCALE = "ja"
    BABEL_DEFAULT_TIMEZONE = "Asia/Tokyo"
    LANGUAGES = ("ja", "en")
    # Volunteer-facing pages also speak plain Japanese (やさしい日本語).
    VOLUNTEER_LANGUAGES = ("ja", "ja-easy", "en")
    SKILLS = (
        "heavy_machinery", "nursing", "carpentry", "electrician", "chainsaw", "driving",
        "languages", "sign_language", "first_aid", "counselling",
    )
    HEALTH_QUESTIONS = ("feeling_well", "no_fever", "slept_enough", "ate_breakfast")
    PASSWORD_HASH_METHOD = "scrypt"
    # Teams out after this local time are overdue (活動は15時まで, a common rule in heat).
    ACTIVITY_END = "15:00"
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Staff sessions (dvc/auth/sessions.py). Idle: two hours without a request (a live page
    # such as the map counts, as its device is in use) means the tablet was left behind, on a
    # gymnasium table where anyone passes; signing in again takes seconds. Absolute: twelve
    # hours covers the longest day (07:00 briefing to the 19:00 report), so every shift starts
    # with a fresh sign-in and a session never outlives its day.
    SESSION_IDLE_MINUTES = 120
    SESSION_MAX_HOURS = 12
    # Flask-Login's "strong" protection ends a session whose address or browser changed: on the
    # centre's Wi-Fi over plain HTTP it stops a cookie sniffed by another device. A server that
    # staff reach over mobile data (addresses change) may set "basic".
    SESSION_PROTECTION = "strong"
    # Sign-in: after this many wrong passwords in a row an account waits this long (or until an
    # admin unlocks it). Ten leaves room for typing with the IME on; it caps guessing at about a
    # thousand tries a day per account, against passwords of at least 8 characters.
    LOGIN_MAX_FAILURES = 10
    LOGIN_LOCK_MINUTES = 15
    # Rate limits (Flask-Limiter; dvc/auth/limits.py), per client address. In-memory counters
    # are per process: a server with several workers sets a shared store, e.g.
    # DVC_RATELIMIT_STORAGE_URI=redis://localhost:6379. Signed-in staff are never limited on
    # public pages (a reception kiosk registers walk-ins all morning).
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Generous: volunteers on the centre's Wi-Fi or a carrier's NAT share one address.
    LIMIT_FAILED_LOGINS = "30 per 10 minutes"     # wrong sign-ins from one address
    LIMIT_PUBLIC_PAGES = "300 per minute"          # each public page or file, read
    LIMIT_PUBLIC_POSTS = "60 per minute;1000 per hour"   # all public forms and API posts
    LIMIT_CODE_MISSES = "30 per 10 minutes"        # unknown or mistyped volunteer codes
    # CSRF is checked in one before_request hook so that bearer-token API clients skip it.
    WTF_CSRF_CHECK_DEFAULT = False
    WTF_CSRF_TIME_LIMIT = None
    # A pooled connection that sat idle this long is pinged before use (a database restart or
    # a dropped link would fail the request otherwise); busy ones are not (dvc/web.py).
    DB_PING_IDLE_SECONDS = 5.0
    API_TITLE = "dvc API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    # The coordinator's map (dvc/maps). Basemap: the GSI standard map (地理院タイル) online;
    # an empty MAP_TILE_URL means no basemap (markers and the scale still draw). A local tile
    # archive (MAP_TILE_ARCHIVE: a .mbtiles or .pmtiles file, relative to instance/; set by
    # `flask --app dvc tiles import`) takes precedence: it works with no internet.
    MAP_TILE_URL = "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png"
    MAP_TILE_ATTRIBUTION = ('<a href="https://maps.gsi.go.jp/development/ichiran.html">'
                            '地理院タイル</a>')
    MAP_TILE_ARCHIVE = ""
    # A link (not an asset) that opens a point in a web map on a leader's phone.
    MAP_WEB_LINK = "https://maps.gsi.go.jp/#17/{lat}/{lon}/"
    MAP_REFRESH_SECONDS = 15
    # Distances (sites, shelters) are measured in this metric CRS, never in degrees: Japan
    # Plane Rectangular zone IX (Tokyo) by default; a centre elsewhere sets its own zone.
    METRIC_CRS = "EPSG:6677"
    # `flask backup` keeps this many copies in its folder (the newest; 0 keeps all).
    BACKUP_KEEP = 14
    # Personal data of a closed operation is removed this many days after closing (purge).
    PERSONAL_DATA_DAYS = 90


def _database_url(instance: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{instance / 'dvc.sqlite3'}"
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _secret_key(instance: Path) -> str:
    """Read the instance's secret key, creating it on first run; it never leaves instance/."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load(app: Flask, test_config: dict | None) -> None:
    """Fill `app.config` from every layer in order."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.from_object(Defaults)
    app.config["SQLALCHEMY_DATABASE_URI"] = _database_url(instance)
    app.config["UPLOAD_DIR"] = str(instance / "uploads")
    # The tile archive `flask --app dvc tiles import` made the basemap (instance/tiles/).
    from dvc.maps.archive import read_active
    app.config.update(read_active(instance))
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("DVC")
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance)
