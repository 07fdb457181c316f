"""Sites, districts, shelters and the public recruitment page through HTTP: who may see them,
the forms (field errors, nothing typed is lost), district imports, the shuttle, and a check-in
refused by a full quota."""
from __future__ import annotations

import json
import re
from html import unescape

import pytest

from dvc.auth.models import ROLES
from dvc.extensions import db

STAFF = set(ROLES)
SITES = {"admin", "coordinator", "viewer"}
READERS = {"admin", "coordinator", "needs_intake", "viewer"}
COORDINATORS = {"admin", "coordinator"}
ADMIN = {"admin"}

# Two districts side by side around the `operation` fixture's sites: 南区 holds the main centre
# (35.68, 139.56), 北区 the satellite (35.70, 139.55).
SOUTH = [[139.50, 35.65], [139.60, 35.65], [139.60, 35.69], [139.50, 35.69], [139.50, 35.65]]
NORTH = [[139.50, 35.69], [139.60, 35.69], [139.60, 35.75], [139.50, 35.75], [139.50, 35.69]]
# A bow tie: its outline crosses itself, so the import repairs it into two triangles.
BOW_TIE = [[139.60, 35.65], [139.70, 35.69], [139.70, 35.65], [139.60, 35.69], [139.60, 35.65]]


def geojson(path, features: dict, field: str = "地区名") -> str:
    """Write {name: ring} as a GeoJSON FeatureCollection of polygons; return the path."""
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {field: name},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}
        for name, ring in features.items()]}, ensure_ascii=False), encoding="utf-8")
    return str(path)


def html(response) -> str:
    return response.get_data(as_text=True)


def text(response) -> str:
    """The page with entities decoded (&#39; is '), for reading messages."""
    return unescape(html(response))


def field_errors(page: str, name: str) -> list[str]:
    """The error messages shown inside the field block holding the input named `name`."""
    blocks = re.findall(r'<div class="field[^"]*">(.*?)</div>', page, re.S)
    for block in blocks:
        if re.search(rf'name="{re.escape(name)}"', block):
            return [unescape(e) for e in
                    re.findall(r'<p class="field-error"[^>]*>(.*?)</p>', block, re.S)]
    raise AssertionError(f"no field {name!r} on the page")


