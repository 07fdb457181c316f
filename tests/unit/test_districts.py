"""Districts, serving sites and welfare shelters: the pure geometry cores, by tables of cases."""
from __future__ import annotations

import json
import random
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor

import geopandas
import numpy as np
import pytest
import shapely
from pyproj import Geod

from dvc.core.errors import Invalid
from dvc.districts import geometry
from dvc.districts.fictional import fictional_city
from dvc.districts.geometry import (DistrictFileError, DistrictSet, check_metric_crs,
                                    distance_matrix, from_metric, locate, metric_distance,
                                    read_districts, to_metric)
from dvc.districts.serving import ServiceSite, serving_sites
from dvc.districts.shelters import Person, Shelter, find_room, place_people

# Three districts side by side (lon, lat): 西町 and 東町 share the edge lon = 139.51, and 中央
# has a hole. File order is 西町 first; by name 中央 < 東町 < 西町 (code points).
WEST = shapely.box(139.50, 35.60, 139.51, 35.61)
EAST = shapely.box(139.51, 35.60, 139.52, 35.61)
RING = shapely.Polygon(shapely.box(139.52, 35.60, 139.53, 35.61).exterior.coords,
                       [shapely.box(139.524, 35.604, 139.526, 35.606).exterior.coords])
SHAPES = {"西町": WEST, "東町": EAST, "中央": RING}


def district_set(order=("西町", "東町", "中央")) -> DistrictSet:
    return DistrictSet(tuple(order), tuple(SHAPES[n] for n in order), len(order))


def frame(names, shapes, crs="EPSG:4326", field="name") -> geopandas.GeoDataFrame:
    return geopandas.GeoDataFrame({field: names}, geometry=list(shapes), crs=crs)


def write_geojson(path, features) -> str:
    """Write a FeatureCollection by hand: (properties, geometry dict or None) pairs."""
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p, "geometry": g} for p, g in features]}),
        encoding="utf-8")
    return str(path)


def square_json(x: float, y: float, size: float = 0.01) -> dict:
    return json.loads(shapely.to_geojson(shapely.box(x, y, x + size, y + size)))


def zip_files(path, files: dict[str, bytes]) -> str:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return str(path)


def shapefile_parts(tmp_path, gdf, stem="districts", **options) -> dict[str, bytes]:
    """Write a Shapefile in its own folder and return its files' bytes by suffix."""
    folder = tmp_path / f"shp-{stem}"
    folder.mkdir()
    gdf.to_file(folder / f"{stem}.shp", **options)
    return {p.suffix: p.read_bytes() for p in folder.iterdir()}


# --- locate ----------------------------------------------------------------------------------

@pytest.mark.parametrize("point, expected", [
    ((35.605, 139.505), "西町"),
    ((35.605, 139.515), "東町"),
    ((35.605, 139.51), "東町"),    # on the shared edge: the name that sorts first
    ((35.60, 139.51), "東町"),     # on the shared corner
    ((35.61, 139.505), "西町"),    # on the city's outer edge: still inside
    ((35.605, 139.525), None),     # in 中央's hole
    ((35.604, 139.525), "中央"),   # on the hole's edge
    ((35.6041, 139.5241), None),   # just inside the hole
    ((35.605, 139.535), None),     # east of every district
    ((35.70, 139.505), None),      # north of every district
    ((None, None), None),          # a need without a point
    ((float("nan"), 139.505), None),
])
@pytest.mark.parametrize("order", [("西町", "東町", "中央"), ("中央", "東町", "西町")])
def test_locate(point, expected, order):
    assert locate([point], district_set(order)) == [expected]


def test_locate_many_points_keeps_their_order():
    points = [(35.605, 139.535), (35.605, 139.505), (None, None), (35.605, 139.515)] * 3
    assert locate(points, district_set()) == [None, "西町", None, "東町"] * 3


@pytest.mark.parametrize("points", [[], np.zeros((0, 2))])
def test_locate_no_points(points):
    assert locate(points, district_set()) == []


