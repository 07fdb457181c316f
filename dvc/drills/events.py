"""Events as the drill engine and metrics see them, and matching an expected action.

The app passes its event rows (dvc/core/events.Event) or plain dicts; `as_event` turns either
into a `DrillEvent` by duck typing, so nothing here imports the model. A subject is written
"type:id" ("team:12"), as `log_event` names it (the model class name in lower case).
"""
from __future__ import annotations

from bisect import bisect_left
from collections import abc, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Mapping

Refs = Mapping[str, Mapping[object, object]]  # {"site": {"北町サテライト": 3}, ...}

# Events the app logs when it runs a drill (payloads as commented); the engine reads them.
INJECT_DELIVERED = "drill.inject_delivered"        # {"inject": n, "to": [desk, ...]}
INJECT_ACKNOWLEDGED = "drill.inject_acknowledged"  # {"inject": n, "desk": desk}
INJECT_SKIPPED = "drill.inject_skipped"            # {"inject": n} (the trainer skipped it)
CONTINGENCY_FIRED = "drill.contingency_fired"      # {"inject": n, "because": m}
VOLUNTEER_ARRIVED = "drill.volunteer_arrived"      # {"volunteer_id": id, "key": k, "headcount": h}
SITE_POWER_LOST = "drill.site_power_lost"          # subject site; {"key": k}
SITE_POWER_RESTORED = "drill.site_power_restored"  # subject site; {"key": k}
LEND_REFUSED = "equipment.lend_refused"            # {"site_id", "item_type_id", "item",
#                                                     "requested", "available"}
DRILL_KINDS = (INJECT_DELIVERED, INJECT_ACKNOWLEDGED, INJECT_SKIPPED, CONTINGENCY_FIRED,
               VOLUNTEER_ARRIVED, SITE_POWER_LOST, SITE_POWER_RESTORED, LEND_REFUSED)


# The actor of what the drill engine itself does ("drill", "drill:7"): the needs and
# volunteers an inject creates are not a desk's action, so they never meet an expectation.
ENGINE_ACTOR = "drill"


def by_engine(actor: str | None) -> bool:
    """Tell whether an event was logged by the drill engine rather than by a player."""
    return actor == ENGINE_ACTOR or (actor or "").startswith(ENGINE_ACTOR + ":")


@dataclass(frozen=True)
class DrillEvent:
    kind: str
    at: datetime                 # the event's scenario time (Event.scenario_dt)
    subject: str | None = None   # "team:12"
    payload: Mapping = field(default_factory=dict, hash=False)
    engine: bool = False         # logged by the drill engine (see by_engine)


def as_event(item) -> DrillEvent:
    """Return a DrillEvent from an Event row, a dict or a DrillEvent."""
    if isinstance(item, DrillEvent):
        return item
    get = item.get if isinstance(item, (dict, abc.Mapping)) else \
        (lambda k, d=None: getattr(item, k, d))
    at = get("scenario_dt") or get("at")
    subject = get("subject")
    if subject is None and get("subject_type"):
        subject = f"{get('subject_type')}:{get('subject_id')}"
    return DrillEvent(kind=get("kind"), at=at, subject=subject, payload=get("payload") or {},
                      engine=bool(get("engine")) or by_engine(get("actor")))


def kind_of(item) -> str | None:
    """Return an event's kind without converting it (to filter a long log cheaply)."""
    if isinstance(item, DrillEvent):
        return item.kind
    if isinstance(item, dict):
        return item.get("kind")
    return getattr(item, "kind", None) if not isinstance(item, abc.Mapping) else item.get("kind")


def as_events(items: Iterable) -> list[DrillEvent]:
    """Normalise and order events by scenario time (ties keep the given order: the log's)."""
    return sorted((as_event(i) for i in items), key=lambda e: e.at)


def resolve(value, refs: Refs | None, *, subject: bool = False):
    """Return what a `where` value means: a literal, or the id a reference like
    ("site", "本部") names (for `subject`, "site:3"). Unknown references resolve to None."""
    if not (isinstance(value, tuple) and len(value) == 2):
        return value
    kind, name = value
    if kind in ("desk", "inject"):
        target = (refs or {}).get(kind, {}).get(name, name)
    else:
        target = (refs or {}).get(kind, {}).get(name)
    if target is None:
        return None
    return f"{kind}:{target}" if subject else target


_MISSING = object()


def _compiled(where, refs: Refs | None) -> list[tuple[str, object]]:
    """Resolve a where clause once: (key, wanted); wanted is _MISSING when a reference does
    not resolve (then nothing matches)."""
    out = []
    for key, wanted in where:
        target = resolve(wanted, refs, subject=key == "subject")
        out.append((key, _MISSING if target is None and wanted is not None else target))
    return out


def _fits(event: DrillEvent, clauses) -> bool:
    for key, target in clauses:
        if target is _MISSING:
            return False
        have = event.subject if key == "subject" else event.payload.get(key)
        if isinstance(have, (list, tuple)) and key != "subject":
            if target not in have:
                return False
        elif have != target:
            return False
    return True


def matches(event: DrillEvent, kind: str, where=(), refs: Refs | None = None) -> bool:
    """Tell whether an event is the expected one: same kind, and each `where` field equal
    (or contained, when the event's field is a list); "subject" compares the event's subject."""
    return event.kind == kind and _fits(event, _compiled(where, refs))


def first_match(events: Iterable[DrillEvent], kind: str, where=(), refs: Refs | None = None, *,
                since: datetime | None = None, until: datetime | None = None,
                count: int = 1) -> DrillEvent | None:
    """Return the count-th matching event in [since, until] (events in time order), or None.
    Only players' events match: what the engine logged is never an expected action."""
    clauses = _compiled(where, refs)
    seen = 0
    for event in events:
        if since is not None and event.at < since:
            continue
        if until is not None and event.at > until:
            break
        if event.kind == kind and not event.engine and _fits(event, clauses):
            seen += 1
            if seen == count:
                return event
    return None


class EventIndex:
    """Events grouped by kind in time order, for repeated look-ups over a long log."""

    def __init__(self, events: Iterable[DrillEvent]):
        self.by_kind: dict[str, list[DrillEvent]] = defaultdict(list)
        for event in events:  # already in time order (as_events)
            self.by_kind[event.kind].append(event)
        self.times = {kind: [e.at for e in items] for kind, items in self.by_kind.items()}

    def first(self, kind: str, where=(), refs: Refs | None = None, *,
              since: datetime | None = None, until: datetime | None = None,
              count: int = 1) -> DrillEvent | None:
        """Return the count-th matching event in [since, until], or None."""
        items = self.by_kind.get(kind)
        if not items:
            return None
        start = bisect_left(self.times[kind], since) if since is not None else 0
        return first_match(items[start:] if start else items, kind, where, refs, since=since,
                           until=until, count=count)
