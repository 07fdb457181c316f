"""Needs through the HTTP API: intake, GeoJSON, lifecycle rules, duplicates, surveys, photos."""
from __future__ import annotations

import io

import pytest
from PIL import Image


def need_body(**overrides) -> dict:
    body = {"requester_name": "高橋 ハナ", "requester_kana": "たかはし はな",
            "phone": "0422-11-2233", "address": "架空市北町1-2-3", "lat": 35.70, "lon": 139.55,
            "district": "北町", "category": "mud_removal", "damage": "above_floor",
            "people_min": 3, "people_max": 6, "priority": "high", "elderly": True,
            "living_alone": True, "source": "phone"}
    body.update(overrides)
    return body


@pytest.fixture
def intake(token_for):
    return token_for("needs_intake")


@pytest.fixture
def post_need(client, operation, intake):
    def do(**overrides) -> dict:
        response = client.post(f"/api/v1/operations/{operation[0]}/needs",
                               json=need_body(**overrides), headers=intake)
        assert response.status_code == 201, response.get_json()
        return response.get_json()
    return do


def patch(client, need_id, headers, status, **extra):
    return client.patch(f"/api/v1/needs/{need_id}", json={"status": status, **extra},
                        headers=headers)


def test_intake_returns_201_with_status_received_and_serving_site(post_need, operation):
    need = post_need()
    assert need["status"] == "received" and need["number"] == f"N{need['id']:05d}"
    assert need["site_id"] == operation[2]  # the satellite is nearer to 35.70, 139.55


def test_geojson_is_filterable_and_carries_no_personal_data(client, operation, post_need, intake):
    post_need()
    post_need(requester_name="別 人", phone="0422-99-8877", category="debris", district="南町",
              lat=35.66, lon=139.57)
    url = f"/api/v1/operations/{operation[0]}/needs"
    everything = client.get(url, headers=intake)
    assert everything.get_json()["type"] == "FeatureCollection"
    assert len(everything.get_json()["features"]) == 2
    text = everything.get_data(as_text=True)
    for secret in ("高橋", "0422", "北町1-2-3"):
        assert secret not in text
    debris = client.get(url + "?category=debris", headers=intake).get_json()["features"]
    assert [f["properties"]["district"] for f in debris] == ["南町"]
    north = client.get(url + "?district=北町&status=received", headers=intake).get_json()
    assert len(north["features"]) == 1
    assert north["features"][0]["geometry"]["coordinates"] == [139.55, 35.70]
    bad = client.get(url + "?status=flying", headers=intake)
    assert bad.status_code == 422 and "status" in bad.get_json()["fields"]


def test_lifecycle_rules_and_409_on_impossible_transition(client, post_need, intake):
    need = post_need()
    assert patch(client, need["id"], intake, "survey").status_code == 200
    assert patch(client, need["id"], intake, "ready").status_code == 200
    impossible = patch(client, need["id"], intake, "received")
    assert impossible.status_code == 409 and impossible.get_json()["error"] == "invalid_transition"
    by_team_only = patch(client, need["id"], intake, "completed")
    assert by_team_only.status_code == 409
    no_group = patch(client, need["id"], intake, "referred")
    assert no_group.status_code == 422 and "referred_to" in no_group.get_json()["fields"]
    referred = patch(client, need["id"], intake, "referred", referred_to="重機NPO")
    assert referred.status_code == 200 and referred.get_json()["referred_to"] == "重機NPO"
    assert patch(client, need["id"], intake, "ready").status_code == 409  # referred is final


def test_every_status_change_is_an_event(app, client, post_need, intake):
    from dvc.core.events import Event
    from dvc.extensions import db
    need = post_need()
    patch(client, need["id"], intake, "on_hold", reason="留守")
    with app.app_context():
        events = db.session.scalars(db.select(Event).where(
            Event.subject_type == "need", Event.subject_id == need["id"])
            .order_by(Event.id)).all()
    assert [e.kind for e in events] == ["need.received", "need.status_changed"]
    assert events[1].payload == {"from": "received", "to": "on_hold", "reason": "留守"}


