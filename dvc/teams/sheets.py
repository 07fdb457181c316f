"""The dispatch sheet's pure parts (活動指示書): its QR text and its small offline map.

No Flask and no database here: the code and the SVG are computed from plain values, so they are
tested directly and drawn the same way on a laptop with no network.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from html import escape
from math import cos, radians

from dvc.core.codes import ALPHABET
from dvc.core.geo import distance_m

# Upper-case letters and digits only: QR alphanumeric mode, and every character survives a
# keyboard-wedge scanner on a Japanese (JIS) layout, where symbols move but these do not.
PREFIX = "DVCT"
CHECK_LEN = 4
_SHEET = re.compile(PREFIX + r"(\d{1,9})([0-9A-Z]{%d})" % CHECK_LEN)
_TYPED = re.compile(r"T?0*(\d{1,9})")


def _check(secret: str, operation_id: int, team_id: int) -> str:
    msg = f"team-sheet:{operation_id}:{team_id}".encode()
    value = int.from_bytes(hmac.new(secret.encode(), msg, hashlib.sha256).digest()[:3], "big")
    value >>= 24 - 5 * CHECK_LEN
    return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(CHECK_LEN)))


def sheet_code(secret: str, operation_id: int, team_id: int) -> str:
    """Return the text of the QR printed on a team's dispatch sheet."""
    return f"{PREFIX}{team_id:06d}{_check(secret, operation_id, team_id)}"


@dataclass(frozen=True)
class SheetRef:
    team_id: int
    checked: bool  # False when staff typed a bare team number instead of scanning


class SheetCodeError(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "empty", "malformed" or "checksum"


def read_sheet_code(secret: str, operation_id: int, text: str | None) -> SheetRef:
    """Read a scanned sheet code, or a team number typed by hand (T0012 or 12)."""
    cleaned = re.sub(r"[\s\-]", "", (text or "")).upper()
    if not cleaned:
        raise SheetCodeError("empty")
    scanned = _SHEET.fullmatch(cleaned)
    if scanned:
        team_id = int(scanned.group(1))
        if not hmac.compare_digest(_check(secret, operation_id, team_id), scanned.group(2)):
            raise SheetCodeError("checksum")
        return SheetRef(team_id, True)
    typed = _TYPED.fullmatch(cleaned)
    if typed and int(typed.group(1)) > 0:
        return SheetRef(int(typed.group(1)), False)
    raise SheetCodeError("malformed")


# --- the small map ---------------------------------------------------------------------------

@dataclass(frozen=True)
class MapPoint:
    label: str
    lat: float
    lon: float
    kind: str = "site"  # "need" or "site"


NICE_METRES = (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)
MIN_SPAN_M = 400.0


def _scale_bar(metres_per_px: float, width: int) -> int:
    target = metres_per_px * width / 4
    return min(NICE_METRES, key=lambda m: abs(m - target))


def _distance_text(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{round(metres / 10) * 10:.0f} m"


def sheet_map_svg(target: MapPoint, sites: list[MapPoint], *, width: int = 420,
                  height: int = 280, title: str = "") -> str:
    """Draw the need's point, the centre's sites and a scale as an inline SVG (no tiles)."""
    lat0, lon0 = target.lat, target.lon
    kx, ky = 111_320.0 * cos(radians(lat0)), 110_540.0

    def metres(p: MapPoint) -> tuple[float, float]:
        return (p.lon - lon0) * kx, (p.lat - lat0) * ky

    points = [(p, *metres(p)) for p in [target, *sites]]
    xs, ys = [x for _p, x, _y in points], [y for _p, _x, y in points]
    span_x = max(max(xs) - min(xs), MIN_SPAN_M)
    span_y = max(max(ys) - min(ys), MIN_SPAN_M)
    mid_x, mid_y = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    pad = 36
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)  # px per metre

    def px(x: float, y: float) -> tuple[float, float]:
        return width / 2 + (x - mid_x) * scale, height / 2 - (y - mid_y) * scale

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="sheet-map" viewBox="0 0 {width} '
           f'{height}" width="{width}" height="{height}" role="img" '
           f'aria-label="{escape(title or target.label)}">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff" stroke="#555"/>']
    nearest = min(sites, key=lambda s: distance_m(s.lat, s.lon, lat0, lon0), default=None)
    tx, ty = px(0, 0)
    if nearest is not None:
        sx, sy = px(*metres(nearest))
        dist = _distance_text(distance_m(nearest.lat, nearest.lon, lat0, lon0))
        out.append(f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{tx:.1f}" y2="{ty:.1f}" '
                   'stroke="#555" stroke-dasharray="6 4"/>')
        out.append(f'<text x="{(sx + tx) / 2:.1f}" y="{(sy + ty) / 2 - 6:.1f}" font-size="12" '
                   f'text-anchor="middle" fill="#333">{escape(dist)}</text>')
    for site in sites:
        sx, sy = px(*metres(site))
        out.append(f'<rect x="{sx - 6:.1f}" y="{sy - 6:.1f}" width="12" height="12" '
                   'fill="#0b5cad"/>')
        out.append(f'<text x="{sx + 9:.1f}" y="{sy + 4:.1f}" font-size="12" '
                   f'fill="#0b5cad">{escape(site.label)}</text>')
    out.append(f'<circle cx="{tx:.1f}" cy="{ty:.1f}" r="9" fill="#b3261e" stroke="#fff" '
               'stroke-width="2"/>')
    out.append(f'<text x="{tx + 12:.1f}" y="{ty - 8:.1f}" font-size="14" font-weight="700" '
               f'fill="#b3261e">{escape(target.label)}</text>')
    # North arrow and scale bar, so the paper can be read without a basemap.
    out.append(f'<path d="M{width - 22} 34 l8 -20 l8 20 l-8 -6 z" fill="#333"/>'
               f'<text x="{width - 14}" y="48" font-size="12" text-anchor="middle">N</text>')
    bar_m = _scale_bar(1 / scale, width)
    bar_px = bar_m * scale
    out.append(f'<path d="M12 {height - 14} h{bar_px:.1f}" stroke="#333" stroke-width="3"/>'
               f'<text x="12" y="{height - 20}" font-size="12">{escape(_distance_text(bar_m))}'
               '</text>')
    out.append("</svg>")
    return "".join(out)
