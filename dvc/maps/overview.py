"""The printable overview map for the morning meeting (朝のミーティング用の全体図): an SVG built
on the server from plain data, with no tiles and no script.

Pure: districts, sites and shelters come in as dataclasses (WGS84 points and GeoJSON), the
words come in already translated, and the SVG goes out as text. Everything is drawn in a metric
CRS (JGD2011 plane rectangular by default) so that shapes, the scale bar and north are true.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from html import escape
from typing import Mapping, Sequence

import numpy as np
import shapely
from shapely.ops import polylabel

from dvc.districts.geometry import METRIC_CRS, to_metric
from dvc.maps import style

# The SVG's own units: a 1000-wide map frame, with the legend in a band under it.
WIDTH = 1000
MAP_HEIGHT = 820
LEGEND_HEIGHT = 215
PAD = 46
FONT = "'Noto Sans JP', 'Hiragino Sans', 'Yu Gothic', Meiryo, sans-serif"
OUTLINE = 4.0       # service-area line width
SCALE_TARGET = 190  # about how long the scale bar is, in SVG units


@dataclass(frozen=True)
class DistrictFigure:
    name: str
    geometry: Mapping  # GeoJSON geometry, WGS84 (lon, lat)
    open_needs: int = 0
    waiting_needs: int = 0


@dataclass(frozen=True)
class SiteFigure:
    name: str
    kind: str          # main | satellite
    status: str        # open | paused | closed
    lat: float | None
    lon: float | None
    service_districts: tuple[str, ...] = ()
    today_people: int = 0
    quota: int | None = None
    tomorrow: int = 0


@dataclass(frozen=True)
class ShelterFigure:
    number: int        # its key in the table beside the map
    name: str
    kind: str          # welfare | general
    status: str        # not_open | open | full | closed
    lat: float | None
    lon: float | None
    capacity: int
    occupied: int


@dataclass(frozen=True)
class Words:
    """What the map says, in the reader's language (English by default)."""

    title: str = "Overview map"
    as_of: str = "As of %(time)s"
    open_waiting: str = "%(open)s open · %(waiting)s waiting"
    legend_needs: str = "Open needs per district"
    legend_sites: str = "Sites and service areas"
    legend_shelters: str = "Shelters: staying / capacity"
    main: str = "Main centre"
    satellite: str = "Satellite"
    main_tag: str = "HQ"
    satellite_tag: str = "Sat."
    site_status: Mapping[str, str] = field(default_factory=lambda: {
        "open": "Open", "paused": "Paused", "closed": "Closed"})
    today_quota: str = "Today %(today)s of %(quota)s · tomorrow %(tomorrow)s"
    today: str = "Today %(today)s · tomorrow %(tomorrow)s"
    shelter_class: Mapping[str, str] = field(default_factory=lambda: {
        "free": "Room", "nearly_full": "Nearly full", "full": "Full", "closed": "Closed",
        "not_open": "Not open"})
    north: str = "N"  # the same in Japanese maps
    projection: str = "Projection: %(crs)s"
    no_districts: str = "No districts yet: import the council's district file."


@dataclass(frozen=True)
class Overview:
    svg: str
    metres_per_unit: float  # how many metres one SVG unit is on the ground
    scale_metres: int       # the scale bar's length on the ground


class _Frame:
    """Metric coordinates to SVG units: north up, the content fitted and centred."""

    def __init__(self, bounds: tuple[float, float, float, float]):
        west, south, east, north = bounds
        span_x, span_y = max(east - west, 1.0), max(north - south, 1.0)
        self.scale = min((WIDTH - 2 * PAD) / span_x, (MAP_HEIGHT - 2 * PAD) / span_y)
        self.x0 = (WIDTH - span_x * self.scale) / 2 - west * self.scale
        self.y0 = (MAP_HEIGHT - span_y * self.scale) / 2 + north * self.scale

    def xy(self, easting: float, northing: float) -> tuple[float, float]:
        return self.x0 + easting * self.scale, self.y0 - northing * self.scale


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _t(template: str, **values) -> str:
    return template % values


