"""The map's pure helpers: which basemap, the compact needs form, days waiting across zones."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from dvc.maps.basemap import Basemap, choose_basemap
from dvc.maps.compact import COLUMNS, DayCounter, decode_needs, dumps, encode_needs, etag_of

GSI = "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png"


@pytest.mark.parametrize("url, archive, expected", [
    (GSI, None, Basemap(GSI, "GSI")),
    ("  ", None, None),
    ("", None, None),
    (None, None, None),
    ("/tiles/{z}/{x}/{y}.png", None, Basemap("/tiles/{z}/{x}/{y}.png", "GSI", local=True)),
    (GSI, "/maps/tiles/{z}/{x}/{y}.png", Basemap("/maps/tiles/{z}/{x}/{y}.png", "GSI", local=True)),
    ("", "/maps/tiles/{z}/{x}/{y}.png", Basemap("/maps/tiles/{z}/{x}/{y}.png", "GSI", local=True)),
])
def test_choose_basemap(url, archive, expected):
    assert choose_basemap(url, "GSI", archive) == expected


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize("tz, moment, today, days", [
    # Tokyo is UTC+9: 14:59 UTC is still the same local day, 15:00 UTC is the next.
    ("Asia/Tokyo", utc(2026, 11, 21, 14, 59), date(2026, 11, 22), 1),
    ("Asia/Tokyo", utc(2026, 11, 21, 15, 0), date(2026, 11, 22), 0),
    ("Asia/Tokyo", utc(2026, 11, 22, 3, 0), date(2026, 11, 22), 0),
    ("Asia/Tokyo", utc(2026, 12, 1, 0, 0), date(2026, 11, 22), 0),  # later than today
    ("Asia/Tokyo", utc(2026, 10, 1, 0, 0), date(2026, 11, 22), 52),
    ("Asia/Tokyo", utc(2020, 1, 1, 0, 0), date(2026, 11, 22), 2517),  # beyond the table
    # Across a daylight-saving change (New York, 1 November 2026).
    ("America/New_York", utc(2026, 10, 31, 3, 59), date(2026, 11, 2), 3),
    ("America/New_York", utc(2026, 10, 31, 4, 0), date(2026, 11, 2), 2),
    ("America/New_York", utc(2026, 11, 2, 4, 59), date(2026, 11, 2), 1),
    ("America/New_York", utc(2026, 11, 2, 5, 0), date(2026, 11, 2), 0),
])
def test_days_waiting_counts_local_days(tz, moment, today, days):
    assert DayCounter(today, tz).days_since(moment) == days
    assert max(0, (today - moment.astimezone(ZoneInfo(tz)).date()).days) == days


def test_encode_and_decode_the_compact_form():
    received = utc(2026, 11, 20, 1, 0)
    rows = [(7, 139.5512345678, 35.7012345678, "ready", "debris", "urgent", 2, 4, "北町", 1,
             True, 1, received),
            (9, None, None, "received", "other", "low", 1, 5, None, None, False, 0, received)]
    payload = encode_needs(rows, today=date(2026, 11, 22), tz="Asia/Tokyo",
                           statuses=("received", "ready"), categories=("debris", "other"),
                           priorities=("urgent", "low"))
    assert payload["columns"] == list(COLUMNS)
    assert payload["codes"]["district"] == ["北町", None]
    assert payload["rows"][0] == [7, 139.551235, 35.701235, 1, 0, 0, 2, 4, 0, 1, 1, 1, 2]
    needs = decode_needs(payload)
    assert needs[0]["status"] == "ready" and needs[0]["vehicle_needed"] is True
    assert needs[1] == {"id": 9, "lon": None, "lat": None, "status": "received",
                        "category": "other", "priority": "low", "people_min": 1,
                        "people_max": 5, "district": None, "site_id": None,
                        "vehicle_needed": False, "care": False, "days_waiting": 2}
    body = dumps(payload)
    assert "北町".encode() in body and b" " not in body
    assert etag_of(body) == etag_of(dumps(payload)) != etag_of(body + b" ")


def test_the_compact_form_is_small():
    received = utc(2026, 11, 20, 1, 0)
    rows = [(i, 133.6 + i / 1e5, 34.6 + i / 1e5, "ready", "debris", "high", 2, 6, "箭田", 1,
             False, 0, received - timedelta(hours=i % 300)) for i in range(1000, 21000)]
    body = dumps(encode_needs(rows, today=date(2026, 11, 22), tz="Asia/Tokyo",
                              statuses=("ready",), categories=("debris",), priorities=("high",)))
    assert len(body) / len(rows) < 60  # bytes a need, against ~350 in the GeoJSON