def test_locate_shares_a_set_between_threads():
    # A DistrictSet is cached and shared by request threads: locate must not leave GEOS
    # prepared geometries (not thread-safe) on it, and must agree across threads.
    districts = district_set()
    points = [(35.60 + i / 10_000, 139.50 + i / 3_000) for i in range(100)]
    expected = locate(points, districts)
    assert not shapely.is_prepared(np.asarray(districts.geometries, dtype=object)).any()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: locate(points, districts), range(40)))
    assert all(r == expected for r in results) and {"西町", "東町", "中央", None} <= set(expected)


def test_locate_without_districts():
    assert locate([(35.605, 139.505)], DistrictSet((), (), 0)) == [None]


# --- metric CRS ------------------------------------------------------------------------------

GEOD = Geod(ellps="GRS80")  # JGD2011's ellipsoid


def test_zone_origin_is_zero():
    # Japan Plane Rectangular CS IX has its origin at 36°N 139°50'E.
    assert np.allclose(to_metric([(36.0, 139 + 50 / 60)]), [[0.0, 0.0]], atol=0.001)


@pytest.mark.parametrize("a, b", [
    ((35.6836, 139.5595), (35.6990, 139.5480)),  # the demo's main centre and satellite, ~2 km
    ((35.6812, 139.7671), (35.6580, 139.7016)),  # across central Tokyo, ~6.4 km
    ((35.60, 139.50), (35.60, 139.5001)),        # ~9 m along a parallel
])
def test_metric_distance_matches_the_ellipsoid(a, b):
    _, _, expected = GEOD.inv(a[1], a[0], b[1], b[0])
    assert metric_distance(a, b) == pytest.approx(expected, abs=1.0)


def test_metric_round_trip_and_missing_points():
    points = [(35.6836, 139.5595), (None, None)]
    xy = to_metric(points)
    assert np.isnan(xy[1]).all() and np.isfinite(xy[0]).all()
    assert np.allclose(from_metric(xy[:1]), [points[0]], atol=1e-9)
    assert np.isnan(distance_matrix(points, [(35.7, 139.5)])[1, 0])


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:6668"])  # degrees, not metres
def test_metric_crs_must_be_in_metres(crs, tmp_path):
    with pytest.raises(ValueError):
        check_metric_crs(crs)
    with pytest.raises(ValueError):
        read_districts(tmp_path / "never-read.geojson", "name", metric_crs=crs)


# --- reading files ---------------------------------------------------------------------------

@pytest.mark.parametrize("crs, filename", [
    ("EPSG:6677", "districts.gpkg"),
    ("EPSG:3857", "districts.geojson"),
    ("EPSG:4326", "districts.geojson"),
    ("EPSG:6677", "districts.geojson"),
])
def test_read_any_crs_lands_in_the_right_place(tmp_path, crs, filename):
    names = list(SHAPES)
    frame(names, SHAPES.values()).to_crs(crs).to_file(tmp_path / filename)
    districts = read_districts(tmp_path / filename, "name")
    assert districts.names == tuple(names) and districts.source_count == 3
    for name, shape in zip(districts.names, districts.geometries):
        # Back in WGS84 to well under a metre (1e-8 degrees is about 1 mm).
        assert shape.symmetric_difference(SHAPES[name]).area < 1e-8 * 0.01
    assert locate([(35.605, 139.505), (35.605, 139.525)], districts) == ["西町", None]


def test_read_zipped_shapefile_in_a_folder(tmp_path):
    parts = shapefile_parts(tmp_path, frame(list(SHAPES), SHAPES.values()).to_crs("EPSG:6677"))
    path = zip_files(tmp_path / "地区.zip", {f"地区/districts{s}": b for s, b in parts.items()})
    districts = read_districts(path, "name")
    assert set(districts.names) == set(SHAPES) and districts.source_count == 3
    assert locate([(35.605, 139.515)], districts) == ["東町"]


def test_read_shift_jis_shapefile_without_cpg(tmp_path):
    parts = shapefile_parts(tmp_path, frame(list(SHAPES), SHAPES.values()), encoding="cp932")
    parts.pop(".cpg", None)
    districts = read_districts(zip_files(tmp_path / "sjis.zip", {
        f"districts{s}": b for s, b in parts.items()}), "name")
    assert set(districts.names) == set(SHAPES)
    assert any("cp932" in note for note in districts.notes)


