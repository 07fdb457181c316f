"""Wire the app: extensions, database settings, language, sign-in, CSRF, access, errors."""
from __future__ import annotations

import logging
import re
import time
from urllib.parse import urlsplit

from babel import support
from flask import (Flask, current_app, g, has_request_context, jsonify, render_template,
                   request, session)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Domain
from flask_babel import gettext as _
from flask_login import current_user
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFError
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import IntegerConverter

from dvc.auth.access import enforce_access, may, wants_json, writes
from dvc.config import ROOT
from dvc.core.errors import DomainError, Invalid, flatten_field_errors, nul_fields
from dvc.drills.guard import enter_drill
from dvc.extensions import api, babel, csrf, db, login, migrate
from dvc.needs import labels as need_labels
from dvc.sites import labels as site_labels
from dvc.volunteers import labels

log = logging.getLogger(__name__)
TRANSLATIONS = ROOT / "translations"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


# --- database ----------------------------------------------------------------------------

@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """Durable, concurrent SQLite: WAL, fsync on commit, foreign keys, wait when busy."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                       "busy_timeout=15000"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()


def _ping_idle_connections(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection before use only when it sat idle for `idle_seconds`: a
    database restart or a dropped link is found then, and the pool connects afresh, instead of
    the request failing. `pool_pre_ping` pings at every checkout, a round trip and ~0.5 ms of
    CPU per request on a 2-core server (bench/checkin.py); a connection handed from one request
    to the next within seconds has not gone anywhere."""
    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection, record):
        record.info["idle_from"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        if time.monotonic() - record.info.get("idle_from", 0.0) < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as err:
            raise exc.DisconnectionError("the database connection has gone") from err


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """Begin SQLite transactions ourselves: a page that only reads sees one snapshot; writers
    take the write lock before they read anything (here outside a request, below in one), so
    they queue on the busy timeout instead of failing when a read lock cannot be upgraded."""
    if conn.dialect.name == "sqlite":
        if not request:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif not writes(request.endpoint):
            conn.exec_driver_sql("BEGIN")
        # A request that writes takes the lock with its first write: see below.


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_write_lock(conn, cursor, statement, parameters, context, executemany):
    """A request that writes reads in autocommit until its first write (each read sees the
    latest commit, as under PostgreSQL's READ COMMITTED) and takes the write lock with that
    write, so the lock is held from the first write to COMMIT, not while the request
    authenticates and looks rows up: with it held for the whole request, writers queued
    on it and a 2-core centre server did ~150 check-ins/s instead of ~250 (bench/checkin.py)."""
    if (conn.dialect.name == "sqlite" and not getattr(cursor.connection, "in_transaction", True)
            and _writes_or_locks(statement, context)):
        cursor.execute("BEGIN IMMEDIATE")


def _writes_or_locks(statement: str, context) -> bool:
    """Tell whether a statement writes, or is a SELECT ... FOR UPDATE (which SQLite does not
    render, but which asks for what only its write lock gives: nobody else writes meanwhile)."""
    if not statement.lstrip()[:6].upper().startswith(("SELECT", "PRAGMA", "BEGIN")):
        return True
    query = getattr(getattr(context, "compiled", None), "statement", None)
    return getattr(query, "_for_update_arg", None) is not None


# --- language ----------------------------------------------------------------------------

class PlainJapanese(Domain):
    """やさしい日本語: the `easy` catalogue, falling back to ordinary Japanese."""

    def get_translations(self):
        if "ja-easy" not in self.cache:
            easy = support.Translations.load(str(TRANSLATIONS), ["ja"], "easy")
            easy.add_fallback(support.Translations.load(str(TRANSLATIONS), ["ja"], "messages"))
            self.cache["ja-easy"] = easy
        return self.cache["ja-easy"]


plain_japanese = PlainJapanese()


def current_language() -> str:
    """Return the language of this request: ja, ja-easy or en."""
    wanted = request.args.get("lang")
    if wanted in ("ja", "ja-easy", "en"):
        session["lang"] = wanted
    return session.get("lang") or request.accept_languages.best_match(["ja", "en"]) or "ja"


def _select_locale() -> str:
    if not has_request_context():  # the CLI, the drill engine: the configured language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    return "en" if current_language() == "en" else "ja"


def _set_language():
    g.lang = current_language()
    if g.lang == "ja-easy":
        plain_japanese.as_default()


# --- sign-in and CSRF --------------------------------------------------------------------

def _load_user(user_id: str):
    from dvc.auth.sessions import load_user  # refuses a session that ran out (sessions.py)
    return load_user(user_id)


def _load_bearer(req):
    """Return the user behind the request's bearer token (looked up once per request), or None."""
    if not hasattr(req, "dvc_bearer_user"):
        header = req.headers.get("Authorization", "")
        req.dvc_bearer_user = None
        if header.startswith("Bearer "):
            from dvc.auth.operations import user_for_token
            req.dvc_bearer_user = user_for_token(header[7:].strip())
    return req.dvc_bearer_user


def _check_csrf():
    """CSRF on every state change, except API calls that carry their own valid credential (a
    bearer token: a browser never adds one by itself) or none at all (an anonymous call to the
    public API has no session to ride on). A bearer header that names no token does not excuse
    a request that a session cookie signs in."""
    if request.method not in UNSAFE or not current_app.config["WTF_CSRF_ENABLED"]:
        return
    if _load_bearer(request) is not None:
        return
    if wants_json() and not current_user.is_authenticated:
        return
    csrf.protect()


# --- security headers --------------------------------------------------------------------

class SecurityHeaders(Talisman):
    """Flask-Talisman, leaving alone a Referrer-Policy a page set for itself (a volunteer's page
    has its code in the URL and keeps it from other sites)."""

    def _set_referrer_policy_headers(self, headers):
        headers.setdefault("Referrer-Policy", self.referrer_policy)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, its cookie marked Secure whenever the request came over
    HTTPS (`serve --https`, or nginx in front): the field laptop on plain HTTP keeps working."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]
                    or (has_request_context() and request.is_secure))


