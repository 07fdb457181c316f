"""The printable overview map (/o/<op>/map/overview) through HTTP, on a demo-like operation:
who may open it, what it shows, and the coordinator's map pointing at it and at its layers."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from dvc.extensions import db
from tests.integration.test_map import EXTERNAL_ASSET
from tests.integration.test_needs_api import need_body

CENTRE = (35.6836, 139.5595)
# Open needs placed in the fictional city's districts (lat, lon): 北町 gets 3, 中央 1.
NEED_POINTS = [(35.700, 139.550), (35.702, 139.552), (35.698, 139.548), (35.6836, 139.5595)]


@pytest.fixture
def city(app, client, operation, token_for):
    """The demo's fictional districts, service areas, four needs (one ready) and two shelters."""
    from dvc.districts.fictional import FICTIONAL_LABEL, fictional_city
    from dvc.districts.operations import store_districts
    from dvc.operations.operations import get_operation
    from dvc.shelters.operations import create_shelter, set_occupancy
    from dvc.sites.operations import get_site, update_site
    op_id, main, satellite = operation
    with app.app_context():
        op = get_operation(op_id)
        store_districts(op, fictional_city(*CENTRE), source=FICTIONAL_LABEL, actor="test")
        update_site(get_site(main), {"service_districts": ["中央", "南町", "東町", "西町", "川辺"]},
                    actor="test")
        update_site(get_site(satellite), {"service_districts": ["北町", "山手"],
                                          "daily_quota": 40}, actor="test")
        full = create_shelter(op, {"name": "北町福祉センター", "kind": "welfare", "capacity": 15,
                                   "care_types": ["wheelchair"], "status": "open",
                                   "lat": 35.6990, "lon": 139.5500}, actor="test")
        set_occupancy(full, {"wheelchair": 15}, actor="test")
        create_shelter(op, {"name": "中央小学校 体育館", "kind": "general", "capacity": 300,
                            "status": "not_open", "lat": 35.6800, "lon": 139.5700}, actor="test")
        db.session.commit()
    intake = token_for("needs_intake")
    ids = []
    for i, (lat, lon) in enumerate(NEED_POINTS):
        response = client.post(f"/api/v1/operations/{op_id}/needs", headers=intake,
                               json=need_body(lat=lat, lon=lon, phone=f"0422-11-{i:04d}"))
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    coord = token_for("coordinator")
    assert client.patch(f"/api/v1/needs/{ids[0]}", json={"status": "ready"},
                        headers=coord).status_code == 200
    return op_id


def overview(op_id) -> str:
    return f"/o/{op_id}/map/overview"


@pytest.mark.parametrize("role", ["coordinator", "viewer", "admin"])
def test_coordinators_and_viewers_open_the_overview(clients, city, role):
    response = clients[role].get(overview(city))
    assert response.status_code == 200
    assert "<svg" in response.text and "/static/css/overview.css" in response.text


@pytest.mark.parametrize("role", ["reception", "needs_intake", "equipment"])
def test_other_roles_are_refused(clients, city, role):
    response = clients[role].get(overview(city))
    assert response.status_code == 403
    assert "<svg" not in response.text


def test_anonymous_visitors_are_sent_to_sign_in(clients, city):
    response = clients[None].get(overview(city))
    assert response.status_code == 302 and "/login" in response.location


def test_the_overview_shows_districts_sites_and_shelters_with_their_figures(clients, city):
    html = clients["viewer"].get(overview(city) + "?lang=en").text
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))
    text = " ".join(svg.itertext())
    ns = "{http://www.w3.org/2000/svg}"
    districts = {p.get("data-district") for p in svg.iter(f"{ns}path") if p.get("data-district")}
    assert districts == {"中央", "北町", "南町", "東町", "西町", "川辺", "山手"}
    assert "北町" in text and "3 open · 1 waiting" in text and "1 open · 0 waiting" in text
    assert "本部（Open）" in text and "北サテライト（Open）" in text
    assert "Today 0 of 40" in text
    assert "15/15" in text and "0/300" in text
    areas = {p.get("data-site") for p in svg.iter(f"{ns}path") if p.get("data-site")}
    assert areas == {"本部", "北サテライト"}
    # The clock is frozen at 00:00 UTC: 09:00 in the centre's time zone.
    assert "As of 2026-11-22 09:00 JST" in text
    assert "As of 2026-11-22 09:00 JST" in html.split("<svg", 1)[0]
    # The table beside it: a row per district, totals, sites and shelters.
    table = html.split('class="list overview-districts"', 1)[1].split("</table>", 1)[0]
    row = re.search(r"北町</th>\s*<td class=\"num\">(\d+)</td>\s*<td class=\"num\">(\d+)</td>",
                    table)
    assert row and row.groups() == ("3", "1")
    assert re.search(r"Total</th>\s*<td class=\"num\">4</td>\s*<td class=\"num\">1</td>", table)
    assert "北町福祉センター" in html and "中央小学校 体育館" in html
    assert not EXTERNAL_ASSET.search(html)
    assert "<script" not in html.split("<main>", 1)[1].split("</main>", 1)[0]  # no JS needed


def test_the_overview_speaks_japanese(clients, city):
    html = clients["viewer"].get(overview(city) + "?lang=ja").text
    assert '<html lang="ja">' in html
    assert "地区" in html


def test_without_districts_the_overview_says_what_to_do(clients, operation):
    html = clients["coordinator"].get(overview(operation[0]) + "?lang=en").text
    assert "No districts yet" in html


def test_the_coordinators_map_links_the_overview_and_its_layers(clients, city):
    html = clients["coordinator"].get(f"/o/{city}/map").text
    assert f'href="/o/{city}/map/overview"' in html
    assert "/static/js/layers.js" in html and "/static/css/layers.css" in html
    config = re.search(r'id="layers-config">(.*?)</script>', html, re.S).group(1)
    for layer in ("districts", "sites", "shelters"):
        assert f'"/api/v1/operations/{city}/{layer}"' in config
    assert config.count('"state": "ok"') == 3


def test_a_layer_the_role_may_not_read_is_not_asked_for(app, clients, city, monkeypatch):
    from dvc.auth.matrix import ACCESS
    monkeypatch.setitem(ACCESS, "shelters_api.list_shelters", frozenset({"viewer"}))
    html = clients["coordinator"].get(f"/o/{city}/map").text
    config = re.search(r'id="layers-config">(.*?)</script>', html, re.S).group(1)
    assert '"shelters": {"state": "denied", "url": ""}' in config
    assert f"/api/v1/operations/{city}/shelters" not in config
    assert clients["coordinator"].get(f"/api/v1/operations/{city}/shelters").status_code == 403
