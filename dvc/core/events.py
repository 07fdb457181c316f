"""The one event log: every state change appends a row here.

The log is the audit trail, the source of daily statistics and drill metrics, and what a
recorded day is replayed from. The row id is the sequence: it is monotonic per database, so
it orders events within an operation without a per-operation counter that would race.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dvc.core.clock import wall_now
from dvc.core.context import now
from dvc.extensions import db


class Event(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"))
    scenario_dt: Mapped[datetime]
    wall_dt: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[int | None]
    payload: Mapped[dict] = mapped_column(default=dict)

    __table_args__ = (
        Index("ix_event_operation_kind", "operation_id", "kind"),
        Index("ix_event_subject", "subject_type", "subject_id"),
    )


def log_event(kind: str, *, actor: str, operation_id: int | None = None, subject=None,
              payload: dict | None = None) -> Event:
    """Append one event for a state change made in the current transaction."""
    event = Event(
        operation_id=operation_id,
        scenario_dt=now(),
        wall_dt=wall_now(),
        actor=actor,
        kind=kind,
        subject_type=type(subject).__name__.lower() if subject is not None else None,
        subject_id=getattr(subject, "id", None),
        payload=payload or {},
    )
    db.session.add(event)
    return event
