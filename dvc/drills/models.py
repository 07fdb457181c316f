"""A drill (訓練) running in the app: an operation of kind `drill` with its own virtual clock.

The scenario's text is kept with the drill, so a drill replays the same way even after the file
in drills/ changed or was deleted. The clock is saved as an anchor (the scenario time it read
at a moment of the app's own clock) and rebuilt on every request.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dvc.extensions import db

STATUSES = ("ready", "running", "paused", "ended")
MIN_SPEED, MAX_SPEED = 1.0, 600.0


class Drill(db.Model):
    operation_id: Mapped[int] = mapped_column(
        ForeignKey("operation.id", ondelete="CASCADE"), primary_key=True)
    scenario_id: Mapped[str] = mapped_column(String(80))
    scenario_text: Mapped[str] = mapped_column(Text)
    seed: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default="ready")
    speed: Mapped[float] = mapped_column(Float)
    # The clock read anchor_scenario_dt when the app's own clock read anchor_base_dt.
    anchor_scenario_dt: Mapped[datetime]
    anchor_base_dt: Mapped[datetime]
    # Everything scheduled up to this scenario time has been delivered (None: nothing yet).
    delivered_until_dt: Mapped[datetime | None]
    # A replay of a recorded operation; from live_from_dt on (a fork) trainees play live.
    source_operation_id: Mapped[int | None] = mapped_column(
        ForeignKey("operation.id", ondelete="SET NULL"))
    live_from_dt: Mapped[datetime | None]
    # Sites without power now (a site_power_loss inject): their screens refuse changes.
    power_out: Mapped[list] = mapped_column(default=list)
    # The trainer's after-action review: {"ratings": {objective: {"rating", "note"}},
    # "strengths": str, "improvements": str, "plan": [{"action", "owner", "due"}]}.
    review: Mapped[dict] = mapped_column(default=dict)
    created_dt: Mapped[datetime]

    operation: Mapped["Operation"] = relationship(  # noqa: F821
        foreign_keys=[operation_id])

    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES}", name="status"),
        CheckConstraint(f"speed >= {MIN_SPEED} AND speed <= {MAX_SPEED}", name="speed"),
    )

    @property
    def running(self) -> bool:
        return self.status == "running"


class DrillArrival(db.Model):
    """A drill's fictional volunteer and their code: once arrived, they wait in the drill's
    reception queue until someone checks them in. Codes are kept in clear only for drills
    (the people are fictional), so the queue can show them to be scanned."""

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"))
    person_ref: Mapped[str] = mapped_column(String(20))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"))
    arrived_dt: Mapped[datetime | None]

    volunteer: Mapped["Volunteer"] = relationship()  # noqa: F821

    __table_args__ = (UniqueConstraint("operation_id", "person_ref"),
                      Index("ix_drill_arrival_queue", "operation_id", "arrived_dt"))
