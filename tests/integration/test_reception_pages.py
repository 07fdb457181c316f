"""Reception pages: kiosk, roster, name tags, posters; CSRF on forms and JSON calls."""
from __future__ import annotations

import re

import pytest


@pytest.fixture
def desk(client, login):
    login("reception")
    return client


def _check_in(client, op_id, site_id, code, token):
    return client.post(f"/api/v1/operations/{op_id}/checkins", headers=token,
                       json={"code": code, "site_id": site_id, "health_ok": True})


def test_roster_counts_people_groups_new_repeat_and_prefecture(app, desk, clock, operation,
                                                              register, token_for):
    from datetime import timedelta
    op_id, main, sat = operation
    token = token_for("coordinator")
    repeat = register()["code"]
    _check_in(desk, op_id, main, repeat, token)
    clock.advance(timedelta(days=1))
    group = register(name="川崎 次郎", kana="かわさき じろう", phone="070-0000-1111",
                     prefecture="神奈川県", group_name="川崎の会", group_size=4)["code"]
    for code in (repeat, group):
        assert _check_in(desk, op_id, main, code, token).status_code == 201
    html = desk.get(f"/o/{op_id}/roster?lang=en").get_data(as_text=True)
    stats = dict(re.findall(r"<dt>([^<]+)</dt><dd[^>]*>([^<]+)</dd>", html))
    assert stats["People"] == "5"
    assert stats["Individuals"] == "1"
    assert stats["Groups"].startswith("1 (4")
    assert stats["New"] == "4" and stats["Repeat"] == "1"
    assert stats["From this prefecture"] == "1" and stats["From outside"] == "4"
    assert "川崎の会" in html


def test_roster_for_a_bad_date_says_so(desk, operation):
    response = desk.get(f"/o/{operation[0]}/roster?date=22-11-2026&lang=en")
    assert response.status_code == 422
    assert "YYYY-MM-DD" in response.get_data(as_text=True)


def test_nametags_print_name_group_date_and_number(desk, operation, register, token_for):
    op_id, main, _ = operation
    body = register(group_name="三鷹の会", group_size=3)
    checkin = _check_in(desk, op_id, main, body["code"], token_for("reception")).get_json()
    for fmt in ("a4", "roll"):
        html = desk.get(f"/o/{op_id}/nametags?format={fmt}&checkin={checkin['id']}") \
            .get_data(as_text=True)
        assert f"tags-{fmt}" in html
        assert "山田 太郎" in html and "三鷹の会" in html and "2026/11/22" in html
        assert body["number"] in html
        assert body["code"] not in html  # the tag shows the number, never the code


def test_kiosk_page_has_focused_scanner_input_and_site(desk, operation):
    html = desk.get(f"/o/{operation[0]}/reception?site_id={operation[2]}").get_data(as_text=True)
    assert 'id="scan-input"' in html and "autofocus" in html
    assert f'data-site="{operation[2]}"' in html
    assert "js/kiosk.js" in html


def test_kiosk_for_another_operations_site_is_404(desk, app, operation):
    from dvc.extensions import db
    from dvc.operations.operations import create_operation
    from dvc.sites.operations import create_site
    with app.app_context():
        other = create_operation("別の災害", "real", actor="t")
        site = create_site(other, "別本部", "main", lat=None, lon=None, actor="t")
        db.session.commit()
        site_id = site.id
    assert desk.get(f"/o/{operation[0]}/reception?site_id={site_id}").status_code == 404


def test_posters_carry_a_qr_of_their_url(desk, operation):
    op_id, main, _ = operation
    register_poster = desk.get(f"/o/{op_id}/posters/register").get_data(as_text=True)
    assert "<svg" in register_poster and "via=walk_in" in register_poster
    checkin_poster = desk.get(f"/o/{op_id}/sites/{main}/poster").get_data(as_text=True)
    assert "<svg" in checkin_poster and f"/o/{op_id}/s/{main}/" in checkin_poster


def test_csrf_is_required_on_forms_and_on_json_from_our_pages(make_app, create_user, operation):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    create_user("admin")
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', login_page).group(1)
    assert client.post("/login", data={"username": "admin-user",
                                       "password": "password-admin"}).status_code == 400
    assert client.post("/login", data={"username": "admin-user", "password": "password-admin",
                                       "csrf_token": token}).status_code == 302
    url = f"/api/v1/operations/{operation[0]}/sites"
    forged = client.post(url + "?lang=en", json={"name": "偽", "kind": "satellite"})
    assert forged.status_code == 400 and forged.get_json()["error"] == "csrf_failed"
    page = client.get(f"/o/{operation[0]}").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    ok = client.post(url, json={"name": "南サテライト", "kind": "satellite"},
                     headers={"X-CSRFToken": token})
    assert ok.status_code == 201


def test_admin_opens_operation_and_site_through_the_api(client, token_for):
    admin = token_for("admin")
    op = client.post("/api/v1/operations", json={"name": "架空町 地震", "kind": "drill"},
                     headers=admin)
    assert op.status_code == 201 and op.get_json()["kind"] == "drill"
    op_id = op.get_json()["id"]
    site = client.post(f"/api/v1/operations/{op_id}/sites", headers=admin,
                       json={"name": "本部", "kind": "main", "lat": 35.7, "lon": 139.5})
    assert site.status_code == 201
    second_main = client.post(f"/api/v1/operations/{op_id}/sites", headers=admin,
                              json={"name": "本部2", "kind": "main"})
    assert second_main.status_code == 422 and "kind" in second_main.get_json()["fields"]
    bad = client.post(f"/api/v1/operations/{op_id}/sites", headers=admin,
                      json={"name": "海", "kind": "satellite", "lat": 135, "lon": 500})
    assert bad.status_code == 422 and {"lat", "lon"} <= set(bad.get_json()["fields"])


def test_api_errors_are_json_never_html(client, token_for):
    headers = token_for("admin")
    assert client.get("/api/v1/operations/999/sites", headers=headers).get_json()["error"] == \
        "unknown_operation"
    assert client.get("/api/v1/nothing-here", headers=headers).get_json()["error"] == "not_found"
    broken = client.post("/api/v1/operations", data="{not json", headers={
        **headers, "Content-Type": "application/json"})
    assert broken.status_code in (400, 422) and broken.is_json


def test_openapi_document_lists_the_checkin_api(client):
    doc = client.get("/api/openapi.json").get_json()
    assert "/api/v1/operations/{op_id}/checkins" in doc["paths"]
    assert set(doc["paths"]["/api/v1/operations/{op_id}/checkins"]["post"]["responses"]) >= \
        {"200", "201"}
