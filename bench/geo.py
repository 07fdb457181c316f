#!/usr/bin/env python3
"""District joins, serving sites and welfare-shelter placement at the sizes of a busy response.

A fictional city (dvc.districts.fictional: seven Voronoi districts in a 9 km square around
35.68N 139.70E, 架空) with
  1. 20,000 random need points over a box a little larger than the city (about 1 in 5 falls
     outside every district), 3 open sites (a main centre serving by distance, two satellites
     with service areas), and a paused satellite: `locate` then `serving_sites` for all of
     them, as after a district import or a service-area change;
  2. 1,000 people with care needs (a third with a carer) among 200 shelters (random care
     types and statuses, 1 in 10 general) with fewer places than people, so that shelters
     fill up and the search widens past each person's nearest 16: `place_people`, and one
     `find_room`.
Each step runs once to warm up (imports, PROJ database, cached Transformers), then the median
of --runs runs is printed. Goal: under 0.5 s each for 1 and 2. Nothing is asserted.

Usage: .venv/bin/python bench/geo.py [--runs 5] [--seed 2026]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dvc.districts.fictional import HALF_SIZE_KM, fictional_city  # noqa: E402
from dvc.districts.geometry import DistrictSet, locate  # noqa: E402
from dvc.districts.serving import ServiceSite, serving_sites  # noqa: E402
from dvc.districts.shelters import (CARE_TYPES, Person, Shelter, find_room,  # noqa: E402
                                    place_people)

CENTRE = (35.68, 139.70)
GOAL_S = 0.5
# Degrees per km near 35.68N, to spread points over the city's square.
LAT_KM, LON_KM = 1 / 111.0, 1 / 90.3


def random_points(rng: np.random.Generator, count: int, margin_km: float) -> np.ndarray:
    """Return count (lat, lon) points uniform over the city's square plus a margin."""
    half = HALF_SIZE_KM + margin_km
    lat = CENTRE[0] + rng.uniform(-half, half, count) * LAT_KM
    lon = CENTRE[1] + rng.uniform(-half, half, count) * LON_KM
    return np.column_stack([lat, lon])


def sites() -> list[ServiceSite]:
    lat, lon = CENTRE
    return [ServiceSite(1, lat, lon),
            ServiceSite(2, lat + 2.5 * LAT_KM, lon - 1.5 * LON_KM,
                        service_districts=frozenset({"北町", "山手"})),
            ServiceSite(3, lat - 2.5 * LAT_KM, lon + 2.0 * LON_KM,
                        service_districts=frozenset({"南町", "川辺"})),
            ServiceSite(4, lat, lon + 3.0 * LON_KM, status="paused",
                        service_districts=frozenset({"東町"}))]


def shelters(rng: np.random.Generator, count: int) -> list[Shelter]:
    points = random_points(rng, count, 0.0)
    statuses = ["open"] * 7 + ["full", "closed", "not_open"]
    return [Shelter(i + 1, f"福祉避難所{i + 1}（架空）", "welfare" if i % 10 else "general",
                    statuses[rng.integers(len(statuses))], float(lat), float(lon),
                    int(rng.integers(3, 12)), {"frail_elderly": int(rng.integers(0, 4))},
                    frozenset(rng.choice(CARE_TYPES, int(rng.integers(1, 5)), replace=False)))
            for i, (lat, lon) in enumerate(points)]


def people(rng: np.random.Generator, count: int) -> list[Person]:
    points = random_points(rng, count, 0.0)
    return [Person(i + 1, float(lat), float(lon), str(rng.choice(CARE_TYPES)),
                   int(rng.choice([1, 1, 2])))
            for i, (lat, lon) in enumerate(points)]


def timed(runs: int, work) -> tuple[float, object]:
    """Return the median seconds of `runs` runs after one warm-up, and the last result."""
    result = work()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    districts = DistrictSet.from_geojson(fictional_city(*CENTRE))
    needs = random_points(rng, 20_000, margin_km=0.5)
    site_list = sites()

    def join():
        names = locate(needs, districts)
        return names, serving_sites(needs, site_list, names)

    rows = []
    locate_s, names = timed(args.runs, lambda: locate(needs, districts))
    join_s, (names, served) = timed(args.runs, join)
    outside = sum(n is None for n in names)
    by_site = {i: served.count(i) for i in (1, 2, 3, 4)}
    rows.append(("locate", "20,000 needs, 7 districts", locate_s, f"{outside:,} outside"))
    rows.append(("locate + serving_sites", "20,000 needs, 4 sites (1 paused)", join_s,
                 " / ".join(f"site {i}: {n:,}" for i, n in by_site.items())))

    shelter_list, person_list = shelters(rng, 200), people(rng, 1_000)
    place_s, placement = timed(args.runs, lambda: place_people(person_list, shelter_list))
    rows.append(("place_people", "1,000 people, 200 shelters", place_s,
                 f"{len(placement.assignments):,} placed, {len(placement.unplaced):,} no room"))
    lat, lon = person_list[0].lat, person_list[0].lon
    room_s, rooms = timed(args.runs, lambda: find_room(lat, lon, "wheelchair", shelter_list))
    rows.append(("find_room", "1 person, 200 shelters", room_s, f"{len(rooms)} offered"))

    print(f"median of {args.runs} runs after a warm-up; goal < {GOAL_S} s for the first three")
    print(f"{'step':<24} {'size':<34} {'time':>9}  {'goal':<5} result")
    for step, size, seconds, result in rows:
        ok = "ok" if seconds < GOAL_S else "SLOW"
        print(f"{step:<24} {size:<34} {seconds * 1000:>7.1f} ms  {ok:<5} {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
