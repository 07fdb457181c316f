"""Staff accounts and API tokens."""
from __future__ import annotations

from datetime import datetime
from functools import cached_property

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dvc.extensions import db

# admin is the head of the centre (センター長) and may do everything.
ROLES = ("admin", "coordinator", "reception", "needs_intake", "equipment", "trainer", "viewer")


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    created_dt: Mapped[datetime]
    last_login_dt: Mapped[datetime | None]
    # Sign-in lockout: wrong passwords in a row, and until when the account waits.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until_dt: Mapped[datetime | None]
    # Each session carries the epoch it began in; "sign out everywhere" bumps it, so every
    # older session (a cookie on a lost tablet) is refused. API tokens are revoked on their own.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (CheckConstraint(f"role IN {ROLES}", name="role"),)

    @property
    def is_active(self) -> bool:
        return self.active

    def locked_at(self, moment: datetime) -> bool:
        """Tell whether the account is waiting out a lockout at `moment`."""
        return self.locked_until_dt is not None and moment < self.locked_until_dt

    def has_role(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles

    @cached_property   # the user is loaded per request: read once per request
    def operation_ids(self) -> frozenset[int] | None:
        """The operations a council's staff may see; None: all (a prefecture's staff)."""
        return self.know_operations(db.session.scalars(db.select(UserOperation.operation_id)
                                                       .where(UserOperation.user_id == self.id)))

    def know_operations(self, ids) -> frozenset[int] | None:
        """Set `operation_ids` from ids read with the user (None entries: an outer join that
        found none), so a request's sign-in costs one query, not two."""
        self.__dict__["operation_ids"] = frozenset(i for i in ids if i is not None) or None
        return self.operation_ids


class UserOperation(db.Model):
    """Ties a council's staff account to its own operations (centres) on a shared server."""

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"),
                                              primary_key=True)


class ApiToken(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_dt: Mapped[datetime]
    revoked_dt: Mapped[datetime | None]

    user = relationship(User)
