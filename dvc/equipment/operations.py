"""Item types, stock in, lending to teams and returns: where equipment state changes.

Stock moves only through UPDATEs relative to the row (on_hand = on_hand - :q) guarded in the
WHERE clause, so two desks lending the last shovels at the same moment cannot both win: the
database decides, on SQLite (writes queue at BEGIN IMMEDIATE) and on PostgreSQL (the second
UPDATE waits for the first and re-reads the row). The CHECK (on_hand >= 0) is the backstop.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError

from dvc.core.context import now
from dvc.core.errors import Conflict, Invalid, NotFound
from dvc.core.events import log_event
from dvc.equipment.models import RETURN_CONDITIONS, ItemType, Movement, Stock
from dvc.extensions import db
from dvc.operations.models import Operation
from dvc.sites.models import Site
from dvc.teams.models import ACTIVE, Team

MAX_QUANTITY = 100_000
# The event each ledger line logs, in the past tense like every other event.
EVENTS = {"receive": "equipment.received", "lend": "equipment.lent",
          "return": "equipment.returned", "lost": "equipment.lost",
          "broken": "equipment.broken", "adjust": "equipment.adjusted"}


@dataclass(frozen=True)
class StockLevel:
    """One site's shelf for one item type, and how many of it are out with teams."""

    site_id: int
    site_name: str
    item_type_id: int
    name: str
    unit: str
    on_hand: int
    out: int
    low_stock: int

    @property
    def low(self) -> bool:
        return self.on_hand <= self.low_stock


@dataclass(frozen=True)
class Outstanding:
    """What a team took of one item type and what came back."""

    item_type_id: int
    name: str
    unit: str
    lent: int
    returned: int
    lost: int
    broken: int

    @property
    def outstanding(self) -> int:
        return self.lent - self.returned - self.lost - self.broken

    @property
    def quantity(self) -> int:
        """What the team holds now (the dispatch sheet prints this)."""
        return self.outstanding


# --- item types ---------------------------------------------------------------------------

def add_item_type(operation: Operation, name: str, *, unit: str = "個", low_stock: int = 0,
                  per_person: bool = False, actor: str) -> ItemType:
    """Add a kind of equipment to the operation's list."""
    name, unit = (name or "").strip(), (unit or "").strip()
    fields = {}
    if not name:
        fields["name"] = _("Enter a name.")
    if not unit:
        fields["unit"] = _("Enter a unit (本, 台, 枚 ...).")
    if low_stock is None or low_stock < 0:
        fields["low_stock"] = _("Enter zero or more.")
    if fields:
        raise Invalid(_("Some answers need fixing."), fields=fields)
    item_type = ItemType(operation_id=operation.id, name=name, unit=unit, low_stock=low_stock,
                         per_person=per_person, created_dt=now())
    try:
        with db.session.begin_nested():
            db.session.add(item_type)
            db.session.flush()
    except IntegrityError:
        raise Invalid(_("This item is already on the list."),
                      fields={"name": _("This item is already on the list.")}) from None
    log_event("equipment.item_type_added", actor=actor, operation_id=operation.id,
              subject=item_type, payload={"name": name, "unit": unit, "low_stock": low_stock})
    return item_type


def item_types(operation: Operation) -> list[ItemType]:
    return list(db.session.scalars(select(ItemType).where(
        ItemType.operation_id == operation.id).order_by(ItemType.id)))


def get_item_type(operation_id: int, item_type_id: int) -> ItemType:
    """Return the operation's item type or raise NotFound."""
    item_type = db.session.get(ItemType, item_type_id)
    if item_type is None or item_type.operation_id != operation_id:
        raise NotFound(_("No such item."), code="unknown_item_type",
                       data={"item_type_id": item_type_id})
    return item_type


def get_site(operation: Operation, site_id: int) -> Site:
    site = db.session.get(Site, site_id)
    if site is None or site.operation_id != operation.id:
        raise NotFound(_("No such site."), code="unknown_site")
    return site


# --- stock --------------------------------------------------------------------------------