def test_read_chooses_a_layer(tmp_path):
    path = tmp_path / "two.gpkg"
    frame(["西町"], [WEST]).to_file(path, layer="old")
    frame(["東町", "中央"], [EAST, RING]).to_file(path, layer="new")
    with pytest.raises(DistrictFileError) as error:
        read_districts(path, "name")
    assert (error.value.reason, error.value.field) == ("layers", "layer")
    assert "old" in error.value.message and "new" in error.value.message
    assert read_districts(path, "name", layer="new").names == ("東町", "中央")


def test_read_repairs_a_bow_tie(tmp_path):
    bow_tie = {"type": "Polygon", "coordinates": [
        [[139.50, 35.60], [139.51, 35.61], [139.51, 35.60], [139.50, 35.61], [139.50, 35.60]]]}
    path = write_geojson(tmp_path / "bow.geojson", [({"name": "蝶町"}, bow_tie),
                                                    ({"name": "東町"}, square_json(139.51, 35.6))])
    districts = read_districts(path, "name")
    fixed = districts.geometries[0]
    assert districts.repaired == ("蝶町",)
    assert fixed.is_valid and fixed.geom_type == "MultiPolygon"
    assert fixed.area == pytest.approx(0.01 * 0.01 / 2)  # two triangles, each a quarter
    # The crossing splits it into a left and a right triangle: nothing below the crossing.
    assert locate([(35.6025, 139.505), (35.605, 139.5025)], districts) == [None, "蝶町"]


def test_read_flattens_3d_and_numeric_names(tmp_path):
    cube = {"type": "Polygon", "coordinates": [
        [[139.50, 35.60, 5], [139.51, 35.60, 5], [139.51, 35.61, 5], [139.50, 35.61, 5],
         [139.50, 35.60, 5]]]}
    path = write_geojson(tmp_path / "z.geojson", [({"code": 13101}, cube)])
    districts = read_districts(path, "code")
    assert districts.names == ("13101",)
    assert all(len(xy) == 2 for xy in districts.geojson("13101")["coordinates"][0])


def test_reader_warnings_become_notes(tmp_path, monkeypatch):
    path = write_geojson(tmp_path / "w.geojson", [({"name": "西町"}, square_json(139.5, 35.6))])
    real = geopandas.read_file

    def noisy(*args, **kwargs):
        warnings.warn("GDAL says something odd", RuntimeWarning)
        warnings.warn("an old API", DeprecationWarning)
        return real(*args, **kwargs)

    monkeypatch.setattr(geometry.geopandas, "read_file", noisy)
    with pytest.warns(DeprecationWarning, match="an old API"):  # passed on, not swallowed
        districts = read_districts(path, "name")
    assert districts.notes == ("GDAL says something odd",)


def bad_geojson(tmp_path, features):
    return write_geojson(tmp_path / "bad.geojson", features)


def shapefile_zip(tmp_path, drop=(), name="bad.zip"):
    parts = shapefile_parts(tmp_path, frame(["西町"], [WEST]))
    return zip_files(tmp_path / name, {f"d{s}": b for s, b in parts.items() if s not in drop})


def two_shapefiles_zip(tmp_path):
    parts = shapefile_parts(tmp_path, frame(["西町"], [WEST]))
    files = {f"{stem}{s}": b for stem in ("a", "b") for s, b in parts.items()}
    return zip_files(tmp_path / "two.zip", files)


def geopackage_without_crs(tmp_path):
    with pytest.warns(UserWarning, match="crs"):  # GDAL warns the writer too
        frame(["西町"], [WEST], crs=None).to_file(tmp_path / "nocrs.gpkg")
    return tmp_path / "nocrs.gpkg"


def write_bytes(tmp_path, name, data: bytes):
    (tmp_path / name).write_bytes(data)
    return str(tmp_path / name)


