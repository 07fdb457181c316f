"""The drill replay engine: expand a scenario into timed deliveries, deterministically.

Pure: a Scenario, a seed and an explicit `now` in; values out. The same scenario and seed
give the same schedule in any process: every random draw comes from a `random.Random` seeded
with a string built from the seed and the inject number (string seeds are hashed with SHA-512,
not Python's randomised hash), injects are expanded in number order, and nothing iterates a
set. Changing one inject does not change what the others generate, except for the numbering
of fictional people, which follows the inject order.

The app's loop, on each tick of the drill's virtual clock:

1. `due(schedule, since=last_tick, until=now, fired=fired)`: deliver each item (a message to
   desks, a volunteer arriving, a need request, ...) and log `drill.inject_delivered`;
2. `contingencies(schedule, events, now)`: every contingency that must have fired by `now`;
   deliver (with `fire`) those not delivered yet, and log `drill.contingency_fired`.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator, Union

from dvc.drills import places
from dvc.drills.events import (DrillEvent, EventIndex, Refs, as_events, first_match,
                               kind_of)
from dvc.drills.fictional import (DAMAGE, DESCRIPTIONS, Identities, NeedRequest, Person,
                                  draw_person, household, pick)
from dvc.drills.scenario import (FICTIONAL, Inject, Injury, NeedRequests, RecordedAction,
                                 RecordedDay, Scenario, ShelterSurge, SitePowerLoss,
                                 VolunteerWave, WeatherWarning)

DELIVERY_KINDS = ("message", "volunteer_arrival", "need_request", "injury", "weather_warning",
                  "site_power_loss", "site_power_restored", "shelter_surge", "recorded_action")
ADULT_AGE = 18


@dataclass(frozen=True)
class Arrival:
    """A volunteer (or a group) arriving at a site's reception."""

    person: Person
    site: str
    registered: bool  # pre-registered: comes with a code; else registers at the kiosk


Item = Union[Inject, Arrival, NeedRequest, Injury, WeatherWarning, SitePowerLoss, ShelterSurge,
             RecordedAction]


@dataclass(frozen=True)
class Delivery:
    """One thing to deliver at a scenario time.

    kind "message": `item` is the Inject (to show its message to the desks in `to`; never
    show `item.notes` to players). Other kinds: `item` is what to create or do.
    """

    key: str              # unique and stable: "7", "7/arrival/12", "7/need/3", "7/restored"
    at: datetime
    inject: int
    kind: str
    item: Item
    to: tuple[str, ...] = ()
    order: int = 0        # position within its inject (0: the message)

    @property
    def sort_key(self) -> tuple:
        return (self.at, self.inject, self.order)


@dataclass(frozen=True)
class Fired:
    """A contingency inject that fires because an expected action was missed."""

    number: int       # the contingency inject
    at: datetime      # when it fires: the missed deadline
    because: int      # the inject whose expected action was missed


@dataclass(frozen=True)
class Schedule:
    """A scenario expanded with a seed: the deliveries in time order, and the deliveries of
    each contingency (timed as if fired at the scenario start; `fire` shifts them)."""

    scenario: Scenario
    seed: int
    deliveries: tuple[Delivery, ...]
    contingent: tuple[tuple[int, tuple[Delivery, ...]], ...]
    pre_registered: tuple[Person, ...]       # register these before the drill starts
    districts: tuple[tuple[str, dict], ...]  # (name, GeoJSON geometry) when the engine has them

    def __iter__(self) -> Iterator[Delivery]:
        return iter(self.deliveries)

    def __len__(self) -> int:
        return len(self.deliveries)

    def __getitem__(self, i):
        return self.deliveries[i]

    def contingency(self, number: int) -> tuple[Delivery, ...]:
        return dict(self.contingent)[number]

    def fingerprint(self) -> str:
        """Return a SHA-256 of everything generated: equal schedules, equal fingerprints."""
        digest = hashlib.sha256()
        parts = [("pre", p) for p in self.pre_registered] + [("at", d) for d in self.deliveries]
        parts += [(f"c{n}", d) for n, items in self.contingent for d in items]
        for tag, value in parts:
            digest.update(f"{tag}|{value!r}\n".encode())
        return digest.hexdigest()


# --- expanding ------------------------------------------------------------------------------

