"""Issue fallback packs and recognise their codes when the paper comes back.

A pack is one event (fallback.pack_issued) holding the serial ranges it printed, so serials
never repeat within an operation and a pack can be printed again identically; the codes
themselves are derived from the secret key (dvc/core/codes.py, numbers.py), not stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from dvc.core import codes
from dvc.core.errors import Conflict, Invalid, NotFound
from dvc.core.events import Event, log_event
from dvc.extensions import db
from dvc.fallback import numbers
from dvc.operations.models import Operation
from dvc.volunteers.models import VolunteerCode

PACK_ISSUED = "fallback.pack_issued"
KINDS = ("volunteers", "needs", "dispatch")
MAX_PER_KIND = 300


@dataclass(frozen=True)
class Pack:
    id: int
    issued_dt: datetime
    actor: str
    ranges: dict[str, tuple[int, int]]  # kind -> (first serial, count)

    def serials(self, kind: str) -> range:
        first, count = self.ranges.get(kind, (1, 0))
        return range(first, first + count)

    @property
    def size(self) -> int:
        return sum(count for _first, count in self.ranges.values())


@dataclass(frozen=True)
class PaperCode:
    """What a scanned code from a fallback pack is."""

    kind: str                 # "volunteer", "need" or "dispatch"
    serial: int
    text: str                 # the normalised code or the form number's label
    volunteer_id: int | None = None  # a pre-printed volunteer code already registered


def _pack(event: Event) -> Pack:
    ranges = {k: (int(v[0]), int(v[1])) for k, v in (event.payload or {}).items()
              if k in KINDS}
    return Pack(event.id, event.wall_dt, event.actor, ranges)


def list_packs(operation: Operation) -> list[Pack]:
    """Return the operation's packs, oldest first."""
    rows = db.session.scalars(select(Event).where(
        Event.operation_id == operation.id, Event.kind == PACK_ISSUED).order_by(Event.id))
    return [_pack(e) for e in rows]


def get_pack(operation: Operation, pack_id: int) -> Pack:
    """Return one of the operation's packs, or raise NotFound."""
    event = db.session.get(Event, pack_id)
    if event is None or event.operation_id != operation.id or event.kind != PACK_ISSUED:
        raise NotFound(_("No such fallback pack."), code="unknown_pack")
    return _pack(event)


def issue_pack(operation: Operation, counts: dict[str, int], *, actor: str) -> Pack:
    """Reserve the next serials of each kind for a new pack and record it."""
    if operation.status != "open":
        raise Conflict(_("This operation is closed."), code="operation_closed")
    counts = {k: int(counts.get(k) or 0) for k in KINDS}
    bad = {k: "range" for k in KINDS if not 0 <= counts[k] <= MAX_PER_KIND}
    if bad:
        raise Invalid(_("Print between 0 and %(n)s of each form.", n=MAX_PER_KIND), fields=bad)
    if not any(counts.values()):
        raise Invalid(_("Choose how many forms to print."), fields={k: "required" for k in KINDS})
    # Two desks printing at once must not get the same serials: hold the operation's row.
    db.session.execute(select(Operation.id).where(Operation.id == operation.id)
                       .with_for_update())
    packs = list_packs(operation)
    next_serial = {k: max((p.serials(k).stop for p in packs), default=1) for k in KINDS}
    limit = {"volunteers": codes.MAX_SERIAL, "needs": numbers.MAX_SERIAL,
             "dispatch": numbers.MAX_SERIAL}
    ranges = {k: [next_serial[k], counts[k]] for k in KINDS}
    if any(first + count - 1 > limit[k] for k, (first, count) in ranges.items()):
        raise Conflict(_("No more pre-printed numbers are left for this operation."),
                       code="serials_exhausted")
    event = log_event(PACK_ISSUED, actor=actor, operation_id=operation.id, payload=ranges)
    db.session.flush()
    return _pack(event)


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def volunteer_codes(operation: Operation, pack: Pack) -> list[tuple[int, str]]:
    """Return the pack's pre-printed volunteer codes as (serial, code)."""
    return [(s, codes.preprinted_token(_secret(), operation.id, s))
            for s in pack.serials("volunteers")]


def form_numbers(operation: Operation, pack: Pack, kind: str) -> list[numbers.FormNumber]:
    """Return the pack's need form ("needs") or dispatch sheet ("dispatch") numbers."""
    single = {"needs": "need", "dispatch": "dispatch"}[kind]
    return [numbers.form_number(_secret(), operation.id, single, s) for s in pack.serials(kind)]


def _damaged() -> Invalid:
    return Invalid(_("This code is damaged or mistyped, or belongs to another operation. "
                     "Check it against the paper."), code="code_damaged",
                   fields={"code": "checksum"})


def identify(operation: Operation, text: str) -> PaperCode:
    """Tell what a code scanned from returned paper is, or say clearly why it is none."""
    try:
        token = codes.normalize(text)
    except codes.CodeError as err:
        if err.reason == "checksum":
            raise _damaged() from None
        token = None
    if token is not None:
        serial = codes.preprinted_serial(_secret(), operation.id, token)
        if serial is None:
            raise Invalid(_("This is not a pre-printed code of this centre."),
                          code="not_preprinted", fields={"code": "unknown"})
        row = db.session.scalar(select(VolunteerCode).where(
            VolunteerCode.code_hash == codes.token_hash(token)))
        return PaperCode("volunteer", serial, token, row.volunteer_id if row else None)
    try:
        number = numbers.read_number(_secret(), operation.id, text)
    except numbers.NumberError as err:
        if err.reason == "checksum":
            raise _damaged() from None
        raise Invalid(_("This is not a code from a fallback pack."), code="code_malformed",
                      fields={"code": err.reason}) from None
    return PaperCode(number.kind, number.serial, number.label)