BAD_FILES = [
    # (case, builder, name field, reason, field, words the message must contain)
    ("missing field", lambda t: bad_geojson(t, [({"名前": "西町", "code": 1},
                                                 square_json(139.5, 35.6))]),
     "name", "name_field", "name_field", ["name", "名前", "code"]),
    ("empty", lambda t: bad_geojson(t, []), "name", "empty", "file", ["no features"]),
    ("points", lambda t: bad_geojson(t, [
        ({"name": "西町"}, square_json(139.5, 35.6)),
        ({"name": "東町"}, {"type": "Point", "coordinates": [139.515, 35.605]})]),
     "name", "not_polygon", "file", ["2 (東町)", "Point"]),
    ("null geometry", lambda t: bad_geojson(t, [({"name": "西町"}, None)]),
     "name", "null_geometry", "file", ["1 (西町)"]),
    ("collapsed polygon", lambda t: bad_geojson(t, [({"name": "線町"}, {
        "type": "Polygon", "coordinates": [[[139.5, 35.6], [139.5, 35.61], [139.5, 35.62],
                                            [139.5, 35.6]]]})]),  # a line: nothing to keep
     "name", "invalid_geometry", "file", ["1 (線町)"]),
    ("duplicate names", lambda t: bad_geojson(t, [
        ({"name": "西町"}, square_json(139.5, 35.6)), ({"name": "東町"}, square_json(139.51, 35.6)),
        ({"name": "西町"}, square_json(139.52, 35.6))]),
     "name", "duplicate_names", "name_field", ["西町"]),
    ("blank name", lambda t: bad_geojson(t, [
        ({"name": "西町"}, square_json(139.5, 35.6)), ({"name": "  "}, square_json(139.51, 35.6)),
        ({"name": None}, square_json(139.52, 35.6))]),
     "name", "blank_name", "name_field", ["2, 3"]),
    ("metres without a CRS", lambda t: bad_geojson(t, [
        ({"name": "西町"}, square_json(-20000.0, -30000.0, 1000.0))]),
     "name", "outside_japan", "file", ["CRS"]),
    ("corrupt zip", lambda t: write_bytes(t, "bad.zip", b"PK\x03\x04 not really a zip"),
     "name", "zip_corrupt", "file", ["damaged"]),
    ("zip of something else", lambda t: zip_files(t / "x.zip", {"readme.txt": b"hello"}),
     "name", "zip_empty", "file", [".shp"]),
    ("shapefile without .dbf", lambda t: shapefile_zip(t, drop=(".dbf",)),
     "name", "zip_parts", "file", [".dbf"]),
    ("shapefile without .prj", lambda t: shapefile_zip(t, drop=(".prj",)),
     "name", "no_crs", "file", [".prj"]),
    ("geopackage without a CRS", geopackage_without_crs, "name", "no_crs", "file", ["CRS"]),
    ("two shapefiles", two_shapefiles_zip, "name", "zip_many", "file", ["a.shp", "b.shp"]),
    ("not a geo file", lambda t: write_bytes(t, "notes.txt", b"hello\x00\x01"),
     "name", "unreadable", "file", ["notes.txt"]),
    ("csv", lambda t: write_bytes(t, "d.csv", "name,x\n西町,1\n".encode()),
     "name", "format", "file", ["CSV"]),
    ("missing file", lambda t: str(t / "nothing.geojson"), "name", "unreadable", "file", []),
]


@pytest.mark.parametrize("case, build, name_field, reason, field, words", BAD_FILES,
                         ids=[c[0] for c in BAD_FILES])
def test_import_errors(tmp_path, case, build, name_field, reason, field, words):
    with pytest.raises(DistrictFileError) as error:
        read_districts(build(tmp_path), name_field)
    assert (error.value.reason, error.value.field) == (reason, field)
    assert error.value.message == str(error.value)
    assert all(word in error.value.message for word in words), error.value.message
    assert str(tmp_path) not in error.value.message  # no temporary paths shown to people


def test_district_file_error_is_a_validation_error():
    error = geometry._fail("name_field", "name_field", field="name", columns="code")
    assert isinstance(error, Invalid) and error.status == 422
    assert error.fields == {"name_field": error.message}
    assert error.data == {"reason": "name_field", "field": "name", "columns": "code"}


# --- storage ---------------------------------------------------------------------------------

