"""An operation is one activation of a centre for one disaster, or one drill."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dvc.extensions import db

KINDS = ("real", "drill")
STATUSES = ("open", "closed")


class Operation(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default="real")
    status: Mapped[str] = mapped_column(String(10), default="open")
    prefecture: Mapped[str | None] = mapped_column(String(20))
    municipality: Mapped[str | None] = mapped_column(String(60))
    # The centre's notice to volunteers (shown on every volunteer's own page).
    notice: Mapped[str | None] = mapped_column(Text)
    opened_dt: Mapped[datetime]
    closed_dt: Mapped[datetime | None]

    sites: Mapped[list["Site"]] = relationship(  # noqa: F821
        back_populates="operation", order_by="Site.id")

    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS}", name="kind"),
        CheckConstraint(f"status IN {STATUSES}", name="status"),
    )

    @property
    def is_drill(self) -> bool:
        return self.kind == "drill"

    @property
    def main_site(self):
        return next((s for s in self.sites if s.kind == "main"), None)
