"""Small charts as inline SVG, drawn in pure Python: no library, no script, no internet.

Each function takes plain values and returns one `<svg>` string with a `viewBox`, so the page's
CSS scales it to the card (a tablet, or the wall of the centre) and text grows with it. Every
label is escaped: district and site names are typed by staff. Each chart is an image with an
accessible name (`label`) and, when given, `described_by`: the id of the table on the page that
holds the same numbers (the text alternative). Colours are passed in by the caller.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from html import escape

INK = "#1b1f24"
GRID = "#c9d0d8"
MUTED = "#4a525c"
BAR = "#0b5cad"
CURRENT = "#e65100"
NOW_BAND = "#ffe0b2"
FONT = 15          # user units; the SVG scales with its card
SMALL = 13


@dataclass(frozen=True)
class Column:
    """One column of a column chart: `label` is read under it when `tick` is set."""

    label: str
    value: int
    tick: bool = False
    current: bool = False
    title: str = ""   # a tooltip: what the column stands for, in words


@dataclass(frozen=True)
class Row:
    """One horizontal bar, or one stack of segments (values in the order of the colours)."""

    label: str
    values: tuple[int, ...]
    colours: tuple[str, ...] = ()


def nice_ceiling(value: int) -> int:
    """Return the smallest 1, 2 or 5 times a power of ten that is at least `value` (and 1)."""
    value = max(int(value), 1)
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= value:
                return step * scale
        scale *= 10


def ticks(top: int, most: int = 5) -> list[int]:
    """Return gridline values from 0 to `top` (a nice ceiling) in equal whole steps."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000):
        if top // step <= most and top % step == 0:
            return list(range(0, top + 1, step))
    return [0, top]


def text_width(text: str, size: float) -> float:
    """Estimate the drawn width of `text` (wide CJK characters count as one em)."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6 for ch in text)


def fit(text: str, width: float, size: float) -> str:
    """Shorten `text` with an ellipsis so that it fits in `width`."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _svg(width: int, height: int, label: str, described_by: str | None, body: list[str],
         cls: str, font: int) -> str:
    described = f' aria-describedby="{escape(described_by)}"' if described_by else ""
    return (f'<svg class="chart {cls}" xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="{escape(label)}"{described} font-size="{font}">'
            + "".join(body) + "</svg>")


def _number(value: int) -> str:
    return f"{value:,}"


def column_chart(columns: list[Column], *, label: str, described_by: str | None = None,
                 width: int = 720, height: int = 240, font: int = FONT, colour: str = BAR,
                 current_colour: str = CURRENT) -> str:
    """Draw vertical columns over a gridded axis (arrivals per 15 minutes)."""
    small = round(font * SMALL / FONT)
    left, right, top, bottom = round(font * 2.7), 8, font + 7, font + 11
    plot_w, plot_h = width - left - right, height - top - bottom
    ceiling = nice_ceiling(max((c.value for c in columns), default=0))
    body = []
    for tick in ticks(ceiling):
        y = top + plot_h - plot_h * tick / ceiling
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                    f'stroke="{GRID}" stroke-width="1"/>')
        body.append(f'<text x="{left - 6}" y="{y + small / 3:.1f}" text-anchor="end" '
                    f'fill="{MUTED}" font-size="{small}">{_number(tick)}</text>')
    slot = plot_w / max(len(columns), 1)
    gap = min(4.0, slot * 0.2)
    for i, column in enumerate(columns):
        x = left + i * slot
        h = plot_h * column.value / ceiling
        fill = current_colour if column.current else colour
        title = f"<title>{escape(column.title)}</title>" if column.title else ""
        klass = ' class="current"' if column.current else ""
        if column.current:  # a band behind the present quarter, seen even when it is empty
            body.append(f'<rect class="now" x="{x:.1f}" y="{top}" width="{slot:.1f}" '
                        f'height="{plot_h}" fill="{NOW_BAND}"/>')
        body.append(f'<rect{klass} x="{x + gap / 2:.1f}" y="{top + plot_h - h:.1f}" '
                    f'width="{slot - gap:.1f}" height="{h:.1f}" fill="{fill}" '
                    f'data-value="{column.value}">{title}</rect>')
        if column.value and slot >= small:
            body.append(f'<text x="{x + slot / 2:.1f}" y="{top + plot_h - h - 5:.1f}" '
                        f'text-anchor="middle" fill="{INK}" font-size="{small}">'
                        f'{_number(column.value)}</text>')
        if column.tick:
            body.append(f'<line x1="{x:.1f}" y1="{top + plot_h}" x2="{x:.1f}" '
                        f'y2="{top + plot_h + 5}" stroke="{MUTED}"/>')
            body.append(f'<text x="{x:.1f}" y="{height - 5}" text-anchor="middle" '
                        f'fill="{INK}">{escape(column.label)}</text>')
    body.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" '
                f'y2="{top + plot_h}" stroke="{INK}" stroke-width="1.5"/>')
    return _svg(width, height, label, described_by, body, "column-chart", font)


def bar_rows(rows: list[Row], *, label: str, described_by: str | None = None,
             width: int = 380, row_height: int = 30, label_width: int = 120,
             font: int = FONT) -> str:
    """Draw one horizontal bar per row, or a stack when a row has several values; the total
    is written at the end of each bar. Every row's colours come with it (`Row.colours`)."""
    total_width = round(font * 3.2)
    plot_w = width - label_width - total_width
    top = 4
    height = top + row_height * max(len(rows), 1) + 4
    biggest = max((sum(r.values) for r in rows), default=0)
    scale = plot_w / biggest if biggest else 0
    body = []
    for i, row in enumerate(rows):
        y = top + i * row_height
        mid = y + row_height / 2 + font / 3
        body.append(f'<g class="row"><title>{escape(row.label)}: '
                    f'{_number(sum(row.values))}</title>')
        body.append(f'<text x="{label_width - 8}" y="{mid:.1f}" text-anchor="end" '
                    f'fill="{INK}">{escape(fit(row.label, label_width - 10, font))}</text>')
        x = float(label_width)
        for value, colour in zip(row.values, row.colours or (BAR,) * len(row.values)):
            if value <= 0:
                continue
            w = value * scale
            body.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" '
                        f'height="{row_height - 8}" fill="{colour}" stroke="#fff" '
                        f'stroke-width="1" data-value="{value}"/>')
            x += w
        body.append(f'<text x="{x + 6:.1f}" y="{mid:.1f}" fill="{INK}" font-weight="700">'
                    f'{_number(sum(row.values))}</text></g>')
    body.append(f'<line x1="{label_width}" y1="{top}" x2="{label_width}" y2="{height - 4}" '
                f'stroke="{INK}" stroke-width="1.5"/>')
    return _svg(width, height, label, described_by, body, "bar-rows", font)
