"""The printed overview map's SVG, built from plain data (no app): shapes, names, counts, the
service areas, shelters, legend, north arrow and scale bar; drawn in metres, not degrees."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from dvc.districts.fictional import SEEDS, fictional_city
from dvc.maps import style
from dvc.maps.overview import (MAP_HEIGHT, WIDTH, DistrictFigure, ShelterFigure, SiteFigure,
                               Words, build_overview)

SVG = "{http://www.w3.org/2000/svg}"
CENTRE = (35.6836, 139.5595)
STAMP = "2026-11-22 09:00 JST"
OPEN = {"中央": (8, 4), "北町": (5, 2), "南町": (3, 3), "東町": (10, 6), "西町": (3, 3),
        "川辺": (8, 4), "山手": (0, 0)}


def city() -> list[DistrictFigure]:
    return [DistrictFigure(name, geometry, *OPEN[name])
            for name, geometry in fictional_city(*CENTRE)]


def sites() -> list[SiteFigure]:
    return [SiteFigure("本部センター", "main", "open", 35.6836, 139.5595,
                       ("中央", "南町", "東町", "西町", "川辺"), 25, None, 60),
            SiteFigure("北町サテライト", "satellite", "paused", 35.6990, 139.5480,
                       ("北町", "山手"), 1, 40, 15)]


def shelters() -> list[ShelterFigure]:
    return [ShelterFigure(1, "さくら苑", "welfare", "open", 35.6716, 139.5415, 20, 16),
            ShelterFigure(2, "福祉センター", "welfare", "full", 35.6836, 139.5455, 15, 15),
            ShelterFigure(3, "中央小学校", "general", "open", 35.6956, 139.5775, 300, 142)]


@pytest.fixture(scope="module")
def drawn():
    return build_overview(city(), sites(), shelters(), stamp=STAMP)


@pytest.fixture(scope="module")
def tree(drawn):
    return ET.fromstring(drawn.svg)  # well-formed XML, or this fails


def group(tree, cls):
    found = [g for g in tree.iter(f"{SVG}g") if g.get("class") == cls]
    assert found, f"no <g class={cls!r}>"
    return found[0]


def texts(element) -> str:
    return " ".join("".join(t.itertext()) for t in element.iter(f"{SVG}text"))


def points(d: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", d)]


def test_every_district_is_a_shape_shaded_by_its_open_needs(tree):
    paths = {p.get("data-district"): p for p in group(tree, "districts").iter(f"{SVG}path")}
    assert set(paths) == set(OPEN)
    breaks = style.need_breaks(10)
    assert breaks == [1, 3, 5, 7, 9]
    for name, (open_needs, _waiting) in OPEN.items():
        assert paths[name].get("fill") == style.need_colour(open_needs, breaks)
        assert len(points(paths[name].get("d"))) >= 3
    assert paths["東町"].get("fill") == style.NEED_SCALE[-1]   # the most: the darkest
    assert paths["山手"].get("fill") == style.NO_NEEDS         # none: unshaded


def test_names_and_counts_are_written_on_the_map(tree):
    labels = texts(group(tree, "labels"))
    for name, (open_needs, waiting) in OPEN.items():
        assert name in labels
        assert f"{open_needs} open · {waiting} waiting" in labels
    # Sites: name, status word, today's people (of the quota) and tomorrow's.
    assert "本部センター（Open）" in labels and "Today 25 · tomorrow 60" in labels
    assert "北町サテライト（Paused）" in labels and "Today 1 of 40 · tomorrow 15" in labels
    # Shelters: their number on the symbol, people staying / capacity beside it.
    assert "16/20" in labels and "15/15" in labels and "142/300" in labels
    shelter_classes = [g.get("class") for g in group(tree, "shelters")]
    assert shelter_classes == ["shelter shelter-nearly_full", "shelter shelter-full",
                               "shelter shelter-free"]


def test_sites_are_told_apart_by_shape_and_text_not_only_colour(tree):
    sites_group = group(tree, "sites")
    main, satellite = list(sites_group)
    assert main.get("class") == "site site-main site-open"
    assert satellite.get("class") == "site site-satellite site-paused"
    assert main.find(f"{SVG}rect").get("rx") == "3"             # square corners
    assert float(satellite.find(f"{SVG}rect").get("rx")) == 14  # round
    assert satellite.find(f"{SVG}rect").get("stroke-dasharray")  # paused: a dashed edge
    assert texts(main) == "HQ" and texts(satellite) == "Sat."


def test_service_areas_are_the_union_of_each_sites_districts(tree, drawn):
    areas = [p for p in group(tree, "service-areas").iter(f"{SVG}path")
             if p.get("stroke") != "#fff"]
    assert [a.get("data-site") for a in areas] == ["本部センター", "北町サテライト"]
    assert areas[0].get("stroke") == style.SITE_COLOURS[0]
    assert areas[1].get("stroke") == style.SITE_COLOURS[1]
    assert areas[1].get("stroke-dasharray") == style.SITE_DASHES[1]
    # One outline each (the districts inside are merged): the satellite's two districts make
    # one ring, not two.
    assert areas[1].get("d").count("M") == 1


def test_the_shapes_are_projected_in_metres_not_stretched_degrees(tree, drawn):
    """The fictional city is a 9 km square: it must come out square, 9 km wide, north up."""
    everything = [pt for p in group(tree, "districts").iter(f"{SVG}path")
                  for pt in points(p.get("d"))]
    xs, ys = [x for x, _ in everything], [y for _, y in everything]
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    assert width == pytest.approx(height, rel=0.01)    # in degrees it would be 0.81:1
    assert width * drawn.metres_per_unit == pytest.approx(9000, rel=0.01)
    assert 0 <= min(xs) and max(xs) <= WIDTH and 0 <= min(ys) and max(ys) <= MAP_HEIGHT
    # North up: 北町's seed lies 2.6 km north of the centre and 南町's 2.6 km south.
    north = [p for p in group(tree, "districts") if p.get("data-district") == "北町"][0]
    south = [p for p in group(tree, "districts") if p.get("data-district") == "南町"][0]
    mean_y = lambda p: sum(y for _, y in points(p.get("d"))) / len(points(p.get("d")))  # noqa
    assert mean_y(north) < mean_y(south)
    assert SEEDS["北町"][0] > 0 > SEEDS["南町"][0]


def test_legend_north_arrow_scale_bar_and_time(tree, drawn):
    legend = texts(group(tree, "legend"))
    assert "Open needs per district" in legend
    for text in ("0", "1–2", "3–4", "5–6", "7–8", "9–10", "Main centre", "Satellite",
                 "Paused", "Closed", "本部センター", "Room", "Nearly full", "Full", "Not open",
                 f"As of {STAMP}", "Projection: EPSG:6677"):
        assert text in legend, text
    assert texts(group(tree, "north-arrow")) == "N"
    bar = group(tree, "scale-bar")
    assert drawn.scale_metres in (1000, 2000)
    assert ("2 km" if drawn.scale_metres == 2000 else "1 km") in texts(bar)
    whole = [r for r in bar.iter(f"{SVG}rect") if r.get("fill") == "none"][0]
    assert float(whole.get("width")) * drawn.metres_per_unit == pytest.approx(
        drawn.scale_metres, rel=0.01)
    assert STAMP in tree.find(f"{SVG}title").text


def test_words_come_in_the_readers_language():
    words = Words(open_waiting="未完了 %(open)s・待ち %(waiting)s", north="北",
                  site_status={"open": "開設", "paused": "休止", "closed": "閉所"})
    svg = build_overview(city(), sites(), [], stamp=STAMP, words=words).svg
    assert "未完了 8・待ち 4" in svg and ">北<" in svg and "北町サテライト（休止）" in svg


def test_text_is_escaped():
    districts = [DistrictFigure('<b>"A&B"</b>', fictional_city(*CENTRE)[0][1], 1, 1)]
    tree = ET.fromstring(build_overview(districts, [], [], stamp=STAMP).svg)
    assert '<b>"A&B"</b>' in texts(group(tree, "labels"))


def test_nothing_to_draw_yet_still_makes_a_map():
    tree = ET.fromstring(build_overview([], [SiteFigure("本部", "main", "open", 35.68, 139.56)],
                                        [], stamp=STAMP).svg)
    assert "No districts yet" in texts(tree)
    assert texts(group(tree, "north-arrow")) == "N"
    empty = ET.fromstring(build_overview([], [], [], stamp=STAMP).svg)
    assert "No districts yet" in texts(empty)


@pytest.mark.parametrize("highest, breaks, ranges", [
    (0, [], []), (1, [1], ["1"]), (2, [1, 2], ["1", "2"]), (7, [1, 3, 5, 7], ["1–2", "3–4",
                                                                             "5–6", "7"]),
    (100, [1, 21, 41, 61, 81], ["1–20", "21–40", "41–60", "61–80", "81–100"]),
])
def test_need_classes(highest, breaks, ranges):
    assert style.need_breaks(highest) == breaks
    assert style.need_ranges(breaks, highest) == ranges
    assert style.need_class(0, breaks) == -1
    if breaks:
        assert style.need_class(highest, breaks) == len(breaks) - 1


@pytest.mark.parametrize("status, occupied, capacity, expected", [
    ("open", 0, 10, "free"), ("open", 7, 10, "free"), ("open", 8, 10, "nearly_full"),
    ("open", 10, 10, "full"), ("open", 12, 10, "full"), ("full", 3, 10, "full"),
    ("open", 0, 0, "full"), ("closed", 0, 10, "closed"), ("not_open", 0, 10, "not_open"),
])
def test_shelter_classes(status, occupied, capacity, expected):
    assert style.shelter_class(status, occupied, capacity) == expected