def test_geojson_round_trip(tmp_path):
    frame(list(SHAPES), SHAPES.values()).to_file(tmp_path / "d.gpkg")
    districts = read_districts(tmp_path / "d.gpkg", "name")
    stored = [(name, json.dumps(geo)) for name, geo in districts.to_geojson()]  # a text column
    again = DistrictSet.from_geojson(stored)
    assert again.names == districts.names and again.source_count == 3
    assert json.loads(stored[2][1])["type"] == "Polygon"
    assert len(json.loads(stored[2][1])["coordinates"]) == 2  # the hole survives
    points = [(35.605, 139.51), (35.605, 139.525), (35.604, 139.525), (35.605, 139.505)]
    assert locate(points, again) == locate(points, districts) == ["東町", None, "中央", "西町"]
    collection = again.feature_collection()
    assert [f["properties"]["name"] for f in collection["features"]] == list(districts.names)


def test_areas_in_square_metres():
    areas = district_set().areas_m2()
    # 0.01° of latitude is ~1,109 m; 0.01° of longitude at 35.6°N ~906 m.
    assert areas["西町"] == pytest.approx(1109 * 906, rel=0.01)
    assert areas["中央"] == pytest.approx(areas["西町"] * 0.96, rel=0.01)  # minus a 4 % hole


# --- serving sites ---------------------------------------------------------------------------

MAIN = ServiceSite(1, 35.6836, 139.5595)  # no service area: serves by distance
NORTH = ServiceSite(2, 35.6990, 139.5480, service_districts=frozenset({"北町", "山手"}))
NEAR_NORTH = (35.6985, 139.5485)
NEAR_MAIN = (35.6840, 139.5590)


def metric_offsets(*east_metres):
    """Return points east_metres from NEAR_MAIN along the metric x axis (exact symmetry)."""
    x, y = to_metric([NEAR_MAIN])[0]
    return [tuple(p) for p in from_metric([(x + e, y) for e in east_metres])]


SERVING = [
    # (case, sites, point, district, expected site id)
    ("nearest", [MAIN, NORTH], NEAR_MAIN, None, 1),
    ("nearest, not listed first", [NORTH, MAIN], NEAR_NORTH, None, 2),
    ("area beats distance", [MAIN, NORTH], NEAR_MAIN, "北町", 2),
    ("outside every area", [MAIN, NORTH], NEAR_NORTH, "南町", 2),
    ("same spot: lowest id", [ServiceSite(7, *NEAR_MAIN), ServiceSite(3, *NEAR_MAIN)],
     NEAR_NORTH, None, 3),
    ("equidistant: lowest id",
     [ServiceSite(9, *metric_offsets(-500)[0]), ServiceSite(4, *metric_offsets(500)[0])],
     NEAR_MAIN, None, 4),
    ("one mm nearer wins", [ServiceSite(4, *metric_offsets(-500)[0]),
                            ServiceSite(9, *metric_offsets(499.998)[0])], NEAR_MAIN, None, 9),
    ("paused nearest skipped", [MAIN, ServiceSite(2, *NEAR_MAIN, status="paused")],
     NEAR_MAIN, None, 1),
    ("closed nearest skipped", [ServiceSite(2, *NEAR_MAIN, status="closed"), MAIN],
     NEAR_MAIN, None, 1),
    ("paused area site", [MAIN, ServiceSite(2, *NEAR_NORTH, status="paused",
                                            service_districts=frozenset({"北町"}))],
     NEAR_NORTH, "北町", 1),
    ("nothing open", [ServiceSite(1, *NEAR_MAIN, status="paused"),
                      ServiceSite(2, *NEAR_NORTH, status="closed")], NEAR_MAIN, None, None),
    ("no sites", [], NEAR_MAIN, "北町", None),
    ("no point, in an area", [MAIN, NORTH], (None, None), "山手", 2),
    ("no point, no area", [MAIN, NORTH], (None, None), "南町", None),
    ("no point, no district", [MAIN, NORTH], (None, None), None, None),
    ("two areas: the nearer", [ServiceSite(5, *NEAR_MAIN, service_districts=frozenset({"北町"})),
                               ServiceSite(6, *NEAR_NORTH, service_districts=frozenset({"北町"}))],
     NEAR_NORTH, "北町", 6),
    ("area site without a point", [MAIN, ServiceSite(8, None, None,
                                                     service_districts=frozenset({"北町"}))],
     NEAR_MAIN, "北町", 8),
    ("site without a point, no area", [ServiceSite(8, None, None), MAIN], NEAR_NORTH, None, 1),
]


@pytest.mark.parametrize("case, sites, point, district, expected", SERVING,
                         ids=[c[0] for c in SERVING])
