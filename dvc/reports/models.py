"""The head of the centre's notes for a day's report (日報の所感・連絡事項)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dvc.extensions import db


class DailyNote(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text, default="")
    updated_dt: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80))

    __table_args__ = (UniqueConstraint("operation_id", "day"),)