def _metric_geometry(geometry: Mapping, crs: str) -> shapely.Geometry:
    """Return a GeoJSON (lon, lat) geometry in the metric CRS."""
    geom = shapely.from_geojson(json.dumps(geometry))
    return shapely.transform(geom, lambda xy: to_metric(xy[:, ::-1], crs))


def _path(geometry: shapely.Geometry, frame: _Frame) -> str:
    """Return SVG path data for (multi)polygon rings, holes included (fill-rule evenodd)."""
    parts = []
    for polygon in shapely.get_parts(geometry):
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        for ring in (polygon.exterior, *polygon.interiors):
            points = [frame.xy(x, y) for x, y in np.asarray(ring.coords)[:-1]]
            if len(points) >= 3:
                parts.append("M" + "L".join(f"{_fmt(x)},{_fmt(y)}" for x, y in points) + "Z")
    return "".join(parts)


def _label_point(geometry: shapely.Geometry) -> tuple[float, float]:
    """Return where a district's label goes: the point farthest inside its largest part."""
    largest = max(shapely.get_parts(geometry), key=lambda g: g.area)
    try:
        point = polylabel(largest, tolerance=max(math.sqrt(largest.area) / 100, 1.0))
    except Exception:  # a degenerate outline: any point inside will do
        point = largest.point_on_surface()
    return point.x, point.y


@dataclass(frozen=True)
class _Label:
    """Lines of text, the first one bold; placed by the middle of one of its sides."""

    lines: tuple[str, ...]
    sizes: tuple[float, ...]
    cls: str

    @property
    def width(self) -> float:
        return max(_text_width(line, size) for line, size in zip(self.lines, self.sizes))

    @property
    def height(self) -> float:
        return sum(self.sizes) * 1.15

    def box(self, x: float, y: float, anchor: str) -> tuple[float, float, float, float]:
        """The box it covers when its `anchor` side's middle (start, middle, end) is at x, y."""
        left = {"start": x, "middle": x - self.width / 2, "end": x - self.width}[anchor]
        return left, y - self.height / 2, left + self.width, y + self.height / 2

    def svg(self, x: float, y: float, anchor: str) -> str:
        top = y - self.height / 2
        spans, baseline = [], top
        for i, (line, size) in enumerate(zip(self.lines, self.sizes)):
            baseline += size * (0.9 if i == 0 else 1.15)
            bold = ' font-weight="700"' if i == 0 else ""
            spans.append(f'<tspan x="{_fmt(x)}" y="{_fmt(baseline)}" font-size="{_fmt(size)}"'
                         f"{bold}>{escape(line)}</tspan>")
        return (f'<text class="{self.cls}" text-anchor="{anchor}" paint-order="stroke" '
                f'stroke="#fff" stroke-width="{_fmt(self.sizes[0] / 4)}" '
                f'stroke-linejoin="round" fill="#1b1f24">{"".join(spans)}</text>')


class _Placer:
    """Greedy label placement: each label takes the first of its places that is still free
    (or its first place when none is), so labels and symbols do not cover each other."""

    def __init__(self):
        self.taken: list[tuple[float, float, float, float]] = []

    def block(self, box: tuple[float, float, float, float]) -> None:
        self.taken.append(box)

    def _free(self, box) -> bool:
        inside = box[0] >= 0 and box[1] >= 0 and box[2] <= WIDTH and box[3] <= MAP_HEIGHT
        return inside and not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and
                                  b[1] < box[3] for b in self.taken)

    def place(self, label: _Label, places: Sequence[tuple[float, float, str]]) -> str:
        chosen = next((p for p in places if self._free(label.box(*p))), places[0])
        self.block(label.box(*chosen))
        return label.svg(*chosen)


