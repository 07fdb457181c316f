"""Rate limits (Flask-Limiter): sign-in attempts, and what anyone may reach unsigned.

Counted per client address, with the numbers in config (LIMIT_*). Every PUBLIC endpoint of the
access table (matrix.py) is limited for anonymous visitors, so a new public page is covered
without anyone remembering to: reads per page, posts together, and misses of volunteer codes
together. Signed-in staff are never limited there (a reception kiosk registers walk-ins all
morning). A volunteer code holds 128 random bits, so guessing one is hopeless anyway; the
misses limit stops anyone from trying at volume.

Sign-in has its own limits: wrong attempts per address, and per user name for names that are
no account (an account locks itself in the database, see operations.sign_in), so that both
answer alike and the answer does not tell which names exist.
"""
from __future__ import annotations

from flask import Flask, current_app, g, make_response, request
from flask_babel import gettext as _
from flask_login import current_user

from dvc.auth.access import PUBLIC, roles_of
from dvc.extensions import limiter

LOOPBACK = {"127.0.0.1", "::1"}
READS, WRITES = ("GET", "HEAD"), ("POST", "PUT", "PATCH", "DELETE")
# Files that never change (versioned, cached for a year by browsers and nginx).
UNLIMITED = {"static", "maps.vendor"}
# Endpoints with limits of their own (below).
OWN_LIMITS = {"auth.login"}
# The public endpoint that takes a typed volunteer code in its form rather than in its URL.
CODE_FORMS = {"volunteers.self_checkin"}
MISSES = (404, 422)    # an unknown code: no such page, or the form says so


def client_address() -> str:
    """Return the client's address. Behind a proxy on this machine (nginx, deploy/), the one
    the proxy saw: the last X-Forwarded-For entry, which a remote client cannot forge."""
    address = request.remote_addr or "127.0.0.1"
    forwarded = request.headers.get("X-Forwarded-For", "")
    if address in LOOPBACK and forwarded.strip():
        return forwarded.rsplit(",", 1)[-1].strip() or address
    return address


def _setting(name: str):
    return lambda: current_app.config[name]


def _staff() -> bool:
    return current_user.is_authenticated


def _missed(response) -> bool:
    return response.status_code in MISSES


public_pages = limiter.limit(_setting("LIMIT_PUBLIC_PAGES"), methods=list(READS),
                             exempt_when=_staff)
public_posts = limiter.shared_limit(_setting("LIMIT_PUBLIC_POSTS"), scope="public-posts",
                                    methods=list(WRITES), exempt_when=_staff)
code_misses = limiter.shared_limit(_setting("LIMIT_CODE_MISSES"), scope="volunteer-codes",
                                   deduct_when=_missed, exempt_when=_staff)


def code_endpoints(app: Flask) -> set[str]:
    """Endpoints that take a volunteer code: in the URL (<token>), or typed into a form."""
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if "token" in rule.arguments} | CODE_FORMS


def init_app(app: Flask) -> None:
    """Bind the limiter and limit every public endpoint (call after the blueprints)."""
    limiter.init_app(app)
    if not app.config["RATELIMIT_ENABLED"]:
        return
    codes = code_endpoints(app)
    limited = set(OWN_LIMITS)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint in UNLIMITED | OWN_LIMITS or roles_of(endpoint) is not PUBLIC:
            continue
        view = public_posts(public_pages(view))
        app.view_functions[endpoint] = code_misses(view) if endpoint in codes else view
        limited.add(endpoint)
    app.extensions["dvc.limited_endpoints"] = frozenset(limited)


@limiter.request_filter
def _nothing_to_limit() -> bool:
    """Spare the limiter's work on the endpoints without limits (staff pages, the API): a
    tenth of a check-in's time outside the database went there (bench/checkin.py)."""
    return request.endpoint not in current_app.extensions.get("dvc.limited_endpoints", ())


# --- sign-in ---------------------------------------------------------------------------

def _login_name() -> str:
    return "name:" + (request.form.get("username") or "").strip().casefold()[:60]


def _failed_sign_ins(_response) -> bool:
    return g.get("dvc_login_failed", False)


def _failed_unknown_name(_response) -> bool:
    return g.get("dvc_login_unknown", False)


def _name_window() -> str:
    config = current_app.config
    return f"{config['LOGIN_MAX_FAILURES']} per {config['LOGIN_LOCK_MINUTES']} minutes"


def sign_in_refused(message: str):
    """The sign-in page again, with why it refuses for now (429)."""
    from dvc.auth.views import LoginForm, login_page
    return make_response(login_page(LoginForm(), refused=message, status=429))


def locked_message() -> str:
    return _("Too many failed sign-ins for this user name. Wait %(minutes)d minutes and try "
             "again, or ask the head of the centre to unlock the account.",
             minutes=current_app.config["LOGIN_LOCK_MINUTES"])


def _too_many_here(_limit):
    return sign_in_refused(_("Too many failed sign-ins from this device. Wait a few minutes "
                             "and try again."))


def _name_locked(_limit):
    return sign_in_refused(locked_message())


# Applied to the sign-in view itself (views.py).
failed_logins_here = limiter.limit(_setting("LIMIT_FAILED_LOGINS"), methods=["POST"],
                                   deduct_when=_failed_sign_ins, on_breach=_too_many_here)
failed_logins_for_name = limiter.limit(_name_window, key_func=_login_name, methods=["POST"],
                                       deduct_when=_failed_unknown_name, on_breach=_name_locked)
