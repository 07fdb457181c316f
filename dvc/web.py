"""Wire the app: extensions, database settings, language, sign-in, CSRF, access, errors."""
from __future__ import annotations

import logging

from babel import support
from flask import (Flask, current_app, g, has_request_context, jsonify, render_template,
                   request, session)
from flask_babel import Domain
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException

from dvc.auth.access import enforce_access, wants_json, writes
from dvc.config import ROOT
from dvc.core.errors import DomainError
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
    from dvc.auth.models import User
    return db.session.get(User, int(user_id))


def _load_bearer(req):
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    from dvc.auth.operations import user_for_token
    return user_for_token(header[7:].strip())


def _check_csrf():
    """CSRF on every state change, except API calls that carry their own credential (a bearer
    token) or none at all (anonymous public endpoints have no session to ride on)."""
    if request.method not in UNSAFE or not current_app.config["WTF_CSRF_ENABLED"]:
        return
    if request.headers.get("Authorization", "").startswith("Bearer "):
        return
    if wants_json() and not current_user.is_authenticated:
        return
    csrf.protect()


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


def _flatten_messages(messages) -> dict:
    """Turn webargs' {"json": {"field": ["msg"]}} into {"field": "msg"}."""
    fields = {}
    for location in (messages or {}).values():
        for name, errors in (location or {}).items():
            fields[name] = errors[0] if isinstance(errors, list) and errors else str(errors)
    return fields


def http_error(err: HTTPException):
    status = err.code or 500
    if status == 422:
        messages = getattr(err, "data", {}).get("messages")
        return error_response(422, "validation_error", _("Some answers need fixing."),
                              _flatten_messages(messages))
    if status >= 500:
        log.exception("server error", exc_info=getattr(err, "original_exception", err))
        return error_response(500, "server_error",
                              _("Something went wrong on our side. Nothing was saved; try again."))
    messages = {400: _("The request could not be read."), 404: _("Not found."),
                405: _("This action is not allowed here."), 413: _("The file is too large.")}
    return error_response(status, err.name.lower().replace(" ", "_"),
                          messages.get(status, err.description or err.name))


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
    db.init_app(app)
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
    app.after_request(_commit_or_rollback)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, http_error)
    app.jinja_env.globals["current_language"] = lambda: g.get("lang", "ja")
    app.jinja_env.globals["map_link"] = lambda lat, lon: app.config["MAP_WEB_LINK"].format(
        lat=lat, lon=lon)
    app.jinja_env.globals.update(labels=labels, site_labels=site_labels, need_labels=need_labels)

    _register_blueprints(app)


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
    from dvc.deploy.views import bp as deploy_bp  # /ca: tablets trust the laptop (HTTPS)
    from dvc.fallback.views import bp as fallback_bp  # the printed fallback pack
    app.register_blueprint(deploy_bp)
    app.register_blueprint(fallback_bp)
