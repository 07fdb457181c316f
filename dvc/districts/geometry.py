"""Districts: read a boundary file, keep it as GeoJSON, say which district each point lies in.

Pure: plain values in, values out; no Flask, no database. Points are WGS84 (lat, lon) pairs at
the edges; distances are computed in a metric CRS (JGD2011 Japan Plane Rectangular), never in
degrees.
"""
from __future__ import annotations

import json
import math
import shutil
import tempfile
import warnings
import zipfile
import zlib
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path, PurePosixPath
from typing import Iterable, Iterator, Sequence

import geopandas
import numpy as np
import pyogrio
import shapely
from pyproj import CRS, Transformer

from dvc.core.errors import Invalid
from dvc.core.geo import JAPAN_BOUNDS

WGS84 = "EPSG:4326"
# JGD2011 / Japan Plane Rectangular CS IX (Tokyo and most of Kanto). A centre elsewhere should
# configure its own zone (I-XIX): the scale error grows about 1 m per 10 km away from the zone.
METRIC_CRS = "EPSG:6677"
FORMATS = {"GeoJSON": "GeoJSON", "GPKG": "GeoPackage", "ESRI Shapefile": "Shapefile"}
DATA_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json")
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
ZIP_LIMIT = 200 * 2**20  # uncompressed bytes: far above any city's districts, below a zip bomb
GEOJSON_DECIMALS = 7  # about 1 cm on the ground; full precision doubles the stored text
POLYGONAL = ("Polygon", "MultiPolygon")


def N_(text: str) -> str:
    """Mark a message for translation (pybabel -k N_); the Flask layer translates by reason."""
    return text


# Messages by reason, with %(name)s parameters: the Flask layer can translate them by reason.
ERRORS = {
    "unreadable": N_("The file could not be read as GeoJSON, GeoPackage or a zipped Shapefile "
                     "(%(detail)s)."),
    "format": N_("This is a %(driver)s file: upload GeoJSON (.geojson), GeoPackage (.gpkg) or a "
                 "zipped Shapefile (.zip)."),
    "zip_corrupt": N_("The zip file is damaged or incomplete: make the zip again and upload it."),
    "zip_large": N_("The zip file unpacks to more than %(limit_mb)s MB: upload only the districts."),
    "zip_empty": N_("The zip file holds no Shapefile (.shp), GeoPackage (.gpkg) or GeoJSON file."),
    "zip_many": N_("The zip file holds several data files (%(files)s): upload one at a time."),
    "zip_parts": N_("The zip file has %(file)s but not its %(missing)s file: zip all the "
                    "Shapefile's files together (.shp, .shx, .dbf and .prj)."),
    "layers": N_("The file has several layers (%(layers)s): choose the one with the districts."),
    "no_layer": N_("The file has no layer named %(layer)s; its layers are %(layers)s."),
    "no_crs": N_("The file does not say which coordinate reference system (CRS) it uses%(hint)s: "
                 "export it again with its CRS (for example EPSG:4326 or EPSG:6677)."),
    "empty": N_("The file has no features: there are no districts in it."),
    "name_field": N_("There is no field %(field)s in the file. Its fields are: %(columns)s."),
    "null_geometry": N_("Feature %(features)s has no geometry: draw it or delete it."),
    "not_polygon": N_("Feature %(features)s is not a polygon (%(types)s): districts must be areas "
                      "(Polygon or MultiPolygon)."),
    "invalid_geometry": N_("Feature %(features)s has a broken outline that could not be repaired "
                           "(%(detail)s): fix it in GIS software (QGIS: Fix geometries)."),
    "blank_name": N_("Feature %(features)s has no name in the field %(field)s."),
    "duplicate_names": N_("More than one feature is named %(names)s: merge each into one "
                          "(multi)polygon or give them different names."),
    "outside_japan": N_("The districts do not lie in Japan once converted from %(crs)s (they span "
                        "latitude %(lat)s, longitude %(lon)s): the file's CRS is probably wrong."),
}


