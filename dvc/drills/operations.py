"""Running a drill in the app: set up its operation, move its clock, deliver its injects.

The pure engine (`replay`) says what is due; this module turns each delivery into real records
through the other domains' operations, on the drill's own operation only, and logs the drill
events the metrics read. Every delivery is made with the clock frozen at its scheduled
scenario time, so its records and events carry that time whenever the tick happens.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select

from dvc.config import ROOT
from dvc.core.clock import VirtualClock
from dvc.core.context import base_clock, clock_in_use
from dvc.core.errors import Conflict, DomainError, Invalid, NotFound
from dvc.core.events import Event, log_event
from dvc.drills import events as kinds
from dvc.drills import replay
from dvc.drills.models import MAX_SPEED, MIN_SPEED, Drill, DrillArrival
from dvc.drills.scenario import RecordedDay, Scenario, ScenarioError, loads
from dvc.extensions import db
from dvc.operations.models import Operation

DRILLS_DIR = ROOT / "drills"
ACTOR = kinds.ENGINE_ACTOR
INJECT_RELEASED = "drill.inject_released"   # {"inject": n}: the trainer fired it early
CLOCK_CHANGED = "drill.clock"               # {"action", "speed", "to"}
INJURY = "drill.injury"
WEATHER_WARNING = "drill.weather_warning"
SHELTER_SURGE = "drill.shelter_surge"
RECORDED = "drill.recorded"            # subject need/team; {"ref": "n3"}: what a ref became
REPLAY_FAILED = "drill.replay_failed"  # {"key", "do", "error", "message"}
REPLAY_ACTOR = "replay"                # the recorded centre's actions: they count as players'

TRAINER_KINDS = (kinds.INJECT_SKIPPED, INJECT_RELEASED)
DECISION_KINDS = frozenset({kinds.INJECT_DELIVERED, kinds.CONTINGENCY_FIRED, *TRAINER_KINDS})


# --- the scenario and its schedule ---------------------------------------------------------

@lru_cache(maxsize=16)
def _parsed(text: str) -> Scenario:
    return loads(text, base=DRILLS_DIR)


@lru_cache(maxsize=16)
def _schedule(text: str, seed: int) -> replay.Schedule:
    return replay.schedule(_parsed(text), seed)


def scenario_of(drill: Drill) -> Scenario:
    """Return the drill's scenario (parsed once per process)."""
    return _parsed(drill.scenario_text)


def schedule_of(drill: Drill) -> replay.Schedule:
    """Return the drill's schedule (expanded once per process: it is deterministic)."""
    return _schedule(drill.scenario_text, drill.seed)


def shipped_scenario(name: str) -> str:
    """Return a shipped scenario's text by name (drills/NAME.yaml); never any other file."""
    names = {p.stem for p in DRILLS_DIR.glob("*.yaml")}
    if name not in names:
        raise NotFound(_("No such scenario file: %(name)s", name=name), code="unknown_scenario")
    return read_scenario(name)


def read_scenario(name_or_path: str) -> str:
    """Return a scenario file's text: a shipped one by name (drills/NAME.yaml) or a path
    (the command line's; the web only offers shipped ones, see shipped_scenario)."""
    path = Path(name_or_path)
    if not path.suffix:
        path = DRILLS_DIR / f"{name_or_path}.yaml"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        raise NotFound(_("No such scenario file: %(name)s", name=str(name_or_path)),
                       code="unknown_scenario") from None


def shipped_scenarios() -> list[Scenario]:
    """Return the scenarios in drills/, in file name order."""
    return [_parsed(p.read_text(encoding="utf-8")) for p in sorted(DRILLS_DIR.glob("*.yaml"))]


# --- the drill's clock -----------------------------------------------------------------------

def drill_clock(drill: Drill) -> VirtualClock:
    """Return the drill's virtual clock, rebuilt from its saved anchor on the app's clock."""
    base = base_clock()
    return VirtualClock.anchored(drill.anchor_scenario_dt, drill.anchor_base_dt, drill.speed,
                                 paused=not drill.running, real=base.now)


def drill_now(drill: Drill) -> datetime:
    return drill_clock(drill).now()


def _reanchor(drill: Drill, at: datetime | None = None) -> None:
    drill.anchor_scenario_dt = at or drill_now(drill)
    drill.anchor_base_dt = base_clock().now()


