"""Districts, satellites and welfare shelters through the HTTP API, on SQLite and PostgreSQL:
needs are placed in districts and at serving sites when created or moved, satellites open,
pause and close, a full quota refuses check-in and points to tomorrow, occupancy rules hold,
and the public recruitment figures carry no personal data."""
from __future__ import annotations

import json

import pytest

from tests.integration.test_needs_api import need_body

# Two squares side by side (west: 西, east: 東) around 35.70N 139.55E, in WGS84.
WEST = [[139.50, 35.68], [139.55, 35.68], [139.55, 35.72], [139.50, 35.72], [139.50, 35.68]]
EAST = [[139.55, 35.68], [139.60, 35.68], [139.60, 35.72], [139.55, 35.72], [139.55, 35.68]]


def geojson(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"chiku": name},
         "geometry": {"type": "Polygon", "coordinates": [ring]}} for name, ring in features]}
    ).encode()


@pytest.fixture
def coord(token_for):
    return token_for("coordinator")


@pytest.fixture
def admin(token_for):
    return token_for("admin")


def upload(client, op_id, headers, data: bytes, name_field="chiku", filename="chiku.geojson"):
    import io
    return client.post(f"/api/v1/operations/{op_id}/districts/import", headers=headers,
                       data={"file": (io.BytesIO(data), filename), "name_field": name_field},
                       content_type="multipart/form-data")


@pytest.fixture
def districts(client, operation, admin):
    response = upload(client, operation[0], admin, geojson(("西", WEST), ("東", EAST)))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["names"] == ["西", "東"]
    return operation