def input_value(page: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert tag, f"no input {name!r}"
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else None


def _row(app, model, row_id):
    with app.app_context():
        row = db.session.get(model, row_id)
        db.session.expunge(row)
        return row


def _check_in(client, op_id, site_id, code, token):
    return client.post(f"/api/v1/operations/{op_id}/checkins", headers=token,
                       json={"code": code, "site_id": site_id, "health_ok": True})


@pytest.fixture
def districts(app, operation, tmp_path):
    """Import 南区 and 北区 into the operation (as an admin would); return their names."""
    from dvc.districts.operations import import_districts
    from dvc.operations.operations import get_operation
    path = geojson(tmp_path / "base.geojson", {"南区": SOUTH, "北区": NORTH})
    with app.app_context():
        import_districts(get_operation(operation[0]), path, "地区名", source="base.geojson",
                         actor="test")
        db.session.commit()
    return ["北区", "南区"]


@pytest.fixture
def shelter(app, operation):
    """A welfare shelter open for wheelchair users and frail elderly, 10 places: its id."""
    from dvc.operations.operations import get_operation
    from dvc.shelters.operations import create_shelter
    with app.app_context():
        s = create_shelter(get_operation(operation[0]), {
            "name": "さくら苑", "lat": 35.681, "lon": 139.561, "capacity": 10,
            "care_types": ["wheelchair", "frail_elderly"], "status": "open",
            "contact": "0422-00-0000", "address": "テスト市本町1-1"}, actor="test")
        db.session.commit()
        return s.id


# --- who may see what ------------------------------------------------------------------------

@pytest.mark.parametrize("path, allowed", [
    ("/o/{op}/sites", SITES),
    ("/o/{op}/districts", READERS),
    ("/o/{op}/shelters", READERS),
    ("/o/{op}/shelters/room?care_type=wheelchair&lat=35.68&lon=139.56", READERS),
    ("/o/{op}/recruitment", STAFF | {None}),
])
def test_pages_render_for_their_roles_and_are_refused_to_others(clients, operation, path,
                                                                allowed):
    for role, client in clients.items():
        response = client.get(path.format(op=operation[0]))
        if role in allowed:
            assert response.status_code == 200, (role, path, response.status_code)
        elif role is None:
            assert response.status_code == 302 and "/login" in response.location
        else:
            assert response.status_code == 403, (role, path, response.status_code)


@pytest.mark.parametrize("path, allowed", [
    ("/o/{op}/sites/{site}/status", COORDINATORS),
    ("/o/{op}/sites/{site}/edit", COORDINATORS),
    ("/o/{op}/sites/shuttle", COORDINATORS),
    ("/o/{op}/sites/new", ADMIN),
    ("/o/{op}/districts/import", ADMIN),
    ("/o/{op}/shelters/new", COORDINATORS),
])
def test_changes_are_refused_to_other_roles(clients, operation, path, allowed):
    for role, client in clients.items():
        response = client.post(path.format(op=operation[0], site=operation[2]), data={})
        refused = response.status_code == 403 or (
            response.status_code == 302 and "/login" in response.location)
        assert refused == (role not in allowed), (role, path, response.status_code)


def test_nav_links_follow_the_roles(clients, operation):
    pages = {role: html(clients[role].get(f"/o/{operation[0]}?lang=en"))
             for role in ("coordinator", "viewer", "needs_intake", "reception")}
    sites, districts = f'href="/o/{operation[0]}/sites"', f'href="/o/{operation[0]}/districts"'
    shelters = f'href="/o/{operation[0]}/shelters"'
    assert all(link in pages["coordinator"] for link in (sites, districts, shelters))
    assert all(link in pages["viewer"] for link in (sites, districts, shelters))
    assert sites not in pages["needs_intake"] and shelters in pages["needs_intake"]
    assert not any(link in pages["reception"] for link in (sites, districts, shelters))


# --- sites ------------------------------------------------------------------------------------

def test_sites_table_shows_status_service_area_hours_load_and_tomorrow(
        app, clients, operation, districts, register, token_for):
    from dvc.sites.models import Site
    op_id, main, sat = operation
    coordinator = clients["coordinator"]
    response = coordinator.post(f"/o/{op_id}/sites/{sat}/edit?lang=en", data={
        f"site{sat}-name": "北サテライト", f"site{sat}-lat": "35.70", f"site{sat}-lon": "139.55",
        f"site{sat}-service_districts": ["北区"], f"site{sat}-opens_at": "08:30",
        f"site{sat}-closes_at": "14:00", f"site{sat}-daily_quota": "40",
        f"site{sat}-staff": "佐藤（リーダー）"})
    assert response.status_code == 302
    site = _row(app, Site, sat)
    assert (site.service_districts, site.opens_at, site.closes_at, site.daily_quota) == (
        ["北区"], "08:30", "14:00", 40)
    _check_in(coordinator, op_id, sat, register()["code"], token_for("reception"))
    page = html(coordinator.get(f"/o/{op_id}/sites?lang=en"))
    row = re.search(rf'<tr id="site-{sat}".*?</tr>', page, re.S).group(0)
    assert "北区" in row and "08:30–14:00" in row and "Opened" in row
    assert re.search(r"<strong>1</strong> / 40", row)
    assert "Taking volunteers" in row
    # Viewers read the table but get no buttons or forms.
    viewer = html(clients["viewer"].get(f"/o/{op_id}/sites?lang=en"))
    assert f'id="site-{sat}"' in viewer
    assert "Pause the site" not in viewer and 'id="shuttle"' not in viewer


def test_pause_and_close_a_satellite_record_times_but_the_main_centre_stays(
        app, clients, operation):
    from dvc.sites.models import Site
    op_id, main, sat = operation
    coordinator = clients["coordinator"]
    page = html(coordinator.get(f"/o/{op_id}/sites?lang=en"))
    main_forms = re.search(rf'id="site-{main}-forms".*?</article>', page, re.S).group(0)
    assert "Close the site" not in main_forms and "Pause the site" in main_forms
    assert coordinator.post(f"/o/{op_id}/sites/{sat}/status",
                            data={"status": "paused"}).status_code == 302
    paused = _row(app, Site, sat)
    assert paused.status == "paused" and paused.paused_dt is not None
    coordinator.post(f"/o/{op_id}/sites/{sat}/status", data={"status": "closed"})
    assert _row(app, Site, sat).closed_dt is not None
    refused = coordinator.post(f"/o/{op_id}/sites/{main}/status?lang=en",
                               data={"status": "closed"})
    assert refused.status_code == 409
    assert "The main centre cannot be closed" in html(refused)
    assert _row(app, Site, main).status == "open"


def test_site_edit_errors_are_shown_beside_fields_and_typed_values_stay(app, clients, operation,
                                                                       districts):
    from dvc.sites.models import Site
    op_id, _main, sat = operation
    p = f"site{sat}-"
    response = clients["coordinator"].post(f"/o/{op_id}/sites/{sat}/edit?lang=en", data={
        p + "name": "北サテライト改", p + "lat": "35.70", p + "lon": "",
        p + "service_districts": ["南区"], p + "opens_at": "9時", p + "closes_at": "15:00",
        p + "daily_quota": "-3", p + "staff": "田中"})
    assert response.status_code == 422
    page = html(response)
    assert field_errors(page, p + "daily_quota") == [
        "Enter a number of people (0 or more), or leave it blank for no limit."]
    assert input_value(page, p + "name") == "北サテライト改"
    assert input_value(page, p + "opens_at") == "9時"
    assert re.search(rf'name="{p}service_districts"[^>]*value="南区"[^>]*checked|'
                     rf'checked[^>]*name="{p}service_districts"[^>]*value="南区"', page)
    # The form is fine now, but the rules refuse the hours and the half point.
    response = clients["coordinator"].post(f"/o/{op_id}/sites/{sat}/edit?lang=en", data={
        p + "name": "北サテライト改", p + "lat": "35.70", p + "lon": "",
        p + "opens_at": "9時", p + "closes_at": "15:00", p + "daily_quota": ""})
    page = html(response)
    assert response.status_code == 422
    assert field_errors(page, p + "opens_at") == ["Give a time as HH:MM, for example 09:00."]
    assert field_errors(page, p + "lon") == ["Give both latitude and longitude."]
    assert input_value(page, p + "name") == "北サテライト改"
    assert _row(app, Site, sat).name == "北サテライト"  # nothing was saved


def test_blank_quota_means_no_limit(app, clients, operation):
    from dvc.sites.models import Site
    from dvc.sites.operations import update_site
    op_id, _main, sat = operation
    with app.app_context():
        site = db.session.get(Site, sat)
        update_site(site, {"daily_quota": 5}, actor="test")
        db.session.commit()
    p = f"site{sat}-"
    assert clients["coordinator"].post(f"/o/{op_id}/sites/{sat}/edit", data={
        p + "name": "北サテライト", p + "opens_at": "09:00", p + "closes_at": "15:00",
        p + "daily_quota": ""}).status_code == 302
    assert _row(app, Site, sat).daily_quota is None


def test_admin_adds_a_satellite_and_a_missing_name_is_shown(app, clients, operation):
    from dvc.sites.models import Site
    op_id = operation[0]
    admin = clients["admin"]
    missing = admin.post(f"/o/{op_id}/sites/new?lang=en",
                         data={"name": "", "lat": "35.71", "lon": "139.57"})
    assert missing.status_code == 422
    page = html(missing)
    assert field_errors(page, "name") == ["Please fill this in."]
    assert input_value(page, "lat") == "35.71"
    assert admin.post(f"/o/{op_id}/sites/new", data={"name": "南サテライト", "lat": "35.66",
                                                      "lon": "139.57"}).status_code == 302
    with app.app_context():
        added = db.session.scalar(db.select(Site).where(Site.name == "南サテライト"))
        assert (added.kind, added.status, added.operation_id) == ("satellite", "open", op_id)


def test_shuttle_sends_chosen_free_volunteers_to_an_open_site(app, clients, operation, register,
                                                             token_for):
    from dvc.volunteers.models import CheckIn
    op_id, main, sat = operation
    coordinator = clients["coordinator"]
    token = token_for("reception")
    first = register(name="送迎 一郎", kana="そうげい いちろう", phone="090-0000-0001")
    second = register(name="送迎 二郎", kana="そうげい じろう", phone="090-0000-0002",
                      group_name="二郎の会", group_size=3)
    ids = []
    for body in (first, second):
        checkin = _check_in(coordinator, op_id, main, body["code"], token).get_json()
        ids.append(checkin["volunteer_id"])
    page = html(coordinator.get(f"/o/{op_id}/sites?from={main}&lang=en"))
    shuttle = re.search(r'id="shuttle".*?</section>', page, re.S).group(0)
    assert "送迎 一郎" in shuttle and first["number"] in shuttle
    assert "2 check-ins, 4 people" in shuttle
    sent = coordinator.post(f"/o/{op_id}/sites/shuttle?lang=en", data={
        "from_site_id": str(main), "volunteer_ids": [str(ids[1])], "to_site_id": str(sat)})
    assert sent.status_code == 302 and f"from={main}" in sent.location
    assert "3 people sent to 北サテライト." in html(coordinator.get(sent.location))
    with app.app_context():
        where = dict(db.session.execute(db.select(CheckIn.volunteer_id, CheckIn.site_id)).all())
    assert where == {ids[0]: main, ids[1]: sat}


def test_shuttle_errors_keep_the_choices(app, clients, operation, register, token_for):
    op_id, main, sat = operation
    coordinator = clients["coordinator"]
    body = register()
    volunteer_id = _check_in(coordinator, op_id, main, body["code"],
                             token_for("reception")).get_json()["volunteer_id"]
    nobody = coordinator.post(f"/o/{op_id}/sites/shuttle?lang=en", data={
        "from_site_id": str(main), "to_site_id": str(sat)})
    assert nobody.status_code == 422
    assert "Choose the volunteers to send." in html(nobody)
    no_site = coordinator.post(f"/o/{op_id}/sites/shuttle?lang=en", data={
        "from_site_id": str(main), "volunteer_ids": [str(volunteer_id)], "to_site_id": ""})
    page = html(no_site)
    assert no_site.status_code == 422
    assert field_errors(page, "to_site_id") == ["Choose the site to send them to."]
    assert re.search(rf'value="{volunteer_id}" checked', page)  # the tick is kept


# --- districts --------------------------------------------------------------------------------

def test_admin_imports_districts_through_the_page(app, clients, operation, tmp_path):
    from dvc.districts.models import District
    from dvc.sites.models import Site
    op_id, main, _sat = operation
    path = geojson(tmp_path / "city.geojson", {"南区": SOUTH, "北区": NORTH, "東区": BOW_TIE})
    with open(path, "rb") as f:
        response = clients["admin"].post(f"/o/{op_id}/districts/import?lang=en",
                                         data={"file": (f, "city.geojson"), "name_field": "地区名"},
                                         content_type="multipart/form-data")
    assert response.status_code == 302
    page = html(clients["admin"].get(response.location))
    assert "3 districts imported" in page
    assert "Broken outlines were repaired in: 東区" in page
    with app.app_context():
        names = set(db.session.scalars(db.select(District.name).where(
            District.operation_id == op_id)))
    assert names == {"南区", "北区", "東区"}
    assert _row(app, Site, main).district == "南区"
    assert "From city.geojson" in html(clients["viewer"].get(f"/o/{op_id}/districts?lang=en"))


def test_a_broken_district_file_is_refused_and_the_old_districts_stay(app, clients, operation,
                                                                     districts, tmp_path):
    from dvc.districts.models import District
    op_id = operation[0]
    path = geojson(tmp_path / "other.geojson", {"西区": SOUTH}, field="NAME")
    with open(path, "rb") as f:
        response = clients["admin"].post(f"/o/{op_id}/districts/import?lang=en",
                                         data={"file": (f, "other.geojson"), "name_field": "地区名"},
                                         content_type="multipart/form-data")
    assert response.status_code == 422
    page = html(response)
    assert field_errors(page, "name_field") == [
        "There is no field 地区名 in the file. Its fields are: NAME."]
    assert "Nothing was imported: the districts stay as they were." in page
    assert input_value(page, "name_field") == "地区名"
    not_a_map = tmp_path / "notes.geojson"
    not_a_map.write_text("これは地図ではありません", encoding="utf-8")
    with open(not_a_map, "rb") as f:
        response = clients["admin"].post(f"/o/{op_id}/districts/import?lang=en",
                                         data={"file": (f, "notes.geojson"), "name_field": "x"},
                                         content_type="multipart/form-data")
    assert response.status_code == 422
    assert field_errors(html(response), "file")[0].startswith("The file could not be read")
    missing = clients["admin"].post(f"/o/{op_id}/districts/import?lang=en",
                                     data={"name_field": ""}, content_type="multipart/form-data")
    page = html(missing)
    assert field_errors(page, "file") == ["Choose a district file."]
    assert field_errors(page, "name_field") == [
        "Name the field that holds each district's name."]
    with app.app_context():
        names = sorted(db.session.scalars(db.select(District.name).where(
            District.operation_id == op_id)))
    assert names == districts


def test_a_file_with_several_layers_asks_for_the_layer_beside_its_field(app, clients, operation,
                                                                        tmp_path):
    import geopandas
    import shapely
    path = tmp_path / "city.gpkg"
    for name, ring in (("地区", SOUTH), ("道路", NORTH)):
        geopandas.GeoDataFrame({"地区名": [name]}, geometry=[shapely.Polygon(ring)],
                               crs="EPSG:4326").to_file(path, layer=name, driver="GPKG")
    url = f"/o/{operation[0]}/districts/import?lang=en"
    with open(path, "rb") as f:
        response = clients["admin"].post(url, data={"file": (f, "city.gpkg"),
                                                     "name_field": "地区名"},
                                         content_type="multipart/form-data")
    assert response.status_code == 422
    assert field_errors(html(response), "layer") == [
        "The file has several layers (地区, 道路): choose the one with the districts."]
    with open(path, "rb") as f:
        response = clients["admin"].post(url, data={"file": (f, "city.gpkg"),
                                                     "name_field": "地区名", "layer": "地区"},
                                         content_type="multipart/form-data")
    assert response.status_code == 302
    assert "1 district imported: 地区." in text(clients["admin"].get(response.location))


def test_districts_page_counts_needs_and_lists_those_outside(app, clients, operation, districts,
                                                            token_for):
    from tests.integration.test_needs_api import need_body
    op_id = operation[0]
    intake = token_for("needs_intake")
    for lat in (35.70, 35.71, 35.67):
        assert clients["needs_intake"].post(f"/api/v1/operations/{op_id}/needs", headers=intake,
                                            json=need_body(lat=lat, lon=139.55,
                                                           district=None)).status_code == 201
    outside = clients["needs_intake"].post(f"/api/v1/operations/{op_id}/needs", headers=intake,
                                           json=need_body(lat=35.90, lon=139.55, district=None,
                                                          phone="0422-99-8877",
                                                          requester_name="遠方 太郎"))
    need_id = outside.get_json()["id"]
    page = html(clients["coordinator"].get(f"/o/{op_id}/districts?lang=en"))
    north = re.search(r'<tr data-district="北区">.*?</tr>', page, re.S).group(0)
    assert re.search(r'class="num open-needs">2<', north)
    south = re.search(r'<tr data-district="南区">.*?</tr>', page, re.S).group(0)
    assert re.search(r'class="num open-needs">1<', south)
    to_check = re.search(r'id="to-check".*?</section>', page, re.S).group(0)
    assert f'href="/o/{op_id}/needs/{need_id}"' in to_check and f"N{need_id:05d}" in to_check
    # Viewers see the number only: the need's page is for the needs desk.
    viewer = re.search(r'id="to-check".*?</section>',
                       html(clients["viewer"].get(f"/o/{op_id}/districts?lang=en")), re.S).group(0)
    assert f"N{need_id:05d}" in viewer and "/needs/" not in viewer
    assert "遠方 太郎" not in viewer and "0422-99-8877" not in viewer
    assert 'id="import"' not in html(clients["coordinator"].get(f"/o/{op_id}/districts"))
    # Once the need is closed there is nothing left to check.
    assert clients["needs_intake"].patch(f"/api/v1/needs/{need_id}", headers=intake,
                                         json={"status": "cancelled"}).status_code == 200
    page = html(clients["coordinator"].get(f"/o/{op_id}/districts?lang=en"))
    assert f"N{need_id:05d}" not in page and "Needs outside every district <small>(0)" in page


# --- shelters ---------------------------------------------------------------------------------

SHELTER_FORM = {f"new-{k}": v for k, v in {
    "name": "ひまわり園", "kind": "welfare", "designation": "agreement", "lat": "35.69",
    "lon": "139.57", "address": "テスト市北町2-2", "capacity": "8",
    "care_types": ["dementia", "infants"], "carers_allowed": "y",
    "contact": "0422-11-0000"}.items()}


def test_register_a_shelter_and_see_it_listed(app, clients, operation, districts):
    from dvc.shelters.models import Shelter
    op_id = operation[0]
    response = clients["coordinator"].post(f"/o/{op_id}/shelters/new", data=SHELTER_FORM)
    assert response.status_code == 302
    with app.app_context():
        s = db.session.scalar(db.select(Shelter).where(Shelter.name == "ひまわり園"))
        assert (s.kind, s.designation, s.capacity, s.care_types, s.carers_allowed, s.status,
                s.district) == ("welfare", "agreement", 8, ["dementia", "infants"], True,
                                "not_open", "北区")
    page = html(clients["needs_intake"].get(f"/o/{op_id}/shelters?lang=en"))
    row = re.search(r'<tr id="shelter-row-\d+".*?</tr>', page, re.S).group(0)
    assert "ひまわり園" in row and "By agreement" in row and "Not open" in row
    assert "Dementia" in row and "Infants" in row and "0422-11-0000" in row
    assert "Change status" not in page  # the needs desk reads, coordinators edit


def test_shelter_form_errors_keep_what_was_typed(app, clients, operation):
    from dvc.shelters.models import Shelter
    op_id = operation[0]
    response = clients["coordinator"].post(f"/o/{op_id}/shelters/new?lang=en", data={
        **SHELTER_FORM, "new-lat": "", "new-lon": "", "new-capacity": ""})
    assert response.status_code == 422
    page = html(response)
    assert field_errors(page, "new-lat") == [
        "Give the shelter's point in Japan (pick it on the map)."]
    assert field_errors(page, "new-capacity") == ["Enter the capacity: zero or more people."]
    assert input_value(page, "new-name") == "ひまわり園"
    assert input_value(page, "new-address") == "テスト市北町2-2"
    assert re.search(r'value="agreement"[^>]*checked|checked[^>]*value="agreement"', page)
    assert re.search(r'value="dementia"[^>]*checked|checked[^>]*value="dementia"', page)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Shelter.id))) == 0


