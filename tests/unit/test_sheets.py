"""The dispatch sheet's pure parts: its QR text and its offline map."""
from __future__ import annotations

import re

import pytest

from dvc.teams.sheets import (MapPoint, SheetCodeError, read_sheet_code, sheet_code,
                              sheet_map_svg)


@pytest.mark.parametrize("text, team_id, checked", [
    (sheet_code("s", 1, 42), 42, True),
    (" " + sheet_code("s", 1, 42).lower() + "\n", 42, True),
    ("T0042", 42, False), ("t42", 42, False), ("42", 42, False),
])
def test_sheet_codes_and_typed_numbers_are_read(text, team_id, checked):
    ref = read_sheet_code("s", 1, text)
    assert (ref.team_id, ref.checked) == (team_id, checked)


@pytest.mark.parametrize("text, reason", [
    ("", "empty"), ("   ", "empty"), ("HELLO", "malformed"), ("T0", "malformed"),
    ("http://x/y", "malformed"),
])
def test_what_is_not_a_sheet_code_says_why(text, reason):
    with pytest.raises(SheetCodeError) as err:
        read_sheet_code("s", 1, text)
    assert err.value.reason == reason


def test_a_code_is_bound_to_its_operation_and_secret():
    code = sheet_code("s", 1, 42)
    assert re.fullmatch(r"DVCT000042[0-9A-Z]{4}", code)
    for secret, op in (("s", 2), ("other", 1)):
        with pytest.raises(SheetCodeError) as err:
            read_sheet_code(secret, op, code)
        assert err.value.reason == "checksum"


def test_map_draws_the_need_the_sites_a_scale_and_escapes_names():
    svg = sheet_map_svg(MapPoint("N00001", 35.70, 139.55, "need"),
                        [MapPoint("本部 <main>", 35.68, 139.56), MapPoint("北", 35.70, 139.551)])
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "本部 &lt;main&gt;" in svg and "<main>" not in svg
    assert svg.count("<rect") == 3  # the frame and two sites
    assert "90 m" in svg  # the straight line to the nearest site
    assert re.search(r">\d+(\.\d)? k?m</text></svg>$", svg)  # the scale bar closes the map


def test_map_of_a_lone_point_still_has_a_sensible_scale():
    svg = sheet_map_svg(MapPoint("N1", 35.0, 139.0, "need"), [])
    assert "<circle" in svg and re.search(r">(50|100|200) m<", svg)
