"""Headless drills: every desk played by a simple script, as fast as the machine allows.

For scenario authors and CI (`flask --app dvc drill run FILE --headless`). The script calls the
same operations the pages call, so a headless run exercises the real rules and produces a real
event log, from which the usual metrics are computed. The drill's scenario time advances in
fixed steps (`Policy.step`); at each step the script

1. does what it had planned for up to now (below), each at its own scenario time;
2. delivers what is due (`operations.tick`);
3. reacts to what was delivered: each desk a message is addressed to acknowledges it after
   `acknowledge`; after `act` the general desk sets the notice or recalls every team when an
   inject expects `operation.notice_set` or `team.recall_all`, the site pauses when it loses
   power and opens again when power is back (also when an inject expects `site.paused` or
   `site.open`), the shelters desk records a surge's occupancy, the dispatch desk records an
   injury. Anything else an inject expects is not played, and its contingency fires;
4. reception: `lanes` lanes per site take the queue first come, first served, each party taking
   `checkin` (+ `enrol` when insurance is enrolled at the desk, + `group` for a group), health
   always fine; a site without power or not open checks nobody in; a party the site's daily
   quota refuses is turned away (it stays "waiting" in the metrics);
5. needs desk: a received need is ready `triage` after it came in;
6. coordinators, every `match_every` until the last hour of the activity window and not after
   a recall: accept every suggested team (`matching.suggest_teams`), except at a site without
   power; each team is sent out `briefing` later with one of each per-person item for each
   member (a refused lend is logged as `equipment.lend_refused`), arrives `travel` later, works
   the need's estimated hours (`default_hours` when unknown), comes back `travel` later,
   returns what it borrowed and its leader reports: completed, or continuing when the activity
   window or a recall cut the work short (then it finishes on the spot, or when the window
   ends). A team still waiting to go out when a recall comes is disbanded.

A recorded day (an exported operation replayed) plays its own check-ins, teams and reports:
then the script only acknowledges messages and plays expected actions.

Deterministic: no wall clock, no random draw, rows in id order, planned actions in (time,
order planned) order, one commit per step. The same scenario, seed and policy on a fresh
database give the same event log and the same metrics.
"""
from __future__ import annotations

import heapq
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import selectinload

from dvc.core.clock import VirtualClock
from dvc.core.context import clock_in_use, today
from dvc.core.errors import DomainError
from dvc.core.events import log_event
from dvc.drills import events as kinds
from dvc.drills import metrics as drill_metrics
from dvc.drills import operations as ops
from dvc.drills.board import queue
from dvc.drills.models import Drill, DrillArrival
from dvc.drills.scenario import loads
from dvc.extensions import db

ACTOR = "headless"  # not "drill...": that is the engine, whose events meet no expectation
# Expected actions the general desk performs when an inject asks for them.
SCRIPTED = ("operation.notice_set", "team.recall_all", "site.paused", "site.open")


