"""Staff sessions: a new one at sign-in, idle and absolute timeouts, sign out everywhere.

Flask keeps the session in a signed cookie, which the server cannot delete. So a session also
carries when it began, when it was last used and the user's session epoch at sign-in, and the
user loader refuses one that ran out, or whose epoch "sign out everywhere" has bumped since.
Times come from the centre's own clock (`staff_now`), never a drill's.
"""
from __future__ import annotations

from collections.abc import Mapping

from flask import current_app, flash, session
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from dvc.auth.models import User
from dvc.auth.operations import staff_now, user_by_id

STARTED, SEEN, EPOCH = "dvc_started", "dvc_seen", "dvc_epoch"
KEEP = ("lang",)      # what a visitor chose that carries over into the new session
# "Last used" is rewritten at most once a minute, not on every request: a live page polls.
TOUCH_SECONDS = 60


def _seconds() -> float:
    return staff_now().timestamp()


def _fresh_session() -> None:
    """Empty the session but for the visitor's language."""
    kept = {key: session[key] for key in KEEP if key in session}
    session.clear()
    session.update(kept)


def start_session(user: User) -> None:
    """Sign `user` in on a new session: nothing from before carries over (no fixation)."""
    _fresh_session()
    login_user(user)
    session[STARTED] = session[SEEN] = _seconds()
    session[EPOCH] = user.session_epoch


def end_session() -> None:
    """Sign out on this device."""
    logout_user()
    _fresh_session()


def expiry(user: User, data: Mapping, moment: float, config: Mapping) -> str | None:
    """Return why a session may not go on (elsewhere, ended, absolute, idle), or None."""
    started, seen = data.get(STARTED), data.get(SEEN)
    if data.get(EPOCH, user.session_epoch) != user.session_epoch:
        return "elsewhere"
    if started is None or seen is None or not user.active:
        return "ended"     # begun before sessions carried their times, or account disabled
    if moment - started >= config["SESSION_MAX_HOURS"] * 3600:
        return "absolute"
    if moment - seen >= config["SESSION_IDLE_MINUTES"] * 60:
        return "idle"
    return None


def _explain(reason: str) -> str:
    config = current_app.config
    return {
        "elsewhere": _("You were signed out on every device. Sign in again."),
        "ended": _("Your session has ended. Sign in again."),
        "absolute": _("You have been signed in for %(hours)d hours: sign in again to carry on.",
                      hours=config["SESSION_MAX_HOURS"]),
        "idle": _("You were signed out after %(minutes)d minutes without activity. "
                  "Sign in again.", minutes=config["SESSION_IDLE_MINUTES"]),
    }[reason]


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the session's user, unless the session ran out."""
    user = user_by_id(int(user_id))
    if user is None:
        return None
    moment = _seconds()
    reason = expiry(user, session, moment, current_app.config)
    if reason:
        # Not logout_user(): it would load the user again, back here.
        _fresh_session()
        flash(_explain(reason), "info")
        return None
    if moment - session[SEEN] >= TOUCH_SECONDS:
        session[SEEN] = moment
    return user