class DistrictFileError(Invalid):
    """A district file cannot be imported: `message` says what to do, `field` names the input."""

    code = "district_file"

    def __init__(self, message: str, field: str | None = None, *, reason: str = "",
                 data: dict | None = None):
        super().__init__(message, fields={field: message} if field else None,
                         data={"reason": reason, **(data or {})})
        self.field = field
        self.reason = reason


def _fail(reason: str, at: str | None = "file", **params) -> DistrictFileError:
    """Return the error for a reason; `at` is the input at fault (file, name_field, layer)."""
    return DistrictFileError(ERRORS[reason] % params, at, reason=reason, data=params)


@dataclass(frozen=True, eq=False)
class DistrictSet:
    """Named district polygons in WGS84, in the file's order, with what the import noticed."""

    names: tuple[str, ...]
    geometries: tuple[shapely.Geometry, ...]
    source_count: int
    metric_crs: str = METRIC_CRS
    repaired: tuple[str, ...] = ()  # districts whose broken outline make_valid fixed
    notes: tuple[str, ...] = ()  # warnings from the reader, for the person importing

    def __post_init__(self):
        if len(self.names) != len(self.geometries) or len(set(self.names)) != len(self.names):
            raise ValueError("a DistrictSet needs one geometry per name and unique names")
        # Not shapely.prepare()d: GEOS prepared geometries are not thread-safe (libgeos #825)
        # and a set is shared by request threads; each locate() prepares its own, briefly.

    def __len__(self) -> int:
        return len(self.names)

    @cached_property
    def rank(self) -> np.ndarray:
        """Return each district's position in name order (the boundary tie-break)."""
        order = sorted(range(len(self.names)), key=self.names.__getitem__)
        return np.argsort(np.array(order, dtype=np.intp))

    def geojson(self, name: str) -> dict:
        """Return one district's geometry as a GeoJSON dict (WGS84, lon/lat, ~1 cm)."""
        return geometry_to_geojson(self.geometries[self.names.index(name)])

    def to_geojson(self) -> list[tuple[str, dict]]:
        """Return (name, GeoJSON geometry dict) pairs, for storage as text."""
        return [(name, geometry_to_geojson(geom)) for name, geom in zip(self.names,
                                                                        self.geometries)]

    def feature_collection(self) -> dict:
        """Return the districts as a GeoJSON FeatureCollection with a `name` property."""
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": name}, "geometry": geometry}
            for name, geometry in self.to_geojson()]}

    def areas_m2(self) -> dict[str, float]:
        """Return each district's area in square metres (in the metric CRS)."""
        metric = geopandas.GeoSeries(self.geometries, crs=WGS84).to_crs(self.metric_crs)
        return dict(zip(self.names, metric.area.tolist()))

    @classmethod
    def from_geojson(cls, items: Iterable[tuple[str, dict | str]],
                     metric_crs: str = METRIC_CRS) -> DistrictSet:
        """Rebuild districts from stored (name, GeoJSON geometry dict or its JSON text) pairs."""
        items = list(items)
        geometries = [shapely.from_geojson(g if isinstance(g, str) else json.dumps(g))
                      for _, g in items]
        return cls(tuple(name for name, _ in items), tuple(geometries), len(items), metric_crs)


def geometry_to_geojson(geometry: shapely.Geometry) -> dict:
    """Return a shapely geometry as a GeoJSON dict, coordinates rounded to about 1 cm."""
    rounded = shapely.transform(geometry, lambda xy: np.round(xy, GEOJSON_DECIMALS))
    return json.loads(shapely.to_geojson(rounded))


# --- Reading a file -------------------------------------------------------------------------

def read_districts(path: str | Path, name_field: str, metric_crs: str = METRIC_CRS, *,
                   layer: str | None = None, encoding: str | None = None) -> DistrictSet:
    """Read districts from GeoJSON, GeoPackage or a zipped Shapefile, in any CRS, all or nothing.

    Raises DistrictFileError with a message a person can act on. `encoding` overrides the
    Shapefile's; without a .cpg file, names that only make sense as Shift-JIS are read as such.
    """
    check_metric_crs(metric_crs)
    with _data_file(Path(path)) as source:
        frame, notes = _read_frame(source, name_field, layer, encoding)
    names = _names(frame[name_field], name_field)
    geometries, repaired = _polygons(frame.geometry, names)
    wgs84 = geopandas.GeoSeries(geometries, crs=frame.crs).to_crs(WGS84)
    _check_in_japan(wgs84, frame.crs)
    return DistrictSet(tuple(names), tuple(wgs84), len(frame), metric_crs,
                       tuple(names[i] for i in repaired), tuple(notes))


