"""The coordinator's map through HTTP: who may open it, that it loads nothing from another host,
the vendored Leaflet files, the script folium writes for it, and the compact needs API."""
from __future__ import annotations

import gzip
import json
import re

import pytest

from dvc.maps.compact import COLUMNS, decode_needs

EXTERNAL_ASSET = re.compile(
    r"""<(?:script|img|iframe|source|video|audio)\b[^>]*\bsrc=["']?(?:https?:)?//"""
    r"""|<link\b[^>]*\bhref=["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import""",
    re.IGNORECASE)
GSI = "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png"


def need_body(**overrides) -> dict:
    body = {"requester_name": "高橋 ハナ", "requester_kana": "たかはし はな",
            "phone": "0422-11-2233", "address": "架空市北町1-2-3", "lat": 35.70, "lon": 139.55,
            "district": "北町", "category": "mud_removal", "damage": "above_floor",
            "people_min": 3, "people_max": 6, "priority": "high", "elderly": True}
    body.update(overrides)
    return body


@pytest.fixture
def post_need(client, operation, token_for):
    intake = token_for("needs_intake")

    def do(**overrides) -> dict:
        response = client.post(f"/api/v1/operations/{operation[0]}/needs",
                               json=need_body(**overrides), headers=intake)
        assert response.status_code == 201, response.get_json()
        return response.get_json()
    return do


def page_path(operation) -> str:
    return f"/o/{operation[0]}/map"


# --- the page ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_the_map_page_renders_for_coordinators(client, login, operation, role):
    login(role)
    response = client.get(page_path(operation))
    assert response.status_code == 200
    html = response.text
    assert 'class="folium-map coordmap-map" id="map_coordinator"' in html
    assert f'/o/{operation[0]}/map/map.js' in html and "/static/js/coordmap.js" in html
    assert 'id="map-filters"' in html and 'id="need-panel"' in html
    # Every status can be filtered, and the nav links to the map for a coordinator.
    for status in ("received", "ready", "in_progress", "completed", "cancelled"):
        assert f'name="status" value="{status}"' in html
    assert f'href="/o/{operation[0]}/map"' in html


@pytest.mark.parametrize("role", ["reception", "viewer", "needs_intake", "equipment"])
def test_the_map_is_denied_to_other_roles(client, login, operation, role):
    login(role)
    assert client.get(page_path(operation)).status_code == 403
    assert client.get(page_path(operation) + "/map.js").status_code == 403
    assert f'href="/o/{operation[0]}/map"' not in client.get(f"/o/{operation[0]}").text