def _clock_event(drill: Drill, action: str, actor: str, **payload) -> None:
    log_event(CLOCK_CHANGED, actor=actor, operation_id=drill.operation_id,
              payload={"action": action, "speed": drill.speed, **payload})


def _require_not_ended(drill: Drill) -> None:
    if drill.status == "ended":
        raise Conflict(_("This drill has ended."), code="drill_ended")


def start_clock(drill: Drill, *, actor: str) -> None:
    """Start the drill's clock, or resume it after a pause."""
    _require_not_ended(drill)
    if drill.running:
        return
    _reanchor(drill)
    action = "resume" if drill.status == "paused" else "start"
    drill.status = "running"
    with clock_in_use(drill_clock(drill)):
        _clock_event(drill, action, actor)


def pause_clock(drill: Drill, *, actor: str) -> None:
    """Stop the drill's clock where it is."""
    _require_not_ended(drill)
    if not drill.running:
        return
    _reanchor(drill)
    drill.status = "paused"
    with clock_in_use(drill_clock(drill)):
        _clock_event(drill, "pause", actor)


def set_speed(drill: Drill, speed: float, *, actor: str) -> None:
    """Run the drill's clock at `speed` times real time (1x to 600x)."""
    _require_not_ended(drill)
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise Invalid(_("Choose a speed from 1x to 600x."), fields={"speed": "range"})
    _reanchor(drill)
    drill.speed = float(speed)
    with clock_in_use(drill_clock(drill)):
        _clock_event(drill, "speed", actor)


def jump_clock(drill: Drill, to: datetime, *, actor: str) -> None:
    """Move the drill's clock forward to `to`; what falls due on the way is delivered at its
    own time by the next tick. Going back is refused: delivered injects cannot be undone."""
    _require_not_ended(drill)
    here = drill_now(drill)
    if to < here:
        raise Invalid(_("A drill's clock only moves forward: choose a time after %(now)s.",
                        now=_local(drill, here)), fields={"to": "past"})
    _reanchor(drill, to)
    with clock_in_use(drill_clock(drill)):
        _clock_event(drill, "jump", actor, to=to.isoformat())


def control_clock(drill: Drill, action: str, *, actor: str, speed: float | None = None,
                  to: datetime | None = None) -> None:
    """Apply one of the trainer's clock controls."""
    if action in ("start", "resume"):
        start_clock(drill, actor=actor)
    elif action == "pause":
        pause_clock(drill, actor=actor)
    elif action == "end":
        end_drill(drill, actor=actor)
    elif action == "speed":
        if speed is None:
            raise Invalid(_("Choose a speed from 1x to 600x."), fields={"speed": "required"})
        set_speed(drill, speed, actor=actor)
    elif action == "jump":
        if to is None:
            raise Invalid(_("Give the scenario time to jump to."), fields={"to": "required"})
        jump_clock(drill, to, actor=actor)


def end_drill(drill: Drill, *, actor: str) -> None:
    """Stop the drill for good: the clock freezes and the after-action review begins."""
    if drill.status == "ended":
        return
    _reanchor(drill)
    drill.status = "ended"
    with clock_in_use(drill_clock(drill)):
        _clock_event(drill, "end", actor)


def _local(drill: Drill, moment: datetime) -> str:
    from zoneinfo import ZoneInfo
    return moment.astimezone(ZoneInfo(scenario_of(drill).timezone)).strftime("%H:%M")


# --- setting up ------------------------------------------------------------------------------

def start_drill(text: str, *, actor: str, seed: int | None = None, speed: float | None = None,
                name: str | None = None) -> Drill:
    """Create a drill operation from a scenario's text: its sites, districts, equipment,
    shelters and pre-registered volunteers, all at the scenario's start; the clock is set
    to the start and waits for the trainer."""
    try:
        scenario = _parsed(text)
    except ScenarioError as error:
        raise Invalid(_("The scenario file has errors: %(first)s", first=str(error)),
                      code="scenario_invalid", fields={"scenario": "invalid"}) from None
    seed = scenario.seed if seed is None else seed
    plan = _schedule(text, seed)
    with clock_in_use(VirtualClock(scenario.start)):
        operation = _set_up(scenario, plan, actor=actor, name=name)
        drill = Drill(operation_id=operation.id, scenario_id=scenario.id, scenario_text=text,
                      seed=seed, status="ready", speed=_speed(speed or scenario.speed),
                      anchor_scenario_dt=scenario.start, anchor_base_dt=base_clock().now(),
                      delivered_until_dt=None, review={}, power_out=[],
                      created_dt=base_clock().now())
        db.session.add(drill)
        db.session.flush()
        log_event("drill.created", actor=actor, operation_id=operation.id,
                  payload={"scenario": scenario.id, "seed": seed, "speed": drill.speed})
    return drill


