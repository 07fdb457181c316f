"""Districts (地区): the polygons that place needs, sites and shelters, imported per operation."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dvc.extensions import db


class District(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"),
                                              index=True)
    name: Mapped[str] = mapped_column(String(60))
    # GeoJSON geometry in WGS84, as imported (reprojected) from the council's file.
    geometry: Mapped[dict]
    source: Mapped[str] = mapped_column(String(200))
    imported_dt: Mapped[datetime]

    __table_args__ = (UniqueConstraint("operation_id", "name"),)