def test_occupancy_over_capacity_marks_the_shelter_full_and_warns(app, clients, operation,
                                                                  shelter):
    from dvc.shelters.models import Shelter
    op_id = operation[0]
    p = f"occ{shelter}-"
    response = clients["coordinator"].post(f"/o/{op_id}/shelters/{shelter}/occupancy?lang=en",
                                           data={p + "wheelchair": "6", p + "frail_elderly": "4",
                                                 p + "other": "2"})
    assert response.status_code == 302
    s = _row(app, Shelter, shelter)
    assert (s.status, s.occupancy) == ("full", {"wheelchair": 6, "frail_elderly": 4, "other": 2})
    page = html(clients["coordinator"].get(response.location))
    assert "More people than places: the shelter is full." in page
    assert "Over capacity by 2" in page
    negative = clients["coordinator"].post(f"/o/{op_id}/shelters/{shelter}/occupancy?lang=en",
                                           data={p + "wheelchair": "-1", p + "other": "3"})
    assert negative.status_code == 422
    page = html(negative)
    assert field_errors(page, p + "wheelchair") == ["Counts cannot be negative."]
    assert input_value(page, p + "other") == "3"
    assert _row(app, Shelter, shelter).occupancy["wheelchair"] == 6


def test_status_change_of_a_shelter(app, clients, operation, shelter):
    from dvc.shelters.models import Shelter
    op_id = operation[0]
    response = clients["coordinator"].post(f"/o/{op_id}/shelters/{shelter}/status",
                                           data={f"status{shelter}-status": "closed"})
    assert response.status_code == 302
    assert _row(app, Shelter, shelter).status == "closed"
    bad = clients["coordinator"].post(f"/o/{op_id}/shelters/{shelter}/status",
                                      data={f"status{shelter}-status": "flooded"})
    assert bad.status_code == 422 and _row(app, Shelter, shelter).status == "closed"


