"""Staff accounts: create, sign in (with lockout), end sessions, issue API tokens."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from dvc.auth.models import ROLES, ApiToken, User, UserOperation
from dvc.core.context import base_clock, now
from dvc.core.errors import Conflict, Invalid
from dvc.core.events import log_event
from dvc.extensions import db

MIN_PASSWORD = 8


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(username: str, role: str, password: str, *, display_name: str = "",
                actor: str) -> User:
    """Create a staff account with a hashed password."""
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}; one of: {', '.join(ROLES)}", fields={"role": "unknown"})
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"password must have at least {MIN_PASSWORD} characters",
                      fields={"password": "too_short"})
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"user {username!r} exists", code="user_exists")
    user = User(username=username, role=role, display_name=display_name or username,
                password_hash=generate_password_hash(
                    password, method=current_app.config["PASSWORD_HASH_METHOD"]), created_dt=now())
    db.session.add(user)
    db.session.flush()
    log_event("user.created", actor=actor, subject=user, payload={"role": role})
    return user


def assign_operations(user: User, operation_ids: list[int], *, actor: str) -> None:
    """Tie a council's staff account to its operations; with none it sees every operation."""
    from dvc.auth.models import UserOperation
    from dvc.operations.models import Operation
    unknown = [i for i in operation_ids if db.session.get(Operation, i) is None]
    if unknown:
        raise Invalid(f"no operation {unknown}", fields={"operation": "unknown"})
    db.session.execute(db.delete(UserOperation).where(UserOperation.user_id == user.id))
    db.session.add_all(UserOperation(user_id=user.id, operation_id=i)
                       for i in sorted(set(operation_ids)))
    db.session.flush()
    user.__dict__.pop("operation_ids", None)  # read again when next asked
    log_event("user.operations", actor=actor, subject=user,
              payload={"operation_ids": sorted(set(operation_ids))})


def staff_now() -> datetime:
    """Return the time for sessions and lockouts: the centre's own clock, never a drill's
    (a drill's clock jumps hours and would end every session)."""
    return base_clock().now()


@dataclass(frozen=True)
class SignIn:
    """How a sign-in attempt went: ok (with the user), wrong, unknown or locked."""

    outcome: str
    user: User | None = None


def sign_in(username: str, password: str, *, ip: str) -> SignIn:
    """Check a sign-in attempt and record it: the lockout counter and the event log."""
    user = db.session.scalar(select(User).where(User.username == username))
    moment = staff_now()
    if user is None or not user.active:
        # As slow as checking a real password, so timing does not tell which names exist.
        generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
        log_event("user.login_failed", actor="public", subject=user,
                  payload={"ip": ip, "reason": "inactive" if user else "unknown_user"})
        return SignIn("unknown")
    if user.locked_at(moment):
        return SignIn("locked")
    if not check_password_hash(user.password_hash, password):
        _count_failure(user, moment, ip)
        return SignIn("wrong")
    user.failed_logins, user.locked_until_dt, user.last_login_dt = 0, None, moment
    log_event("user.login", actor=f"user:{user.username}", subject=user, payload={"ip": ip})
    return SignIn("ok", user)


def _count_failure(user: User, moment: datetime, ip: str) -> None:
    """Count a wrong password (in the database: two attempts at once both count) and lock the
    account at the limit."""
    in_a_row = db.session.scalar(
        update(User).where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1).returning(User.failed_logins))
    log_event("user.login_failed", actor="public", subject=user,
              payload={"ip": ip, "reason": "wrong_password", "in_a_row": in_a_row})
    if in_a_row >= current_app.config["LOGIN_MAX_FAILURES"]:
        user.failed_logins = 0
        user.locked_until_dt = moment + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
        db.session.flush()
        log_event("user.locked", actor="public", subject=user,
                  payload={"ip": ip, "until": user.locked_until_dt.isoformat()})


def unlock_user(user: User, *, actor: str) -> None:
    """Lift a sign-in lockout before it runs out."""
    user.failed_logins, user.locked_until_dt = 0, None
    db.session.flush()
    log_event("user.unlocked", actor=actor, subject=user)


def end_sessions(user: User, *, actor: str) -> None:
    """Sign a user out on every device: sessions begun before now are refused (API tokens
    are not touched: revoke those on their own)."""
    user.session_epoch = user.session_epoch + 1
    db.session.flush()
    log_event("user.sessions_ended", actor=actor, subject=user,
              payload={"epoch": user.session_epoch})


def needs_first_admin() -> bool:
    """Tell whether the database has no staff account yet (first run)."""
    return db.session.scalar(select(User.id).limit(1)) is None


def create_first_admin(username: str, password: str, *, display_name: str = "",
                       actor: str) -> User:
    """Create the first account, the head of the centre's, on a database that has none."""
    if not needs_first_admin():
        raise Conflict(_("The first account exists already: sign in with it."), code="setup_done")
    return create_user(username, "admin", password, display_name=display_name, actor=actor)


def issue_token(user: User, *, actor: str) -> str:
    """Create a bearer token for the API; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), created_dt=now()))
    log_event("user.token_issued", actor=actor, subject=user)
    return token


@cache  # made once, when first used (see get_operation)
def _user_statement(by: str):
    """Every request signs in: its user and their operations in one query, by token or id."""
    statement = (select(User, UserOperation.operation_id)
                 .outerjoin(UserOperation, UserOperation.user_id == User.id))
    if by == "token":
        return (statement.join(ApiToken, ApiToken.user_id == User.id)
                .where(ApiToken.token_hash == bindparam("token_hash"),
                       ApiToken.revoked_dt.is_(None)))
    return statement.where(User.id == bindparam("user_id"))


def _user_and_operations(statement, **params) -> User | None:
    """Return the user the statement finds with their operations, read in the same query."""
    rows = db.session.execute(statement, params).all()
    if not rows:
        return None
    user = rows[0][0]
    user.know_operations(row[1] for row in rows)
    return user


def user_for_token(token: str) -> User | None:
    """Return the active user behind a bearer token, or None."""
    user = _user_and_operations(_user_statement("token"), token_hash=_token_hash(token))
    return user if user is not None and user.active else None


def user_by_id(user_id: int) -> User | None:
    """Return a user with their operations (the session's user, per request)."""
    return _user_and_operations(_user_statement("id"), user_id=user_id)


def visible_users(viewer: User) -> list[User]:
    """Return the accounts an admin manages: all for the prefecture's, else those that share
    one of the admin's operations."""
    query = select(User).order_by(User.username)
    if viewer.operation_ids is not None:
        query = query.where(User.id.in_(select(UserOperation.user_id).where(
            UserOperation.operation_id.in_(viewer.operation_ids))))
    return list(db.session.scalars(query))
