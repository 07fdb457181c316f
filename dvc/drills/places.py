"""Where generated needs are: a point inside a district polygon, or around a site.

Pure Python geometry (ray casting on GeoJSON rings) so that the same seed draws the same
points on any machine; coordinates are rounded to 6 decimals (about 10 cm).
"""
from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

# The built-in fictional city's districts (dvc/districts/fictional.py, SEEDS; a unit test
# checks they agree). Listed here so that checking a scenario needs no geometry library.
FICTIONAL_NAMES = ("中央", "北町", "南町", "東町", "西町", "川辺", "山手")
METRES_PER_DEGREE = 111_320.0
AROUND_SITE_M = 1500.0  # needs without district polygons fall within this of their site


class PlacesError(ValueError):
    """A districts file cannot be used."""


def fictional_districts(center_lat: float, center_lon: float) -> list[tuple[str, dict]]:
    """Return the built-in fictional city's districts around a point (the main site)."""
    from dvc.districts.fictional import fictional_city
    return fictional_city(center_lat, center_lon)


def read_geojson(path: str | Path, name_field: str = "name") -> list[tuple[str, dict]]:
    """Return (name, geometry) of each polygon feature of a GeoJSON FeatureCollection."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlacesError(f"not readable as GeoJSON ({exc})") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise PlacesError("a GeoJSON FeatureCollection is expected")
    out = []
    for i, feature in enumerate(data.get("features") or []):
        geometry = (feature or {}).get("geometry") or {}
        name = ((feature or {}).get("properties") or {}).get(name_field)
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            raise PlacesError(f"feature {i + 1} is not a polygon")
        if not isinstance(name, str) or not name.strip():
            raise PlacesError(f"feature {i + 1} has no '{name_field}' property")
        out.append((name.strip(), geometry))
    if not out:
        raise PlacesError("the file has no districts")
    return out


def _polygons(geometry: dict) -> list[list[list[tuple[float, float]]]]:
    coords = geometry["coordinates"]
    polygons = coords if geometry["type"] == "MultiPolygon" else [coords]
    return [[[(float(x), float(y)) for x, y, *_ in ring] for ring in polygon]
            for polygon in polygons]


def _in_ring(x: float, y: float, ring) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


@dataclass(frozen=True)
class District:
    """One district's polygons in (lon, lat) rings, and its bounding box."""

    name: str
    polygons: tuple
    bbox: tuple[float, float, float, float]  # west, south, east, north

    @classmethod
    def from_geojson(cls, name: str, geometry: dict) -> "District":
        polygons = _polygons(geometry)
        xs = [x for polygon in polygons for x, _ in polygon[0]]
        ys = [y for polygon in polygons for _, y in polygon[0]]
        frozen = tuple(tuple(tuple(ring) for ring in polygon) for polygon in polygons)
        return cls(name, frozen, (min(xs), min(ys), max(xs), max(ys)))

    def contains(self, lat: float, lon: float) -> bool:
        for outer, *holes in self.polygons:
            if _in_ring(lon, lat, list(outer)) and not any(_in_ring(lon, lat, list(h))
                                                           for h in holes):
                return True
        return False

    def sample(self, rng: random.Random) -> tuple[float, float]:
        """Draw a point inside the district (rejection from its bounding box)."""
        west, south, east, north = self.bbox
        for _ in range(1000):
            lat, lon = rng.uniform(south, north), rng.uniform(west, east)
            if self.contains(lat, lon):
                return round(lat, 6), round(lon, 6)
        outer = self.polygons[0][0]
        return (round(sum(y for _, y in outer) / len(outer), 6),
                round(sum(x for x, _ in outer) / len(outer), 6))


def around(lat: float, lon: float, rng: random.Random,
           radius_m: float = AROUND_SITE_M) -> tuple[float, float]:
    """Draw a point uniformly within `radius_m` of a point."""
    r = radius_m * math.sqrt(rng.random())
    theta = 2 * math.pi * rng.random()
    dlat = r * math.sin(theta) / METRES_PER_DEGREE
    dlon = r * math.cos(theta) / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)
