"""Shelters (避難所) and welfare shelters (福祉避難所) an operation keeps track of."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dvc.districts.shelters import CARE_TYPES  # noqa: F401  (the one list, pure side)
from dvc.districts.shelters import SHELTER_KINDS as KINDS
from dvc.districts.shelters import SHELTER_STATUSES as STATUSES
from dvc.extensions import db

# designated: 指定福祉避難所; agreement: opened under an agreement (協定) with a care home.
DESIGNATIONS = ("designated", "agreement")


class Shelter(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"),
                                              index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10), default="welfare")
    designation: Mapped[str] = mapped_column(String(12), default="designated")
    status: Mapped[str] = mapped_column(String(10), default="not_open")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    district: Mapped[str | None] = mapped_column(String(60))
    address: Mapped[str | None] = mapped_column(String(300))
    capacity: Mapped[int]
    care_types: Mapped[list] = mapped_column(default=list)
    carers_allowed: Mapped[bool] = mapped_column(default=True)
    contact: Mapped[str | None] = mapped_column(String(200))
    # People staying now, by care type; every change is also an event (occupancy over time).
    occupancy: Mapped[dict] = mapped_column(default=dict)
    status_dt: Mapped[datetime]
    updated_dt: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS}", name="kind"),
        CheckConstraint(f"designation IN {DESIGNATIONS}", name="designation"),
        CheckConstraint(f"status IN {STATUSES}", name="status"),
        CheckConstraint("capacity >= 0", name="capacity"),
    )

    @property
    def occupied(self) -> int:
        return sum(self.occupancy.values())

    @property
    def free(self) -> int:
        return max(self.capacity - self.occupied, 0)