def _check_quantity(quantity) -> None:
    if not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise Invalid(_("Enter a quantity of at least 1."),
                      fields={"quantity": _("Enter a quantity of at least 1.")})


def _stock_row(site_id: int, item_type_id: int) -> Stock:
    """Return the shelf row, creating an empty one (another desk may create it at once)."""
    query = select(Stock).where(Stock.site_id == site_id, Stock.item_type_id == item_type_id)
    stock = db.session.scalar(query)
    if stock is not None:
        return stock
    try:
        with db.session.begin_nested():
            stock = Stock(site_id=site_id, item_type_id=item_type_id, on_hand=0)
            db.session.add(stock)
            db.session.flush()
        return stock
    except IntegrityError:
        return db.session.scalar(query)


def _record(item_type: ItemType, site_id: int, kind: str, quantity: int, change: int, *,
            actor: str, team: Team | None = None, condition: str | None = None,
            note: str | None = None) -> Movement:
    movement = Movement(operation_id=item_type.operation_id, item_type_id=item_type.id,
                        site_id=site_id, team_id=team.id if team else None, kind=kind,
                        quantity=quantity, on_hand_change=change, condition=condition,
                        note=(note or "").strip() or None, actor=actor, moved_dt=now())
    db.session.add(movement)
    db.session.flush()
    log_event(EVENTS[kind], actor=actor, operation_id=item_type.operation_id,
              subject=team or item_type,
              payload={"movement_id": movement.id, "item_type_id": item_type.id,
                       "item": item_type.name, "site_id": site_id, "quantity": quantity,
                       "team_id": movement.team_id, "condition": condition})
    return movement


def _add_to_shelf(stock: Stock, quantity: int) -> None:
    db.session.execute(update(Stock).where(Stock.id == stock.id)
                       .values(on_hand=Stock.on_hand + quantity)
                       .execution_options(synchronize_session=False))
    db.session.expire(stock, ["on_hand"])


def _take_from_shelf(stock: Stock, item_type: ItemType, quantity: int) -> None:
    """Take `quantity` off the shelf in one guarded UPDATE, or refuse with what is there."""
    taken = db.session.execute(update(Stock).where(Stock.id == stock.id,
                                                   Stock.on_hand >= quantity)
                               .values(on_hand=Stock.on_hand - quantity)
                               .execution_options(synchronize_session=False))
    db.session.expire(stock, ["on_hand"])
    if taken.rowcount != 1:
        available = stock.on_hand
        raise Conflict(_("Not enough %(item)s: %(available)s %(unit)s on the shelf.",
                         item=item_type.name, available=available, unit=item_type.unit),
                       code="insufficient_stock",
                       fields={"quantity": _("Only %(available)s left.", available=available)},
                       data={"item_type_id": item_type.id, "site_id": stock.site_id,
                             "requested": quantity, "available": available})


def receive_stock(site: Site, item_type: ItemType, quantity: int, *, actor: str,
                  note: str | None = None) -> Movement:
    """Put equipment on a site's shelf (delivered, donated, moved in from another site)."""
    if site.operation_id != item_type.operation_id:
        raise NotFound(_("No such item."), code="unknown_item_type")
    _check_quantity(quantity)
    _add_to_shelf(_stock_row(site.id, item_type.id), quantity)
    return _record(item_type, site.id, "receive", quantity, quantity, actor=actor, note=note)


def adjust_stock(site: Site, item_type: ItemType, counted: int, *, actor: str,
                 note: str | None = None) -> Movement | None:
    """Set the shelf to what a stock count found (棚卸); the difference goes to the ledger."""
    if site.operation_id != item_type.operation_id:
        raise NotFound(_("No such item."), code="unknown_item_type")
    if not isinstance(counted, int) or not 0 <= counted <= MAX_QUANTITY:
        raise Invalid(_("Enter zero or more."), fields={"on_hand": _("Enter zero or more.")})
    stock = _stock_row(site.id, item_type.id)
    db.session.refresh(stock, with_for_update=True)  # nobody lends while we count
    change = counted - stock.on_hand
    if change == 0:
        return None
    stock.on_hand = counted
    return _record(item_type, site.id, "adjust", abs(change), change, actor=actor, note=note)