def schedule(scenario: Scenario, seed: int | None = None) -> Schedule:
    """Expand every inject into timed deliveries (the scenario's seed unless one is given)."""
    seed = scenario.seed if seed is None else seed
    districts = _districts(scenario)
    shapes = {name: places.District.from_geojson(name, geometry) for name, geometry in districts}
    youngest = scenario.start.year - ADULT_AGE
    people = Identities(youngest)
    pool = _pool(scenario, seed, people, youngest)
    state = _State(pool=list(pool), needs=0)
    scheduled, contingent = [], []
    for inject in sorted(scenario.injects, key=lambda i: i.number):
        at = inject.at if inject.at is not None else scenario.start
        rng = random.Random(f"dvc-drill/{seed}/{inject.number}")
        items = _expand(scenario, inject, at, rng, people, state, shapes, youngest)
        if inject.type == "contingency":
            contingent.append((inject.number, tuple(items)))
        else:
            scheduled.extend(items)
    scheduled.sort(key=lambda d: d.sort_key)
    return Schedule(scenario=scenario, seed=seed, deliveries=tuple(scheduled),
                    contingent=tuple(contingent), pre_registered=pool,
                    districts=tuple(districts))


@dataclass
class _State:
    pool: list[Person]   # pre-registered people not yet arrived, in order
    needs: int           # requesters numbered so far


def _districts(scenario: Scenario) -> list[tuple[str, dict]]:
    value = scenario.initial.districts
    if value is None:
        return []
    if value == FICTIONAL:
        main = scenario.initial.main_site
        return _fictional(main.lat, main.lon)
    if Path(value).suffix.lower() in (".geojson", ".json"):
        return places.read_geojson(value, scenario.initial.district_name_field)
    return []  # another format: the app imports it; points go around the sites


@lru_cache(maxsize=8)
def _fictional_cached(lat: float, lon: float) -> tuple:
    return tuple(places.fictional_districts(lat, lon))


def _fictional(lat: float, lon: float) -> list[tuple[str, dict]]:
    return list(_fictional_cached(lat, lon))


def _pool(scenario: Scenario, seed: int, people: Identities, youngest: int) -> tuple[Person, ...]:
    profile = scenario.initial.volunteers
    rng = random.Random(f"dvc-drill/{seed}/pre-registered")
    prefecture = scenario.initial.operation.prefecture
    return tuple(people.identify(draw_person(rng, prefecture=prefecture, skills=profile.skills,
                                             vehicle_share=profile.vehicle_share,
                                             group_share=profile.group_share,
                                             youngest=youngest))
                 for _ in range(profile.pre_registered))


def _expand(scenario, inject: Inject, at: datetime, rng, people, state, shapes,
            youngest) -> list[Delivery]:
    out = []
    if inject.type != "expected_action":
        out.append(Delivery(key=str(inject.number), at=at, inject=inject.number, kind="message",
                            item=inject, to=inject.to))
    payload = inject.payload
    if payload is None:
        return out

    def add(kind, item, when, suffix, order):
        out.append(Delivery(key=f"{inject.number}/{suffix}", at=when, inject=inject.number,
                            kind=kind, item=item, to=inject.to, order=order))

    if isinstance(payload, VolunteerWave):
        for i, (offset, arrival) in enumerate(_wave(scenario, payload, rng, people, state,
                                                    youngest), start=1):
            add("volunteer_arrival", arrival, at + offset, f"arrival/{i}", i)
    elif isinstance(payload, NeedRequests):
        for i, (offset, need) in enumerate(_needs(scenario, payload, rng, state, shapes),
                                           start=1):
            add("need_request", need, at + offset, f"need/{i}", i)
    elif isinstance(payload, RecordedDay):
        for kind, offset, item, suffix in _recorded(scenario, payload, rng, people, state,
                                                    youngest):
            add(kind, item, at + offset, suffix, len(out))
    elif isinstance(payload, SitePowerLoss):
        add("site_power_loss", payload, at, "power_lost", 1)
        if payload.duration is not None:
            add("site_power_restored", payload, at + payload.duration, "power_restored", 2)
    else:
        add(payload.kind, payload, at, payload.kind, 1)
    return out


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=round(value))


def _wave(scenario, wave: VolunteerWave, rng, people, state, youngest):
    """Yield (offset, Arrival) of a homogeneous Poisson process of arriving parties."""
    site = wave.site or scenario.initial.main_site.name
    per_second = wave.rate / 3600.0
    limit = wave.duration.total_seconds()
    t = 0.0
    prefecture = scenario.initial.operation.prefecture
    while True:
        t += rng.expovariate(per_second)
        if t >= limit:
            return
        registered = rng.random() < wave.pre_registered_share
        raw = draw_person(rng, prefecture=prefecture, skills=wave.skills,
                          vehicle_share=wave.vehicle_share, group_share=wave.group_share,
                          youngest=youngest)
        if registered and state.pool:
            person = state.pool.pop(0)
        else:
            registered, person = False, people.identify(raw)
        yield _seconds(t), Arrival(person=person, site=site, registered=registered)


