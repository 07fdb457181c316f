"""Needs (ニーズ): survivors' requests for help, their site surveys and photos."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dvc.extensions import db

CATEGORIES = ("mud_removal", "furniture_removal", "tidying", "cleaning", "debris", "transport",
              "companionship", "other")
DAMAGE = ("above_floor", "below_floor", "partial", "none", "unknown")
PRIORITIES = ("urgent", "high", "normal", "low")
SOURCES = ("phone", "walk_in", "outreach", "shelter")
STATUSES = ("received", "survey", "ready", "assigned", "in_progress", "continuing", "completed",
            "on_hold", "cancelled", "referred")
# Where each status may go. Teams drive assigned / in_progress / continuing / completed.
TRANSITIONS = {
    "received": {"survey", "ready", "on_hold", "cancelled", "referred"},
    "survey": {"ready", "on_hold", "cancelled", "referred"},
    "ready": {"assigned", "survey", "on_hold", "cancelled", "referred"},
    "assigned": {"in_progress", "ready", "cancelled"},
    "in_progress": {"continuing", "completed"},
    "continuing": {"assigned", "completed", "on_hold", "cancelled", "referred"},
    "on_hold": {"received", "survey", "ready", "cancelled", "referred"},
    "completed": set(),
    "cancelled": set(),
    "referred": set(),
}
# Statuses staff may set by hand (PATCH); the rest follow from team operations.
MANUAL = {"received", "survey", "ready", "on_hold", "cancelled", "referred"}
OPEN = ("received", "survey", "ready", "assigned", "in_progress", "continuing", "on_hold")
# Waiting for a team: surveyed and ready, or started and continuing.
WAITING = ("ready", "continuing")
DECISIONS = ("ready", "specialist", "on_hold", "cancelled")


class Need(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    requester_name: Mapped[str] = mapped_column(String(120))
    requester_kana: Mapped[str] = mapped_column(String(120), default="")
    name_key: Mapped[str] = mapped_column(String(260))
    phone: Mapped[str | None] = mapped_column(String(30))
    phone2: Mapped[str | None] = mapped_column(String(30))
    phone_key: Mapped[str | None] = mapped_column(String(20), index=True)
    phone2_key: Mapped[str | None] = mapped_column(String(20), index=True)
    address: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    district: Mapped[str | None] = mapped_column(String(60))
    # True when the operation has districts and the point lies outside all of them: a person
    # must check the point (or the district boundaries).
    place_check: Mapped[bool] = mapped_column(default=False)
    shelter_id: Mapped[int | None] = mapped_column(ForeignKey("shelter.id"))
    category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    damage: Mapped[str] = mapped_column(String(12), default="unknown")
    people_min: Mapped[int] = mapped_column(default=1)
    people_max: Mapped[int] = mapped_column(default=5)
    est_hours: Mapped[float | None] = mapped_column(Float)
    skills: Mapped[list] = mapped_column(default=list)
    vehicle_needed: Mapped[bool] = mapped_column(default=False)
    equipment_wanted: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    elderly: Mapped[bool] = mapped_column(default=False)
    disabled: Mapped[bool] = mapped_column(default=False)
    living_alone: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(10), default="phone")
    status: Mapped[str] = mapped_column(String(12), default="received")
    received_dt: Mapped[datetime]
    status_dt: Mapped[datetime]
    referred_to: Mapped[str | None] = mapped_column(String(200))
    # Work left after a "continuing" report, and how many people it needs next time.
    remaining_work: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("need.id"))

    site = relationship("Site")
    shelter = relationship("Shelter")
    surveys: Mapped[list["Survey"]] = relationship(back_populates="need", order_by="Survey.id")
    photos: Mapped[list["NeedPhoto"]] = relationship(back_populates="need", order_by="NeedPhoto.id")

    __table_args__ = (
        Index("ix_need_operation_status", "operation_id", "status"),
        CheckConstraint(f"category IN {CATEGORIES}", name="category"),
        CheckConstraint(f"damage IN {DAMAGE}", name="damage"),
        CheckConstraint(f"priority IN {PRIORITIES}", name="priority"),
        CheckConstraint(f"source IN {SOURCES}", name="source"),
        CheckConstraint(f"status IN {STATUSES}", name="status"),
        CheckConstraint("people_min >= 1 AND people_max >= people_min", name="people"),
    )

    @property
    def number(self) -> str:
        """The need number read out on the phone and printed on dispatch sheets."""
        return f"N{self.id:05d}"

    @property
    def care(self) -> list[str]:
        """Care flags (要配慮者) that are set."""
        return [f for f in ("elderly", "disabled", "living_alone") if getattr(self, f)]


class Survey(db.Model):
    """A site survey (現地調査): is the work safe for general volunteers, and how big is it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id", ondelete="CASCADE"), index=True)
    surveyor: Mapped[str] = mapped_column(String(120))
    surveyed_dt: Mapped[datetime]
    headcount: Mapped[int]
    hours: Mapped[float] = mapped_column(Float)
    tools: Mapped[str | None] = mapped_column(Text)
    hazards: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(12))
    notes: Mapped[str | None] = mapped_column(Text)

    need = relationship(Need, back_populates="surveys")

    __table_args__ = (CheckConstraint(f"decision IN {DECISIONS}", name="decision"),
                      CheckConstraint("headcount >= 1", name="headcount"))


class NeedPhoto(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id", ondelete="CASCADE"), index=True)
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("survey.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(80))
    mimetype: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    uploaded_dt: Mapped[datetime]

    need = relationship(Need, back_populates="photos")