@dataclass(frozen=True)
class Policy:
    """How fast the scripted desks work (see the module docstring)."""

    step: timedelta = timedelta(minutes=1)
    lanes: int = 6                              # reception lanes per site
    checkin: timedelta = timedelta(minutes=1)   # per party
    enrol: timedelta = timedelta(minutes=1)     # + insurance enrolled at the desk
    group: timedelta = timedelta(seconds=30)    # + a group
    triage: timedelta = timedelta(minutes=10)   # received -> ready
    match_every: timedelta = timedelta(minutes=10)
    briefing: timedelta = timedelta(minutes=10)  # formed -> sent out (orientation, equipment)
    travel: timedelta = timedelta(minutes=20)   # each way
    default_hours: float = 2.0
    acknowledge: timedelta = timedelta(minutes=3)
    act: timedelta = timedelta(minutes=5)       # expected actions the script plays
    lend: bool = True

    def as_dict(self) -> dict:
        """Return the policy as JSON-ready values (durations in minutes)."""
        return {k: v.total_seconds() / 60 if isinstance(v, timedelta) else v
                for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Result:
    operation_id: int
    scenario: str
    seed: int
    end: datetime
    metrics: drill_metrics.Metrics
    ratings: list[drill_metrics.Rating]
    counts: dict

    def as_dict(self, policy: Policy | None = None) -> dict:
        """Return the result as JSON-ready values, in a fixed order."""
        out = {"scenario": self.scenario, "seed": self.seed, "as_of": self.end.isoformat()}
        if policy is not None:
            out["policy"] = policy.as_dict()
        out["counts"] = self.counts
        out["metrics"] = self.metrics.as_dict()
        out["ratings"] = [{"objective": r.objective, "rating": r.rating,
                           "value": None if r.value is None else round(r.value, 2),
                           "bound": r.bound, "reason": r.reason} for r in self.ratings]
        return out


@dataclass(order=True)
class _Task:
    at: datetime
    order: int
    what: str = field(compare=False)
    args: tuple = field(compare=False, default=())


# --- a throwaway app -------------------------------------------------------------------------

@contextmanager
def throwaway_app(database_url: str | None = None, **config):
    """Yield a fresh app (in its app context) on `database_url`, or on a new SQLite file in a
    temporary folder that is removed afterwards; the schema is made with `create_all`.
    `config` overrides settings (give SECRET_KEY, or the instance's is read)."""
    from dvc import create_app
    folder = tempfile.mkdtemp(prefix="dvc-drill-")
    try:
        url = database_url or f"sqlite:///{os.path.join(folder, 'drill.sqlite3')}"
        app = create_app({**config, "SQLALCHEMY_DATABASE_URI": url,
                          "UPLOAD_DIR": os.path.join(folder, "uploads")})
        with app.app_context():
            if database_url is None:
                event.listen(db.engine, "checkout", _no_fsync)
            try:
                db.create_all()
                yield app
            finally:
                db.session.remove()
                db.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _no_fsync(dbapi_connection, _record, _proxy) -> None:
    """A throwaway database need not survive a power cut: do not wait for the disk at each
    step's commit (the app's own databases keep synchronous=FULL)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


# --- running ---------------------------------------------------------------------------------

def run_headless(text: str, *, seed: int | None = None, policy: Policy = Policy()) -> Result:
    """Play a scenario to its end with every desk scripted; return its metrics.

    Call it on an app of its own (`throwaway_app`): it freezes the app's clock at the
    scenario's start and commits once per step."""
    scenario = loads(text, base=ops.DRILLS_DIR)
    current_app.extensions["dvc.clock"] = VirtualClock(scenario.start)
    session = db.session()
    # The script is the only writer: rows stay valid after each step's commit, and re-reading
    # every one touched (one query each) would cost more than the day itself.
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        drill = ops.start_drill(text, actor=ACTOR, seed=seed)
        ops.start_clock(drill, actor=ACTOR)
        db.session.commit()
        player = _Player(drill, policy)
        player.play()
        return player.result()
    finally:
        session.expire_on_commit = expire


class _Player:
    """The scripted desks of one drill (state kept between steps; rows re-read by id)."""

    def __init__(self, drill: Drill, policy: Policy):
        self.operation_id = drill.operation_id
        self.policy = policy
        self.scenario = ops.scenario_of(drill)
        self.seed = drill.seed
        self.start, self.end = self.scenario.start, self.scenario.end
        self.agenda: list[_Task] = []
        self.planned = 0
        self.lanes: dict[int, list[datetime]] = {}
        self.at_desk: set[int] = set()      # arrivals a lane has started on
        self.waiting: set[int] = set()      # sites whose queue may hold someone not at a desk
        self.people: dict[int, object] = {}  # volunteers read so far, kept in the session
        self.turned_away: set[int] = set()  # arrivals the site's quota refused
        self.short: set[int] = set()        # teams whose work was cut short
        self.lent: dict[int, list[dict]] = {}
        self.triage_due: list[datetime] = []  # when needs delivered so far become ready
        self.recalled = False
        self.next_match = self.start
        self.counts = {"checked_in": 0, "turned_away": 0, "teams_formed": 0,
                       "proposals_refused": 0, "lends_refused": 0, "actions_refused": 0}
        zone = ZoneInfo(current_app.config["TIMEZONE"])
        hour, minute = map(int, current_app.config["ACTIVITY_END"].split(":"))
        self.zone, self.activity_end = zone, time(hour, minute)
        for inject in self.scenario.injects:
            if inject.type == "expected_action" and inject.at is not None:
                self._expected(inject, inject.at)
        # A recorded day's own check-ins, teams and reports replay it: the desks stand back.
        self.recorded = any(getattr(i.payload, "actions", None) for i in self.scenario.injects)

    # --- the loop ---

    @property
    def drill(self) -> Drill:
        return db.session.get(Drill, self.operation_id)

    @property
    def operation(self):
        return self.drill.operation

    def play(self) -> None:
        t = self.start
        while t < self.end:
            t = min(t + self.policy.step, self.end)
            with clock_in_use(VirtualClock(t)):
                self._step(t)
            db.session.commit()
        with clock_in_use(VirtualClock(self.end)):
            ops.jump_clock(self.drill, self.end, actor=ACTOR)
            ops.end_drill(self.drill, actor=ACTOR)
        db.session.commit()

    def _step(self, t: datetime) -> None:
        self._run_due(t)
        for delivery in ops.tick(self.drill, until=t):
            self._react(delivery)
        self._run_due(t)
        if self.recorded:
            return
        self._triage(t)
        self._reception(t)
        self._run_due(t)  # the check-ins done by now, before the coordinators look
        if t >= self.next_match:
            self.next_match = t + self.policy.match_every
            self._match(t)

    def _plan(self, at: datetime, what: str, *args) -> None:
        self.planned += 1
        heapq.heappush(self.agenda, _Task(at, self.planned, what, args))

    def _run_due(self, t: datetime) -> None:
        while self.agenda and self.agenda[0].at <= t:
            task = heapq.heappop(self.agenda)
            with clock_in_use(VirtualClock(task.at)):
                self._try(getattr(self, f"_do_{task.what}"), task.at, *task.args)

    def _try(self, action, *args, **kwargs) -> bool:
        """Run one desk's action in a savepoint; a refusal is counted, not fatal."""
        try:
            with db.session.begin_nested():
                action(*args, **kwargs)
            return True
        except DomainError:
            self.counts["actions_refused"] += 1
            return False

    # --- reacting to deliveries ---

    def _react(self, delivery) -> None:
        at, policy = delivery.at, self.policy
        if delivery.kind == "message":
            for desk in delivery.to:
                self._plan(at + policy.acknowledge, "acknowledge", delivery.inject, desk)
            self._expected(delivery.item, at)
        elif delivery.kind == "volunteer_arrival":
            self.waiting.add(ops.refs_of_site(self.operation, delivery.item.site).id)
        elif delivery.kind == "need_request":
            heapq.heappush(self.triage_due, at + policy.triage)
        elif delivery.kind == "injury":
            self._plan(at + policy.act, "injury", delivery.item)
        elif delivery.kind == "shelter_surge":
            self._plan(at + policy.act, "surge", delivery.item)
        elif delivery.kind in ("site_power_loss", "site_power_restored"):
            status = "paused" if delivery.kind == "site_power_loss" else "open"
            self._plan(at + policy.act, "site_status", delivery.item.site, status)

    def _expected(self, inject, opened: datetime) -> None:
        expect = inject.expect
        if expect is None or expect.event not in SCRIPTED:
            return
        at = opened + self.policy.act
        if expect.event == "operation.notice_set":
            self._plan(at, "notice", inject.message)
        elif expect.event == "team.recall_all":
            self._plan(at, "recall", inject.message)
        else:
            site = next((name for key, name in expect.where
                         if key in ("subject", "site_id") and isinstance(name, tuple)
                         and name[0] == "site"), None)
            if site is not None:
                self._plan(at, "site_status", site[1], expect.event.split(".")[1])

    def _do_acknowledge(self, at, number: int, desk: str) -> None:
        ops.acknowledge_inject(self.drill, number, desk, actor=f"headless:{desk}")

    def _do_notice(self, at, message: str) -> None:
        from dvc.operations.operations import set_notice
        set_notice(self.operation, message, actor="headless:general")

    def _do_recall(self, at, reason: str) -> None:
        from dvc.teams.operations import recall_all
        self.recalled = True
        for team in recall_all(self.operation, actor="headless:general", reason=reason):
            if team.status in ("dispatched", "on_site"):
                self.short.add(team.id)
                self._plan(at, "finish", team.id)

    def _do_site_status(self, at, name: str | None, status: str) -> None:
        from dvc.sites.operations import set_site_status
        operation = self.operation
        # A power cut names its site or means the main one (as delivered); an expectation
        # naming an unknown site is not played.
        site = next((s for s in operation.sites if s.name == name), None) if name else \
            operation.main_site
        if site is not None:
            set_site_status(site, status, actor="headless:general")

    def _do_injury(self, at, injury) -> None:
        from dvc.teams.operations import record_incident
        record_incident(self.operation_id, kind="injury", description=injury.description,
                        severity=injury.severity, actor="headless:dispatch")

    def _do_surge(self, at, surge) -> None:
        from dvc.shelters.models import Shelter
        from dvc.shelters.operations import set_occupancy
        shelter = db.session.scalar(select(Shelter).where(
            Shelter.operation_id == self.operation_id, Shelter.name == surge.shelter))
        if shelter is not None:
            now_there = (shelter.occupancy or {}).get(surge.care_type, 0)
            set_occupancy(shelter, {surge.care_type: now_there + surge.people},
                          actor="headless:shelters")

    # --- the needs desk ---

    def _triage(self, t: datetime) -> None:
        from dvc.needs.models import Need
        from dvc.needs.operations import change_status
        if not self.triage_due or self.triage_due[0] > t:
            return  # no need came in long enough ago: spare the query
        while self.triage_due and self.triage_due[0] <= t:
            heapq.heappop(self.triage_due)
        rows = db.session.scalars(select(Need).where(
            Need.operation_id == self.operation_id, Need.status == "received",
            Need.received_dt <= t - self.policy.triage).order_by(Need.received_dt, Need.id))
        for need in rows.all():
            with clock_in_use(VirtualClock(need.received_dt + self.policy.triage)):
                self._try(change_status, need, "ready", actor="headless:needs")

    # --- reception ---

    def _reception(self, t: datetime) -> None:
        drill = self.drill
        dark = set(drill.power_out or ())
        for site in drill.operation.sites:
            if site.status != "open" or site.id in dark:
                # A closed desk starts again no earlier than now.
                self.lanes[site.id] = [t] * self.policy.lanes
                continue
            lanes = self.lanes.setdefault(site.id, [self.start] * self.policy.lanes)
            if site.id not in self.waiting or min(lanes) > t:
                continue  # nobody new in the queue, or every lane busy until after this step
            fresh, whole = self._waiting(drill, site.id)
            for arrival in fresh:
                lane = min(range(len(lanes)), key=lambda i: (lanes[i], i))
                begin = max(lanes[lane], arrival.arrived_dt)
                if begin > t:
                    break  # every lane is busy until after this step
                lanes[lane] = begin + self._service(arrival)
                self.at_desk.add(arrival.id)
                self._plan(lanes[lane], "check_in", arrival.id, site.id)
            else:
                if whole:  # everyone in the queue is at a desk (or was turned away)
                    self.waiting.discard(site.id)

    def _waiting(self, drill: Drill, site_id: int) -> tuple[list[DrillArrival], bool]:
        """The head of a site's queue that no lane has taken: as many as its lanes could
        start in one step (the queue may be hundreds long), and whether that is all of it."""
        policy = self.policy
        wanted = policy.lanes * (int(policy.step / policy.checkin) + 1)
        limit = wanted + policy.lanes
        while True:
            rows = queue(drill, site_id, limit=limit)
            fresh = [a for a in rows if a.id not in self.at_desk and a.id not in self.turned_away]
            if len(fresh) >= wanted or len(rows) < limit:
                self._load_volunteers(fresh)
                return fresh, len(rows) < limit
            limit *= 2

    def _load_volunteers(self, arrivals: list[DrillArrival]) -> None:
        """Read the waiting volunteers (and their groups) in one query, not one each; keep
        them, so that matching finds them in the session too."""
        from dvc.volunteers.models import Volunteer
        ids = [a.volunteer_id for a in arrivals if a.volunteer_id not in self.people]
        if ids:
            for volunteer in db.session.scalars(select(Volunteer).options(
                    selectinload(Volunteer.group)).where(Volunteer.id.in_(ids))):
                self.people[volunteer.id] = volunteer

    def _service(self, arrival: DrillArrival) -> timedelta:
        from dvc.volunteers.operations import insured_on
        volunteer = arrival.volunteer
        took = self.policy.checkin
        if not insured_on(volunteer, today()):
            took += self.policy.enrol
        if volunteer.group is not None:
            took += self.policy.group
        return took

    def _do_check_in(self, at, arrival_id: int, site_id: int) -> None:
        from dvc.volunteers.operations import check_in
        arrival = db.session.get(DrillArrival, arrival_id)
        volunteer = arrival.volunteer
        try:
            check_in(self.operation, volunteer, site_id=site_id, health_ok=True,
                     insurance_enrolled_now=True, actor="headless:reception",
                     method="group" if volunteer.group is not None else "scan")
        except DomainError as error:
            self.at_desk.discard(arrival_id)
            self.waiting.add(site_id)
            if error.code == "site_full":
                self.turned_away.add(arrival_id)
                self.counts["turned_away"] += 1
            return
        self.counts["checked_in"] += 1

    # --- coordinators and teams ---

    def _last_team(self, t: datetime) -> datetime:
        """No new team in the last hour of the activity window (they would barely start)."""
        day = t.astimezone(self.zone).date()
        end = datetime.combine(day, self.activity_end, self.zone)
        return end - timedelta(hours=1)

    def _match(self, t: datetime) -> None:
        from dvc.matching.operations import accept_suggestions, suggest_teams
        if self.recalled or t > self._last_team(t):
            return
        drill = self.drill
        dark = set(drill.power_out or ())
        plan, checkins = suggest_teams(drill.operation)
        proposals = [{"need_id": team.need_id, "member_ids": list(team.member_ids),
                      "leader_id": team.leader_id} for team in plan.teams
                     if checkins[team.leader_id].site_id not in dark]
        if not proposals:
            return
        formed, refused = accept_suggestions(drill.operation, proposals, actor="headless:matching")
        self.counts["teams_formed"] += len(formed)
        self.counts["proposals_refused"] += len(refused)
        for team in formed:
            self._plan(t + self.policy.briefing, "dispatch", team.id)

    def _team(self, team_id: int):
        from dvc.teams.models import Team
        return db.session.get(Team, team_id)

    def _do_dispatch(self, at, team_id: int) -> None:
        from dvc.teams.operations import disband_team, dispatch_team
        team = self._team(team_id)
        if team.status != "formed":
            return
        if self.recalled:  # nobody goes out after a recall: the need waits for tomorrow
            disband_team(team, actor="headless:dispatch")
            return
        if self.policy.lend:
            self._lend(team)
        dispatch_team(team, transport="own_vehicle" if team.need.vehicle_needed else "shuttle",
                      actor="headless:dispatch")
        self._plan(at + self.policy.travel, "arrive", team_id)

    def _lend(self, team) -> None:
        from dvc.equipment.models import ItemType
        from dvc.equipment.operations import lend_to_team
        per_person = db.session.scalars(select(ItemType).where(
            ItemType.operation_id == team.operation_id, ItemType.per_person)
            .order_by(ItemType.id)).all()
        people = team.headcount
        for item in per_person:
            try:
                with db.session.begin_nested():
                    lend_to_team(team, item, people, actor="headless:equipment")
            except DomainError as error:
                if error.code != "insufficient_stock":
                    raise
                self.counts["lends_refused"] += 1
                log_event(kinds.LEND_REFUSED, actor="headless:equipment",
                          operation_id=team.operation_id, subject=team,
                          payload={"site_id": team.site_id, "item_type_id": item.id,
                                   "item": item.name, "requested": people,
                                   "available": error.data.get("available")})
                continue
            self.lent.setdefault(team.id, []).append(
                {"item_type_id": item.id, "quantity": people, "condition": "good"})

    def _do_arrive(self, at, team_id: int) -> None:
        from dvc.teams.operations import arrive_team
        team = self._team(team_id)
        if team.status != "dispatched":
            return
        arrive_team(team, actor="headless:leader")
        hours = team.need.est_hours or self.policy.default_hours
        done = at + timedelta(hours=hours)
        latest = team.due_back_dt - self.policy.travel
        if done > latest:
            self.short.add(team_id)
            done = max(latest, at)
        self._plan(done, "finish", team_id)

    def _do_finish(self, at, team_id: int) -> None:
        from dvc.teams.operations import finish_team
        team = self._team(team_id)
        if team.status not in ("dispatched", "on_site"):
            return
        finish_team(team, actor="headless:leader")
        self._plan(at + self.policy.travel, "come_back", team_id)

    def _do_come_back(self, at, team_id: int) -> None:
        from dvc.equipment.operations import return_items
        from dvc.teams.operations import report_team, return_team
        team = self._team(team_id)
        if team.status != "finished":
            return
        if self.lent.get(team_id):
            return_items(team, self.lent.pop(team_id), actor="headless:equipment")
        return_team(team, actor="headless:leader")
        if team_id in self.short:
            report_team(team, outcome="continuing", actor="headless:leader",
                        reported_by="headless:leader",
                        remaining_work=_("Drill: the work was cut short; the rest remains."))
        else:
            report_team(team, outcome="completed", actor="headless:leader",
                        reported_by="headless:leader")

    # --- the result ---

    def result(self) -> Result:
        drill = self.drill
        operation = drill.operation
        log = ops.drill_events(drill, until=self.end)
        refs = ops.refs_of(operation)
        values = drill_metrics.compute(log, scenario=self.scenario, end=self.end, refs=refs)
        ratings = drill_metrics.rate(self.scenario, values, log, refs=refs)
        arrivals = sum(1 for e in log if e.kind == kinds.VOLUNTEER_ARRIVED)
        counts = {"arrivals": arrivals,
                  "needs": sum(1 for e in log if e.kind == "need.received"),
                  **self.counts, "events": len(log)}
        return Result(operation.id, self.scenario.id, self.seed, self.end, values, ratings,
                      counts)
