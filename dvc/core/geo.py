"""Geometry helpers that need no projection library (metres, not degrees)."""
from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_M = 6_371_008.8
# Japan and its outlying islands, with a margin: a point outside is a typing mistake.
JAPAN_BOUNDS = (20.0, 122.0, 46.0, 154.0)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in metres between two WGS84 points."""
    p1, p2 = radians(lat1), radians(lat2)
    dp, dl = p2 - p1, radians(lon2 - lon1)
    a = sin(dp / 2) ** 2 + cos(p1) * cos(p2) * sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * asin(sqrt(a))


def in_japan(lat: float, lon: float) -> bool:
    """Tell whether a point lies in the box around Japan."""
    south, west, north, east = JAPAN_BOUNDS
    return south <= lat <= north and west <= lon <= east