def test_the_map_sends_anonymous_visitors_to_sign_in(client, operation):
    for path in (page_path(operation), page_path(operation) + "/map.js"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location


def test_the_page_loads_no_asset_from_another_host(client, login, operation):
    login("coordinator")
    html = client.get(page_path(operation)).text
    assert not EXTERNAL_ASSET.search(html), EXTERNAL_ASSET.search(html).group(0)
    # folium's CDN defaults are gone: no jQuery, Bootstrap, Font Awesome or awesome-markers.
    for cdn in ("cdn.jsdelivr", "cdnjs", "code.jquery", "bootstrapcdn", "unpkg"):
        assert cdn not in html
    assets = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/") for a in assets), assets
    for wanted in ("/static/vendor/leaflet/1.9.3/leaflet.js",
                   "/static/vendor/leaflet/1.9.3/leaflet.css"):
        assert wanted in assets
    # The needs are clustered by coordmap.js on its own canvas: no markercluster to load.
    assert not any("markercluster" in a.lower() for a in assets), assets
    # The needs are asked for before any script loads (a preload the page's script picks up).
    needs_url = f"/api/v1/operations/{operation[0]}/map/needs"
    assert f'<link rel="preload" href="{needs_url}" as="fetch" crossorigin>' in html
    assert html.index('rel="preload"') < html.index("<script")
    # ... and every one of them is served by the app.
    for path in assets:
        response = client.get(path)
        response.close()  # static files are streamed
        assert response.status_code == 200, path


def test_the_map_script_holds_the_basemap_and_nothing_else_from_outside(client, login, operation):
    login("coordinator")
    script = client.get(page_path(operation) + "/map.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    js = script.text
    assert "L.map(" in js and "window.dvcMap" in js and "markerCluster" not in js
    assert "streetZoom: 17" in js
    assert "L.control.scale(" in js and '"preferCanvas": true' in js
    assert json.dumps(GSI) in js  # the GSI standard map (地理院タイル) by default
    urls = set(re.findall(r"https?://[^\s\"'\\]+", js))
    assert urls <= {GSI, "https://maps.gsi.go.jp/development/ichiran.html"}, urls
    # The page centres on the main site.
    assert "center: [35.68, 139.56]" in js


def test_the_tile_url_is_configurable_and_may_be_empty(make_app, operation, create_user):
    # Note: `operation` built its rows through the default app; these apps share the database.
    for tiles, expect in (("", None), ("/tiles/{z}/{x}/{y}.png", "/tiles/{z}/{x}/{y}.png"),
                          ("https://tiles.example.jp/{z}/{x}/{y}.png",
                           "https://tiles.example.jp/{z}/{x}/{y}.png")):
        app = make_app(MAP_TILE_URL=tiles, MAP_TILE_ATTRIBUTION="© 例")
        client = app.test_client()
        if expect is None:
            create_user("coordinator", "map-coordinator")
        client.post("/login", data={"username": "map-coordinator",
                                    "password": "password-coordinator"})
        js = client.get(page_path(operation) + "/map.js").text
        page = client.get(page_path(operation)).text
        if expect is None:
            assert "L.tileLayer" not in js and "tiles: null" in js
            assert 'data-basemap="no"' in page
        else:
            assert json.dumps(expect) in js and json.dumps("© 例") in js
            assert 'data-basemap="yes"' in page


def test_a_missing_tile_archive_leaves_the_online_basemap(make_app, operation, create_user):
    """A tile archive that is not there (tests/integration/test_tiles.py serves real ones)
    changes nothing: the URL setting rules."""
    app = make_app(MAP_TILE_ARCHIVE="/srv/tiles/japan.mbtiles")
    create_user("coordinator", "map-coordinator")
    client = app.test_client()
    client.post("/login", data={"username": "map-coordinator",
                                "password": "password-coordinator"})
    assert json.dumps(GSI) in client.get(page_path(operation) + "/map.js").text


def test_the_low_stock_box_asks_the_equipment_api_only_where_it_exists(client, login, operation,
                                                                     app):
    login("coordinator")
    html = client.get(page_path(operation)).text
    exists = any(r.rule == "/api/v1/operations/<int:op_id>/equipment/low"
                 for r in app.url_map.iter_rules())
    wanted = f'data-low-stock="/api/v1/operations/{operation[0]}/equipment/low"'
    assert (wanted in html) == exists
    assert 'id="low-stock" class="low-stock" hidden' in html


# --- vendored assets -----------------------------------------------------------------------

def test_vendor_assets_are_served_from_the_python_packages(client):
    js = client.get("/static/vendor/leaflet/1.9.3/leaflet.js")
    assert js.status_code == 200 and "javascript" in js.content_type
    assert b"Leaflet" in js.data[:400]
    assert "immutable" in js.headers["Cache-Control"] and js.headers["ETag"]
    css = client.get("/static/vendor/leaflet-markercluster/1.4.1/MarkerCluster.Default.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    png = client.get("/static/vendor/leaflet/1.9.3/images/marker-icon.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_vendor_assets_are_compressed_and_revalidated(client):
    path = "/static/vendor/leaflet-markercluster/1.4.1/leaflet.markercluster.js"
    plain = client.get(path)
    zipped = client.get(path, headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data) / 3
    again = client.get(path, headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304 and not again.data


@pytest.mark.parametrize("path", [
    "/static/vendor/leaflet/1.9.3/../../leaflet_markercluster/data/MarkerCluster.css",
    "/static/vendor/leaflet/1.9.3/%2e%2e/__init__.py",
    "/static/vendor/leaflet/1.9.3/nothing.js",
    "/static/vendor/leaflet/0.7.0/leaflet.js",
    "/static/vendor/jquery/3.7.1/jquery.js",
])
def test_vendor_assets_refuse_other_files(client, path):
    assert client.get(path).status_code == 404


def test_our_own_static_files_are_still_served(client):
    for path in ("/static/js/coordmap.js", "/static/css/coordmap.css"):
        response = client.get(path)
        response.close()
        assert response.status_code == 200, path


# --- the compact needs API -----------------------------------------------------------------

def api_path(operation, query: str = "") -> str:
    return f"/api/v1/operations/{operation[0]}/map/needs{query}"


def test_the_compact_api_has_the_geojson_properties_without_personal_data(
        client, operation, post_need, token_for):
    coordinator = token_for("coordinator")
    a = post_need()
    b = post_need(phone="0422-99-8877", requester_name="佐藤 一", requester_kana="さとう はじめ",
                  lat=None, lon=None, district=None, category="debris", priority="urgent",
                  elderly=False, vehicle_needed=True)
    response = client.get(api_path(operation), headers=coordinator)
    assert response.status_code == 200
    payload = response.get_json()
    assert payload["columns"] == list(COLUMNS)
    text = response.text
    for personal in ("高橋", "たかはし", "0422", "架空市", "佐藤"):
        assert personal not in text
    needs = {n["id"]: n for n in decode_needs(payload)}
    assert needs[a["id"]] == {
        "id": a["id"], "lon": 139.55, "lat": 35.7, "status": "received",
        "category": "mud_removal", "priority": "high", "people_min": 3, "people_max": 6,
        "district": "北町", "site_id": a["site_id"], "vehicle_needed": False, "care": True,
        "days_waiting": 0}
    assert needs[b["id"]]["lat"] is None and needs[b["id"]]["district"] is None
    assert needs[b["id"]]["vehicle_needed"] is True and needs[b["id"]]["care"] is False
    # The same needs and values as the GeoJSON the compact form stands for.
    geo = client.get(f"/api/v1/operations/{operation[0]}/needs", headers=coordinator).get_json()
    for feature in geo["features"]:
        mine = needs[feature["id"]]
        for key in ("status", "category", "priority", "people_min", "people_max", "district",
                    "site_id", "vehicle_needed", "care", "days_waiting"):
            assert mine[key] == feature["properties"][key], key


def test_the_compact_api_filters_like_the_geojson(client, operation, post_need, token_for):
    coordinator = token_for("coordinator")
    post_need()
    post_need(phone="0422-99-0001", requester_name="別 人", requester_kana="べつ ひと",
              category="debris", district="南町", lat=35.60)
    def ids(query):
        return [n["category"] for n in decode_needs(
            client.get(api_path(operation, query), headers=coordinator).get_json())]
    assert sorted(ids("")) == ["debris", "mud_removal"]
    assert ids("?category=debris") == ["debris"]
    assert ids("?district=北町") == ["mud_removal"]
    assert ids("?status=ready,completed") == []
    assert client.get(api_path(operation, "?status=nonsense"),
                      headers=coordinator).status_code == 422


def test_the_compact_api_is_gzipped_and_answers_304_when_unchanged(client, operation, post_need,
                                                                   token_for):
    coordinator = token_for("coordinator")
    for i in range(30):
        post_need(phone=f"0422-10-{i:04d}", requester_name=f"人 {i}", requester_kana=f"ひと {i}",
                  lat=35.6 + i / 1000)
    plain = client.get(api_path(operation), headers=coordinator)
    zipped = client.get(api_path(operation), headers={**coordinator, "Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.data)) == plain.get_json()
    etag = plain.headers["ETag"]
    assert zipped.headers["ETag"] == etag and "no-cache" in plain.headers["Cache-Control"]
    same = client.get(api_path(operation), headers={**coordinator, "If-None-Match": etag})
    assert same.status_code == 304 and not same.data
    post_need(phone="0422-20-0000", requester_name="新 人", requester_kana="しん じん")
    changed = client.get(api_path(operation), headers={**coordinator, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


@pytest.mark.parametrize("role, status", [("coordinator", 200), ("needs_intake", 200),
                                          ("admin", 200), ("reception", 403), ("viewer", 403),
                                          (None, 401)])
def test_the_compact_api_is_for_the_roles_that_see_needs(client, operation, token_for, role,
                                                        status):
    headers = token_for(role) if role else {}
    assert client.get(api_path(operation), headers=headers).status_code == status


def test_the_compact_api_is_in_the_openapi_document(client):
    spec = client.get("/api/openapi.json").get_json()
    assert "/api/v1/operations/{op_id}/map/needs" in spec["paths"]


def test_the_compact_api_follows_every_change_and_the_clock(client, operation, post_need,
                                                           token_for, clock):
    """Answers are kept while nothing changes; a status change, a survey or a new day shows."""
    from datetime import timedelta
    coordinator = token_for("coordinator")
    need = post_need()

    def mine():
        return decode_needs(client.get(api_path(operation), headers=coordinator).get_json())[0]

    assert mine()["status"] == "received" and mine()["days_waiting"] == 0
    response = client.post(f"/api/v1/needs/{need['id']}/surveys", headers=coordinator, json={
        "surveyor": "調査 太郎", "headcount": 8, "hours": 3, "decision": "ready"})
    assert response.status_code == 201, response.get_json()
    assert (mine()["status"], mine()["people_max"]) == ("ready", 8)
    assert client.patch(f"/api/v1/needs/{need['id']}", json={"status": "on_hold"},
                        headers=coordinator).status_code == 200
    assert mine()["status"] == "on_hold"
    # Looking at the need (a logged view) changes nothing on the map; the next day does.
    assert client.get(f"/api/v1/needs/{need['id']}", headers=coordinator).status_code == 200
    assert mine()["days_waiting"] == 0
    clock.advance(timedelta(days=2))
    assert mine()["days_waiting"] == 2


def test_the_fast_encoding_is_the_compact_form_to_the_last_digit():
    """needs_json (the API's hot path) reads back exactly as encode_needs: points rounded to
    six decimals, needs without a point or a site, received times aware or naive UTC (as
    stored), long ago or later than today, in a zone with daylight saving."""
    from datetime import date, datetime, timedelta, timezone

    from dvc.maps.compact import dumps, encode_needs, needs_json
    received = datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc)
    rows = [(7, 139.5512345678, 35.7012345678, "ready", "debris", "urgent", 2, 4, "北町", 1,
             True, 1, received),
            (8, 139.0000005, -0.0000004, "received", "other", "low", 1, 5, "南町", 2, 0,
             False, received.replace(tzinfo=None) - timedelta(hours=30)),
            (9, None, None, "received", "other", "low", 1, 5, None, None, False, 0, received),
            (10, 139.55, 35.7, "ready", "other", "urgent", 1, 1, "北町", None, 1, True,
             datetime(2019, 3, 10, 7, 0)),
            (11, 139.123456500001, 35.1234565, "ready", "debris", "low", 3, 9, None, 1,
             False, 0, datetime(2027, 1, 1, tzinfo=timezone.utc))]
    rows += [(100 + i, 133.6 + i / 7e5, 34.6 - i / 3e5, "ready", "debris", "urgent", 2, 6,
              "箭田", 1, i % 2, i % 3 == 0, received - timedelta(hours=7 * i))
             for i in range(500)]
    aware = [r[:12] + (r[12] if r[12].tzinfo else r[12].replace(tzinfo=timezone.utc),)
             for r in rows]
    for tz in ("Asia/Tokyo", "America/New_York"):
        args = dict(today=date(2026, 11, 22), tz=tz, statuses=("received", "ready"),
                    categories=("debris", "other"), priorities=("urgent", "low"))
        fast = needs_json(rows, **args)
        assert json.loads(fast) == json.loads(dumps(encode_needs(aware, **args)))
        assert fast.startswith(b'{"columns":') and b" " not in fast


def test_the_map_is_built_once_for_its_settings(client, login, operation, monkeypatch):
    """folium builds the same map for the same settings: the page and map.js reuse it, and a
    new tile URL builds it again."""
    from dvc.maps import views
    built = []
    original = views.build_map
    monkeypatch.setattr(views, "build_map", lambda **kw: built.append(kw) or original(**kw))
    login("coordinator")
    for _ in range(2):
        assert client.get(page_path(operation)).status_code == 200
        assert "L.map(" in client.get(page_path(operation) + "/map.js").text
    assert len(built) == 1
    client.application.config["MAP_TILE_URL"] = "/tiles/{z}/{x}/{y}.png"
    assert "/tiles/{z}/{x}/{y}.png" in client.get(page_path(operation) + "/map.js").text
    assert len(built) == 2