def give_to_creator(drill: Drill, user) -> None:
    """Let a trainer tied to some operations reach the drill they started."""
    from dvc.auth.operations import assign_operations
    if user.operation_ids is not None:
        assign_operations(user, [*user.operation_ids, drill.operation_id], actor=ACTOR)


def _speed(value: float) -> float:
    return min(MAX_SPEED, max(MIN_SPEED, float(value)))


def _set_up(scenario: Scenario, plan: replay.Schedule, *, actor: str,
            name: str | None) -> Operation:
    from dvc.districts.operations import store_districts
    from dvc.operations.operations import create_operation
    spec = scenario.initial
    operation = create_operation(name or spec.operation.name, "drill", actor=actor,
                                 prefecture=spec.operation.prefecture,
                                 municipality=spec.operation.municipality)
    if plan.districts:
        store_districts(operation, list(plan.districts), source=f"drill:{scenario.id}",
                        actor=actor)
    sites = _set_up_sites(operation, spec, actor)
    _set_up_equipment(operation, spec, sites, actor)
    _set_up_shelters(operation, spec, actor)
    _pre_register(operation, plan, actor)
    return operation


def _set_up_sites(operation: Operation, spec, actor: str) -> dict:
    from dvc.sites.operations import create_site, update_site
    sites = {}
    for s in sorted(spec.sites, key=lambda s: s.kind != "main"):
        site = create_site(operation, s.name, s.kind, lat=s.lat, lon=s.lon, actor=actor)
        changes = {"daily_quota": s.quota} if s.quota is not None else {}
        if s.service_districts:
            changes["service_districts"] = list(s.service_districts)
        if changes:
            update_site(site, changes, actor=actor)
        sites[s.name] = site
    return sites


def _set_up_equipment(operation: Operation, spec, sites: dict, actor: str) -> None:
    from dvc.equipment.operations import add_item_type, receive_stock
    for item in spec.equipment:
        item_type = add_item_type(operation, item.name, unit=item.unit, low_stock=item.low_stock,
                                  per_person=item.per_person, actor=actor)
        for site_name, quantity in item.stock:
            if quantity:
                receive_stock(sites[site_name], item_type, int(quantity), actor=actor)


def _set_up_shelters(operation: Operation, spec, actor: str) -> None:
    from dvc.shelters.operations import create_shelter, set_occupancy
    for s in spec.shelters:
        shelter = create_shelter(operation, {
            "name": s.name, "kind": s.kind, "lat": s.lat, "lon": s.lon, "capacity": s.capacity,
            "care_types": list(s.care_types), "status": "open"}, actor=actor)
        if s.occupancy:
            set_occupancy(shelter, {k: int(v) for k, v in s.occupancy}, actor=actor)


def _pre_register(operation: Operation, plan: replay.Schedule, actor: str) -> None:
    for person in plan.pre_registered:
        _register(operation, person, via="pre", actor=actor)


def _register(operation: Operation, person, *, via: str, actor: str) -> DrillArrival:
    from dvc.volunteers.operations import Registration, register_volunteer
    volunteer, code = register_volunteer(operation, Registration(**person.registration()),
                                         via=via, actor=actor)
    arrival = DrillArrival(operation_id=operation.id, person_ref=person.ref,
                           volunteer_id=volunteer.id, code=code)
    db.session.add(arrival)
    return arrival


# --- delivering ------------------------------------------------------------------------------

def refs_of(operation: Operation) -> dict:
    """Names in the scenario -> ids in the drill's operation, for expected actions."""
    from dvc.shelters.models import Shelter
    shelters = db.session.execute(select(Shelter.name, Shelter.id).where(
        Shelter.operation_id == operation.id)).all()
    return {"site": {s.name: s.id for s in operation.sites},
            "shelter": {name: id_ for name, id_ in shelters}}