def test_serving_site(case, sites, point, district, expected):
    assert serving_sites([point], sites, [district]) == [expected]


def test_serving_sites_many_points_at_once():
    districts = district_set()
    points = [(35.605, 139.505), (35.605, 139.515), (35.605, 139.535), (None, None)]
    west_site = ServiceSite(1, 35.605, 139.48, service_districts=frozenset({"西町"}))
    east_site = ServiceSite(2, 35.605, 139.525)  # nearer to all three points
    located = locate(points, districts)
    assert serving_sites(points, [west_site, east_site], located) == [1, 2, 2, None]
    assert serving_sites(points, [west_site, east_site]) == [2, 2, 2, None]  # distance only
    with pytest.raises(ValueError):
        serving_sites(points, [west_site], located[:2])


# --- welfare shelters ------------------------------------------------------------------------

def shelter(id, dlat, status="open", kind="welfare", capacity=10, occupancy=None,
            care=("wheelchair",)):
    """A shelter dlat degrees north of 35.60, 139.50 (0.001° is about 111 m)."""
    return Shelter(id, f"S{id}", kind, status, 35.60 + dlat, 139.50, capacity,
                   occupancy or {}, frozenset(care))


SHELTERS = [
    shelter(1, 0.002, capacity=5, occupancy={"wheelchair": 3}),   # 2 free
    shelter(2, 0.004, care=("wheelchair", "dementia")),
    shelter(3, 0.001, status="full"),
    shelter(4, 0.001, status="closed"),
    shelter(5, 0.000, kind="general"),
    shelter(6, 0.0015, capacity=4, occupancy={"wheelchair": 3, "carer": 1}),  # 0 free
    shelter(7, 0.0005, status="not_open"),
    shelter(8, 0.003, care=("dementia",)),
    Shelter(10, "no point", "welfare", "open", None, None, 10, {}, frozenset({"wheelchair"})),
]


@pytest.mark.parametrize("care, limit, places, expected", [
    ("wheelchair", 5, 1, [1, 2]),
    ("wheelchair", 1, 1, [1]),
    ("wheelchair", 5, 3, [2]),  # shelter 1 has only 2 places for a person with two carers
    ("dementia", 5, 1, [8, 2]),
    ("pregnant", 5, 1, []),
])
def test_find_room(care, limit, places, expected):
    rooms = find_room(35.60, 139.50, care, SHELTERS, limit, places=places)
    assert [r.shelter.id for r in rooms] == expected
    for room in rooms:
        assert room.distance_m == pytest.approx(
            metric_distance((35.60, 139.50), (room.shelter.lat, room.shelter.lon)))
    assert [r.distance_m for r in rooms] == sorted(r.distance_m for r in rooms)


def test_find_room_tie_goes_to_lowest_id():
    pair = [shelter(9, 0.002), shelter(4, 0.002), shelter(6, 0.001, status="full")]
    assert [r.shelter.id for r in find_room(35.60, 139.50, "wheelchair", pair)] == [4, 9]


@pytest.mark.parametrize("capacity, occupancy, free", [
    (10, {}, 10), (10, {"wheelchair": 4, "carer": 2}, 4), (5, {"dementia": 5}, 0),
    (5, {"dementia": 7}, 0),  # over capacity: no room, never negative
])
def test_free_places(capacity, occupancy, free):
    assert shelter(1, 0, capacity=capacity, occupancy=occupancy).free == free


@pytest.mark.parametrize("build", [
    lambda: find_room(35.6, 139.5, "wheelchairs", SHELTERS),
    lambda: Person(1, 35.6, 139.5, "elderly"),
    lambda: Person(1, 35.6, 139.5, "wheelchair", places=0),
    lambda: shelter(1, 0, care=("wheelchair", "pets")),
    lambda: shelter(1, 0, status="opened"),
    lambda: shelter(1, 0, capacity=-1),
])
def test_unknown_values_are_refused(build):
    with pytest.raises(ValueError):
        build()