def _needs(scenario, batch: NeedRequests, rng, state, shapes):
    """Yield (offset, NeedRequest) for a batch of calls spread over `batch.over`."""
    span = batch.over.total_seconds()
    offsets = sorted(rng.uniform(0, span) for _ in range(batch.count)) if span else \
        [0.0] * batch.count
    districts = batch.districts or tuple((name, 1.0) for name in shapes)
    site = scenario.initial.site(batch.site) if batch.site else scenario.initial.main_site
    municipality = scenario.initial.operation.municipality
    for offset in offsets:
        district = pick(rng, districts) if districts else None
        if district in shapes:
            lat, lon = shapes[district].sample(rng)
            around = None
        else:
            lat, lon = places.around(site.lat, site.lon, rng)
            around = site.name
        category = pick(rng, batch.categories)
        low = rng.randint(*batch.people)
        high = rng.randint(low, batch.people[1])
        state.needs += 1
        yield _seconds(offset), NeedRequest(
            ref=f"n{state.needs}",
            **household(rng, state.needs, municipality=municipality, district=district),
            lat=lat, lon=lon, district=district, category=category,
            priority=pick(rng, batch.priorities), people_min=low, people_max=high,
            est_hours=round(rng.uniform(*batch.hours) * 2) / 2,
            description=rng.choice(DESCRIPTIONS[category]),
            damage=rng.choice(DAMAGE.get(category, ("unknown",))),
            skills=tuple(sorted(s for s, share in batch.skills if rng.random() < share)),
            vehicle_needed=rng.random() < batch.vehicle_share,
            elderly=(elderly := rng.random() < batch.elderly_share),
            living_alone=elderly and rng.random() < 0.4, source=batch.source, site=around)


def _recorded(scenario, day: RecordedDay, rng, people, state, youngest):
    """Yield (kind, offset, item, key suffix) for a recorded day, in the file's order: the
    recorded people and households get fictional names, phones and addresses."""
    prefecture = scenario.initial.operation.prefecture
    municipality = scenario.initial.operation.municipality
    main = scenario.initial.main_site.name
    for a in day.arrivals:
        raw = draw_person(rng, prefecture=prefecture, skills=(), vehicle_share=0.0,
                          group_share=0.0, youngest=youngest)
        group = {"group_name": f"グループ{a.ref}", "group_size": a.headcount} \
            if a.headcount > 1 else {}
        person = people.identify(replace(raw, skills=a.skills, vehicle=a.vehicle,
                                         insurance="home" if a.insured else "none",
                                         insurance_council=f"{raw.municipality}社会福祉協議会"
                                         if a.insured else None, **group))
        yield ("volunteer_arrival", a.at,
               Arrival(person=replace(person, ref=a.ref), site=a.site or main, registered=False),
               f"arrival/{a.ref}")
    for n in day.needs:
        state.needs += 1
        yield "need_request", n.at, NeedRequest(
            ref=n.ref, **household(rng, state.needs, municipality=municipality,
                                   district=n.district),
            lat=n.lat, lon=n.lon, district=n.district, category=n.category,
            priority=n.priority, people_min=n.people[0], people_max=n.people[1],
            est_hours=n.hours, description=rng.choice(DESCRIPTIONS[n.category]),
            damage=rng.choice(DAMAGE.get(n.category, ("unknown",))), skills=n.skills,
            vehicle_needed=n.vehicle_needed, elderly=n.elderly, source=n.source), f"need/{n.ref}"
    for i, action in enumerate(day.actions, start=1):
        yield "recorded_action", action.at, action, f"action/{i}"


# --- running ---------------------------------------------------------------------------------

def fire(schedule_: Schedule, fired: Fired) -> list[Delivery]:
    """Return a fired contingency's deliveries, timed from when it fired."""
    shift = fired.at - schedule_.scenario.start
    return [replace(d, at=d.at + shift) for d in schedule_.contingency(fired.number)]


def due(schedule_: Schedule, since: datetime | None, until: datetime,
        fired: Iterable[Fired] = ()) -> list[Delivery]:
    """Return what must be delivered after `since` (None: from the beginning) up to and
    including `until`, fired contingencies included, in delivery order."""
    items = list(schedule_.deliveries)
    for f in fired:
        items.extend(fire(schedule_, f))
    return sorted((d for d in items if (since is None or d.at > since) and d.at <= until),
                  key=lambda d: d.sort_key)


