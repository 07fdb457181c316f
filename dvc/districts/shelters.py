"""Where there is room in a welfare shelter (福祉避難所): pure, metric, many people at once."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
from scipy.spatial import cKDTree

from dvc.districts.geometry import METRIC_CRS, to_metric

# 要配慮者: the care needs a welfare shelter declares it can take.
CARE_TYPES = ("frail_elderly", "wheelchair", "dementia", "medical_care", "pregnant", "infants")
SHELTER_KINDS = ("welfare", "general")
SHELTER_STATUSES = ("not_open", "open", "full", "closed")
WINDOW = 16  # nearest shelters fetched per person at first; more only when they are all full


@dataclass(frozen=True)
class Shelter:
    """A shelter; `occupancy` counts people by care type (any key counts, e.g. carers)."""

    id: int
    name: str
    kind: str
    status: str
    lat: float | None
    lon: float | None
    capacity: int
    occupancy: Mapping[str, int] = field(default_factory=dict)
    care_types: frozenset[str] = frozenset()

    def __post_init__(self):
        if self.kind not in SHELTER_KINDS or self.status not in SHELTER_STATUSES:
            raise ValueError(f"unknown shelter kind or status: {self.kind!r}, {self.status!r}")
        check_care_types(self.care_types)
        if self.capacity < 0 or any(n < 0 for n in self.occupancy.values()):
            raise ValueError("capacity and occupancy cannot be negative")

    @property
    def occupied(self) -> int:
        """Return how many people are in the shelter."""
        return sum(self.occupancy.values())

    @property
    def free(self) -> int:
        """Return the free places (never negative, even when over capacity)."""
        return max(0, self.capacity - self.occupied)

    def takes(self, care_type: str) -> bool:
        """Tell whether this is an open welfare shelter accepting the care type, with a point."""
        return (self.kind == "welfare" and self.status == "open" and care_type in self.care_types
                and self.lat is not None and self.lon is not None)


@dataclass(frozen=True)
class Person:
    """Someone who must be moved to a welfare shelter; `places` counts carers coming along."""

    id: int
    lat: float | None
    lon: float | None
    care_type: str
    places: int = 1

    def __post_init__(self):
        check_care_types({self.care_type})
        if self.places < 1:
            raise ValueError("a person takes at least one place")


@dataclass(frozen=True)
class Room:
    """A shelter with room, and how far it is in metres."""

    shelter: Shelter
    distance_m: float


@dataclass(frozen=True)
class Assignment:
    """A person placed in a shelter, and how far it is in metres."""

    person_id: int
    shelter_id: int
    distance_m: float


@dataclass(frozen=True)
class Placement:
    """What `place_people` decided: who goes where, who has no room, places left per shelter."""

    assignments: list[Assignment]
    unplaced: list[Person]
    free: dict[int, int]


def check_care_types(care_types) -> None:
    """Refuse care types outside CARE_TYPES (a typo would silently match no shelter)."""
    unknown = set(care_types) - set(CARE_TYPES)
    if unknown:
        raise ValueError(f"unknown care types: {sorted(unknown)}")


def find_room(lat: float, lon: float, care_type: str, shelters: Sequence[Shelter],
              limit: int = 5, *, places: int = 1, crs: str = METRIC_CRS) -> list[Room]:
    """Return the nearest open welfare shelters taking the care type with room for `places`.

    Sorted by metric distance (to the millimetre), then by lowest id; at most `limit`.
    Full, closed and not-yet-open shelters, general shelters and shelters without a point are
    left out.
    """
    check_care_types({care_type})
    usable = sorted((s for s in shelters if s.takes(care_type) and s.free >= places),
                    key=lambda s: s.id)
    if not usable:
        return []
    xy = to_metric([(s.lat, s.lon) for s in usable], crs)
    here = to_metric([(lat, lon)], crs)[0]
    distance = np.hypot(xy[:, 0] - here[0], xy[:, 1] - here[1])
    order = np.lexsort((np.arange(len(usable)), np.round(distance, 3)))[:limit]
    return [Room(usable[i], float(distance[i])) for i in order.tolist()]


def place_people(people: Sequence[Person], shelters: Sequence[Shelter], *,
                 crs: str = METRIC_CRS) -> Placement:
    """Place each person, in input order, in the nearest shelter that still has room.

    Greedy: earlier people (put the most urgent first) take the nearest places; each placement
    uses up `places` of the shelter's free places, so no shelter ever goes over capacity. The
    same shelters as `find_room` count; distance ties go to the lowest shelter id. People
    without a point, or for whom no shelter within reach has room, are returned unplaced.
    """
    usable = sorted((s for s in shelters if s.kind == "welfare" and s.status == "open"
                     and s.lat is not None and s.lon is not None and s.free > 0),
                    key=lambda s: s.id)
    free = np.array([s.free for s in usable], dtype=np.int64)
    candidates = _Candidates(people, usable, crs)
    assignments, unplaced = [], []
    for i, person in enumerate(people):
        chosen = candidates.first_with_room(i, free, person.places)
        if chosen is None:
            unplaced.append(person)
            continue
        shelter, distance = chosen
        free[shelter] -= person.places
        assignments.append(Assignment(person.id, usable[shelter].id, distance))
    return Placement(assignments, unplaced, {s.id: int(n) for s, n in zip(usable, free)})


class _Candidates:
    """Each person's nearest accepting shelters, fetched for everyone at once with k-d trees."""

    def __init__(self, people: Sequence[Person], usable: list[Shelter], crs: str):
        self.xy = to_metric([(p.lat, p.lon) for p in people], crs)
        shelter_xy = to_metric([(s.lat, s.lon) for s in usable], crs)
        self.people = people
        self.rows: dict[int, tuple[np.ndarray, np.ndarray, bool]] = {}
        self.pools: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for care in {p.care_type for p in people}:
            pool = np.array([i for i, s in enumerate(usable) if care in s.care_types], np.intp)
            self.pools[care] = (pool, shelter_xy[pool])
            self._fetch(care, pool, shelter_xy[pool])

    def _fetch(self, care: str, pool: np.ndarray, pool_xy: np.ndarray) -> None:
        """Query the k nearest shelters of the pool for every person with this care type."""
        who = np.array([i for i, p in enumerate(self.people) if p.care_type == care
                        and np.isfinite(self.xy[i]).all()], dtype=np.intp)
        if not len(who) or not len(pool):
            return
        k = min(WINDOW, len(pool))
        distance, local = cKDTree(pool_xy).query(self.xy[who], k=k)
        distance, local = distance.reshape(len(who), k), local.reshape(len(who), k)
        # Sort each row by (millimetres, shelter id): cKDTree leaves equal distances unordered.
        order = np.lexsort((pool[local], np.round(distance, 3)), axis=-1)
        distance = np.take_along_axis(distance, order, axis=-1)
        shelter = np.take_along_axis(pool[local], order, axis=-1)
        for row, person in enumerate(who.tolist()):
            self.rows[person] = (shelter[row], distance[row], k < len(pool))

    def first_with_room(self, person: int, free: np.ndarray,
                        places: int) -> tuple[int, float] | None:
        """Return (usable index, metres) of the nearest shelter with room, or None."""
        if person not in self.rows:
            return None
        shelters, distances, partial = self.rows[person]
        # In a partial window, shelters at the window's last distance may tie with ones
        # outside it: stop before them and look at the whole pool instead.
        millimetres = np.round(distances, 3)
        edge = millimetres[-1] if partial else np.inf
        for shelter, distance, mm in zip(shelters.tolist(), distances.tolist(),
                                         millimetres.tolist()):
            if mm >= edge:
                break
            if free[shelter] >= places:
                return shelter, distance
        return self._whole_pool(person, free, places) if partial else None

    def _whole_pool(self, person: int, free: np.ndarray, places: int) -> tuple[int, float] | None:
        """Return the nearest shelter with room among all that take this person's care type."""
        pool, pool_xy = self.pools[self.people[person].care_type]
        distance = np.hypot(*(pool_xy - self.xy[person]).T)
        for i in np.lexsort((pool, np.round(distance, 3))).tolist():
            if free[pool[i]] >= places:
                return int(pool[i]), float(distance[i])
        return None