def drill_events(drill: Drill, kinds_: frozenset[str] | None = None,
                 until: datetime | None = None) -> list[Event]:
    """Return the drill's events in log order (only `kinds_` when given)."""
    query = select(Event).where(Event.operation_id == drill.operation_id)
    if kinds_ is not None:
        query = query.where(Event.kind.in_(sorted(kinds_)))
    if until is not None:
        query = query.where(Event.scenario_dt <= until)
    return list(db.session.scalars(query.order_by(Event.id)))


def _trainer_choices(events: list[Event]) -> tuple[set[int], dict[int, datetime]]:
    skipped = {e.payload["inject"] for e in events if e.kind == kinds.INJECT_SKIPPED}
    released = {e.payload["inject"]: e.scenario_dt for e in events if e.kind == INJECT_RELEASED}
    return skipped, released


def tick(drill: Drill, *, until: datetime | None = None) -> list[replay.Delivery]:
    """Deliver everything due up to the drill's now (or `until`): scheduled injects, injects
    the trainer released early, and contingencies whose expected action was missed.
    Safe to call from any request: the drill's row is locked while it delivers."""
    drill = db.session.get(Drill, drill.operation_id, with_for_update=True,
                           populate_existing=True)
    if drill.status == "ready":
        return []
    now = until or drill_now(drill)
    since = drill.delivered_until_dt
    if since is not None and now <= since:
        return []
    plan = schedule_of(drill)
    operation = drill.operation
    # The few events that say what was delivered, skipped, released and fired; the long log
    # of players' actions is read only when a deadline passes (replay.deadline_passes): a
    # headless day need not read thousands of check-ins at every step.
    decisions = drill_events(drill, DECISION_KINDS, until=now)
    skipped, released = _trainer_choices(decisions)
    fired = [replay.Fired(e.payload["inject"], e.scenario_dt, e.payload.get("because"))
             for e in decisions if e.kind == kinds.CONTINGENCY_FIRED]
    logged = {f.number for f in fired}
    if since is None or replay.deadline_passes(plan, decisions, fired, since, now):
        # One pass is enough: what the engine delivers is never a player's expected action
        # (events.by_engine), so delivering cannot stop a contingency from firing.
        watched = replay.watched_kinds(plan) | set(TRAINER_KINDS) | {kinds.CONTINGENCY_FIRED}
        log = drill_events(drill, frozenset(watched), until=now)
        fired = replay.contingencies(plan, log, now, refs_of(operation))
    items = _due(plan, since, now, fired, skipped, released)
    todo = sorted([(f.at, 0, f) for f in fired if f.number not in logged] +
                  [(d.at, 1, d) for d in items], key=lambda x: (x[0], x[1]))
    delivered = []
    for at, _order, thing in todo:
        with clock_in_use(VirtualClock(at)):
            if isinstance(thing, replay.Fired):
                log_event(kinds.CONTINGENCY_FIRED, actor=ACTOR, operation_id=operation.id,
                          payload={"inject": thing.number, "because": thing.because})
            else:
                deliver(drill, operation, thing)
                delivered.append(thing)
    drill.delivered_until_dt = now
    return delivered


def _due(plan: replay.Schedule, since, now, fired, skipped: set[int],
         released: dict[int, datetime]) -> list[replay.Delivery]:
    """What is due in (since, now]: the schedule without skipped and released injects, and
    the released ones shifted to start when the trainer released them."""
    items = [d for d in replay.due(plan, since, now, fired)
             if d.inject not in skipped and d.inject not in released]
    scenario = plan.scenario
    for number, at in released.items():
        # What falls at the moment of release was delivered by release_inject itself.
        items += [d for d in _shifted(plan, number, at)
                  if d.at > at and (since is None or d.at > since) and d.at <= now]
    return sorted(items, key=lambda d: d.sort_key)


def _shifted(plan: replay.Schedule, number: int, released_at: datetime):
    """Return an inject's deliveries moved to start when the trainer released it."""
    inject = plan.scenario.inject(number)
    shift = released_at - (inject.at or plan.scenario.start)
    return [replace(d, at=d.at + shift) for d in plan.deliveries if d.inject == number]