def test_a_shelter_request_becomes_a_need_with_a_link(app, clients, operation, shelter):
    from dvc.needs.models import Need
    op_id = operation[0]
    p = f"req{shelter}-"
    short = clients["coordinator"].post(f"/o/{op_id}/shelters/{shelter}/request?lang=en", data={
        p + "category": "cleaning", p + "description": "", p + "people_min": "4",
        p + "people_max": "2"})
    assert short.status_code == 422
    page = html(short)
    assert field_errors(page, p + "description") == ["Please fill this in."]
    assert field_errors(page, p + "people_max") == ["The most must be at least the least."]
    assert input_value(page, p + "people_min") == "4"
    response = clients["coordinator"].post(f"/o/{op_id}/shelters/{shelter}/request?lang=en",
                                           data={p + "category": "companionship",
                                                 p + "description": "話し相手がほしい",
                                                 p + "people_min": "1", p + "people_max": "2"})
    assert response.status_code == 302
    with app.app_context():
        need = db.session.scalar(db.select(Need).where(Need.shelter_id == shelter))
        number, need_id = need.number, need.id
        assert (need.source, need.category, need.requester_name) == (
            "shelter", "companionship", "さくら苑")
    page = html(clients["coordinator"].get(response.location))
    assert f'<a href="/o/{op_id}/needs/{need_id}">{number}</a> created from the request of ' \
           f'さくら苑.' in page


