"""Equipment (資機材): item types, stock per site, and the ledger of every movement."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dvc.extensions import db

# receive: stock in (delivered, donated); lend / return: to and from a team; lost / broken:
# written off (a team lost it, or brought it back damaged); adjust: a stock count's correction.
KINDS = ("receive", "lend", "return", "lost", "broken", "adjust")
CONDITIONS = ("good", "dirty", "damaged")
# What the desk may answer for an item coming back; damaged and lost never go back on the shelf.
RETURN_CONDITIONS = ("good", "dirty", "damaged", "lost")


class ItemType(db.Model):
    """A kind of equipment in one operation: スコップ, 一輪車, 土のう袋 ..."""

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"),
                                              index=True)
    name: Mapped[str] = mapped_column(String(80))
    unit: Mapped[str] = mapped_column(String(20), default="個")
    # A site's stock is low when it has this many or fewer on the shelf.
    low_stock: Mapped[int] = mapped_column(default=0)
    # One per volunteer (gloves, shovels, boots): a site can send out as many people as it has.
    per_person: Mapped[bool] = mapped_column(default=False)
    created_dt: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("operation_id", "name"),
        CheckConstraint("low_stock >= 0", name="low_stock"),
    )


class Stock(db.Model):
    """What is on the shelf at one site; the CHECK is the last guard against lending air."""

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    item_type_id: Mapped[int] = mapped_column(ForeignKey("item_type.id", ondelete="CASCADE"),
                                              index=True)
    on_hand: Mapped[int] = mapped_column(default=0)

    site = relationship("Site")
    item_type = relationship(ItemType)

    __table_args__ = (
        UniqueConstraint("site_id", "item_type_id"),
        CheckConstraint("on_hand >= 0", name="on_hand"),
    )


class Movement(db.Model):
    """One line of the ledger. `on_hand_change` is what it did to the site's shelf, so the
    sum of a site's lines is its on_hand (an adjustment can go either way; quantity cannot)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"))
    item_type_id: Mapped[int] = mapped_column(ForeignKey("item_type.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"),
                                                index=True)
    kind: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[int]
    on_hand_change: Mapped[int]
    condition: Mapped[str | None] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(80))
    moved_dt: Mapped[datetime]

    item_type = relationship(ItemType)

    __table_args__ = (
        Index("ix_movement_operation_item", "operation_id", "item_type_id"),
        CheckConstraint(f"kind IN {KINDS}", name="kind"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint(f"condition IS NULL OR condition IN {CONDITIONS}", name="condition"),
    )
