"""The team-matching model: what goes in, what comes out, and the one objective.

Pure: plain frozen dataclasses, no Flask, no SQLAlchemy. The engine and the exact reference both
score plans with `objective`, so "how close to optimal" compares like with like.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Weights of the objective, ordered so each tier dominates the next in practice:
# serving needs (thousands) > travel (at most TRAVEL_CAP) > experience spread > people placed.
PRIORITY_WEIGHT = {"urgent": 8, "high": 4, "normal": 2, "low": 1}
NEED_UNIT = 1000.0
CONTINUING_BONUS = 300.0      # a house already started should be finished
WAIT_PER_DAY = 60.0
WAIT_CAP_DAYS = 14
TRAVEL_PER_KM = 20.0
TRAVEL_CAP = 200.0            # 10 km and further all cost the same
EXPERIENCE_BONUS = 50.0       # a team with a leader-capable or experienced member
PERSON_PLACED = 1.0           # nobody who came should stand idle if a team has room
EXPERIENCED_AFTER = 3         # past activity days that make a volunteer "experienced"


@dataclass(frozen=True)
class Volunteer:
    id: int
    site_id: int
    group_id: int | None = None
    skills: frozenset[str] = frozenset()
    vehicle: bool = False
    experience: int = 0          # past activity days
    leader_capable: bool = False
    headcount: int = 1           # a group check-in can stand for several people

    @property
    def experienced(self) -> bool:
        return self.leader_capable or self.experience >= EXPERIENCED_AFTER


@dataclass(frozen=True)
class Need:
    id: int
    site_id: int
    people_min: int
    people_max: int
    skills: frozenset[str] = frozenset()
    vehicle: bool = False
    priority: str = "normal"
    continuing: bool = False
    days_waiting: int = 0
    distance_km: float = 0.0     # from the site that serves it

    def __post_init__(self):
        if not 1 <= self.people_min <= self.people_max:
            raise ValueError(f"need {self.id}: people {self.people_min}-{self.people_max}")
        if self.priority not in PRIORITY_WEIGHT:
            raise ValueError(f"need {self.id}: unknown priority {self.priority!r}")


@dataclass(frozen=True)
class Instance:
    volunteers: tuple[Volunteer, ...]
    needs: tuple[Need, ...]


@dataclass(frozen=True)
class Team:
    need_id: int
    member_ids: tuple[int, ...]
    leader_id: int
    reason: str = ""
    # What the reason is made of, so a page can say it in its own language (reason_text).
    facts: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Plan:
    teams: tuple[Team, ...]
    unassigned_volunteer_ids: tuple[int, ...] = ()
    unserved_need_ids: tuple[int, ...] = ()
    objective: float = 0.0
    strategy: str = ""
    meta: dict = field(default_factory=dict, compare=False)


def need_value(need: Need) -> float:
    """Return what serving a need fully is worth before travel."""
    days = min(max(need.days_waiting, 0), WAIT_CAP_DAYS)
    return (NEED_UNIT * PRIORITY_WEIGHT[need.priority]
            + (CONTINUING_BONUS if need.continuing else 0.0) + WAIT_PER_DAY * days)


def travel_cost(need: Need) -> float:
    return min(TRAVEL_PER_KM * max(need.distance_km, 0.0), TRAVEL_CAP)


def served_value(need: Need) -> float:
    """Return the gain of one fully staffed team on a need (always positive)."""
    return need_value(need) - travel_cost(need)


def team_score(need: Need, members: list[Volunteer]) -> float:
    """Score one feasible team; the engine and the exact reference both sum this."""
    people = sum(v.headcount for v in members)
    bonus = EXPERIENCE_BONUS if any(v.experienced for v in members) else 0.0
    return served_value(need) + bonus + PERSON_PLACED * people


def objective(instance: Instance, teams: tuple[Team, ...] | list[Team]) -> float:
    """Score a plan: the sum of its teams; a half-staffed team counts for nothing."""
    volunteers = {v.id: v for v in instance.volunteers}
    needs = {n.id: n for n in instance.needs}
    total = 0.0
    for team in teams:
        members = [volunteers[i] for i in team.member_ids]
        if not violations_of_team(needs[team.need_id], members):
            total += team_score(needs[team.need_id], members)
    return total


def violations_of_team(need: Need, members: list[Volunteer]) -> list[str]:
    """List the hard rules one team breaks on its own."""
    problems = []
    people = sum(v.headcount for v in members)
    if not need.people_min <= people <= need.people_max:
        problems.append(f"need {need.id}: {people} people, wants {need.people_min}-"
                        f"{need.people_max}")
    have = frozenset().union(*(v.skills for v in members)) if members else frozenset()
    if not need.skills <= have:
        problems.append(f"need {need.id}: missing skills {sorted(need.skills - have)}")
    if need.vehicle and not any(v.vehicle for v in members):
        problems.append(f"need {need.id}: no vehicle holder")
    if any(v.site_id != need.site_id for v in members):
        problems.append(f"need {need.id}: a member from another site")
    return problems


def violations(instance: Instance, plan: Plan) -> list[str]:
    """List every hard rule a plan breaks; an empty list means the plan is feasible."""
    volunteers = {v.id: v for v in instance.volunteers}
    needs = {n.id: n for n in instance.needs}
    problems, seen, need_seen = [], set(), set()
    team_of = {i: t.need_id for t in plan.teams for i in t.member_ids}
    for team in plan.teams:
        if team.need_id in need_seen:
            problems.append(f"need {team.need_id}: two teams")
        need_seen.add(team.need_id)
        if seen & set(team.member_ids) or len(set(team.member_ids)) != len(team.member_ids):
            problems.append(f"need {team.need_id}: a volunteer in two teams")
        seen |= set(team.member_ids)
        if team.leader_id not in team.member_ids:
            problems.append(f"need {team.need_id}: leader is not a member")
        problems += violations_of_team(needs[team.need_id],
                                       [volunteers[i] for i in team.member_ids])
    return problems + split_groups(instance, team_of)


def split_groups(instance: Instance, team_of: dict[int, int]) -> list[str]:
    """Name every group whose members are not all in one team or all unassigned."""
    groups: dict[int, set] = {}
    for v in instance.volunteers:
        if v.group_id is not None:
            groups.setdefault(v.group_id, set()).add(team_of.get(v.id))
    return [f"group {g} is split" for g, places in groups.items() if len(places) > 1]


def units(volunteers: tuple[Volunteer, ...] | list[Volunteer]) -> list[tuple[Volunteer, ...]]:
    """Bundle volunteers into units that are placed whole: a group, or one person."""
    groups: dict[int, list[Volunteer]] = {}
    out: list[tuple[Volunteer, ...]] = []
    for v in volunteers:
        if v.group_id is None:
            out.append((v,))
        else:
            groups.setdefault(v.group_id, []).append(v)
    return out + [tuple(g) for g in groups.values()]


def choose_leader(members: list[Volunteer]) -> Volunteer:
    """Pick the leader: leader-capable first, then the most experienced, then the lowest id."""
    return min(members, key=lambda v: (not v.leader_capable, -v.experience, v.id))


def team_facts(need: Need, members: list[Volunteer], leader: Volunteer) -> dict:
    """Collect why these people: who brings each skill and the vehicle, groups, the leader."""
    groups: dict[int, int] = {}
    for v in members:
        if v.group_id is not None:
            groups[v.group_id] = groups.get(v.group_id, 0) + v.headcount
    return {
        "people": sum(v.headcount for v in members),
        "people_min": need.people_min, "people_max": need.people_max,
        "skills": {s: next(v.id for v in members if s in v.skills) for s in sorted(need.skills)},
        "vehicle": next((v.id for v in members if v.vehicle), None) if need.vehicle else None,
        "groups": groups,
        "leader": leader.id,
        "leader_why": ("leader_capable" if leader.leader_capable else
                       "experienced" if leader.experience else "first_day"),
        "leader_days": leader.experience,
        "distance_km": round(need.distance_km, 1),
    }


def _same(text: str) -> str:
    return text


def reason_text(facts: dict, *, name=str, label=str, _=_same, sep: str = "; ") -> str:
    """Say in one line why these people, in the language `_` translates to.

    `name` turns a volunteer id into what the reader knows them by, `label` a skill code
    into its label; both default to the raw values for logs and the benchmark.
    """
    parts = [_("%(people)s people (%(min)s-%(max)s)") % {
        "people": facts["people"], "min": facts["people_min"], "max": facts["people_max"]}]
    parts += [_("%(skill)s: %(who)s") % {"skill": label(s), "who": name(v)}
              for s, v in facts["skills"].items()]
    if facts["vehicle"] is not None:
        parts.append(_("light truck: %(who)s") % {"who": name(facts["vehicle"])})
    parts += [_("a group of %(n)s kept together") % {"n": n} for n in facts["groups"].values()]
    why = {"leader_capable": _("has led teams"),
           "experienced": _("%(n)s days before") % {"n": facts["leader_days"]},
           "first_day": _("first day")}[facts["leader_why"]]
    parts.append(_("leader %(who)s (%(why)s)") % {"who": name(facts["leader"]), "why": why})
    parts.append(_("%(km)s km from the site") % {"km": facts["distance_km"]})
    return sep.join(parts)
