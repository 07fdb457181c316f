"""Staff accounts: create, authenticate, issue API tokens."""
from __future__ import annotations

import hashlib
import secrets

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from dvc.auth.models import ROLES, ApiToken, User
from dvc.core.context import now
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
    log_event("user.operations", actor=actor, subject=user,
              payload={"operation_ids": sorted(set(operation_ids))})


def authenticate(username: str, password: str) -> User | None:
    """Return the active user with these credentials, or None."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user


def issue_token(user: User, *, actor: str) -> str:
    """Create a bearer token for the API; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), created_dt=now()))
    log_event("user.token_issued", actor=actor, subject=user)
    return token


def user_for_token(token: str) -> User | None:
    """Return the active user behind a bearer token, or None."""
    # Every API request comes through here: load the user in the same query.
    row = db.session.scalar(
        select(ApiToken).options(joinedload(ApiToken.user, innerjoin=True))
        .where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked_dt.is_(None)))
    if row is None or not row.user.active:
        return None
    return row.user