def deliver(drill: Drill, operation: Operation, item: replay.Delivery) -> None:
    """Turn one delivery into what the desks see: a message, a volunteer in the queue, a
    need in the list, a site without power."""
    handler = _HANDLERS[item.kind]
    handler(drill, operation, item)


def _message(drill, operation, item) -> None:
    log_event(kinds.INJECT_DELIVERED, actor=ACTOR, operation_id=operation.id,
              payload={"inject": item.inject, "to": list(item.to)})


def _arrival(drill, operation, item) -> None:
    person = item.item.person
    arrival = db.session.scalar(select(DrillArrival).where(
        DrillArrival.operation_id == operation.id, DrillArrival.person_ref == person.ref))
    if arrival is None:  # a walk-up: registers at the kiosk on arrival
        arrival = _register(operation, person, via="walk_in", actor=ACTOR)
    site = refs_of_site(operation, item.item.site)
    arrival.site_id = site.id if site else None
    arrival.arrived_dt = item.at
    db.session.flush()
    log_event(kinds.VOLUNTEER_ARRIVED, actor=ACTOR, operation_id=operation.id,
              payload={"volunteer_id": arrival.volunteer_id, "key": item.key,
                       "headcount": person.headcount,
                       "site_id": arrival.site_id, "registered": item.item.registered})


def refs_of_site(operation: Operation, name: str | None):
    return next((s for s in operation.sites if s.name == name), operation.main_site)


def _need(drill, operation, item) -> None:
    from dvc.needs.operations import NeedInput, create_need
    need = create_need(operation, NeedInput(**item.item.need_input()),
                       actor=f"{ACTOR}:{item.inject}")
    if isinstance(scenario_of(drill).inject(item.inject).payload, RecordedDay):
        _remember(operation, item.item.ref, need)


def _remember(operation: Operation, ref: str, record) -> None:
    """Note which record a recorded need or team (n3, t4) became, for later actions."""
    log_event(RECORDED, actor=ACTOR, operation_id=operation.id, subject=record,
              payload={"ref": ref})


def _recalled(operation: Operation, ref: str, model):
    event = db.session.scalar(select(Event).where(
        Event.operation_id == operation.id, Event.kind == RECORDED,
        Event.payload["ref"].as_string() == ref).order_by(Event.id.desc()).limit(1))
    record = db.session.get(model, event.subject_id) if event else None
    if record is None:
        raise NotFound(_("The recorded %(ref)s is not in this replay.", ref=ref),
                       code="unknown_record")
    return record


def _volunteer(operation: Operation, ref: str):
    arrival = db.session.scalar(select(DrillArrival).where(
        DrillArrival.operation_id == operation.id, DrillArrival.person_ref == ref))
    if arrival is None or arrival.arrived_dt is None:
        raise NotFound(_("The recorded %(ref)s is not in this replay.", ref=ref),
                       code="unknown_record")
    return arrival


def _action(drill, operation, item) -> None:
    """Do what the centre did on the recorded day, until a fork hands control to trainees.
    An action the replay cannot repeat is logged, not fatal: the drill goes on."""
    if drill.live_from_dt is not None and item.at >= drill.live_from_dt:
        return
    action = item.item
    try:
        with db.session.begin_nested():
            _ACTIONS[action.do](operation, action)
    except DomainError as error:
        log_event(REPLAY_FAILED, actor=ACTOR, operation_id=operation.id,
                  payload={"key": item.key, "do": action.do, "error": error.code,
                           "message": str(error.message)})


def _replay_check_in(operation, action) -> None:
    from dvc.volunteers.operations import check_in
    arrival = _volunteer(operation, action.volunteer)
    check_in(operation, arrival.volunteer, site_id=arrival.site_id, health_ok=True,
             insurance_enrolled_now=True, method="scan", actor=REPLAY_ACTOR,
             headcount=action.headcount)


def _replay_need_status(operation, action) -> None:
    from dvc.needs.models import Need
    from dvc.needs.operations import change_status
    change_status(_recalled(operation, action.need, Need), action.to, actor=REPLAY_ACTOR,
                  referred_to="記録" if action.to == "referred" else None)


