"""The dashboard's page, its panels and its JSON API through HTTP: who may see them, the JSON's
shape, the page's charts and their tables, wall mode, and no personal data anywhere."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

ALLOWED = {"admin", "viewer", "coordinator", "reception"}
PATHS = ["/o/{op}/dashboard", "/o/{op}/dashboard?wall=1", "/o/{op}/dashboard/panels",
         "/api/v1/operations/{op}/dashboard"]


@pytest.mark.parametrize("path", PATHS)
def test_roles_allowed_and_refused(clients, operation, path):
    path = path.format(op=operation[0])
    for role, client in clients.items():
        response = client.get(path)
        if role in ALLOWED:
            assert response.status_code == 200, (role, path, response.status_code)
        elif role is None:
            if path.startswith("/api/"):
                assert response.status_code == 401
                assert response.get_json()["error"] == "unauthorized"
            else:
                assert response.status_code == 302 and "/login" in response.location
        else:
            assert response.status_code == 403, (role, path, response.status_code)
            if path.startswith("/api/"):
                assert response.get_json()["error"] == "forbidden"


def test_an_unknown_operation_is_404(clients):
    assert clients["viewer"].get("/api/v1/operations/999/dashboard").status_code == 404
    assert clients["viewer"].get("/o/999/dashboard").status_code == 404


@pytest.fixture
def busy(client, operation, register, token_for):
    """Two volunteers checked in (one a group of 3), one of them in a team sent out, a need
    left waiting; returns the op id."""
    from tests.integration.test_needs_api import need_body
    op_id, main, _sat = operation
    desk, coord = token_for("reception"), token_for("coordinator")
    solo = register(phone="090-6000-0001", name="一人 太郎", kana="ひとり たろう")
    group = register(phone="090-6000-0002", name="団体 代表", kana="だんたい だいひょう",
                     group_name="テスト会", group_size=3)
    for body in (solo, group):
        r = client.post(f"/api/v1/operations/{op_id}/checkins", headers=desk,
                        json={"code": body["code"], "site_id": main, "health_ok": True})
        assert r.status_code == 201, r.get_json()
    need = client.post(f"/api/v1/operations/{op_id}/needs", headers=coord,
                       json=need_body(district="北町")).get_json()
    client.patch(f"/api/v1/needs/{need['id']}", json={"status": "ready"}, headers=coord)
    team = client.post(f"/api/v1/operations/{op_id}/teams", headers=coord, json={
        "need_id": need["id"], "member_ids": [solo["id"]], "leader_id": solo["id"]})
    assert team.status_code == 201, team.get_json()
    client.post(f"/api/v1/teams/{team.get_json()['id']}/dispatch", headers=coord,
                json={"transport": "walk"})
    client.post(f"/api/v1/operations/{op_id}/needs", headers=coord,
                json=need_body(phone="0422-99-0001", requester_name="二件目 花子", lat=35.69))
    return op_id


def test_the_json_shape(client, busy, token_for):
    body = client.get(f"/api/v1/operations/{busy}/dashboard",
                      headers=token_for("viewer")).get_json()
    assert set(body) == {"operation", "day", "as_of", "as_of_local", "timezone", "arrivals",
                         "queue", "teams", "needs", "equipment", "incidents"}
    assert body["operation"]["id"] == busy and body["timezone"] == "Asia/Tokyo"
    assert body["day"] == "2026-11-22" and body["as_of_local"] == "09:00"
    assert set(body["arrivals"]) == {"checkins", "people", "bucket_minutes", "first", "last",
                                     "buckets", "by_site"}
    assert (body["arrivals"]["checkins"], body["arrivals"]["people"]) == (2, 4)
    assert set(body["arrivals"]["buckets"][0]) == {"start", "checkins", "people"}
    assert body["queue"] == {"checkins": 1, "people": 3, "wait_p50_min": 0, "wait_max_min": 0,
                             "oldest": "09:00", "free_checkins": 1, "free_people": 3}
    assert body["teams"]["out"] == 1 and body["teams"]["people_out"] == 1
    assert set(body["needs"]) == {"total", "open", "received_today", "completed_today",
                                  "by_status", "by_district", "by_site"}
    assert body["needs"]["by_status"]["in_progress"] == 1
    assert body["needs"]["by_status"]["received"] == 1
    assert set(body["needs"]["by_district"][0]) == {"district", "open", "total", "by_status"}
    assert set(body["needs"]["by_site"][0]) == {"site_id", "name", "open", "total", "by_status"}
    assert set(body["equipment"]) == {"out", "out_total", "low"}
    assert set(body["incidents"]) == {"injuries", "near_misses", "injuries_by_severity"}


def test_no_personal_data_in_any_dashboard_output(client, busy, login):
    login("coordinator")
    outputs = [client.get(p.format(op=busy)).get_data(as_text=True) for p in PATHS]
    for text in outputs:
        for secret in ("一人 太郎", "団体 代表", "二件目", "090-6000", "09060000", "080-1111",
                       "山田", "テスト会"):
            assert secret not in text, secret


def test_the_page_draws_charts_with_tables_of_the_same_numbers(client, busy, login):
    login("viewer")
    html = client.get(f"/o/{busy}/dashboard").get_data(as_text=True)
    assert 'data-value="arrivals-people">4<' in html
    assert 'data-value="queue-people">3<' in html
    assert 'data-value="teams-out">1<' in html
    svgs = re.findall(r"<svg class=\"chart.*?</svg>", html, re.S)
    assert len(svgs) == 4
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.get("role") == "img" and root.get("aria-label")
        described = root.get("aria-describedby")
        assert described and f'id="{described}"' in html
    # The 09:00 column holds the 4 people of both check-ins, and the table says so.
    assert 'data-value="4"' in svgs[0]
    assert re.search(r'<th scope="row">09:00</th><td class="num">2</td><td class="num">4</td>',
                     html)
    # The page's script and stylesheet are ours; nothing comes from another host.
    assert "/static/js/dashboard.js" in html and "/static/css/dashboard.css" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert 'href="/o/%d/dashboard?wall=1"' % busy in html


def test_wall_mode_has_no_menu(client, busy, login):
    login("coordinator")
    normal = client.get(f"/o/{busy}/dashboard").get_data(as_text=True)
    wall = client.get(f"/o/{busy}/dashboard?wall=1").get_data(as_text=True)
    assert '<nav aria-label' in normal and '<nav aria-label' not in wall
    assert 'class="dashboard-page dashboard-wall"' in wall
    assert 'class="dashboard-page"' in normal


def test_the_panels_carry_a_digest_that_changes_only_with_the_panel(app, client, busy, login,
                                                                    register, operation,
                                                                    token_for):
    login("viewer")
    first = client.get(f"/o/{busy}/dashboard/panels").get_json()
    again = client.get(f"/o/{busy}/dashboard/panels").get_json()
    assert set(first["panels"]) == {"figures", "arrivals", "queue", "teams", "needs",
                                    "districts", "sites", "equipment", "incidents"}
    assert first == again
    page = client.get(f"/o/{busy}/dashboard").get_data(as_text=True)
    for name, panel in first["panels"].items():
        assert f'data-panel="{name}" data-digest="{panel["digest"]}"' in page
    body = register(phone="090-6000-0009", name="三人目", kana="さんにんめ")
    desk = app.test_client()  # the signed-in viewer's session would stand in for the token
    checked = desk.post(f"/api/v1/operations/{busy}/checkins", headers=token_for("reception"),
                        json={"code": body["code"], "site_id": operation[1], "health_ok": True})
    assert checked.status_code == 201, checked.get_json()
    after = client.get(f"/o/{busy}/dashboard/panels").get_json()["panels"]
    changed = {name for name in after if after[name]["digest"] != first["panels"][name]["digest"]}
    assert changed == {"figures", "arrivals", "queue"}
    assert 'data-value="arrivals-people">5<' in after["figures"]["html"]


def test_the_api_is_in_the_openapi_document(client):
    spec = client.get("/api/openapi.json").get_json()
    assert "/api/v1/operations/{op_id}/dashboard" in spec["paths"]