def check_metric_crs(crs: str) -> None:
    """Refuse a CRS that does not measure in metres (a configuration mistake, not user input)."""
    parsed = CRS.from_user_input(crs)
    if not parsed.is_projected or any(a.unit_name != "metre" for a in parsed.axis_info):
        raise ValueError(f"{crs} is not a projected CRS in metres (use e.g. EPSG:6677)")


@contextmanager
def _data_file(path: Path) -> Iterator[Path]:
    """Yield a path GDAL can open: the file itself, or the data file unpacked from a zip."""
    if path.suffix.lower() != ".zip" and not zipfile.is_zipfile(path):
        yield path
        return
    folder = Path(tempfile.mkdtemp(prefix="dvc-districts-"))
    try:
        yield _unzip(path, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _unzip(path: Path, folder: Path) -> Path:
    """Unpack the one data file in a zip (and its Shapefile parts) under safe names."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()
                       and not m.filename.startswith("__MACOSX/")
                       and not PurePosixPath(m.filename).name.startswith(".")]
            if sum(m.file_size for m in members) > ZIP_LIMIT:
                raise _fail("zip_large", limit_mb=ZIP_LIMIT // 2**20)
            data = [m for m in members if PurePosixPath(m.filename).suffix.lower() in
                    DATA_SUFFIXES]
            if not data:
                raise _fail("zip_empty")
            if len(data) > 1:
                raise _fail("zip_many", files=", ".join(m.filename for m in data))
            return _extract(archive, members, data[0], folder)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise _fail("zip_corrupt") from exc


def _extract(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], data: zipfile.ZipInfo,
             folder: Path) -> Path:
    """Write the data file and its parts into folder; return the data file's path."""
    # Our own names: zip member names can climb out of the folder or be mojibake (cp932).
    main = PurePosixPath(data.filename)
    suffix = main.suffix.lower()
    parts = {PurePosixPath(m.filename).suffix.lower(): m for m in members
             if PurePosixPath(m.filename).with_suffix("") == main.with_suffix("")}
    wanted = SHAPEFILE_PARTS if suffix == ".shp" else (suffix,)
    for needed in (".shx", ".dbf") if suffix == ".shp" else ():
        if needed not in parts:
            raise _fail("zip_parts", file=main.name, missing=needed)
    for part in wanted:
        if part in parts:
            (folder / f"districts{part}").write_bytes(archive.read(parts[part]))
    return folder / f"districts{suffix}"


def _read_frame(source: Path, name_field: str, layer: str | None,
                encoding: str | None) -> tuple[geopandas.GeoDataFrame, list[str]]:
    """Read the layer after checking what can be checked without reading it."""
    info = _layer_info(source, layer)
    if info["driver"] not in FORMATS:
        raise _fail("format", driver=info["driver"])
    if info["crs"] is None:
        hint = " (the Shapefile has no .prj file)" if source.suffix.lower() == ".shp" else ""
        raise _fail("no_crs", hint=hint)
    if not info["features"]:
        raise _fail("empty")
    if name_field not in list(info["fields"]):
        raise _fail("name_field", "name_field", field=name_field,
                    columns=", ".join(info["fields"]) or "(none)")
    frame, notes = _read(source, info["layer_name"], encoding)
    guess = None if encoding else _misread_encoding(info, frame[name_field])
    if guess:
        frame, notes = _read(source, info["layer_name"], guess)
        notes.append(f"The names were read as {guess}: the Shapefile has no .cpg file.")
    return frame, notes


def _layer_info(source: Path, layer: str | None) -> dict:
    """Return pyogrio's description of the one layer to read."""
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(source)]
        if layer is None and len(layers) > 1:
            raise _fail("layers", "layer", layers=", ".join(layers))
        if layer is not None and layer not in layers:
            raise _fail("no_layer", "layer", layer=layer, layers=", ".join(layers))
        return pyogrio.read_info(source, layer=layer or layers[0])
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise _fail("unreadable", detail=_short(exc, source)) from exc


