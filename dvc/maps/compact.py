"""The map's compact form of the needs GeoJSON: the same properties, columnar and coded.

A FeatureCollection spends ~350 bytes a need on repeated keys; 20,000 needs make 7 MB. Here a
need is one short array (~45 bytes), and the repeated words (status, category, priority,
district) are indexes into lists sent once. Nothing personal is in it, as in the GeoJSON.
"""
from __future__ import annotations

import hashlib
import json
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

COLUMNS = ("id", "lon", "lat", "status", "category", "priority", "people_min", "people_max",
           "district", "site_id", "vehicle_needed", "care", "days_waiting")
# Columns sent as an index into `codes[column]`.
CODED = ("status", "category", "priority", "district")
# What each input row holds, in this order (care: any care flag set; received_dt: aware).
ROW = ("id", "lon", "lat", "status", "category", "priority", "people_min", "people_max",
       "district", "site_id", "vehicle_needed", "care", "received_dt")


def _coord(value: float | None) -> float | None:
    # Six decimals are ~10 cm: more than a house needs, and fewer bytes.
    return None if value is None else round(value, 6)


class DayCounter:
    """Count service days between a moment and `today` in a time zone, without converting
    every moment: the local midnights of the last `span` days are found once, then bisected."""

    def __init__(self, today: date, tz: str, span: int = 400):
        zone = ZoneInfo(tz)
        self.today, self.zone, self.span = today, zone, span
        # Ascending instants of local midnight (today - span + 1 ... today), in UTC: compared
        # with the database's UTC datetimes (same tzinfo), they need no offset lookups.
        self.midnights = [datetime.combine(today - timedelta(days=k), time(), zone)
                          .astimezone(timezone.utc) for k in range(span - 1, -1, -1)]
        # The same as the database holds them (naive UTC), for rows read without conversion.
        self.naive_midnights = [m.replace(tzinfo=None) for m in self.midnights]

    def days_since(self, moment: datetime) -> int:
        """Return today minus the moment's local date, in days (0 for today or later)."""
        passed = len(self.midnights) - bisect_right(self.midnights, moment)
        if passed < self.span:
            return passed
        return max(0, (self.today - moment.astimezone(self.zone).date()).days)


def encode_needs(rows: Iterable[Sequence], *, today: date, tz: str, statuses: Sequence[str],
                 categories: Sequence[str], priorities: Sequence[str]) -> dict:
    """Return the needs as {"columns", "codes", "rows"}: one array per need, in COLUMNS order.

    `rows` are tuples in ROW order; days_waiting counts service days since the need was
    received, in the centre's time zone `tz`.
    """
    days = DayCounter(today, tz)
    status_ix = {s: i for i, s in enumerate(statuses)}
    category_ix = {c: i for i, c in enumerate(categories)}
    priority_ix = {p: i for i, p in enumerate(priorities)}
    districts: dict[str | None, int] = {}
    out = []
    for (need_id, lon, lat, status, category, priority, people_min, people_max, district,
         site_id, vehicle, care, received_dt) in rows:
        if district not in districts:
            districts[district] = len(districts)
        waited = days.days_since(received_dt)
        out.append([need_id, _coord(lon), _coord(lat), status_ix[status], category_ix[category],
                    priority_ix[priority], people_min, people_max, districts[district], site_id,
                    int(bool(vehicle)), int(bool(care)), waited])
    return {"columns": list(COLUMNS),
            "codes": {"status": list(statuses), "category": list(categories),
                      "priority": list(priorities), "district": list(districts)},
            "rows": out}


# One need's row as JSON when it has a point and a site (nearly all): one C-level format per
# need instead of a list, two round() calls and json.dumps walking it. "%.6f" is round(x, 6)
# written out (both round the exact binary value correctly), so the JSON reads back the same.
_ROW_JSON = "[%d,%.6f,%.6f,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d]"


def needs_json(rows: Iterable[Sequence], *, today: date, tz: str, statuses: Sequence[str],
               categories: Sequence[str], priorities: Sequence[str]) -> bytes:
    """Return `dumps(encode_needs(...))` for the same arguments, in about half the time.

    The map's hot path: every change in the operation makes every screen ask for all the needs
    again. `received_dt` may also be naive UTC, as stored (read without the aware conversion).
    """
    days = DayCounter(today, tz)
    aware, naive = days.midnights, days.naive_midnights
    span = days.span
    status_ix = {s: i for i, s in enumerate(statuses)}
    category_ix = {c: i for i, c in enumerate(categories)}
    priority_ix = {p: i for i, p in enumerate(priorities)}
    districts: dict[str | None, int] = {}
    out = []
    row_json = _ROW_JSON
    for (need_id, lon, lat, status, category, priority, people_min, people_max, district,
         site_id, vehicle, care, received_dt) in rows:
        d = districts.get(district)
        if d is None:
            d = districts[district] = len(districts)
        waited = span - bisect_right(naive if received_dt.tzinfo is None else aware,
                                     received_dt)
        if waited >= span:
            moment = received_dt if received_dt.tzinfo else received_dt.replace(
                tzinfo=timezone.utc)
            waited = days.days_since(moment)
        values = (need_id, lon, lat, status_ix[status], category_ix[category],
                  priority_ix[priority], people_min, people_max, d, site_id,
                  1 if vehicle else 0, 1 if care else 0, waited)
        if lon is None or lat is None or site_id is None:
            out.append(json.dumps([_coord(v) if k in (1, 2) else v
                                   for k, v in enumerate(values)], separators=(",", ":")))
        else:
            out.append(row_json % values)
    head = dumps({"columns": list(COLUMNS),
                  "codes": {"status": list(statuses), "category": list(categories),
                            "priority": list(priorities), "district": list(districts)}})
    # The same key order as encode_needs: columns, codes, rows.
    return head[:-1] + b',"rows":[' + ",".join(out).encode() + b"]}"


def decode_needs(payload: dict) -> list[dict]:
    """Turn the compact form back into one dict per need (for other clients and tests)."""
    columns, codes = payload["columns"], payload["codes"]
    needs = []
    for row in payload["rows"]:
        need = dict(zip(columns, row))
        for column in CODED:
            need[column] = codes[column][need[column]]
        need["vehicle_needed"] = bool(need["vehicle_needed"])
        need["care"] = bool(need["care"])
        needs.append(need)
    return needs


def dumps(payload) -> bytes:
    """Serialise compactly: no spaces, UTF-8 (district names are Japanese)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def etag_of(body: bytes) -> str:
    """A strong validator for a response body."""
    return hashlib.blake2b(body, digest_size=12).hexdigest()