def stock_levels(operation: Operation, *, site_id: int | None = None) -> list[StockLevel]:
    """Every shelf of the operation, with how many are out with teams and whether it is low."""
    out = (select(Movement.site_id, Movement.item_type_id,
                  func.sum(case((Movement.kind == "lend", Movement.quantity),
                                else_=-Movement.quantity)).label("out"))
           .where(Movement.operation_id == operation.id, Movement.team_id.is_not(None))
           .group_by(Movement.site_id, Movement.item_type_id).subquery())
    query = (select(Stock.site_id, Site.name, ItemType.id, ItemType.name, ItemType.unit,
                    Stock.on_hand, func.coalesce(out.c.out, 0), ItemType.low_stock)
             .join(Site, Site.id == Stock.site_id)
             .join(ItemType, ItemType.id == Stock.item_type_id)
             .outerjoin(out, (out.c.site_id == Stock.site_id)
                        & (out.c.item_type_id == Stock.item_type_id))
             .where(ItemType.operation_id == operation.id)
             .order_by(Site.id, ItemType.id))
    if site_id is not None:
        query = query.where(Stock.site_id == site_id)
    return [StockLevel(*row) for row in db.session.execute(query)]


def low_stock(operation: Operation) -> list[StockLevel]:
    """Shelves at or below their item's threshold: the desk and the map show these."""
    return [level for level in stock_levels(operation) if level.low]


# --- teams --------------------------------------------------------------------------------

def _lock(team: Team) -> None:
    """Serialise equipment changes of one team (re-reading its status), so two desks cannot
    both accept the same returned shovels."""
    db.session.refresh(team, with_for_update=True)


def _same_operation(team: Team, item_type: ItemType) -> None:
    if team.operation_id != item_type.operation_id:
        raise NotFound(_("No such item."), code="unknown_item_type",
                       data={"item_type_id": item_type.id})


def lend_to_team(team: Team, item_type: ItemType, quantity: int, *, actor: str) -> Movement:
    """Lend equipment from the team's site to a team that is formed or in the field."""
    _same_operation(team, item_type)
    _check_quantity(quantity)
    _lock(team)
    if team.status not in ACTIVE:
        raise Conflict(_("Equipment is lent only to a team that is formed or in the field "
                         "(this one is %(status)s).", status=team.status),
                       code="invalid_team_state", data={"status": team.status})
    _take_from_shelf(_stock_row(team.site_id, item_type.id), item_type, quantity)
    return _record(item_type, team.site_id, "lend", quantity, -quantity, actor=actor, team=team)


def return_from_team(team: Team, item_type: ItemType, quantity: int, condition: str, *,
                     actor: str) -> Movement:
    """Take equipment back from a team; damaged or lost items are written off, not shelved."""
    _same_operation(team, item_type)
    _check_quantity(quantity)
    if condition not in RETURN_CONDITIONS:
        raise Invalid(_("Choose the condition."), fields={"condition": "choice"})
    _lock(team)
    _check_outstanding(team, item_type, quantity)
    if condition == "lost":
        return _record(item_type, team.site_id, "lost", quantity, 0, actor=actor, team=team)
    if condition == "damaged":
        return _record(item_type, team.site_id, "broken", quantity, 0, actor=actor, team=team,
                       condition="damaged")
    _add_to_shelf(_stock_row(team.site_id, item_type.id), quantity)
    return _record(item_type, team.site_id, "return", quantity, quantity, actor=actor,
                   team=team, condition=condition)


def _check_outstanding(team: Team, item_type: ItemType, returning: int) -> None:
    outstanding = _outstanding_of(team, item_type.id)
    if returning > outstanding:
        raise Conflict(_("This team has only %(n)s %(unit)s of %(item)s out.",
                         n=outstanding, unit=item_type.unit, item=item_type.name),
                       code="return_exceeds_outstanding",
                       fields={"quantity": _("At most %(n)s.", n=outstanding)},
                       data={"item_type_id": item_type.id, "returning": returning,
                             "outstanding": outstanding})


