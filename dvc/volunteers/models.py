"""Volunteers, their groups and codes, and each day's check-in (受付)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dvc.extensions import db

VEHICLES = ("none", "car", "light_truck")
# home: enrolled at the home council; centre: enrolled at this centre; none: not yet.
INSURANCE = ("home", "centre", "none")
REGISTERED_VIA = ("pre", "walk_in", "staff")
CHECKIN_METHODS = ("scan", "camera", "search", "self", "group")


class VolunteerGroup(db.Model):
    """A group (団体) that registered together and stays together."""

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"),
                                              index=True)
    name: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    member_names: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (CheckConstraint("size >= 1", name="size"),)


class Volunteer(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"),
                                              index=True)
    name: Mapped[str] = mapped_column(String(120))
    kana: Mapped[str] = mapped_column(String(120))
    # Normalised keys that make a second registration of the same person impossible.
    name_key: Mapped[str] = mapped_column(String(260))
    phone: Mapped[str] = mapped_column(String(30))
    phone_key: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))
    prefecture: Mapped[str] = mapped_column(String(10))
    municipality: Mapped[str] = mapped_column(String(60))
    birth_year: Mapped[int]
    emergency_name: Mapped[str] = mapped_column(String(120))
    emergency_phone: Mapped[str] = mapped_column(String(30))
    skills: Mapped[list] = mapped_column(default=list)
    vehicle: Mapped[str] = mapped_column(String(12), default="none")
    insurance: Mapped[str] = mapped_column(String(8), default="none")
    insurance_council: Mapped[str | None] = mapped_column(String(120))
    insurance_date: Mapped[date | None] = mapped_column(Date)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_group.id"), index=True)
    registered_via: Mapped[str] = mapped_column(String(8), default="pre")
    language: Mapped[str] = mapped_column(String(8), default="ja")
    consent_dt: Mapped[datetime]
    created_dt: Mapped[datetime]

    group = relationship(VolunteerGroup)
    operation = relationship("Operation")

    __table_args__ = (
        UniqueConstraint("operation_id", "phone_key"),
        UniqueConstraint("operation_id", "name_key", "birth_year"),
        CheckConstraint(f"vehicle IN {VEHICLES}", name="vehicle"),
        CheckConstraint(f"insurance IN {INSURANCE}", name="insurance"),
        CheckConstraint(f"registered_via IN {REGISTERED_VIA}", name="registered_via"),
    )

    @property
    def number(self) -> str:
        """The registration number printed on name tags and read out at reception."""
        return f"{self.id:05d}"


class VolunteerCode(db.Model):
    """A volunteer's QR code, kept only as a hash; reissuing revokes the previous one."""

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"),
                                              index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_dt: Mapped[datetime]
    revoked_dt: Mapped[datetime | None]

    volunteer = relationship(Volunteer)


class CheckIn(db.Model):
    """One volunteer's arrival on one service day; the unique key makes a double scan harmless."""

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"),
                                              index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    day: Mapped[date] = mapped_column(Date)
    checked_in_dt: Mapped[datetime]
    # People this check-in stands for: 1, or a group's members who came today.
    headcount: Mapped[int] = mapped_column(default=1)
    health: Mapped[dict] = mapped_column(default=dict)
    insurance_enrolled_now: Mapped[bool] = mapped_column(default=False)
    method: Mapped[str] = mapped_column(String(8))
    actor: Mapped[str] = mapped_column(String(80))

    volunteer = relationship(Volunteer)
    site = relationship("Site")

    __table_args__ = (
        UniqueConstraint("volunteer_id", "day"),
        CheckConstraint("headcount >= 1", name="headcount"),
        CheckConstraint(f"method IN {CHECKIN_METHODS}", name="method"),
    )