def test_duplicates_by_phone_name_or_nearby_point(client, operation, post_need, intake):
    first = post_need()
    url = f"/api/v1/operations/{operation[0]}/needs/duplicates"
    by_phone = client.get(url + "?phone=0422112233", headers=intake).get_json()
    assert by_phone[0]["id"] == first["id"] and by_phone[0]["reasons"] == ["phone"]
    by_kana = client.get(url, query_string={"kana": "タカハシ ハナ"}, headers=intake).get_json()
    assert by_kana[0]["reasons"] == ["name"]
    nearby = client.get(url + "?lat=35.7002&lon=139.5501", headers=intake).get_json()
    assert nearby[0]["reasons"] == ["nearby"]
    far = client.get(url + "?lat=35.72&lon=139.60", headers=intake).get_json()
    assert far == []


def test_repeat_call_and_merge_keep_one_record(client, post_need, intake):
    first = post_need()
    second = post_need(phone="090-5555-6666", requester_name="高橋 一郎",
                       description="息子から")
    called = client.post(f"/api/v1/needs/{first['id']}/calls", json={"note": "二階も浸水"},
                         headers=intake)
    assert "二階も浸水" in called.get_json()["description"]
    merged = client.post(f"/api/v1/needs/{second['id']}/merge", json={"keep_id": first["id"]},
                         headers=intake)
    assert merged.status_code == 200 and "息子から" in merged.get_json()["description"]
    gone = client.get(f"/api/v1/needs/{second['id']}", headers=intake).get_json()
    assert gone["status"] == "cancelled" and gone["merged_into_id"] == first["id"]


def test_survey_decides_and_dangerous_work_goes_to_specialists(client, post_need, intake):
    ok = post_need()
    survey = client.post(f"/api/v1/needs/{ok['id']}/surveys", headers=intake, json={
        "surveyor": "社協 佐藤", "headcount": 4, "hours": 3, "tools": "スコップ",
        "hazards": "", "decision": "ready"})
    assert survey.status_code == 201
    need = client.get(f"/api/v1/needs/{ok['id']}", headers=intake).get_json()
    assert need["status"] == "ready" and need["people_max"] == 4 and need["est_hours"] == 3
    roof = post_need(phone="090-7777-8888", requester_name="屋根 の家", lat=35.71)
    client.post(f"/api/v1/needs/{roof['id']}/surveys", headers=intake, json={
        "surveyor": "社協 佐藤", "headcount": 2, "hours": 6, "hazards": "屋根上作業",
        "decision": "specialist", "referred_to": "技術系NPO"})
    assert client.get(f"/api/v1/needs/{roof['id']}", headers=intake).get_json()["status"] == \
        "referred"


def test_intake_validation_names_each_field(client, operation, intake):
    response = client.post(f"/api/v1/operations/{operation[0]}/needs", headers=intake,
                           json=need_body(people_min=5, people_max=2, lat=10.0, lon=10.0,
                                          phone="123"))
    assert response.status_code == 422
    assert {"people_max", "lat", "phone"} <= set(response.get_json()["fields"])


def test_photos_are_type_and_size_checked_and_viewing_is_logged(app, client, post_need, intake):
    from dvc.core.events import Event
    from dvc.extensions import db
    need = post_need()
    png = io.BytesIO()
    Image.new("RGB", (40, 30), "brown").save(png, format="PNG")
    url = f"/api/v1/needs/{need['id']}/photos"
    ok = client.post(url, headers=intake, data={"photo": (io.BytesIO(png.getvalue()), "a.png")})
    assert ok.status_code == 201 and ok.get_json()["mimetype"] == "image/png"
    fake = client.post(url, headers=intake, data={"photo": (io.BytesIO(b"MZ\x90\x00"), "a.jpg")})
    assert fake.status_code == 422 and fake.get_json()["fields"] == {"photo": "type"}
    with client.get(f"{url}/{ok.get_json()['id']}", headers=intake) as photo:
        assert photo.status_code == 200 and photo.data == png.getvalue()
    with app.app_context():
        viewed = db.session.scalars(db.select(Event.actor).where(
            Event.kind == "need.viewed", Event.subject_id == need["id"])).all()
    assert viewed == ["user:api-needs_intake"]


def test_reception_cannot_see_survivors(client, operation, post_need, token_for):
    need = post_need()
    reception = token_for("reception")
    assert client.get(f"/api/v1/needs/{need['id']}", headers=reception).status_code == 403
    assert client.get(f"/api/v1/operations/{operation[0]}/needs",
                      headers=reception).status_code == 403
