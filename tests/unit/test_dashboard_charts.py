"""The dashboard's SVG charts: pure functions, read back as XML."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from dvc.reports import charts
from dvc.reports.dashboard import arrival_window

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def rects(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if r.get("data-value") is not None]


def texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize("value, ceiling", [(0, 1), (1, 1), (3, 5), (7, 10), (10, 10), (11, 20),
                                            (48, 50), (51, 100), (180, 200), (2400, 5000)])
def test_nice_ceiling(value, ceiling):
    assert charts.nice_ceiling(value) == ceiling


@pytest.mark.parametrize("top, expected", [(1, [0, 1]), (5, [0, 1, 2, 3, 4, 5]),
                                           (10, [0, 2, 4, 6, 8, 10]), (20, [0, 5, 10, 15, 20]),
                                           (50, [0, 10, 20, 30, 40, 50]),
                                           (200, [0, 50, 100, 150, 200])])
def test_ticks_are_few_and_even(top, expected):
    assert charts.ticks(top) == expected


def test_column_heights_are_proportional_and_the_current_column_stands_out():
    columns = [charts.Column("09:00", 10, tick=True), charts.Column("09:15", 5),
               charts.Column("09:30", 0), charts.Column("09:45", 2, current=True)]
    root = parse(charts.column_chart(columns, label="到着", described_by="t1", height=240))
    bars = rects(root)
    assert [int(b.get("data-value")) for b in bars] == [10, 5, 0, 2]
    heights = [float(b.get("height")) for b in bars]
    assert heights[0] == pytest.approx(2 * heights[1]) and heights[2] == 0
    assert heights[0] == pytest.approx(240 - 22 - 26)          # 10 is the top of the scale
    assert bars[3].get("class") == "current" and bars[3].get("fill") == charts.CURRENT
    assert bars[0].get("fill") == charts.BAR
    # Bars stand on the same baseline.
    assert len({round(float(b.get("y")) + float(b.get("height")), 1) for b in bars}) == 1
    # Only ticked columns are labelled on the axis; values sit on non-empty bars.
    words = texts(root)
    assert "09:00" in words and "09:15" not in words
    assert words.count("10") >= 2 and "5" in words


def test_charts_are_images_with_a_name_and_a_text_alternative():
    root = parse(charts.column_chart([charts.Column("a", 1)], label="到着 1人",
                                     described_by="arrivals-table"))
    assert root.get("role") == "img" and root.get("aria-label") == "到着 1人"
    assert root.get("aria-describedby") == "arrivals-table"
    assert root.get("viewBox") == "0 0 720 240"
    no_table = parse(charts.bar_rows([charts.Row("x", (1,))], label="x"))
    assert no_table.get("aria-describedby") is None


def test_labels_typed_by_staff_are_escaped():
    evil = '北町<script>alert("x")</script>&'
    svg = charts.bar_rows([charts.Row(evil, (3,))], label=evil, described_by='a"b')
    root = parse(svg)           # still well-formed XML
    assert "<script>" not in svg and root.find(f"{SVG}script") is None
    assert root.get("aria-label") == evil
    title = root.find(f".//{SVG}title")
    assert title.text == f"{evil}: 3"


def test_stacked_rows_share_one_scale_and_skip_empty_segments():
    rows = [charts.Row("北町", (2, 0, 3), ("#a00", "#0a0", "#00a")),
            charts.Row("南町", (1, 1, 0), ("#a00", "#0a0", "#00a")),
            charts.Row("中央", (0, 0, 0), ("#a00", "#0a0", "#00a"))]
    root = parse(charts.bar_rows(rows, label="地区別"))
    bars = rects(root)
    assert [(b.get("data-value"), b.get("fill")) for b in bars] == [
        ("2", "#a00"), ("3", "#00a"), ("1", "#a00"), ("1", "#0a0")]
    widths = [float(b.get("width")) for b in bars]
    # 5 is the longest total: its two segments fill the plot; a value of 1 is a fifth of it.
    assert widths[0] + widths[1] == pytest.approx(5 * widths[2])
    assert widths[2] == pytest.approx(widths[3])
    # Segments of a row follow each other.
    assert float(bars[1].get("x")) == pytest.approx(float(bars[0].get("x")) + widths[0])
    groups = root.findall(f"{SVG}g")
    assert len(groups) == 3
    assert [t.text for g in groups for t in g.iter(f"{SVG}text")] == [
        "北町", "5", "南町", "2", "中央", "0"]


def test_long_names_are_shortened_but_kept_in_full_in_the_tooltip():
    name = "とても長い名前の地区でラベルの幅に収まらない"
    root = parse(charts.bar_rows([charts.Row(name, (1,))], label="x", label_width=120))
    label = next(root.iter(f"{SVG}text")).text
    assert label.endswith("…") and len(label) < len(name)
    assert charts.text_width(label, charts.FONT) <= 120 - 10
    assert root.find(f".//{SVG}title").text == f"{name}: 1"


def test_an_empty_chart_still_draws():
    root = parse(charts.bar_rows([], label="なし"))
    assert rects(root) == [] and float(root.get("height")) > 0
    root = parse(charts.column_chart([], label="なし"))
    assert rects(root) == []


def test_the_arrivals_axis_runs_from_opening_to_the_end_of_activity():
    nine, three = 9 * 60, 15 * 60
    # Nobody yet at 07:00: 09:00 to 15:00.
    window = arrival_window(None, None, current=28, opens=nine, closes=three)
    assert (window.start, window.stop) == (36, 60)
    # Early arrivals and a late evening stretch the axis both ways.
    window = arrival_window(first=33, last=40, current=80, opens=nine, closes=three)
    assert (window.start, window.stop) == (33, 81)
    # A closing time between quarters still shows its last quarter.
    assert arrival_window(None, None, 0, nine, 15 * 60 + 10).stop == 61