def test_place_people_in_input_order():
    one_place = [shelter(1, 0.001, capacity=1), shelter(2, 0.010)]
    people = [Person(20, 35.6005, 139.50, "wheelchair"), Person(10, 35.60, 139.50, "wheelchair")]
    placement = place_people(people, one_place)
    assert [(a.person_id, a.shelter_id) for a in placement.assignments] == [(20, 1), (10, 2)]
    assert placement.free == {1: 0, 2: 9} and placement.unplaced == []


def test_place_people_skips_and_leaves_out():
    people = [Person(1, 35.60, 139.50, "wheelchair", places=2),  # takes shelter 1's 2 places
              Person(2, 35.60, 139.50, "wheelchair"),
              Person(3, None, None, "wheelchair"),
              Person(4, 35.60, 139.50, "pregnant"),
              Person(5, 35.60, 139.50, "dementia")]
    placement = place_people(people, SHELTERS)
    assert [(a.person_id, a.shelter_id) for a in placement.assignments] == [(1, 1), (2, 2),
                                                                            (5, 8)]
    assert [p.id for p in placement.unplaced] == [3, 4]
    assert placement.free[1] == 0 and placement.free[2] == 9 and 6 not in placement.free


def reference_placement(people, shelters):
    """Place people one by one, trying every shelter: slow, obviously right."""
    free = {s.id: s.free for s in shelters}
    placed = []
    for person in people:
        if person.lat is None:
            continue
        here = (person.lat, person.lon)
        options = sorted((round(metric_distance(here, (s.lat, s.lon)), 3), s.id)
                         for s in shelters if s.takes(person.care_type)
                         and free[s.id] >= person.places)
        if options:
            free[options[0][1]] -= person.places
            placed.append((person.id, options[0][1]))
    return placed, free


@pytest.mark.parametrize("seed", range(6))
def test_place_people_matches_the_reference(seed):
    rng = random.Random(seed)
    care_types = ["frail_elderly", "wheelchair", "dementia", "medical_care", "pregnant",
                  "infants"]
    # Shelters on a coarse grid, so that many stand at the same spot (ties), with few places,
    # so that the nearest 16 fill up and the whole pool is searched.
    shelters = [Shelter(i, f"S{i}", rng.choice(["welfare"] * 5 + ["general"]),
                        rng.choice(["open"] * 6 + ["full", "closed", "not_open"]),
                        35.60 + rng.randint(0, 4) / 200, 139.50 + rng.randint(0, 4) / 200,
                        rng.randint(0, 4), {"frail_elderly": rng.randint(0, 2)},
                        frozenset(rng.sample(care_types, rng.randint(1, 4))))
                for i in rng.sample(range(1, 500), 60)]
    people = [Person(i, 35.60 + rng.random() / 50, 139.50 + rng.random() / 50,
                     rng.choice(care_types), rng.choice([1, 1, 1, 2]))
              for i in range(150)]
    placement = place_people(people, shelters)
    expected, free = reference_placement(people, shelters)
    assert [(a.person_id, a.shelter_id) for a in placement.assignments] == expected
    assert len(placement.assignments) + len(placement.unplaced) == len(people)
    by_id = {s.id: s for s in shelters}
    used: dict[int, int] = {}
    for assignment, person in zip(placement.assignments, [p for p in people if p.id in
                                                          dict(expected)]):
        assert by_id[assignment.shelter_id].takes(person.care_type)
        used[assignment.shelter_id] = used.get(assignment.shelter_id, 0) + person.places
    assert all(used[i] <= by_id[i].free for i in used)  # never over capacity
    assert all(placement.free[i] == free[i] for i in placement.free)


# --- the fictional city ----------------------------------------------------------------------

def test_fictional_city_tiles_a_square_around_the_demo():
    districts = DistrictSet.from_geojson(fictional_city(35.6836, 139.5595))
    assert set(districts.names) == {"北町", "南町", "東町", "西町", "中央", "川辺", "山手"}
    assert all(g.is_valid and g.geom_type == "Polygon" for g in districts.geometries)
    areas = districts.areas_m2()
    assert sum(areas.values()) == pytest.approx(81e6, rel=0.001)  # 9 km x 9 km, no overlaps
    # The demo's main centre, its 北町 satellite and a demo need at 35.70, 139.55.
    assert locate([(35.6836, 139.5595), (35.6990, 139.5480), (35.70, 139.55)],
                  districts) == ["中央", "北町", "北町"]
