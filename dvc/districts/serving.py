"""Which site (main centre or satellite, サテライト) serves each need: pure, many points at once."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from dvc.districts.geometry import METRIC_CRS, distance_matrix

SITE_STATUSES = ("open", "paused", "closed")
# Larger than any distance but finite, so a site without a point still wins inside its area.
NO_POINT = np.finfo(float).max


@dataclass(frozen=True)
class ServiceSite:
    """A site as the serving rule sees it; `service_districts` is its service area by name."""

    id: int
    lat: float | None
    lon: float | None
    status: str = "open"
    service_districts: frozenset[str] = frozenset()

    def __post_init__(self):
        if self.status not in SITE_STATUSES:
            raise ValueError(f"unknown site status {self.status!r}")


def serving_sites(points: Sequence[tuple[float | None, float | None]] | np.ndarray,
                  sites: Sequence[ServiceSite],
                  districts: Sequence[str | None] | None = None, *,
                  crs: str = METRIC_CRS) -> list[int | None]:
    """Return the id of the site serving each (lat, lon) point, or None.

    `districts` are the points' districts (from `locate`, or typed in for a need with no point).
    Rules, in order:
      1. only open sites serve (paused and closed ones serve nothing; none open gives None);
      2. a point whose district is in open sites' service areas goes to the nearest of them
         (a site without a point comes after those with one);
      3. otherwise the nearest open site with a point; a point without coordinates and outside
         every service area gets None (the caller falls back, e.g. to the main centre).
    Distances are metric, compared to the millimetre; a tie goes to the lowest site id.
    """
    count = len(points)
    open_sites = sorted((s for s in sites if s.status == "open"), key=lambda s: s.id)
    if not open_sites or not count:
        return [None] * count
    distance = _distances(points, open_sites, crs)
    in_area = _area_mask(districts, open_sites, count)
    has_area = in_area.any(axis=1)
    # Inside a service area only area sites compete; elsewhere only sites at a known distance.
    cost = np.where(has_area[:, None], np.where(in_area, distance, np.inf),
                    np.where(distance < NO_POINT, distance, np.inf))
    choice = np.argmin(cost, axis=1)  # argmin keeps the first of equals: the lowest id
    served = np.isfinite(cost[np.arange(count), choice])
    ids = [s.id for s in open_sites]
    return [ids[c] if ok else None for c, ok in zip(choice.tolist(), served.tolist())]


def _distances(points, sites: list[ServiceSite], crs: str) -> np.ndarray:
    """Return (n, m) distances in whole millimetres, NO_POINT where either end has no point."""
    targets = [(s.lat, s.lon) for s in sites]
    metres = np.round(distance_matrix(points, targets, crs), 3)
    return np.where(np.isnan(metres), NO_POINT, metres)


def _area_mask(districts: Sequence[str | None] | None, sites: list[ServiceSite],
               count: int) -> np.ndarray:
    """Return an (n, m) mask: point i's district is in site j's service area."""
    if districts is None:
        return np.zeros((count, len(sites)), dtype=bool)
    if len(districts) != count:
        raise ValueError("serving_sites needs one district (or None) per point")
    # One row per distinct district (row 0: none), then index it per point: 20,000 points
    # usually fall in a handful of districts.
    codes: dict[str | None, int] = {None: 0}
    index = np.array([codes.setdefault(d, len(codes)) for d in districts], dtype=np.intp)
    table = np.array([[d is not None and d in s.service_districts for s in sites]
                      for d in codes], dtype=bool).reshape(len(codes), len(sites))
    return table[index]
