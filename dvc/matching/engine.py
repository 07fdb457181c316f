"""The matching engine: propose the day's teams from checked-in volunteers and ready needs.

Pure: model dataclasses in, a Plan out. Each site is solved on its own (volunteers only go to
needs their site serves). The default strategy builds teams greedily under several need orders,
repairs the best one by exchanging needs, then places everyone left over; `first_come` is what a
whiteboard does, kept for comparison.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import product
from time import perf_counter
from typing import Callable

from dvc.matching.model import (Instance, Need, Plan, Team, Volunteer, choose_leader,
                                objective, reason_text, served_value, team_facts,
                                team_score, units)

VEHICLE = "\x00vehicle"     # the vehicle requirement, treated like one more skill
EXPERIENCE = "\x00experienced"


@dataclass(eq=False)
class Unit:
    """Volunteers placed whole (a group or one person) with what they bring."""

    members: tuple[Volunteer, ...]
    people: int
    attrs: frozenset[str]          # skills, plus VEHICLE / EXPERIENCE markers
    order: int                     # queue position (check-in order)

    @property
    def experienced(self) -> bool:
        return EXPERIENCE in self.attrs


def make_unit(members: tuple[Volunteer, ...], order: int) -> Unit:
    attrs = set().union(*(v.skills for v in members))
    if any(v.vehicle for v in members):
        attrs.add(VEHICLE)
    if any(v.experienced for v in members):
        attrs.add(EXPERIENCE)
    return Unit(members, sum(v.headcount for v in members), frozenset(attrs), order)


def requirements(need: Need) -> frozenset[str]:
    return need.skills | ({VEHICLE} if need.vehicle else frozenset())


class Pool:
    """Free units in buckets of the same kind, so a choice scans kinds, not people."""

    def __init__(self, pool_units: list[Unit], scarcity: dict[str, float],
                 big_first: bool = False):
        self.scarcity = scarcity
        self.big_first = big_first
        self.buckets: dict[tuple[int, frozenset], list[Unit]] = defaultdict(list)
        self.people = sum(u.people for u in pool_units)
        self.attr_count: dict[str, int] = defaultdict(int)
        for unit in pool_units:
            for attr in unit.attrs:
                self.attr_count[attr] += 1
        for unit in sorted(pool_units, key=lambda u: -u.order):   # pop() gives the earliest
            self.buckets[(unit.people, unit.attrs)].append(unit)
        self.with_attr: dict[str, list[tuple[int, frozenset]]] = defaultdict(list)
        for key in self.buckets:
            for attr in key[1]:
                self.with_attr[attr].append(key)
        # Kinds to fill with: by what they would waste (plain people first, then the least
        # sought-after), or big units first (a group fits fewer needs than one person does).
        self.by_cost = sorted(self.buckets, key=lambda k: (-k[0], self.cost(k[1])) if big_first
                              else (self.cost(k[1]), -k[0]))

    def cost(self, attrs: frozenset[str]) -> float:
        return sum(self.scarcity.get(a, 0.0) for a in attrs)

    def _count(self, key: tuple[int, frozenset], sign: int) -> None:
        self.people += sign * key[0]
        for attr in key[1]:
            self.attr_count[attr] += sign

    def take(self, key: tuple[int, frozenset]) -> Unit:
        self._count(key, -1)
        return self.buckets[key].pop()

    def take_exactly(self, taken: list[Unit]) -> None:
        """Take these very units (not just units of their kind) out of the pool."""
        for unit in taken:
            key = (unit.people, unit.attrs)
            self.buckets[key].remove(unit)
            self._count(key, -1)

    def give_back(self, taken: list[Unit]) -> None:
        for unit in reversed(taken):
            key = (unit.people, unit.attrs)
            self.buckets[key].append(unit)
            self._count(key, +1)

    def has(self, attr: str) -> bool:
        return self.attr_count[attr] > 0

    def fits(self, attr: str, size: int) -> bool:
        """Tell whether a free unit of at most `size` people brings the attribute."""
        return any(self.buckets[k] and k[0] <= size for k in self.with_attr.get(attr, ()))

    def free(self) -> list[Unit]:
        return [u for bucket in self.buckets.values() for u in bucket]

    def cover_key(self, missing: set[str], room: int, gap: int):
        """Pick the kind that covers most missing requirements, wasting least."""
        best, best_rank = None, None
        for attr in sorted(missing):    # sorted: the same plan in every process
            for key in self.with_attr.get(attr, ()):
                if not self.buckets[key] or key[0] > room:
                    continue
                covered = missing & key[1]
                waste = self.cost(key[1] - covered)
                rank = (-len(covered), key[0] > gap, *((-key[0], waste) if self.big_first
                                                       else (waste, -key[0])))
                if best_rank is None or rank < best_rank:
                    best, best_rank = key, rank
        return best

    def experienced_key(self, gap: int):
        """Pick a kind with an experienced member that fits without going past the minimum."""
        best, best_rank = None, None
        for key in self.with_attr.get(EXPERIENCE, ()):
            if self.buckets[key] and key[0] <= gap:
                rank = (self.cost(key[1] - {EXPERIENCE}), -key[0])
                if best_rank is None or rank < best_rank:
                    best, best_rank = key, rank
        return best

    def exact_team(self, need: Need) -> list | None:
        """Find kinds that staff the need exactly (size and requirements), cheapest first.

        The greedy build can strand a team: a chainsaw holder alone where the one with a
        chainsaw and a friend fits, or a group of 2 left with room for 1. This is a small
        dynamic programme over kinds of units and (people, requirements covered).
        """
        wanted = sorted(requirements(need))
        if self.people < need.people_min or not all(self.has(a) for a in wanted):
            return None
        full = (1 << len(wanted)) - 1
        best: dict[tuple[int, int], tuple] = {(0, 0): (0.0, 0, ())}
        for key in self.by_cost:
            size = key[0]
            if size > need.people_max or not self.buckets[key]:
                continue
            mask = sum(1 << b for b, a in enumerate(wanted) if a in key[1])
            cost = self.cost(key[1])
            for _ in range(min(len(self.buckets[key]), need.people_max // size)):
                grown = dict(best)
                for (total, covered), (spent, count, picks) in best.items():
                    state = (total + size, covered | mask)
                    if state[0] <= need.people_max:
                        option = (spent + cost, count + 1, picks + (key,))
                        if state not in grown or option[:2] < grown[state][:2]:
                            grown[state] = option
                best = grown
        options = [value for (total, covered), value in best.items()
                   if total >= need.people_min and covered == full]
        return list(min(options)[2]) if options else None

    def fill_key(self, gap: int, room: int):
        """Pick the cheapest kind that fills the gap exactly or nearly, else the smallest fit."""
        fallback = None
        for key in self.by_cost:
            if not self.buckets[key] or key[0] > room:
                continue
            if key[0] <= gap or self.big_first:    # big first: the largest that fits at all
                return key
            if fallback is None or key[0] < fallback[0]:
                fallback = key
        return fallback


def build_team(need: Need, pool: Pool) -> list[Unit] | None:
    """Take units from the pool for one need, or take nothing and return None."""
    taken: list[Unit] = []
    people, missing = 0, set(requirements(need))
    while missing:
        key = pool.cover_key(missing, need.people_max - people, max(need.people_min - people, 1))
        if key is None:
            return exact_or_nothing(need, pool, taken)
        unit = pool.take(key)
        taken.append(unit)
        people += unit.people
        missing -= unit.attrs
    if not any(u.experienced for u in taken) and people < need.people_min:
        key = pool.experienced_key(need.people_min - people)
        if key is not None:
            taken.append(pool.take(key))
            people += taken[-1].people
    while people < need.people_min:
        key = pool.fill_key(need.people_min - people, need.people_max - people)
        if key is None:
            return exact_or_nothing(need, pool, taken)
        taken.append(pool.take(key))
        people += taken[-1].people
    return taken


def exact_or_nothing(need: Need, pool: Pool, taken: list[Unit]) -> list[Unit] | None:
    """The greedy build failed: put back what it took and search for an exact team."""
    pool.give_back(taken)
    keys = pool.exact_team(need)
    return None if keys is None else [pool.take(key) for key in keys]


def scarcity_of(site_units: list[Unit], site_needs: list[Need]) -> dict[str, float]:
    """Weigh each attribute by how many needs want it per unit that has it."""
    demand: dict[str, float] = defaultdict(float)
    for need in site_needs:
        for attr in requirements(need):
            demand[attr] += 1.0
    demand[EXPERIENCE] += len(site_needs) * 0.5
    supply: dict[str, int] = defaultdict(int)
    for unit in site_units:
        for attr in unit.attrs:
            supply[attr] += 1
    return {a: demand.get(a, 0.0) / n for a, n in supply.items()}


# --- one site ------------------------------------------------------------------------------

@dataclass
class SitePlan:
    teams: dict[int, list[Unit]]       # need id -> units
    pool: Pool
    score: float


def construct(needs: list[Need], site_units: list[Unit], scarcity, big_first: bool) -> SitePlan:
    """Build teams greedily in the given need order."""
    pool = Pool(site_units, scarcity, big_first)
    teams = {}
    for need in needs:
        taken = build_team(need, pool)
        if taken is not None:
            teams[need.id] = taken
    return SitePlan(teams, pool, 0.0)


def score_site(plan: SitePlan, needs: dict[int, Need]) -> float:
    return sum(team_score(needs[nid], [v for u in units_ for v in u.members])
               for nid, units_ in plan.teams.items())


def repair(plan: SitePlan, order: list[Need], value: dict[int, float],
           needs: dict[int, Need]) -> None:
    """Serve a more valuable need by giving up a less valuable one when that gains."""
    budget = REBUILD_BUDGET
    seen: dict[int, tuple] = {}     # need id -> (its units, people, what they bring)

    def summary(nid: int) -> tuple[int, frozenset]:
        team = plan.teams[nid]
        if nid not in seen or seen[nid][0] is not team:
            seen[nid] = (team, sum(u.people for u in team),
                         frozenset().union(*(u.attrs for u in team)))
        return seen[nid][1:]

    for need in order:
        if need.id in plan.teams:
            continue
        taken = build_team(need, plan.pool)
        if taken is not None:
            plan.teams[need.id] = taken
            continue
        lacking = {a for a in requirements(need) if not plan.pool.fits(a, need.people_max)}
        short = need.people_min - plan.pool.people
        victims = sorted((nid for nid in plan.teams
                          if summary(nid)[0] >= short and lacking <= summary(nid)[1]),
                         key=lambda nid: (value[nid] >= value[need.id], value[nid], nid))
        # A team worth as much or more may lend what it has only if it can be staffed again
        # (a rare skill, a vehicle or a group that sits in the wrong team); kept short.
        cheaper = [v for v in victims if value[v] < value[need.id]]
        dearer = [v for v in victims if value[v] >= value[need.id]][:min(REBUILD_TRIES, budget)]
        budget -= len(dearer)
        for victim_id in cheaper + dearer:
            if swap(plan, victim_id, need, needs, must_rebuild=victim_id in dearer):
                break


REBUILD_TRIES = 20      # per need left without a team
REBUILD_BUDGET = 400    # per pass: a morning with far more work than people stays fast


def swap(plan: SitePlan, victim_id: int, need: Need, needs: dict[int, Need], *,
         must_rebuild: bool = False) -> bool:
    """Release one team and try to staff the need with what it frees; keep it if it gains."""
    released = plan.teams.pop(victim_id)
    plan.pool.give_back(released)
    taken = build_team(need, plan.pool)
    if taken is not None:
        again = build_team(needs[victim_id], plan.pool)
        if again is not None or not must_rebuild:
            plan.teams[need.id] = taken
            if again is not None:
                plan.teams[victim_id] = again
            return True
        plan.pool.give_back(taken)
    plan.pool.take_exactly(released)
    plan.teams[victim_id] = released
    return False


def place_leftovers(plan: SitePlan, needs: dict[int, Need]) -> None:
    """Put everyone still free into teams with room: experienced people where none is."""
    room = {nid: needs[nid].people_max - sum(u.people for u in us)
            for nid, us in plan.teams.items()}
    lacking = [nid for nid, us in plan.teams.items() if not any(u.experienced for u in us)]
    free = sorted(plan.pool.free(), key=lambda u: (-u.people, u.order))
    placed = []

    def place(unit: Unit, nid: int) -> None:
        plan.teams[nid].append(unit)
        room[nid] -= unit.people
        placed.append(unit)

    for nid in lacking:
        fits = [u for u in free if u.experienced and u.people <= room[nid]]
        if fits:
            unit = min(fits, key=lambda u: (u.people, u.order))
            free.remove(unit)
            place(unit, nid)
    for unit in free:                  # best fit, largest first
        best = min(((r, nid) for nid, r in room.items() if r >= unit.people), default=None)
        if best is not None:
            place(unit, best[1])
    plan.pool.take_exactly(placed)


def need_orders(site_needs: list[Need], scarcity) -> list[list[Need]]:
    """Several reasonable orders to build in; the best result wins."""
    def rarity(n: Need) -> float:
        return sum(scarcity.get(a, 10.0) for a in requirements(n))

    by_value = sorted(site_needs, key=lambda n: (-served_value(n), n.people_min, n.id))
    by_density = sorted(site_needs, key=lambda n: (-served_value(n) / n.people_min, n.id))
    by_rarity = sorted(site_needs, key=lambda n: (-served_value(n), -rarity(n), n.id))
    by_cost = sorted(site_needs, key=lambda n: (-served_value(n) / (n.people_min + rarity(n)),
                                                n.id))
    return [by_value, by_density, by_rarity, by_cost]


def solve_site(site_needs: list[Need], site_units: list[Unit]) -> SitePlan:
    needs = {n.id: n for n in site_needs}
    value = {n.id: served_value(n) for n in site_needs}
    scarcity = scarcity_of(site_units, site_needs)
    best = None
    for order, big_first in product(need_orders(site_needs, scarcity), (False, True)):
        plan = construct(order, site_units, scarcity, big_first)
        repair(plan, order, value, needs)
        place_leftovers(plan, needs)
        plan.score = score_site(plan, needs)
        if best is None or plan.score > best.score:
            best = plan
    return best


def first_come_site(site_needs: list[Need], site_units: list[Unit]) -> SitePlan:
    """A whiteboard: needs in the order they came, people in the order they checked in.

    The coordinator first calls for whoever has each required skill or vehicle, then takes
    the next people in the queue until the minimum is reached.
    """
    queue = sorted(site_units, key=lambda u: u.order)
    teams = {}
    for need in sorted(site_needs, key=lambda n: n.id):
        taken, people = [], 0
        for attr in sorted(requirements(need)):
            if any(attr in u.attrs for u in taken):
                continue
            unit = next((u for u in queue if attr in u.attrs
                         and people + u.people <= need.people_max), None)
            if unit is not None:
                taken.append(unit)
                queue.remove(unit)
                people += unit.people
        for unit in list(queue):
            if people >= need.people_min:
                break
            if people + unit.people <= need.people_max:
                taken.append(unit)
                queue.remove(unit)
                people += unit.people
        covered = requirements(need) <= frozenset().union(*(u.attrs for u in taken))
        if people >= need.people_min and covered:
            teams[need.id] = taken
        else:
            queue = sorted(queue + taken, key=lambda u: u.order)
    plan = SitePlan(teams, Pool(queue, {}), 0.0)
    plan.score = score_site(plan, {n.id: n for n in site_needs})
    return plan


# --- the whole day -------------------------------------------------------------------------

SiteSolver = Callable[[list[Need], list[Unit]], SitePlan]
STRATEGIES: dict[str, SiteSolver] = {"default": solve_site, "first_come": first_come_site}


def suggest(instance: Instance, strategy: str = "default") -> Plan:
    """Propose teams for the day; nobody is dispatched by this."""
    started = perf_counter()
    by_site_units, by_site_needs = split_by_site(instance)
    teams: list[Team] = []
    for site_id, site_needs in by_site_needs.items():
        plan = STRATEGIES[strategy](site_needs, by_site_units.get(site_id, []))
        needs = {n.id: n for n in site_needs}
        teams += [make_team(needs[nid], team_units)
                  for nid, team_units in sorted(plan.teams.items())]
    assigned = {i for t in teams for i in t.member_ids}
    served = {t.need_id for t in teams}
    return Plan(
        teams=tuple(teams),
        unassigned_volunteer_ids=tuple(v.id for v in instance.volunteers
                                       if v.id not in assigned),
        unserved_need_ids=tuple(n.id for n in instance.needs if n.id not in served),
        objective=objective(instance, teams),
        strategy=strategy,
        meta={"seconds": perf_counter() - started},
    )


def split_by_site(instance: Instance):
    """Group units and needs by site; a group spread over sites stays out (it can't go whole)."""
    site_units: dict[int, list[Unit]] = defaultdict(list)
    order = {v.id: i for i, v in enumerate(instance.volunteers)}
    for members in units(instance.volunteers):
        sites = {v.site_id for v in members}
        if len(sites) == 1:
            site_units[sites.pop()].append(make_unit(members, min(order[v.id] for v in members)))
    site_needs: dict[int, list[Need]] = defaultdict(list)
    for need in instance.needs:
        site_needs[need.site_id].append(need)
    return site_units, site_needs


def make_team(need: Need, team_units: list[Unit]) -> Team:
    members = [v for u in team_units for v in u.members]
    leader = choose_leader(members)
    facts = team_facts(need, members, leader)
    return Team(need_id=need.id, member_ids=tuple(v.id for v in members), leader_id=leader.id,
                reason=reason_text(facts), facts=facts)
