"""Idempotency keys: a state-changing API call sent twice (a tablet retrying after a dropped
connection) is applied once.

A signed-in client may send `Idempotency-Key: <uuid>` on POST, PUT, PATCH or DELETE under
/api/v1. The first request's answer (status and body) is stored under (key, user) with the
request's fingerprint (method, path, body hash), in the same transaction as the change it
made: a crash leaves both or neither. Then:

- a retry with the same key and the same request gets the stored answer again (with
  `Idempotent-Replayed: true`) and changes nothing;
- the same key with a different request is refused (422, `idempotency_key_reused`);
- two copies at the same moment: the database lets exactly one commit (the unique key, and
  the rows the change locks); the other waits for it, rolls its own work back and answers
  with the winner's stored answer. No "in progress" answer: the client gets the real one.

Only answers below 400 are stored: a refused request rolled back and changed nothing, so a
retry runs again. Anonymous requests ignore the header (a stored answer, such as a new
volunteer's code, must not be readable by whoever guesses a key). Keys are kept for a day
(KEEP), long enough for any retry; older ones are removed as the same user sends new ones.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from apispec import BasePlugin
from flask import Flask, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from dvc.core.clock import wall_now
from dvc.extensions import api, db

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PREFIX = "/api/v1/"
KEY_PATTERN = r"^[!-~]{1,128}$"  # visible ASCII, no spaces: a UUID fits
KEEP = timedelta(hours=24)
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class IdempotencyKey(db.Model):
    """A client's key for one state-changing call and the answer it got."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(7))
    path: Mapped[str] = mapped_column(Text)
    body_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the body and query string
    status: Mapped[int]
    mimetype: Mapped[str] = mapped_column(String(100))
    response: Mapped[str] = mapped_column(Text)
    created_dt: Mapped[datetime]  # wall time: retries happen in real time, even in a drill

    __table_args__ = (
        UniqueConstraint("key", "user_id"),
        Index("ix_idempotency_key_user_created", "user_id", "created_dt"),
    )


@dataclass(frozen=True)
class Fingerprint:
    method: str
    path: str
    body_hash: str

    def matches(self, row: IdempotencyKey) -> bool:
        return (self.method, self.path, self.body_hash) == (row.method, row.path, row.body_hash)


# --- the request's side -------------------------------------------------------------------

