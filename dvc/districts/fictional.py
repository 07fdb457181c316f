"""A fictional city's districts for the demo and benchmarks (架空の地区: not real places)."""
from __future__ import annotations

import shapely

from dvc.districts.geometry import METRIC_CRS, from_metric, geometry_to_geojson, to_metric

FICTIONAL_LABEL = "架空の地区（デモ用）"
# Seeds in km (north, east) from the centre. With the demo's 架空市 centre (35.6836, 139.5595)
# the 北町 satellite (35.6990, 139.5480) and the demo needs at 35.70, 139.55 fall in 北町.
SEEDS = {"中央": (0.0, 0.0), "北町": (2.6, -0.5), "南町": (-2.6, 0.4), "東町": (0.3, 2.8),
         "西町": (-0.2, -2.9), "川辺": (-1.8, 2.6), "山手": (1.9, -2.9)}
HALF_SIZE_KM = 4.5  # the city is a 9 km square around the centre


def fictional_city(center_lat: float, center_lon: float) -> list[tuple[str, dict]]:
    """Return seven fictional districts (name, GeoJSON geometry) tiling a 9 km square.

    The districts are the Voronoi cells of fixed seeds, cut to the square, built in the metric
    CRS so that they are the same shape anywhere in the zone; they share their edges exactly.
    """
    x0, y0 = to_metric([(center_lat, center_lon)], METRIC_CRS)[0]
    seeds = {name: (x0 + east * 1000, y0 + north * 1000)
             for name, (north, east) in SEEDS.items()}
    half = HALF_SIZE_KM * 1000
    square = shapely.box(x0 - half, y0 - half, x0 + half, y0 + half)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(list(seeds.values())),
                                                       extend_to=square))
    districts = []
    for name, seed in seeds.items():
        cell = next(c for c in cells if c.contains(shapely.Point(seed)))
        districts.append((name, geometry_to_geojson(_to_wgs84(cell.intersection(square)))))
    return districts


def _to_wgs84(polygon: shapely.Geometry) -> shapely.Geometry:
    """Return a metric polygon in lon, lat (shapely's x, y)."""
    return shapely.transform(polygon, lambda xy: from_metric(xy)[:, ::-1])