def _text_width(text: str, size: float) -> float:
    """Roughly how wide a line is: full-width characters 1 em, others 0.6 em."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.6 for ch in text)


def _nice_length(metres: float) -> int:
    """Return the largest 1, 2 or 5 x 10^k not over `metres` (at least 1)."""
    if metres < 1:
        return 1
    power = 10 ** math.floor(math.log10(metres))
    return int(max(m * power for m in (1, 2, 5) if m * power <= metres))


def _distance(metres: int) -> str:
    return f"{metres // 1000} km" if metres >= 1000 and metres % 1000 == 0 else \
        (f"{metres / 1000:g} km" if metres >= 1000 else f"{metres} m")


def site_tag(site: SiteFigure, words: Words) -> str:
    return words.main_tag if site.kind == "main" else words.satellite_tag


def _site_width(site: SiteFigure, words: Words) -> float:
    return max(_text_width(site_tag(site, words), 17) + 14, 30)


def _site_symbol(x: float, y: float, site: SiteFigure, colour: str, words: Words) -> str:
    """A site: square corners for the main centre, round for a satellite; filled when open,
    white with a dashed edge when paused, grey and struck through when closed."""
    tag = site_tag(site, words)
    size = 17
    w, h = _site_width(site, words), 28
    radius = 3 if site.kind == "main" else h / 2
    if site.status == "open":
        fill, ink, dash = colour, "#ffffff", ""
    elif site.status == "paused":
        fill, ink, dash = "#ffffff", colour, ' stroke-dasharray="5 3"'
    else:
        fill, ink, dash = "#bdbdbd", "#1b1f24", ""
    strike = (f'<line x1="{_fmt(x - w / 2)}" y1="{_fmt(y + h / 2)}" x2="{_fmt(x + w / 2)}" '
              f'y2="{_fmt(y - h / 2)}" stroke="#1b1f24" stroke-width="2"/>'
              if site.status == "closed" else "")
    return (f'<g class="site site-{site.kind} site-{site.status}">'
            f'<rect x="{_fmt(x - w / 2)}" y="{_fmt(y - h / 2)}" width="{_fmt(w)}" '
            f'height="{h}" rx="{_fmt(radius)}" fill="{fill}" stroke="{colour}" '
            f'stroke-width="3"{dash}/>'
            f'<text x="{_fmt(x)}" y="{_fmt(y + size * 0.36)}" text-anchor="middle" '
            f'font-size="{size}" font-weight="700" fill="{ink}">{escape(tag)}</text>'
            f"{strike}</g>")


def _shelter_symbol(x: float, y: float, number: int | None, occupancy_class: str) -> str:
    """A shelter: a little house in its occupancy colour, with its number in the table."""
    fill, ink = style.SHELTER_COLOURS[occupancy_class]
    dash = ' stroke-dasharray="3 2"' if occupancy_class == "not_open" else ""
    house = (f"M{_fmt(x)},{_fmt(y - 15)}L{_fmt(x + 13)},{_fmt(y - 4)}L{_fmt(x + 13)},"
             f"{_fmt(y + 11)}L{_fmt(x - 13)},{_fmt(y + 11)}L{_fmt(x - 13)},{_fmt(y - 4)}Z")
    return (f'<g class="shelter shelter-{occupancy_class}"><path d="{house}" fill="{fill}" '
            f'stroke="#1b1f24" stroke-width="1.5"{dash}/>'
            + (f'<text x="{_fmt(x)}" y="{_fmt(y + 7)}" text-anchor="middle" font-size="14" '
               f'font-weight="700" fill="{ink}">{number}</text>' if number is not None else "")
            + "</g>")


def _north_arrow(x: float, y: float, words: Words) -> str:
    return (f'<g class="north-arrow" aria-label="{escape(words.north)}">'
            f'<path d="M{_fmt(x)},{_fmt(y)}L{_fmt(x + 14)},{_fmt(y + 44)}L{_fmt(x)},'
            f'{_fmt(y + 34)}Z" fill="#1b1f24"/>'
            f'<path d="M{_fmt(x)},{_fmt(y)}L{_fmt(x - 14)},{_fmt(y + 44)}L{_fmt(x)},'
            f'{_fmt(y + 34)}Z" fill="#fff" stroke="#1b1f24" stroke-width="1.5"/>'
            f'<text x="{_fmt(x)}" y="{_fmt(y - 6)}" text-anchor="middle" font-size="22" '
            f'font-weight="700" fill="#1b1f24">{escape(words.north)}</text></g>')


def _scale_bar(x: float, y: float, frame: _Frame) -> tuple[str, int]:
    metres = _nice_length(SCALE_TARGET / frame.scale)
    length = metres * frame.scale
    half = length / 2
    bar = (f'<g class="scale-bar"><rect x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(half)}" '
           f'height="8" fill="#1b1f24"/><rect x="{_fmt(x + half)}" y="{_fmt(y)}" '
           f'width="{_fmt(half)}" height="8" fill="#fff" stroke="#1b1f24" stroke-width="1.5"/>'
           f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(length)}" height="8" fill="none" '
           f'stroke="#1b1f24" stroke-width="1.5"/>')
    for offset, label in ((0, "0"), (length, _distance(metres))):
        bar += (f'<text x="{_fmt(x + offset)}" y="{_fmt(y - 6)}" text-anchor="middle" '
                f'font-size="16" fill="#1b1f24">{escape(label)}</text>')
    return bar + "</g>", metres


def _legend(breaks: list[int], highest: int, sites: Sequence[SiteFigure], words: Words,
            stamp: str, crs: str) -> str:
    """The band under the map: needs scale, sites and their areas, shelters, time, CRS."""
    top = MAP_HEIGHT + 14
    out = [f'<g class="legend" font-size="16" fill="#1b1f24">'
           f'<rect x="0" y="{MAP_HEIGHT}" width="{WIDTH}" height="{LEGEND_HEIGHT}" fill="#fff"/>']
    # Open needs: one swatch per class.
    out.append(f'<text x="16" y="{top + 16}" font-weight="700">{escape(words.legend_needs)}'
               "</text>")
    swatches = [(style.NO_NEEDS, "0")] + list(zip(
        style.NEED_SCALE, style.need_ranges(breaks, highest)))
    for i, (colour, label) in enumerate(swatches):
        y = top + 28 + i * 24
        out.append(f'<rect x="16" y="{y}" width="30" height="18" fill="{colour}" '
                   f'stroke="#5b6470" stroke-width="1"/><text x="54" y="{y + 15}">'
                   f"{escape(label)}</text>")
    # Sites: the symbols, then each site's service-area line.
    x = 330
    out.append(f'<text x="{x}" y="{top + 16}" font-weight="700">{escape(words.legend_sites)}'
               "</text>")
    samples = [SiteFigure("", "main", "open", None, None),
               SiteFigure("", "satellite", "open", None, None),
               SiteFigure("", "satellite", "paused", None, None),
               SiteFigure("", "satellite", "closed", None, None)]
    captions = [words.main, words.satellite, words.site_status["paused"],
                words.site_status["closed"]]
    for i, (sample, caption) in enumerate(zip(samples, captions)):
        sx = x + 26 + (i % 2) * 170
        sy = top + 42 + (i // 2) * 34
        out.append(_site_symbol(sx, sy, sample, style.SITE_COLOURS[0], words))
        out.append(f'<text x="{sx + _site_width(sample, words) / 2 + 6}" y="{sy + 6}">'
                   f"{escape(caption)}</text>")
    for i, site in enumerate(sites[:4]):  # room for four; the table beside lists them all
        colour, dash = style.site_style(i)
        y = top + 110 + i * 20
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{x}" y1="{y - 5}" x2="{x + 44}" y2="{y - 5}" stroke="{colour}" '
                   f'stroke-width="{OUTLINE}"{dash_attr}/><text x="{x + 54}" y="{y}" '
                   f'font-size="14">{escape(site.name)}</text>')
    # Shelters: one symbol per occupancy class.
    x = 700
    out.append(f'<text x="{x}" y="{top + 16}" font-weight="700">'
               f"{escape(words.legend_shelters)}</text>")
    for i, cls in enumerate(style.SHELTER_CLASSES):
        y = top + 44 + i * 25
        out.append(_shelter_symbol(x + 16, y, None, cls))
        out.append(f'<text x="{x + 38}" y="{y + 6}">{escape(words.shelter_class[cls])}</text>')
    out.append(f'<text x="{WIDTH - 12}" y="{MAP_HEIGHT + LEGEND_HEIGHT - 12}" '
               f'text-anchor="end" font-size="13" fill="#5b6470">'
               f"{escape(_t(words.as_of, time=stamp))} · "
               f"{escape(_t(words.projection, crs=crs))}</text>")
    out.append("</g>")
    return "".join(out)


def build_overview(districts: Sequence[DistrictFigure], sites: Sequence[SiteFigure],
                   shelters: Sequence[ShelterFigure], *, stamp: str, crs: str = METRIC_CRS,
                   words: Words = Words()) -> Overview:
    """Return the overview map as SVG text: districts shaded by open needs with their names and
    counts, sites with their service areas, shelters with occupied/capacity, a legend, north
    arrow and scale bar, and the time `stamp` it was drawn."""
    shapes = {d.name: _metric_geometry(d.geometry, crs) for d in districts}
    located_sites = [(i, s, to_metric([(s.lat, s.lon)], crs)[0]) for i, s in enumerate(sites)
                     if s.lat is not None and s.lon is not None]
    located_shelters = [(s, to_metric([(s.lat, s.lon)], crs)[0]) for s in shelters
                        if s.lat is not None and s.lon is not None]
    bounds = _bounds(list(shapes.values()),
                     [p for *_, p in located_sites] + [p for _, p in located_shelters])
    frame = _Frame(bounds)
    highest = max((d.open_needs for d in districts), default=0)
    breaks = style.need_breaks(highest)
    height = MAP_HEIGHT + LEGEND_HEIGHT
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="overview-map" '
           f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="overview-title" '
           f'font-family="{escape(FONT)}">',
           f'<title id="overview-title">{escape(words.title)} · '
           f"{escape(_t(words.as_of, time=stamp))}</title>",
           f'<rect x="0" y="0" width="{WIDTH}" height="{MAP_HEIGHT}" fill="#f4f5f2"/>']
    # Districts, shaded by open needs.
    out.append('<g class="districts" stroke="#5b6470" stroke-width="1.5" '
               'stroke-linejoin="round" fill-rule="evenodd">')
    for d in districts:
        out.append(f'<path data-district="{escape(d.name)}" '
                   f'fill="{style.need_colour(d.open_needs, breaks)}" '
                   f'd="{_path(shapes[d.name], frame)}"/>')
    out.append("</g>")
    out.append(_service_areas(sites, shapes, frame))
    placer = _Placer()
    placer.block((WIDTH - 70, 0, WIDTH, 90))                   # the north arrow
    placer.block((0, MAP_HEIGHT - 56, SCALE_TARGET * 2 + 40, MAP_HEIGHT))  # the scale bar
    # Symbols first (shelters under sites), then their labels around them.
    symbols, labels = ['<g class="shelters">'], ['<g class="labels">']
    for shelter, (e, n) in located_shelters:
        x, y = frame.xy(e, n)
        cls = style.shelter_class(shelter.status, shelter.occupied, shelter.capacity)
        symbols.append(_shelter_symbol(x, y, shelter.number, cls))
        placer.block((x - 13, y - 15, x + 13, y + 11))
    symbols.append('</g><g class="sites">')
    placed_sites = []
    for i, site, (e, n) in located_sites:
        x, y = frame.xy(e, n)
        half = _site_width(site, words) / 2
        symbols.append(_site_symbol(x, y, site, style.site_style(i)[0], words))
        placer.block((x - half, y - 14, x + half, y + 14))
        placed_sites.append((site, x, y, half))
    symbols.append("</g>")
    for site, x, y, half in placed_sites:
        status = words.site_status.get(site.status, site.status)
        figures = (_t(words.today_quota, today=site.today_people, quota=site.quota,
                      tomorrow=site.tomorrow) if site.quota is not None else
                   _t(words.today, today=site.today_people, tomorrow=site.tomorrow))
        label = _Label((f"{site.name}（{status}）", figures), (15, 13), "site-label")
        labels.append(placer.place(label, _around(x, y, half + 5, 16, label)))
    labels.append(_district_labels(districts, shapes, frame, words, placer))
    for shelter, (e, n) in located_shelters:
        x, y = frame.xy(e, n)
        label = _Label((f"{shelter.occupied}/{shelter.capacity}",), (15,), "shelter-label")
        labels.append(placer.place(label, _around(x, y - 2, 16, 16, label)))
    labels.append("</g>")
    out += symbols + labels
    if not districts:
        out.append(_Label((words.no_districts,), (22,), "no-districts").svg(
            WIDTH / 2, MAP_HEIGHT / 2, "middle"))
    out.append(_north_arrow(WIDTH - 44, 30, words))
    bar, metres = _scale_bar(24, MAP_HEIGHT - 24, frame)
    out.append(bar)
    out.append(f'<rect x="0" y="0" width="{WIDTH}" height="{MAP_HEIGHT}" fill="none" '
               f'stroke="#1b1f24" stroke-width="2"/>')
    out.append(_legend(breaks, highest, sites, words, stamp, crs))
    out.append("</svg>")
    return Overview("".join(out), 1 / frame.scale, metres)


def _bounds(shapes: list, points: list) -> tuple[float, float, float, float]:
    """Return west, south, east, north of everything drawn (1 km around a lone point)."""
    boxes = [shapely.bounds(g) for g in shapes if not g.is_empty]
    boxes += [(p[0], p[1], p[0], p[1]) for p in points if np.isfinite(p).all()]
    if not boxes:
        return (-500.0, -500.0, 500.0, 500.0)
    arr = np.asarray(boxes)
    west, south = arr[:, 0].min(), arr[:, 1].min()
    east, north = arr[:, 2].max(), arr[:, 3].max()
    grow_x, grow_y = max(0.0, 1000 - (east - west)) / 2, max(0.0, 1000 - (north - south)) / 2
    return west - grow_x, south - grow_y, east + grow_x, north + grow_y


def _service_areas(sites: Sequence[SiteFigure], shapes: Mapping[str, shapely.Geometry],
                   frame: _Frame) -> str:
    """Each site's service area (the union of its districts), drawn a little inside its edge
    so that two neighbouring areas show both their lines."""
    out = ['<g class="service-areas" fill="none" stroke-linejoin="round">']
    for i, site in enumerate(sites):
        parts = [shapes[name] for name in site.service_districts if name in shapes]
        if not parts:
            continue
        colour, dash = style.site_style(i)
        inset = (OUTLINE * 0.75 + OUTLINE * 1.25 * (i % 3)) / frame.scale
        area = shapely.union_all(parts)
        inner = area.buffer(-inset, join_style="mitre")
        data = _path(inner if not inner.is_empty else area, frame)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<path class="service-area" data-site="{escape(site.name)}" d="{data}" '
                   f'stroke="#fff" stroke-width="{_fmt(OUTLINE + 3)}"/>'
                   f'<path class="service-area" data-site="{escape(site.name)}" d="{data}" '
                   f'stroke="{colour}" stroke-width="{_fmt(OUTLINE)}"{dash_attr}/>')
    out.append("</g>")
    return "".join(out)


def _around(x: float, y: float, side: float, below: float,
            label: _Label) -> list[tuple[float, float, str]]:
    """Places for a symbol's label: right, left, below, above, then further out."""
    h = label.height / 2
    near = [(x + side, y, "start"), (x - side, y, "end"), (x, y + below + h, "middle"),
            (x, y - below - h, "middle")]
    return near + [(px + (20 if a == "start" else -20 if a == "end" else 0),
                    py + (0 if a != "middle" else (18 if py > y else -18)), a)
                   for px, py, a in near]


def _district_labels(districts: Sequence[DistrictFigure],
                     shapes: Mapping[str, shapely.Geometry], frame: _Frame, words: Words,
                     placer: _Placer) -> str:
    """Each district's name and counts at its label point (moved up or down out of the way of
    symbols and other labels), smaller in a small district."""
    out = []
    for d in districts:
        geometry = shapes[d.name]
        if geometry.is_empty:
            continue
        x, y = frame.xy(*_label_point(geometry))
        west, south, east, north = shapely.bounds(geometry)
        room = min((east - west), (north - south)) * frame.scale
        size = max(11.0, min(22.0, room / 7))
        counts = _t(words.open_waiting, open=d.open_needs, waiting=d.waiting_needs)
        label = _Label((d.name, counts), (size, size * 0.8), "district-label")
        step = label.height * 0.6
        places = [(x, y + k * step, "middle") for k in (0, -1, 1, -2, 2, -3, 3)]
        places += [(x + k * label.width * 0.4, y, "middle") for k in (-1, 1)]
        out.append(placer.place(label, places))
    return "".join(out)