def _read(source: Path, layer: str, encoding: str | None) -> tuple[geopandas.GeoDataFrame,
                                                                    list[str]]:
    """Read a layer, turning the reader's warnings into notes for the person importing."""
    # GDAL reports oddities (measured geometries, unusual rings) as warnings; here they are
    # worth telling the user, not failing on. Other warnings (deprecations) are passed on.
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = geopandas.read_file(source, layer=layer, engine="pyogrio", encoding=encoding)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            pyogrio.errors.FeatureError, pyogrio.errors.FieldError,
            pyogrio.errors.GeometryError, pyogrio.errors.CRSError) as exc:
        raise _fail("unreadable", detail=_short(exc, source)) from exc
    notes = []
    for caught_warning in caught:
        if issubclass(caught_warning.category, (UserWarning, RuntimeWarning)):
            notes.append(str(caught_warning.message))
        else:
            warnings.warn_explicit(caught_warning.message, caught_warning.category,
                                   caught_warning.filename, caught_warning.lineno)
    return frame, notes


def _short(exc: Exception, source: Path) -> str:
    """Return GDAL's message without our temporary path in it."""
    return str(exc).replace(f"/vsizip/{source}", source.name).replace(str(source), source.name)


def _misread_encoding(info: dict, values) -> str | None:
    """Name the encoding a Shapefile without .cpg was really in, when GDAL guessed Latin-1."""
    if info["driver"] != "ESRI Shapefile" or info["encoding"] != "ISO-8859-1":
        return None
    text = "".join(v for v in values if isinstance(v, str))
    try:
        raw = text.encode("latin-1")  # GDAL decoded byte by byte: this gives the bytes back
    except UnicodeEncodeError:
        return None
    if raw.isascii():
        return None
    for candidate in ("utf-8", "cp932"):  # Japanese GIS files are one or the other
        try:
            raw.decode(candidate)
            return candidate
        except UnicodeDecodeError:
            pass
    return None


def _label(i: int, names: Sequence[str] | None = None) -> str:
    """Return a feature's 1-based number, with its name when it has one."""
    name = names[i] if names is not None and i < len(names) else ""
    return f"{i + 1} ({name})" if name else str(i + 1)


def _labels(indices: Sequence[int], names: Sequence[str] | None = None) -> str:
    """Return the first few features' labels, and how many more there are."""
    shown = ", ".join(_label(i, names) for i in indices[:5])
    return shown + (f" and {len(indices) - 5} more" if len(indices) > 5 else "")


def _names(values, field: str) -> list[str]:
    """Return the features' names, refusing blank and repeated ones."""
    names = [_name(v) for v in values]
    blank = [i for i, name in enumerate(names) if not name]
    if blank:
        raise _fail("blank_name", "name_field", features=_labels(blank), field=field)
    repeated = sorted(n for n, count in Counter(names).items() if count > 1)
    if repeated:
        raise _fail("duplicate_names", "name_field", names=", ".join(repeated))
    return names


def _name(value) -> str:
    """Return a name as text; numbers stored as floats by the file lose their '.0'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _polygons(series: geopandas.GeoSeries, names: list[str]) -> tuple[list, list[int]]:
    """Return 2-D (multi)polygons, repairing broken outlines; refuse anything else."""
    geometries = shapely.force_2d(np.asarray(series.values, dtype=object))
    missing = [i for i, g in enumerate(geometries) if g is None or g.is_empty]
    if missing:
        raise _fail("null_geometry", features=_labels(missing, names))
    other = [i for i, g in enumerate(geometries) if g.geom_type not in POLYGONAL]
    if other:
        types = ", ".join(sorted({geometries[i].geom_type for i in other}))
        raise _fail("not_polygon", features=_labels(other, names), types=types)
    repaired = [i for i, valid in enumerate(shapely.is_valid(geometries)) if not valid]
    for i in repaired:
        geometries[i] = _repair(geometries[i], _label(i, names))
    return list(geometries), repaired


def _repair(geometry: shapely.Geometry, label: str) -> shapely.Geometry:
    """Return make_valid's polygonal part; dropped lines and points had no area anyway."""
    fixed = shapely.make_valid(geometry)
    polygons = [p for p in shapely.get_parts(fixed) if p.geom_type in POLYGONAL]
    if not polygons:
        raise _fail("invalid_geometry", features=label,
                    detail=shapely.is_valid_reason(geometry))
    return shapely.union_all(polygons)  # one Polygon or MultiPolygon