def test_where_is_there_room_from_a_point_or_a_need(app, clients, operation, shelter, token_for):
    from tests.integration.test_needs_api import need_body
    op_id = operation[0]
    viewer = clients["viewer"]
    page = html(viewer.get(f"/o/{op_id}/shelters/room?care_type=wheelchair&lat=35.68"
                           f"&lon=139.56&places=2&lang=en"))
    results = re.search(r'id="room-results".*?</table>', page, re.S).group(0)
    assert "さくら苑" in results and re.search(r">\s*1\d\d m<", results)  # about 140 m
    need_id = clients["needs_intake"].post(
        f"/api/v1/operations/{op_id}/needs", headers=token_for("needs_intake"),
        json=need_body(lat=35.70, lon=139.55)).get_json()["id"]
    page = html(viewer.get(f"/o/{op_id}/shelters/room?care_type=wheelchair"
                           f"&need_id=N{need_id:05d}&lang=en"))
    assert f"from N{need_id:05d}" in page and re.search(r">\s*2\.\d km<", page)
    none = html(viewer.get(f"/o/{op_id}/shelters/room?care_type=infants&lat=35.68&lon=139.56"
                           f"&lang=en"))
    assert "No open welfare shelter taking this care type has room." in none
    nowhere = viewer.get(f"/o/{op_id}/shelters/room?care_type=wheelchair&lang=en")
    assert nowhere.status_code == 422
    assert field_errors(html(nowhere), "need_id") == [
        "Give a need number, or a point (latitude and longitude)."]
    unknown = viewer.get(f"/o/{op_id}/shelters/room?care_type=&need_id=N99999&lang=en")
    assert field_errors(html(unknown), "care_type") == ["Choose the care needed."]