def _replay_form_team(operation, action) -> None:
    from dvc.needs.models import Need
    from dvc.teams.operations import form_team
    need = _recalled(operation, action.need, Need)
    members = [_volunteer(operation, ref).volunteer_id for ref in action.members]
    leader = _volunteer(operation, action.leader or action.members[0]).volunteer_id
    team, _warnings = form_team(operation, need, members, leader, actor=REPLAY_ACTOR)
    _remember(operation, action.team, team)


def _replay_dispatch(operation, action) -> None:
    from dvc.teams.models import Team
    from dvc.teams.operations import dispatch_team
    dispatch_team(_recalled(operation, action.team, Team), transport="walk", actor=REPLAY_ACTOR)


def _replay_report(operation, action) -> None:
    from dvc.teams.models import Team
    from dvc.teams.operations import report_team
    report_team(_recalled(operation, action.team, Team), outcome=action.outcome or "completed",
                actor=REPLAY_ACTOR, reported_by="記録",
                remaining_work="記録" if action.outcome == "continuing" else None)


_ACTIONS = {"check_in": _replay_check_in, "need_status": _replay_need_status,
            "form_team": _replay_form_team, "dispatch": _replay_dispatch,
            "report": _replay_report}


def _injury(drill, operation, item) -> None:
    log_event(INJURY, actor=ACTOR, operation_id=operation.id,
              payload={"inject": item.inject, "description": item.item.description,
                       "severity": item.item.severity})


def _weather(drill, operation, item) -> None:
    warning = item.item
    log_event(WEATHER_WARNING, actor=ACTOR, operation_id=operation.id,
              payload={"inject": item.inject, "level": warning.level,
                       "phenomenon": warning.phenomenon, "area": warning.area})


def _power(drill, operation, item) -> None:
    site = refs_of_site(operation, item.item.site)
    lost = item.kind == "site_power_loss"
    out = set(drill.power_out or [])
    drill.power_out = sorted(out | {site.id} if lost else out - {site.id})
    log_event(kinds.SITE_POWER_LOST if lost else kinds.SITE_POWER_RESTORED, actor=ACTOR,
              operation_id=operation.id, subject=site, payload={"key": item.key})


def _surge(drill, operation, item) -> None:
    from dvc.shelters.models import Shelter
    surge = item.item
    shelter = db.session.scalar(select(Shelter).where(
        Shelter.operation_id == operation.id, Shelter.name == surge.shelter))
    log_event(SHELTER_SURGE, actor=ACTOR, operation_id=operation.id, subject=shelter,
              payload={"inject": item.inject, "care_type": surge.care_type,
                       "people": surge.people})


_HANDLERS = {"message": _message, "volunteer_arrival": _arrival, "need_request": _need,
             "injury": _injury, "weather_warning": _weather, "site_power_loss": _power,
             "site_power_restored": _power, "shelter_surge": _surge,
             "recorded_action": _action}


# --- the desks and the trainer ---------------------------------------------------------------

def _delivered(drill: Drill, number: int) -> Event | None:
    return db.session.scalar(select(Event).where(
        Event.operation_id == drill.operation_id, Event.kind == kinds.INJECT_DELIVERED,
        Event.payload["inject"].as_integer() == number).order_by(Event.id).limit(1))


def _inject(drill: Drill, number: int):
    try:
        return scenario_of(drill).inject(number)
    except StopIteration:
        raise NotFound(_("No such inject."), code="unknown_inject") from None


def acknowledge_inject(drill: Drill, number: int, desk: str, *, actor: str) -> bool:
    """Record that a desk read and took on a delivered inject; False if it already had."""
    inject = _inject(drill, number)
    if desk not in {d.id for d in scenario_of(drill).desks}:
        raise Invalid(_("Choose your desk."), fields={"desk": "unknown"})
    if _delivered(drill, number) is None:
        raise Conflict(_("This inject has not been delivered yet."), code="not_delivered")
    done = db.session.scalar(select(Event.id).where(
        Event.operation_id == drill.operation_id, Event.kind == kinds.INJECT_ACKNOWLEDGED,
        Event.payload["inject"].as_integer() == inject.number,
        Event.payload["desk"].as_string() == desk).limit(1))
    if done:
        return False
    log_event(kinds.INJECT_ACKNOWLEDGED, actor=actor, operation_id=drill.operation_id,
              payload={"inject": inject.number, "desk": desk})
    return True


