"""Seeded random matching instances that look like a real centre's morning.

Pure Python (no Flask): the benchmark and the tests build instances with `random_instance`.
The same seed always gives the same instance (one `random.Random(seed)`, nothing global).
"""
from __future__ import annotations

import random

from dvc.matching.model import Instance, Need, Volunteer

# The app's skill names (dvc/config.py, Defaults.SKILLS; a unit test checks they agree), with
# how common each is among volunteers who have a skill at all. Chainsaw and heavy machinery are
# rare; driving and first aid are the usual ones.
SKILL_WEIGHTS = {
    "driving": 10.0, "first_aid": 8.0, "carpentry": 6.0, "nursing": 4.0, "languages": 4.0,
    "electrician": 3.0, "counselling": 3.0, "sign_language": 1.5, "chainsaw": 1.0,
    "heavy_machinery": 1.0,
}
# How often a need that asks for one skill asks for each: mostly the work skills, the rare ones
# included so that some needs can hardly be staffed.
NEED_SKILL_WEIGHTS = {
    "carpentry": 6.0, "driving": 5.0, "first_aid": 3.0, "chainsaw": 3.0, "electrician": 2.0,
    "heavy_machinery": 2.0, "nursing": 2.0, "languages": 1.0, "counselling": 1.0,
    "sign_language": 0.5,
}
PRIORITIES = {"urgent": 0.05, "high": 0.20, "normal": 0.60, "low": 0.15}
GROUP_SHARE = 0.2               # a fifth of volunteers come as a group (company, school, club)
GROUP_SIZES = {2: 6, 3: 5, 4: 4, 5: 3, 6: 2, 7: 1.5, 8: 1, 9: 0.7, 10: 0.5}
VEHICLE_SHARE = 0.15
LEADER_SHARE = 0.10
NEED_SKILL_SHARE = 0.30
NEED_VEHICLE_SHARE = 0.25
CONTINUING_SHARE = 0.20
BIG_JOB_SHARE = 0.08            # mud-out of a whole house: many hands


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _split(total: int, weights: list[float]) -> list[int]:
    """Split `total` into integers proportional to `weights` (largest remainder)."""
    whole = sum(weights)
    if total <= 0 or whole <= 0:
        return [0] * len(weights)
    exact = [total * w / whole for w in weights]
    out = [int(x) for x in exact]
    for i in sorted(range(len(weights)), key=lambda i: exact[i] - out[i],
                    reverse=True)[:total - sum(out)]:
        out[i] += 1
    return out


def _volunteer_skills(rng: random.Random) -> frozenset[str]:
    r = rng.random()
    count = 0 if r < 0.70 else 1 if r < 0.92 else 2
    skills: set[str] = set()
    while len(skills) < count:
        skills.add(_pick(rng, SKILL_WEIGHTS))
    return frozenset(skills)


def _experience(rng: random.Random) -> int:
    """Past activity days: mostly first-timers, a long tail of regulars."""
    if rng.random() < 0.6:
        return 0
    return min(1 + int(rng.expovariate(1 / 4)) * (3 if rng.random() < 0.1 else 1), 120)


def _need(rng: random.Random, need_id: int, site_id: int) -> Need:
    if rng.random() < BIG_JOB_SHARE:
        people_min = rng.randint(4, 8)
        people_max = rng.randint(10, 15)
    else:
        people_min = rng.choices([1, 2, 3, 4, 5, 6], weights=[0.5, 3, 3, 2, 1, 0.5])[0]
        people_max = people_min + rng.randint(0, 5)
    skills = frozenset([_pick(rng, NEED_SKILL_WEIGHTS)]) if rng.random() < NEED_SKILL_SHARE \
        else frozenset()
    return Need(id=need_id, site_id=site_id, people_min=people_min, people_max=people_max,
                skills=skills, vehicle=rng.random() < NEED_VEHICLE_SHARE,
                priority=_pick(rng, PRIORITIES), continuing=rng.random() < CONTINUING_SHARE,
                days_waiting=rng.randint(0, 10), distance_km=round(rng.uniform(0.3, 12.0), 1))


def random_instance(volunteers: int, needs: int, seed: int, sites: int = 2) -> Instance:
    """Return a seeded instance with `volunteers` people and `needs` needs over `sites` sites.

    Sites are numbered 1..sites, need ids and volunteer ids start at 1 (in site order), group
    ids at 1. Needs are spread unevenly over the sites (the main site gets the most) and the
    volunteers in proportion to the needs. About a fifth of the volunteers are in groups of
    2-10 sharing group_id and site; every volunteer has headcount 1.
    """
    if volunteers < 0 or needs < 0 or sites < 1:
        raise ValueError("volunteers and needs must be >= 0 and sites >= 1")
    rng = random.Random(seed)
    site_ids = list(range(1, sites + 1))
    site_weights = [1.0 if i == 0 else rng.uniform(0.3, 0.8) for i in range(sites)]
    need_sites = sorted(rng.choices(site_ids, weights=site_weights, k=needs))
    per_site_needs = [need_sites.count(s) for s in site_ids]
    # Volunteers follow the work; a site with no needs still gets a share if all sites are empty.
    per_site_people = _split(volunteers, per_site_needs if needs else site_weights)

    out_needs = tuple(_need(rng, i, s) for i, s in enumerate(need_sites, start=1))
    out_people: list[Volunteer] = []
    group_id = 0
    for site_id, count in zip(site_ids, per_site_people):
        grouped = round(GROUP_SHARE * count)
        sizes: list[int] = []
        while sum(sizes) < grouped:
            sizes.append(min(_pick(rng, GROUP_SIZES), grouped - sum(sizes)))
        if sizes and sizes[-1] == 1:        # a group of one is not a group: merge it
            sizes.pop()
            if sizes:
                sizes[-1] += 1
            else:
                sizes.append(1)
        groups = []
        for size in sizes:
            if size >= 2:
                group_id += 1
                groups += [group_id] * size
            else:
                groups.append(None)
        groups += [None] * (count - len(groups))
        for gid in groups:
            out_people.append(Volunteer(
                id=len(out_people) + 1, site_id=site_id, group_id=gid,
                skills=_volunteer_skills(rng), vehicle=rng.random() < VEHICLE_SHARE,
                experience=_experience(rng), leader_capable=rng.random() < LEADER_SHARE))
    return Instance(volunteers=tuple(out_people), needs=out_needs)