talisman = SecurityHeaders()
# Who may use what the browser offers: the reception kiosk reads QR codes with the camera;
# nothing asks for the position, the microphone or the like.
PERMISSIONS = {"camera": "(self)", "geolocation": "()", "microphone": "()", "usb": "()",
               "payment": "()", "browsing-topics": "()"}


def tile_hosts(tile_url: str | None) -> list[str]:
    """The origin of the online basemap's tiles, as a CSP source ("{s}." becomes "*.")."""
    parts = urlsplit((tile_url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return []  # none, or served by the app itself ('self')
    return [f"{parts.scheme}://{re.sub(r'{[^}]*}', '*', parts.netloc)}"]


def content_security_policy(config) -> dict:
    """What pages may load: only this server's scripts and styles (an inline one only with the
    request's nonce: the pages have none, folium's map script is served as map.js), images from
    here and from the online basemap, no frames, no plugins, forms only to here."""
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": ["'self'", "data:", "blob:", *tile_hosts(config.get("MAP_TILE_URL"))],
        "connect-src": "'self'",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def _init_security(app: Flask) -> None:
    """Headers on every answer. No redirect to HTTPS (the field laptop serves plain HTTP on the
    centre's Wi-Fi unless `serve --https`); HSTS only on answers sent over HTTPS."""
    app.session_interface = SessionInterface()
    talisman.init_app(
        app, force_https=False, strict_transport_security=True,
        content_security_policy=content_security_policy(app.config),
        content_security_policy_nonce_in=["script-src", "style-src"],
        frame_options="DENY", referrer_policy="strict-origin-when-cross-origin",
        permissions_policy=PERMISSIONS, session_cookie_secure=False,
        session_cookie_http_only=True,
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE") or "Lax")


def _refuse_nul():
    """Refuse a NUL character in any text sent (query, form, JSON), naming the field: nobody
    types one, and PostgreSQL cannot store it (a 500 there; issue 9, found by schemathesis)."""
    found = _nul_in(request.args)
    if request.method in UNSAFE:
        if request.is_json:
            found += nul_fields(request.get_json(silent=True))
        else:
            found += _nul_in(request.form)
    if found:
        message = _("Remove the control character (NUL) from this text.")
        raise Invalid(_("Some answers need fixing."),
                      fields={k.replace("\x00", "") or "_schema": message for k in found})


def _nul_in(values) -> list[str]:
    return [k or "" for k, v in values.items(multi=True) if "\x00" in f"{k}{v}"]


# --- errors ------------------------------------------------------------------------------

def error_response(status: int, code: str, message: str, fields: dict | None = None,
                   data: dict | None = None):
    """Answer an error as JSON for the API and as a page for people."""
    if wants_json():
        body = {"error": code, "message": message, "fields": fields or {}}
        if data:
            body.update(data)
        return jsonify(body), status
    return render_template("error.html", status=status, message=message, fields=fields), status


def http_error(err: HTTPException):
    status = err.code or 500
    if status == 422:
        # webargs' {"json": {"items": {"0": {"quantity": [...]}}}}, in the user's language.
        messages = getattr(err, "data", {}).get("messages")
        return error_response(422, "validation_error", _("Some answers need fixing."),
                              flatten_field_errors(messages, _))
    if status >= 500:
        log.exception("server error", exc_info=getattr(err, "original_exception", err))
        return error_response(500, "server_error",
                              _("Something went wrong on our side. Nothing was saved; try again."))
    if status == 429 and err.response is not None:
        return err.response  # a page that explains itself (sign-in: dvc/auth/limits.py)
    messages = {400: _("The request could not be read."), 404: _("Not found."),
                405: _("This action is not allowed here."), 413: _upload_too_large(),
                429: _("Too many requests from this device. Wait a few minutes and try "
                       "again.")}
    return error_response(status, err.name.lower().replace(" ", "_"),
                          messages.get(status, err.description or err.name))


def _json_too_deep(err: RecursionError):
    """JSON nested thousands deep overflows the parser's stack: the request is unreadable, not
    a server error (issue 9). Any other recursion is a bug and stays a 500."""
    if request.is_json:
        return error_response(400, "bad_request", _("The request could not be read."))
    return http_error(InternalServerError(original_exception=err))


def _upload_too_large() -> str:
    """Say how much may be sent (MAX_CONTENT_LENGTH, issue 9), not only that it was too much."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return _("The file is too large: send at most %(mb)s MB at once.",
             mb=f"{limit / 2**20:g}")


def _domain_error(err: DomainError):
    db.session.rollback()
    return error_response(err.status, err.code, err.message, err.fields, err.data)


def _csrf_error(err: CSRFError):
    return error_response(400, "csrf_failed",
                          _("This form has expired. Reload the page and send it again."))


# --- wiring ------------------------------------------------------------------------------

def _commit_or_rollback(response):
    """One commit per request, at the edge; errors roll back."""
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def init_app(app: Flask) -> None:
    _init_security(app)  # first: its nonce exists before any other hook can answer
    db.init_app(app)
    with app.app_context():
        _ping_idle_connections(db.engine, app.config["DB_PING_IDLE_SECONDS"])
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login.init_app(app)
    login.user_loader(_load_user)
    login.request_loader(_load_bearer)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale,
                   default_translation_directories=str(TRANSLATIONS))
    api.init_app(app)

    app.before_request(_set_language)
    app.before_request(_check_csrf)
    app.before_request(enforce_access)
    app.before_request(_refuse_nul)
    app.before_request(enter_drill)  # after access: a drill runs on its own clock
    app.after_request(_commit_or_rollback)
    # Idempotency keys (issue 9): after the access check, before the commit, before the API
    # blueprints are documented; see dvc/core/idempotency.py.
    from dvc.core import idempotency
    idempotency.init_app(app)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(RecursionError, _json_too_deep)
    app.jinja_env.globals["current_language"] = lambda: g.get("lang", "ja")
    app.jinja_env.globals["map_link"] = lambda lat, lon: app.config["MAP_WEB_LINK"].format(
        lat=lat, lon=lon)
    app.jinja_env.globals.update(labels=labels, site_labels=site_labels, need_labels=need_labels)
    app.jinja_env.globals["may"] = may  # show a link only to those the role matrix lets in

    app.url_map.converters["int"] = IdConverter  # before any route is added
    _register_blueprints(app)
    from dvc.auth import limits
    limits.init_app(app)  # after the blueprints: it limits every public endpoint


class IdConverter(IntegerConverter):
    """<int:...> in URLs: a number past the database's INTEGER names no record, so it is a 404
    here rather than a database error (PostgreSQL) or an overflow (SQLite) later (issue 9)."""

    def __init__(self, map, *args, **kwargs):
        from dvc.core.schemas import MAX_ID
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _register_blueprints(app: Flask) -> None:
    from dvc.auth.views import bp as auth_bp
    from dvc.equipment.api import bp as equipment_api
    from dvc.equipment.views import bp as equipment_bp
    from dvc.maps.api import bp as maps_api
    from dvc.maps.views import bp as maps_bp
    from dvc.matching.api import bp as matching_api
    from dvc.districts.api import bp as districts_api
    from dvc.districts.views import bp as districts_bp
    from dvc.shelters.api import bp as shelters_api
    from dvc.shelters.views import bp as shelters_bp
    from dvc.sites.api import bp as sites_api
    from dvc.sites.views import bp as sites_bp
    from dvc.needs.api import bp as needs_api
    from dvc.needs.views import bp as needs_bp
    from dvc.operations.api import bp as operations_api
    from dvc.operations.views import bp as operations_bp
    from dvc.reports.dashboard_views import api_bp as dashboard_api, bp as dashboard_bp
    from dvc.reports.api import bp as reports_api
    from dvc.reports.views import bp as reports_bp
    from dvc.teams.api import bp as teams_api
    from dvc.teams.views import bp as teams_bp
    from dvc.volunteers.api import bp as volunteers_api
    from dvc.volunteers.reception import bp as reception_bp
    from dvc.volunteers.views import bp as volunteers_bp

    for bp in (auth_bp, operations_bp, volunteers_bp, reception_bp, equipment_bp, maps_bp,
               needs_bp, teams_bp, sites_bp, districts_bp, shelters_bp, dashboard_bp):
        app.register_blueprint(bp)
    for bp in (operations_api, volunteers_api, needs_api, teams_api, equipment_api, maps_api,
               matching_api, sites_api, shelters_api, districts_api, dashboard_api):
        api.register_blueprint(bp)
    app.register_blueprint(reports_bp)
    api.register_blueprint(reports_api)
    from dvc.audit.views import bp as audit_bp  # who viewed or changed survivors' records
    app.register_blueprint(audit_bp)
    from dvc.deploy.views import bp as deploy_bp  # /ca: tablets trust the laptop (HTTPS)
    from dvc.fallback.views import bp as fallback_bp  # the printed fallback pack
    app.register_blueprint(deploy_bp)
    app.register_blueprint(fallback_bp)
    from dvc.drills.api import bp as drills_api
    api.register_blueprint(drills_api)
    from dvc.drills.review import bp as drill_review_bp
    app.register_blueprint(drill_review_bp)
    from dvc.drills.views import bp as drills_bp  # the drill's pages and live banner
    app.register_blueprint(drills_bp)