def post_need(client, op_id, headers, **overrides):
    response = client.post(f"/api/v1/operations/{op_id}/needs", headers=headers,
                           json=need_body(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_needs_are_placed_in_districts_when_created_and_moved(client, districts, coord):
    op_id, main, satellite = districts
    west = post_need(client, op_id, coord, lat=35.70, lon=139.52, district="手書き")
    assert west["district"] == "西" and west["place_check"] is False
    outside = post_need(client, op_id, coord, lat=35.75, lon=139.52, phone="090-1111-0001")
    assert outside["place_check"] is True and outside["district"] != "西"
    moved = client.put(f"/api/v1/needs/{outside['id']}/point", headers=coord,
                       json={"lat": 35.70, "lon": 139.58})
    assert moved.status_code == 200
    assert moved.get_json()["district"] == "東" and moved.get_json()["place_check"] is False
    sea = client.put(f"/api/v1/needs/{outside['id']}/point", headers=coord,
                     json={"lat": 10.0, "lon": 100.0})
    assert sea.status_code == 422 and "lat" in sea.get_json()["fields"]
    layer = client.get(f"/api/v1/operations/{op_id}/districts", headers=coord).get_json()
    counts = {f["properties"]["name"]: f["properties"]["open_needs"] for f in layer["features"]}
    assert counts == {"西": 1, "東": 1} and layer["outside"] == 0


def test_a_service_area_decides_the_serving_site_and_follows_changes(client, districts, coord,
                                                                      admin):
    op_id, main, satellite = districts
    # The east need is nearer the satellite (35.70, 139.55) than the main centre (35.68, 139.56)
    # only by a little; giving the main centre 東 as its area makes it the server.
    need = post_need(client, op_id, coord, lat=35.705, lon=139.58)
    assert need["site_id"] == satellite
    area = client.patch(f"/api/v1/sites/{main}", headers=coord,
                        json={"service_districts": ["東"]})
    assert area.status_code == 200, area.get_json()
    assert client.get(f"/api/v1/needs/{need['id']}", headers=coord).get_json()["site_id"] == main
    unknown = client.patch(f"/api/v1/sites/{main}", headers=coord,
                           json={"service_districts": ["存在しない町"]})
    assert unknown.status_code == 422 and "service_districts" in unknown.get_json()["fields"]
    # Pausing the main centre sends its needs to the satellite; reopening brings them back.
    paused = client.patch(f"/api/v1/sites/{main}", headers=coord, json={"status": "paused"})
    assert paused.get_json()["properties"]["status"] == "paused"
    assert paused.get_json()["properties"]["paused_dt"] is not None
    assert client.get(f"/api/v1/needs/{need['id']}", headers=coord).get_json()["site_id"] == \
        satellite
    client.patch(f"/api/v1/sites/{main}", headers=coord, json={"status": "open"})
    assert client.get(f"/api/v1/needs/{need['id']}", headers=coord).get_json()["site_id"] == main
    closing_main = client.patch(f"/api/v1/sites/{main}", headers=coord, json={"status": "closed"})
    assert closing_main.status_code == 409


def test_a_broken_district_file_changes_nothing(client, districts, admin):
    op_id = districts[0]
    missing = upload(client, op_id, admin, geojson(("北", WEST)), name_field="name")
    assert missing.status_code == 422
    body = missing.get_json()
    assert "name_field" in body["fields"] and "chiku" in body["message"]
    garbage = upload(client, op_id, admin, b"{not json", filename="x.geojson")
    assert garbage.status_code == 422 and "file" in garbage.get_json()["fields"]
    layer = client.get(f"/api/v1/operations/{op_id}/districts", headers=admin).get_json()
    assert sorted(f["properties"]["name"] for f in layer["features"]) == ["東", "西"]
    ja = upload(client, op_id, {**admin, "Accept-Language": "ja"}, geojson(("北", WEST)),
                name_field="name")
    assert "項目" in ja.get_json()["message"]


def test_the_quota_refuses_check_in_and_offers_tomorrow(client, operation, register, coord,
                                                        token_for):
    op_id, main, satellite = operation
    client.patch(f"/api/v1/sites/{satellite}", headers=coord, json={"daily_quota": 1})
    desk = token_for("reception")
    codes = [register(phone=f"090-6100-000{i}", name=f"定員 {i}", kana=f"ていいん {i}")["code"]
             for i in range(2)]
    first = client.post(f"/api/v1/operations/{op_id}/checkins", headers=desk,
                        json={"code": codes[0], "site_id": satellite, "health_ok": True})
    assert first.status_code == 201
    second = client.post(f"/api/v1/operations/{op_id}/checkins", headers=desk,
                         json={"code": codes[1], "site_id": satellite, "health_ok": True})
    assert second.status_code == 409
    body = second.get_json()
    assert body["error"] == "site_full" and body["next_day"] == "2026-11-23"
    assert "11/23" in body["message"]
    # The main centre still takes them.
    assert client.post(f"/api/v1/operations/{op_id}/checkins", headers=desk,
                       json={"code": codes[1], "site_id": main, "health_ok": True}
                       ).status_code == 201
    public = client.get(f"/api/v1/operations/{op_id}/recruitment").get_json()
    sites = {s["site_id"]: s for s in public["sites"]}
    assert sites[satellite]["status"] == "full" and sites[satellite]["today"] == 1
    text = json.dumps(public, ensure_ascii=False)
    assert "定員" not in text and "090-6100" not in text


def test_a_shuttle_moves_free_volunteers_to_an_open_satellite(client, operation, register,
                                                              coord, token_for):
    op_id, main, satellite = operation
    desk = token_for("reception")
    ids = []
    for i in range(2):
        body = register(phone=f"090-6200-000{i}", name=f"送迎 {i}", kana=f"そうげい {i}")
        client.post(f"/api/v1/operations/{op_id}/checkins", headers=desk,
                    json={"code": body["code"], "site_id": main, "health_ok": True})
        ids.append(body["id"])
    moved = client.post(f"/api/v1/sites/{satellite}/transfer", headers=coord,
                        json={"volunteer_ids": ids})
    assert moved.status_code == 200 and sorted(moved.get_json()["moved"]) == sorted(ids)
    sites = client.get(f"/api/v1/operations/{op_id}/sites", headers=coord).get_json()
    today = {f["id"]: f["properties"]["today_people"] for f in sites["features"]}
    assert today == {main: 0, satellite: 2}
    client.patch(f"/api/v1/sites/{main}", headers=coord, json={"status": "paused"})
    back = client.post(f"/api/v1/sites/{main}/transfer", headers=coord,
                       json={"volunteer_ids": ids})
    assert back.status_code == 409 and back.get_json()["error"] == "site_not_open"
    stranger = register(phone="090-6200-0099", name="未受付", kana="みうけつけ")["id"]
    absent = client.post(f"/api/v1/sites/{satellite}/transfer", headers=coord,
                         json={"volunteer_ids": [stranger]})
    assert absent.status_code == 409 and absent.get_json()["volunteer_ids"] == [stranger]


def shelter_body(**overrides):
    body = {"name": "さくら苑", "kind": "welfare", "lat": 35.70, "lon": 139.52, "capacity": 10,
            "care_types": ["frail_elderly", "wheelchair"], "status": "open"}
    body.update(overrides)
    return body


def test_shelter_occupancy_rules(client, districts, coord):
    op_id = districts[0]
    created = client.post(f"/api/v1/operations/{op_id}/shelters", headers=coord,
                          json=shelter_body())
    assert created.status_code == 201, created.get_json()
    shelter = created.get_json()
    assert shelter["properties"]["district"] == "西"
    url = f"/api/v1/shelters/{shelter['id']}/occupancy"
    half = client.post(url, headers=coord, json={"counts": {"frail_elderly": 6}}).get_json()
    assert half["properties"]["free"] == 4 and half["properties"]["status"] == "open"
    negative = client.post(url, headers=coord, json={"counts": {"wheelchair": -1}})
    assert negative.status_code == 422 and "wheelchair" in negative.get_json()["fields"]
    full = client.post(url, headers=coord, json={"counts": {"wheelchair": 4}}).get_json()
    assert full["properties"]["status"] == "full" and full["properties"]["free"] == 0
    over = client.post(url, headers=coord, json={"counts": {"wheelchair": 6}}).get_json()
    assert over["properties"]["warnings"] == ["over_capacity"]
    assert over["properties"]["occupied"] == 12 and over["properties"]["free"] == 0
    room = client.post(url, headers=coord, json={"counts": {"wheelchair": 0}}).get_json()
    assert room["properties"]["status"] == "open" and room["properties"]["occupancy"] == {
        "frail_elderly": 6}
    for wrong, field in (({"capacity": -3}, "capacity"), ({"lat": 0.0, "lon": 0.0}, "lat")):
        bad = client.post(f"/api/v1/operations/{op_id}/shelters", headers=coord,
                          json=shelter_body(**wrong))
        assert bad.status_code == 422 and field in bad.get_json()["fields"]


def test_where_is_there_room_and_shelter_requests(client, districts, coord):
    op_id = districts[0]
    near = client.post(f"/api/v1/operations/{op_id}/shelters", headers=coord,
                       json=shelter_body(name="近い", lat=35.701, lon=139.521)).get_json()
    far = client.post(f"/api/v1/operations/{op_id}/shelters", headers=coord,
                      json=shelter_body(name="遠い", lat=35.71, lon=139.59)).get_json()
    client.post(f"/api/v1/operations/{op_id}/shelters", headers=coord,
                json=shelter_body(name="一般", kind="general", lat=35.7005, lon=139.5205))
    client.post(f"/api/v1/operations/{op_id}/shelters", headers=coord,
                json=shelter_body(name="未開設", status="not_open", lat=35.7002, lon=139.5202))
    need = post_need(client, op_id, coord, lat=35.70, lon=139.52)
    rooms = client.get(f"/api/v1/operations/{op_id}/shelters/room?care_type=wheelchair"
                       f"&need_id={need['id']}", headers=coord).get_json()
    assert [r["shelter_id"] for r in rooms] == [near["id"], far["id"]]
    assert rooms[0]["distance_m"] < rooms[1]["distance_m"] and rooms[0]["free"] == 10
    client.post(f"/api/v1/shelters/{near['id']}/occupancy", headers=coord,
                json={"counts": {"wheelchair": 10}})
    rooms = client.get(f"/api/v1/operations/{op_id}/shelters/room?care_type=wheelchair"
                       "&lat=35.70&lon=139.52", headers=coord).get_json()
    assert [r["shelter_id"] for r in rooms] == [far["id"]]
    assert client.get(f"/api/v1/operations/{op_id}/shelters/room?care_type=pregnant"
                      "&lat=35.70&lon=139.52", headers=coord).get_json() == []
    request = client.post(f"/api/v1/shelters/{far['id']}/requests", headers=coord,
                          json={"category": "companionship", "description": "話し相手",
                                "people_min": 2, "people_max": 3})
    assert request.status_code == 201 and request.get_json()["source"] == "shelter"
    made = client.get(f"/api/v1/needs/{request.get_json()['need_id']}", headers=coord).get_json()
    assert made["shelter_id"] == far["id"] and made["district"] == "東"


def test_who_may_read_and_change_shelters_and_sites(client, districts, token_for):
    op_id, main, _satellite = districts
    assert client.get(f"/api/v1/operations/{op_id}/shelters").status_code == 401
    assert client.get(f"/api/v1/operations/{op_id}/shelters",
                      headers=token_for("reception")).status_code == 403
    assert client.post(f"/api/v1/operations/{op_id}/shelters", headers=token_for("viewer"),
                       json=shelter_body()).status_code == 403
    assert client.patch(f"/api/v1/sites/{main}", headers=token_for("reception"),
                        json={"daily_quota": 5}).status_code == 403
    assert upload(client, op_id, token_for("coordinator"),
                  geojson(("西", WEST))).status_code == 403