def _merged(lines: list[dict], *keys: str) -> list[tuple]:
    """Add up lines for the same item (and condition), in item order: one lock order for all."""
    totals: dict[tuple, int] = {}
    for line in lines:
        key = tuple(line[k] for k in keys)
        totals[key] = totals.get(key, 0) + line["quantity"]
    return sorted((*key, quantity) for key, quantity in totals.items())


def lend_items(team: Team, lines: list[dict], *, actor: str) -> list[Movement]:
    """Lend several items at once; all or nothing (the request rolls back on a refusal)."""
    return [lend_to_team(team, get_item_type(team.operation_id, item_type_id), quantity,
                         actor=actor)
            for item_type_id, quantity in _merged(lines, "item_type_id")]


def return_items(team: Team, lines: list[dict], *, actor: str) -> list[Movement]:
    """Take several items back at once, each with its condition; all or nothing."""
    _lock(team)
    for item_type_id, quantity in _merged(lines, "item_type_id"):
        # The whole return of an item against what is out, before any line is written.
        _check_outstanding(team, get_item_type(team.operation_id, item_type_id), quantity)
    return [return_from_team(team, get_item_type(team.operation_id, item_type_id), quantity,
                             condition, actor=actor)
            for item_type_id, condition, quantity in _merged(lines, "item_type_id", "condition")]


def _team_sums(team_ids):
    return db.session.execute(
        select(Movement.team_id, Movement.item_type_id, Movement.kind, func.sum(Movement.quantity))
        .where(Movement.team_id.in_(team_ids))
        .group_by(Movement.team_id, Movement.item_type_id, Movement.kind)).all()


def _outstanding_of(team: Team, item_type_id: int) -> int:
    rows = [r for r in _team_sums([team.id]) if r[1] == item_type_id]
    sums = {kind: total for _team, _item, kind, total in rows}
    return sums.get("lend", 0) - sums.get("return", 0) - sums.get("lost", 0) \
        - sums.get("broken", 0)


def outstanding_by_team(team_ids) -> dict[int, list[Outstanding]]:
    """What each team has had, item by item (every item it ever had, even all returned)."""
    team_ids = list(team_ids)
    if not team_ids:
        return {}
    sums: dict[tuple[int, int], dict[str, int]] = {}
    for team_id, item_type_id, kind, total in _team_sums(team_ids):
        sums.setdefault((team_id, item_type_id), {})[kind] = int(total)
    types = {t.id: t for t in db.session.scalars(select(ItemType).where(
        ItemType.id.in_({item for _team, item in sums})))}
    result: dict[int, list[Outstanding]] = {team_id: [] for team_id in team_ids}
    for (team_id, item_type_id), by_kind in sorted(sums.items()):
        item = types[item_type_id]
        result[team_id].append(Outstanding(
            item_type_id, item.name, item.unit, by_kind.get("lend", 0),
            by_kind.get("return", 0), by_kind.get("lost", 0), by_kind.get("broken", 0)))
    return result


def outstanding_for_team(team: Team) -> list[Outstanding]:
    """What the team has had, item by item: lent minus returned, lost and broken."""
    return outstanding_by_team([team.id])[team.id]


def teams_at_desk(operation: Operation) -> list[Team]:
    """Teams the equipment desk deals with: formed or out, and any still holding equipment."""
    holding = (select(Movement.team_id).where(Movement.operation_id == operation.id,
                                              Movement.team_id.is_not(None))
               .group_by(Movement.team_id)
               .having(func.sum(case((Movement.kind == "lend", Movement.quantity),
                                     else_=-Movement.quantity)) > 0))
    return list(db.session.scalars(select(Team).where(
        Team.operation_id == operation.id,
        Team.status.in_(ACTIVE) | Team.id.in_(holding)).order_by(Team.id)))