def _check_in_japan(series: geopandas.GeoSeries, crs) -> None:
    """Refuse districts that land outside Japan: the file's CRS was wrong or missing."""
    west, south, east, north = series.total_bounds
    s, w, n, e = JAPAN_BOUNDS
    inside = np.isfinite([west, south, east, north]).all() and \
        s <= south and north <= n and w <= west and east <= e
    if not inside:
        raise _fail("outside_japan", crs=crs.to_string(), lat=f"{south:.4g} to {north:.4g}",
                    lon=f"{west:.4g} to {east:.4g}")


# --- Points and distances --------------------------------------------------------------------

def as_lat_lon(points: Sequence[tuple[float | None, float | None]] | np.ndarray) -> np.ndarray:
    """Return points as an (n, 2) float array of lat, lon; a missing coordinate becomes NaN."""
    return np.asarray(points, dtype=float).reshape(-1, 2)


def locate(points: Sequence[tuple[float | None, float | None]] | np.ndarray,
           districts: DistrictSet) -> list[str | None]:
    """Name the district each (lat, lon) point lies in, or None (outside, in a hole, no point).

    A point on a shared boundary, or where districts overlap, goes to the district whose name
    sorts first (Unicode code point order), so the answer never depends on file order.
    """
    lat_lon = as_lat_lon(points)
    found = np.full(len(lat_lon), -1, dtype=np.intp)
    known = np.flatnonzero(np.isfinite(lat_lon).all(axis=1))
    if len(known) and len(districts):
        # Few polygons against many points: query the points' tree with the polygons (which
        # the query prepares for itself); "intersects" counts the boundary as inside.
        tree = shapely.STRtree(shapely.points(lat_lon[known, 1], lat_lon[known, 0]))
        district, point = tree.query(np.asarray(districts.geometries, dtype=object),
                                     predicate="intersects")
        order = np.lexsort((districts.rank[district], point))
        point, district = point[order], district[order]
        first = np.r_[True, point[1:] != point[:-1]] if len(point) else np.zeros(0, bool)
        found[known[point[first]]] = district[first]
    return [districts.names[i] if i >= 0 else None for i in found.tolist()]


@lru_cache(maxsize=32)
def transformer(source: str, target: str) -> Transformer:
    """Return a cached lon/lat-ordered Transformer (building one costs milliseconds)."""
    return Transformer.from_crs(source, target, always_xy=True)


def to_metric(points: Sequence[tuple[float | None, float | None]] | np.ndarray,
              crs: str = METRIC_CRS) -> np.ndarray:
    """Return (lat, lon) points as an (n, 2) array of easting, northing in metres (NaN if none)."""
    lat_lon = as_lat_lon(points)
    x, y = transformer(WGS84, crs).transform(lat_lon[:, 1], lat_lon[:, 0])
    xy = np.column_stack([x, y])
    xy[~np.isfinite(xy).all(axis=1)] = np.nan  # PROJ gives inf for points it cannot map
    return xy


def from_metric(xy: np.ndarray, crs: str = METRIC_CRS) -> np.ndarray:
    """Return metric easting, northing pairs as an (n, 2) array of lat, lon."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    lon, lat = transformer(crs, WGS84).transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lat, lon])


def distance_matrix(points, targets, crs: str = METRIC_CRS) -> np.ndarray:
    """Return the (n, m) metric distances in metres from each point to each target (NaN if none)."""
    a, b = to_metric(points, crs), to_metric(targets, crs)
    return np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])


def metric_distance(a: tuple[float, float], b: tuple[float, float],
                    crs: str = METRIC_CRS) -> float:
    """Return the distance in metres between two (lat, lon) points, in the metric CRS."""
    return float(distance_matrix([a], [b], crs)[0, 0])
