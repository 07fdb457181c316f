"""Teams (グループ) sent to a need, their members, activity reports and incidents."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dvc.extensions import db

STATUSES = ("formed", "dispatched", "on_site", "finished", "returned", "disbanded")
IN_FIELD = ("dispatched", "on_site", "finished")
ACTIVE = ("formed", *IN_FIELD)
TRANSPORT = ("walk", "own_vehicle", "shuttle", "centre_vehicle")
OUTCOMES = ("completed", "continuing")
INCIDENT_KINDS = ("injury", "near_miss")
SEVERITIES = ("minor", "treated", "hospital")


class Team(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"))
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    day: Mapped[date] = mapped_column(Date)
    leader_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id"))
    status: Mapped[str] = mapped_column(String(10), default="formed")
    transport: Mapped[str | None] = mapped_column(String(16))
    formed_dt: Mapped[datetime]
    due_back_dt: Mapped[datetime]
    dispatched_dt: Mapped[datetime | None]
    arrived_dt: Mapped[datetime | None]
    finished_dt: Mapped[datetime | None]
    returned_dt: Mapped[datetime | None]
    recalled_dt: Mapped[datetime | None]

    need = relationship("Need")
    site = relationship("Site")
    leader = relationship("Volunteer")
    members: Mapped[list["TeamMember"]] = relationship(back_populates="team",
                                                       order_by="TeamMember.id")
    report: Mapped["ActivityReport | None"] = relationship(back_populates="team")

    __table_args__ = (
        Index("ix_team_operation_day", "operation_id", "day"),
        CheckConstraint(f"status IN {STATUSES}", name="status"),
    )

    @property
    def number(self) -> str:
        return f"T{self.id:04d}"

    @property
    def headcount(self) -> int:
        return sum(m.headcount for m in self.members)

    @property
    def in_field(self) -> bool:
        return self.status in IN_FIELD


class TeamMember(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id"))
    headcount: Mapped[int] = mapped_column(default=1)
    # True while the team is formed or out: the partial unique index below is what makes
    # "one active team per volunteer" hold when two coordinators assign at the same moment.
    active: Mapped[bool] = mapped_column(default=True)

    team = relationship(Team, back_populates="members")
    volunteer = relationship("Volunteer")

    __table_args__ = (
        Index("uq_team_member_active_volunteer", "volunteer_id", unique=True,
              sqlite_where=text("active"), postgresql_where=text("active")),
    )


class ActivityReport(db.Model):
    """The leader's report (活動報告): completed, or continuing with what is left."""

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), unique=True)
    outcome: Mapped[str] = mapped_column(String(10))
    remaining_work: Mapped[str | None] = mapped_column(Text)
    people_next: Mapped[int | None]
    requester_situation: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(String(80))
    reported_dt: Mapped[datetime]

    team = relationship(Team, back_populates="report")

    __table_args__ = (CheckConstraint(f"outcome IN {OUTCOMES}", name="outcome"),)


class Incident(db.Model):
    """An injury or near-miss (ヒヤリハット), listed for the head of the centre."""

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"),
                                              index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer.id"))
    kind: Mapped[str] = mapped_column(String(10))
    severity: Mapped[str] = mapped_column(String(10), default="minor")
    description: Mapped[str] = mapped_column(Text)
    reported_dt: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80))

    team = relationship(Team)
    volunteer = relationship("Volunteer")

    __table_args__ = (CheckConstraint(f"kind IN {INCIDENT_KINDS}", name="kind"),
                      CheckConstraint(f"severity IN {SEVERITIES}", name="severity"))