def contingencies(schedule_: Schedule, actions_seen: Iterable, now: datetime,
                  refs: Refs | None = None) -> list[Fired]:
    """Return every contingency that must have fired by `now`: an inject's expected action
    was not seen between its delivery and its deadline, and the deadline is past.

    `actions_seen` are events (Event rows, dicts or DrillEvents). An inject's window opens
    at its first `drill.inject_delivered` event (payload {"inject": n}) when there is one,
    else at its scheduled time; a `drill.inject_skipped` inject expects nothing. A fired
    contingency's own expected action counts from when it fired. Each contingency fires once,
    at the earliest missed deadline among the injects that name it. Idempotent: call it on
    every tick and deliver what is new.
    """
    watched = watched_kinds(schedule_)
    events = [e for e in as_events(e for e in actions_seen if kind_of(e) in watched)
              if e.at <= now]
    delivered, skipped = _delivery_log(events)
    index = EventIndex(events)
    scenario = schedule_.scenario
    fired: dict[int, Fired] = {}
    for _ in range(len(scenario.injects) + 1):
        changed = False
        windows = _windows(scenario, delivered, skipped,
                           sorted(fired.values(), key=lambda f: f.number))
        for inject, opened in windows:
            deadline = inject.expect.deadline_after(opened)
            if deadline > now or _done(inject, index, opened, deadline, refs):
                continue
            current = fired.get(inject.contingency)
            if current is None or deadline < current.at:
                fired[inject.contingency] = Fired(inject.contingency, deadline, inject.number)
                changed = True
        if not changed:
            break
    return sorted(fired.values(), key=lambda f: (f.at, f.number))


def deadline_passes(schedule_: Schedule, log: Iterable, fired: Iterable[Fired],
                    since: datetime, now: datetime) -> bool:
    """Tell whether an expected action's deadline falls in (since, now]: only then can a
    contingency not in `fired` fire, so a tick need not read the players' actions otherwise.
    `log` needs only the `drill.inject_delivered` and `drill.inject_skipped` events."""
    delivered, skipped = _delivery_log(as_events(log))
    return any(since < inject.expect.deadline_after(opened) <= now for inject, opened
               in _windows(schedule_.scenario, delivered, skipped, fired))


def _windows(scenario: Scenario, delivered: dict[int, datetime], skipped: set[int],
             fired: Iterable[Fired]) -> list[tuple[Inject, datetime]]:
    """Each inject whose missed expected action fires a contingency, with when its window
    opens: its first delivery, else its scheduled time (a fired contingency: when it fired)."""
    sources = [(i, delivered.get(i.number, i.at)) for i in scenario.injects
               if i.type != "contingency" and i.number not in skipped]
    sources += [(scenario.inject(f.number), delivered.get(f.number, f.at)) for f in fired]
    return [(inject, opened) for inject, opened in sources
            if inject.expect is not None and inject.contingency is not None
            and opened is not None]


def _delivery_log(events: list[DrillEvent]) -> tuple[dict[int, datetime], set[int]]:
    delivered: dict[int, datetime] = {}
    skipped: set[int] = set()
    for event in events:
        number = event.payload.get("inject")
        if event.kind == "drill.inject_delivered" and number not in delivered:
            delivered[number] = event.at
        elif event.kind == "drill.inject_skipped":
            skipped.add(number)
    return delivered, skipped


def _done(inject: Inject, index: EventIndex, opened: datetime, deadline: datetime,
          refs) -> bool:
    expect = inject.expect
    return index.first(expect.event, expect.where, refs, since=opened,
                       until=deadline) is not None


def watched_kinds(schedule_: Schedule) -> frozenset[str]:
    """Return the event kinds `contingencies` reads: pass only these to keep ticks cheap."""
    kinds = {"drill.inject_delivered", "drill.inject_skipped"}
    kinds |= {i.expect.event for i in schedule_.scenario.injects if i.expect is not None}
    return frozenset(kinds)


def expected_action_done(inject: Inject, events: Iterable, delivered: datetime,
                         refs: Refs | None = None) -> DrillEvent | None:
    """Return the first event that performs an inject's expected action after delivery."""
    if inject.expect is None:
        return None
    return first_match(as_events(events), inject.expect.event, inject.expect.where, refs,
                       since=delivered)
