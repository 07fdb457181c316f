"""Sites: the main centre and its satellites (サテライト)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dvc.extensions import db

KINDS = ("main", "satellite")
STATUSES = ("open", "paused", "closed")


class Site(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(
        ForeignKey("operation.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10), default="main")
    status: Mapped[str] = mapped_column(String(10), default="open")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # The district its point lies in (spatial join, stored when the point is set).
    district: Mapped[str | None] = mapped_column(String(60))
    # Its service area: the districts whose needs it serves.
    service_districts: Mapped[list] = mapped_column(default=list)
    opens_at: Mapped[str] = mapped_column(String(5), default="09:00")
    closes_at: Mapped[str] = mapped_column(String(5), default="15:00")
    # Volunteers it can take in a day (None: no limit).
    daily_quota: Mapped[int | None]
    staff: Mapped[str | None] = mapped_column(Text)
    opened_dt: Mapped[datetime | None]
    paused_dt: Mapped[datetime | None]
    closed_dt: Mapped[datetime | None]

    operation = relationship("Operation", back_populates="sites")

    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS}", name="kind"),
        CheckConstraint(f"status IN {STATUSES}", name="status"),
        CheckConstraint("daily_quota IS NULL OR daily_quota >= 0", name="daily_quota"),
    )