# --- the public recruitment page and the quota at check-in -----------------------------------

def test_recruitment_page_shows_figures_and_no_personal_data(app, client, operation, register,
                                                             token_for):
    from dvc.sites.models import Site
    from dvc.sites.operations import update_site
    op_id, main, sat = operation
    with app.app_context():
        update_site(db.session.get(Site, sat), {"daily_quota": 5, "opens_at": "08:30"},
                    actor="test")
        db.session.commit()
    body = register(name="秘密 花子", kana="ひみつ はなこ", phone="090-9876-5432",
                    municipality="秘匿町", emergency_name="秘密 次郎",
                    emergency_phone="080-5555-6666")
    checkin = _check_in(client, op_id, sat, body["code"], token_for("reception"))
    assert checkin.status_code == 201
    page = html(client.get(f"/o/{op_id}/recruitment?lang=en"))
    sat_block = re.search(rf'<article[^>]*data-site="{sat}".*?</article>', page, re.S).group(0)
    assert "北サテライト" in sat_block and "08:30–15:00" in sat_block
    assert "1 so far, up to 5" in sat_block
    assert "Tomorrow (11/23)" in sat_block
    for secret in ("秘密 花子", "ひみつ", "090-9876-5432", "09098765432", "秘匿町", "秘密 次郎",
                   "080-5555-6666", body["code"], body["number"]):
        assert secret not in page
    assert "?lang=ja-easy" in page  # a volunteer page: plain Japanese is offered