def _body_digest() -> str:
    """Hash what the request asks for, so that a faithful retry hashes the same: JSON in a
    canonical form, forms field by field (a browser picks a new multipart boundary each time)."""
    digest = hashlib.sha256(request.query_string + b"\n")
    if request.mimetype in FORM_TYPES:
        # A part may come without a name (None): sort by text (issue 9, found by schemathesis).
        for name, value in sorted(request.form.items(multi=True), key=lambda f: (f[0] or "", f[1])):
            digest.update(f"{name}={value}\n".encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda f: f[0] or ""):
            digest.update(f"{name}:{upload.filename}:".encode())
            digest.update(hashlib.sha256(upload.read()).digest())
            upload.seek(0)
        return digest.hexdigest()
    data = request.get_json(silent=True)  # parsed once per request: Flask keeps it (web.py)
    if data is None:  # not JSON: the bytes as they came
        digest.update(request.get_data(cache=True))
    else:
        digest.update(json.dumps(data, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def _applies() -> bool:
    return (request.method in UNSAFE and request.path.startswith(PREFIX)
            and request.endpoint is not None and HEADER in request.headers
            and current_user.is_authenticated)


def _stored(key: str) -> IdempotencyKey | None:
    return db.session.scalar(select(IdempotencyKey).where(
        IdempotencyKey.key == key, IdempotencyKey.user_id == current_user.id))


def _replay(row: IdempotencyKey):
    response = current_app.response_class(row.response, status=row.status,
                                          mimetype=row.mimetype)
    response.headers[REPLAYED] = "true"
    return response


def _answer_for(row: IdempotencyKey, fingerprint: Fingerprint):
    """The stored answer for a faithful retry, or the refusal of a key reused for another call."""
    from dvc.web import error_response
    if not fingerprint.matches(row):
        return error_response(422, "idempotency_key_reused", _(
            "This Idempotency-Key was already used for a different request. Send a new key "
            "with each new action."), {HEADER: "reused"})
    g.idempotency_replayed = True
    return _replay(row)


def check_key():
    """before_request hook (after access checks): answer a retry from the stored answer."""
    if not _applies():
        return None
    from dvc.web import error_response
    key = request.headers[HEADER]
    if not re.fullmatch(KEY_PATTERN, key):
        return error_response(400, "invalid_idempotency_key", _(
            "The Idempotency-Key must be 1 to 128 visible characters without spaces (a UUID is "
            "best)."), {HEADER: "invalid"})
    fingerprint = Fingerprint(request.method, request.path, _body_digest())
    row = _stored(key)
    if row is not None:
        return _answer_for(row, fingerprint)
    g.idempotency = (key, fingerprint)
    return None


def store_answer(response):
    """after_request hook, run before the commit: keep a successful answer with its change;
    if a twin of this request committed first, undo ours and answer with the twin's."""
    pending = g.pop("idempotency", None)
    if pending is None or g.get("idempotency_replayed"):
        return response
    key, fingerprint = pending
    if response.status_code >= 400:
        db.session.rollback()  # ours changed nothing; a twin may have succeeded meanwhile
        row = _stored(key)
        return _answer_for(row, fingerprint) if row is not None else response
    db.session.flush()  # our own change's errors are ours, not a key conflict
    moment = wall_now()
    db.session.execute(delete(IdempotencyKey).where(
        IdempotencyKey.user_id == current_user.id, IdempotencyKey.created_dt < moment - KEEP))
    db.session.add(IdempotencyKey(
        key=key, user_id=current_user.id, method=fingerprint.method, path=fingerprint.path,
        body_hash=fingerprint.body_hash, status=response.status_code,
        mimetype=response.mimetype or "application/json",
        response="" if response.direct_passthrough else response.get_data(as_text=True),
        created_dt=moment))
    try:
        db.session.flush()
    except IntegrityError:
        # The same key committed by a twin request while we worked: it won, we never happened.
        db.session.rollback()
        row = _stored(key)
        if row is None:  # cannot happen: the conflict means the twin's row is committed
            raise
        return _answer_for(row, fingerprint)
    return response


def forget_keys(before: datetime | None = None) -> int:
    """Remove stored answers older than `before` (all when None); they may hold personal
    data, so a purge of personal data removes them too. Return how many went."""
    query = delete(IdempotencyKey)
    if before is not None:
        query = query.where(IdempotencyKey.created_dt < before)
    return db.session.execute(query).rowcount


# --- the OpenAPI document -----------------------------------------------------------------

class IdempotencyPlugin(BasePlugin):
    """Name the Idempotency-Key header on every state-changing operation under /api/v1."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        if not (path or "").startswith(PREFIX):
            return
        for method, operation in (operations or {}).items():
            if method.upper() in UNSAFE:
                operation.setdefault("parameters", []).append("IdempotencyKey")


def _document(spec) -> None:
    spec.components.parameter("IdempotencyKey", "header", {
        "name": HEADER, "required": False,
        "description": (
            "A new random key (a UUID) for each user action; send the same key again when "
            "retrying after a network error. The first successful answer is stored with the "
            "change; a retry with the same key and request gets it again, marked "
            f"`{REPLAYED}: true`, and changes nothing. The same key with a different "
            "request: 422 `idempotency_key_reused`. Two copies at once: one applies, the "
            "other waits and gets its answer. Keys are per user, kept 24 hours, and ignored "
            "on anonymous requests."),
        "schema": {"type": "string", "pattern": KEY_PATTERN, "minLength": 1,
                   "maxLength": 128}})
    plugin = IdempotencyPlugin()
    plugin.init_spec(spec)
    spec.plugins.append(plugin)


def init_app(app: Flask) -> None:
    """Register the hooks: call after the access check and the commit hook are registered
    (before_request hooks run in order, after_request hooks in reverse: this one runs before
    the commit), and before the API blueprints (so the document names the header)."""
    app.before_request(check_key)
    app.after_request(store_answer)
    _document(api.spec)