def _pending(drill: Drill, number: int):
    inject = _inject(drill, number)
    if inject.type == "contingency":
        raise Conflict(_("A contingency fires on its own when an expected action is missed."),
                       code="contingency")
    if _delivered(drill, number) is not None:
        raise Conflict(_("This inject was already delivered."), code="already_delivered")
    log = drill_events(drill, frozenset(TRAINER_KINDS))
    skipped, released = _trainer_choices(log)
    if number in skipped or number in released:
        raise Conflict(_("The trainer already skipped or released this inject."),
                       code="already_handled")
    return inject


def skip_inject(drill: Drill, number: int, *, actor: str) -> None:
    """Leave out an inject that has not been delivered (and whatever it would create)."""
    _require_not_ended(drill)
    inject = _pending(drill, number)
    with clock_in_use(drill_clock(drill)):
        log_event(kinds.INJECT_SKIPPED, actor=actor, operation_id=drill.operation_id,
                  payload={"inject": inject.number})


def release_inject(drill: Drill, number: int, *, actor: str) -> None:
    """Deliver an inject now instead of at its scheduled time ("fire next")."""
    _require_not_ended(drill)
    inject = _pending(drill, number)
    now = drill_now(drill)
    with clock_in_use(VirtualClock(now)):
        log_event(INJECT_RELEASED, actor=actor, operation_id=drill.operation_id,
                  payload={"inject": inject.number})
        for item in _shifted(schedule_of(drill), inject.number, now):
            if item.at == now:
                deliver(drill, drill.operation, item)
    tick(drill)


def next_inject(drill: Drill):
    """Return the next inject that will be delivered on schedule, or None."""
    log = drill_events(drill, frozenset(TRAINER_KINDS) | {kinds.INJECT_DELIVERED})
    skipped, released = _trainer_choices(log)
    delivered = {e.payload.get("inject") for e in log if e.kind == kinds.INJECT_DELIVERED}
    waiting = [i for i in scenario_of(drill).injects
               if i.type not in ("contingency", "expected_action") and i.at is not None
               and i.number not in skipped | set(released) | delivered]
    return min(waiting, key=lambda i: (i.at, i.number), default=None)


def fork_drill(drill: Drill, at: datetime, *, actor: str) -> Drill:
    """Start a copy of a replay that plays the record up to `at` and then hands control to
    the trainees: from `at` on, only arrivals, needs and messages keep coming."""
    scenario = scenario_of(drill)
    if not scenario.start <= at <= scenario.end:
        raise Invalid(_("Choose a time within the scenario."), fields={"at": "range"})
    fork = start_drill(drill.scenario_text, actor=actor, seed=drill.seed, speed=drill.speed,
                       name=_("%(name)s (from %(time)s)", name=drill.operation.name,
                              time=_local(drill, at)))
    fork.source_operation_id = drill.source_operation_id or drill.operation_id
    fork.live_from_dt = at
    fork.status = "paused"
    _reanchor(fork, at)
    tick(fork, until=at)
    with clock_in_use(VirtualClock(at)):
        _clock_event(fork, "fork", actor, to=at.isoformat())
    return fork


def get_drill(operation_id: int) -> Drill:
    """Return the drill of an operation or raise NotFound."""
    drill = db.session.get(Drill, operation_id)
    if drill is None:
        raise NotFound(_("This operation is not a drill."), code="not_a_drill")
    return drill


def save_review(drill: Drill, review: dict, *, actor: str) -> None:
    """Save the trainer's after-action review: confirmed ratings, notes, improvement plan."""
    known = {o.id for o in scenario_of(drill).objectives}
    ratings = review.get("ratings") or {}
    fields = {f"ratings.{k}": _("Choose P, S, M or U.") for k, v in ratings.items()
              if k not in known or (v.get("rating") or None) not in (None, "P", "S", "M", "U")}
    for i, row in enumerate(review.get("plan") or []):
        if not (row.get("action") or "").strip():
            fields[f"plan.{i}.action"] = _("Describe the improvement.")
    if fields:
        raise Invalid(_("Some answers need fixing."), fields=fields)
    drill.review = {"ratings": ratings, "strengths": review.get("strengths") or "",
                    "improvements": review.get("improvements") or "",
                    "plan": review.get("plan") or []}
    log_event("drill.review_saved", actor=actor, operation_id=drill.operation_id)