def test_recruitment_page_says_nearly_full_full_and_closed(app, client, operation, register,
                                                           token_for):
    from dvc.sites.models import Site
    from dvc.sites.operations import set_site_status, update_site
    op_id, main, sat = operation
    with app.app_context():
        update_site(db.session.get(Site, main), {"daily_quota": 1}, actor="test")
        set_site_status(db.session.get(Site, sat), "paused", actor="test")
        db.session.commit()
    assert _check_in(client, op_id, main, register()["code"],
                     token_for("reception")).status_code == 201
    page = html(client.get(f"/o/{op_id}/recruitment?lang=en"))
    assert re.search(rf'data-site="{main}" data-status="full"', page)
    assert re.search(rf'data-site="{sat}" data-status="closed"', page)
    assert "Full today" in page and "Closed" in page


def test_self_checkin_at_a_full_site_says_so_and_offers_the_next_day(app, client, operation,
                                                                     register, token_for):
    from dvc.core import codes
    from dvc.core.context import today
    from dvc.sites.models import Site
    from dvc.sites.operations import update_site
    op_id, main, _sat = operation
    with app.app_context():
        update_site(db.session.get(Site, main), {"daily_quota": 1}, actor="test")
        db.session.commit()
    assert _check_in(client, op_id, main, register()["code"],
                     token_for("reception")).status_code == 201
    late = register(name="遅刻 三郎", kana="ちこく さぶろう", phone="090-3333-4444")["code"]
    with app.test_request_context():
        day_code = codes.daily_poster_code(app.config["SECRET_KEY"], op_id, main, today())
    answers = {f"health_{q}": "yes" for q in app.config["HEALTH_QUESTIONS"]}
    response = client.post(f"/o/{op_id}/s/{main}/{day_code}?lang=en",
                           data={"code": late, **answers})
    assert response.status_code == 422
    page = text(response)
    assert "本部 has reached today's number of volunteers." in page
    assert "You can come on 11/23 with it." in page
    assert f'href="/o/{op_id}/recruitment"' in page
    # The kiosk gets the same refusal as JSON, with the next day, and links to the page.
    refused = _check_in(client, op_id, main, late, token_for("reception"))
    assert refused.status_code == 409
    assert (refused.get_json()["error"], refused.get_json()["next_day"]) == ("site_full",
                                                                            "2026-11-23")


def test_kiosk_shows_a_full_site_with_a_link_to_the_recruitment_page(clients, operation, app):
    kiosk = html(clients["reception"].get(f"/o/{operation[0]}/reception"))
    assert f'data-recruitment="/o/{operation[0]}/recruitment"' in kiosk
    assert '"next_day":' in kiosk and '"recruitment":' in kiosk
    script = (app.static_folder + "/js/kiosk.js")
    with open(script, encoding="utf-8") as f:
        source = f.read()
    assert 'r.data.error === "site_full" ? siteFull(r.data)' in source
