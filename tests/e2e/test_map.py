"""The coordinator's map in a real browser, with every other host aborted (the GSI tiles too):
needs created through the API show as markers, a click opens the panel, a team is formed,
dispatched, followed and reported from it, and the marker changes colour without a reload.
The layers over it (districts, sites, shelters) follow the same refresh and survive a failing
API."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from werkzeug.exceptions import InternalServerError

pytestmark = pytest.mark.e2e

COORDINATOR, PASSWORD = "coordinator-e2e", "password-coordinator"
TILE_HOST = "cyberjapandata.gsi.go.jp"
# static/js/coordmap.js draws needs in these colours (dvc/maps/style.py).
READY, RECEIVED, IN_PROGRESS, COMPLETED = "#d32f2f", "#7b1fa2", "#00838f", "#2e7d32"
# The equipment domain's low-stock API is another developer's; the map copes with its absence.
LOW_STOCK = "/equipment/low"


@dataclass
class World:
    """What the map needs around it: a coordinator, volunteers checked in, an API client."""

    server: object
    api: object
    headers: dict
    volunteers: list[int] = field(default_factory=list)

    def post_need(self, **overrides) -> dict:
        n = len(self.server.app.extensions.setdefault("e2e.needs", []))
        body = {"requester_name": f"高橋 ハナ{n}", "requester_kana": f"たかはし はな{n}",
                "phone": f"0422-11-{2233 + n:04d}", "address": f"架空市北町1-2-{n + 1}",
                "lat": 35.70, "lon": 139.55, "district": "北町", "category": "mud_removal",
                "people_min": 2, "people_max": 4, "priority": "normal"}
        body.update(overrides)
        response = self.api.post(f"/api/v1/operations/{self.server.op_id}/needs", json=body,
                                 headers=self.headers)
        assert response.status_code == 201, response.get_json()
        self.server.app.extensions["e2e.needs"].append(response.get_json()["id"])
        return response.get_json()

    def ready_need(self, **overrides) -> dict:
        need = self.post_need(**overrides)
        response = self.api.patch(f"/api/v1/needs/{need['id']}", json={"status": "ready"},
                                  headers=self.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def form_team(self, need_id: int, member_ids: list[int]) -> dict:
        response = self.api.post(f"/api/v1/operations/{self.server.op_id}/teams",
                                 json={"need_id": need_id, "member_ids": member_ids,
                                       "leader_id": member_ids[0]}, headers=self.headers)
        assert response.status_code == 201, response.get_json()
        return response.get_json()


@pytest.fixture
def world(live_server) -> World:
    from dvc.auth.operations import create_user, issue_token
    from dvc.extensions import db
    from dvc.operations.operations import get_operation
    from dvc.volunteers.operations import Registration, check_in, register_volunteer

    app = live_server.app
    people = [("佐藤 花子", "さとう はなこ", "none", []), ("鈴木 一郎", "すずき いちろう", "car",
                                                      ["chainsaw"]),
              ("田中 三郎", "たなか さぶろう", "none", ["first_aid"])]
    with app.app_context():
        user = create_user(COORDINATOR, "coordinator", PASSWORD, display_name="調整 花子",
                           actor="e2e")
        db.session.flush()
        token = issue_token(user, actor="e2e")
        operation = get_operation(live_server.op_id)
        ids = []
        for i, (name, kana, vehicle, skills) in enumerate(people):
            volunteer, _code = register_volunteer(operation, Registration(
                name=name, kana=kana, phone=f"090-3000-{i:04d}", prefecture="神奈川県",
                municipality="横浜市", birth_year=1980 + i, emergency_name="家族",
                emergency_phone="080-4444-5555", consent=True, insurance="home",
                insurance_council="横浜市社会福祉協議会", vehicle=vehicle, skills=skills),
                via="pre", actor="e2e")
            check_in(operation, volunteer, site_id=live_server.site_id, health_ok=True,
                     insurance_enrolled_now=False, method="search", actor="e2e")
            ids.append(volunteer.id)
        db.session.commit()
        db.session.remove()
    return World(server=live_server, api=app.test_client(),
                 headers={"Authorization": f"Bearer {token}"}, volunteers=ids)


# --- looking at the map ------------------------------------------------------------------------

# Where a need is drawn on its own (not in a cluster, in view), in page pixels, or null.
MARKER_JS = """id => {
    const map = window.dvcMap.map, p = window.dvcMap.pointOf(id);
    if (!p) return null;  // not drawn on its own
    const box = map.getContainer().getBoundingClientRect();
    return {x: box.left + p.x, y: box.top + p.y};
}"""
# The colour actually painted at the centre of a need's marker on the needs' canvas.
PIXEL_JS = """id => {
    const map = window.dvcMap.map, p = window.dvcMap.pointOf(id);
    if (!p) return null;
    const box = map.getContainer().getBoundingClientRect();
    const canvas = map.getPanes().overlayPane.querySelector('canvas.dvc-needs');
    const c = canvas.getBoundingClientRect();
    const x = Math.round((box.left + p.x - c.left) * canvas.width / c.width);
    const y = Math.round((box.top + p.y - c.top) * canvas.height / c.height);
    const d = canvas.getContext('2d').getImageData(x, y, 1, 1).data;
    return '#' + [d[0], d[1], d[2]].map(v => v.toString(16).padStart(2, '0')).join('');
}"""


def open_map(tab, server, markers: int):
    tab.sign_in(COORDINATOR, PASSWORD)
    tab.goto(f"/o/{server.op_id}/map")
    tab.page.wait_for_function("n => window.dvcMapStats && window.dvcMapStats.ready && "
                               "window.dvcMapStats.markers === n", arg=markers)
    tab.page.evaluate("() => { window.__sameDocument = true; }")  # gone if the page reloads


def wait_colour(tab, need_id: int, colour: str):
    """Wait until the need's marker is painted in `colour` (on failure: what was painted)."""
    try:
        tab.page.wait_for_function(f"([id, want]) => ({PIXEL_JS})(id) === want",
                                   arg=[need_id, colour])
    except Exception:
        tab.shot(f"colour-timeout-{need_id}")
        seen = tab.page.evaluate(f"id => [({PIXEL_JS})(id), window.dvcMap.need(id) && "
                                 "window.dvcMap.need(id).n.status]", need_id)
        raise AssertionError(f"need {need_id}: wanted {colour}; painted, status: {seen}") from None


def click_marker(tab, need_id: int):
    tab.page.wait_for_function(f"id => ({MARKER_JS})(id) !== null", arg=need_id)
    point = tab.page.evaluate(MARKER_JS, need_id)
    tab.page.mouse.click(point["x"], point["y"])


def assert_clean_but_tiles(tab, *, tiles_expected: bool = True, expected_status=()):
    """Only the basemap went to another host (and was aborted); nothing else went wrong."""
    tiles = [u for u in tab.blocked if urlsplit(u).hostname == TILE_HOST]
    assert tab.blocked == tiles, tab.blocked
    assert bool(tiles) == tiles_expected
    tab.blocked.clear()
    tab.console_errors[:] = [e for e in tab.console_errors
                             if not (TILE_HOST in e or LOW_STOCK in e)]
    tab.bad_responses[:] = [r for r in tab.bad_responses if not r[2].endswith(LOW_STOCK)]
    tab.assert_clean(expected_status)


def test_form_dispatch_and_report_a_team_from_the_map(open_tab, world, live_server):
    a = world.ready_need(priority="urgent", people_min=2, people_max=4, vehicle_needed=True,
                         lat=35.700, lon=139.550)
    b = world.post_need(lat=35.660, lon=139.620, category="debris")
    tab = open_tab()
    page = tab.page
    open_map(tab, live_server, markers=2)
    wait_colour(tab, a["id"], READY)
    wait_colour(tab, b["id"], RECEIVED)
    # Leaflet and its plugins came from this server; the GSI tiles were aborted, which the page
    # says and survives.
    scripts = [path for path, _status in tab.scripts()]
    assert "/static/vendor/leaflet/1.9.3/leaflet.js" in scripts
    assert not any("markercluster" in path for path in scripts)  # our own canvas clusters
    page.wait_for_selector("#map-note:not([hidden])")
    assert page.locator(".leaflet-control-scale").is_visible()

    click_marker(tab, a["id"])
    panel = page.locator("#need-panel")
    panel.wait_for(state="visible")
    assert a["number"] in panel.locator("#need-title").inner_text()
    panel.locator("#need-facts").get_by_text(a["address"]).wait_for()  # GET /needs/{id}
    rows = panel.locator("#volunteer-rows tr")
    rows.nth(2).wait_for()
    assert rows.count() == 3

    first, second = world.volunteers[0], world.volunteers[1]
    page.check(f"#vol-{first}")
    page.check(f"#vol-{second}")
    page.check(f"#volunteer-rows tr:has(#vol-{second}) input[data-v=leader]")
    assert "2" in page.inner_text("#team-headcount")
    page.click("#form-team")
    # Nobody has a light truck: the answer's warning is shown, the team is formed anyway.
    warning = panel.locator(".flash-warn")
    warning.wait_for()
    assert "light truck" in warning.inner_text() or "軽トラ" in warning.inner_text()
    card = panel.locator(".team-card")
    card.wait_for()
    assert "★ 鈴木 一郎" in card.inner_text()
    # The two are no longer free: the list reloads after the card is drawn, so wait for it.
    rows.nth(1).wait_for(state="detached")
    assert rows.count() == 1

    card.locator("[data-t=transport]").select_option("shuttle")
    card.locator("[data-act=dispatch]").click()
    wait_colour(tab, a["id"], IN_PROGRESS)  # assigned -> in progress, without a reload
    page.locator(".team-pin").first.wait_for()
    for action, status_class in (("arrive", "team-on_site"), ("finish", "team-finished"),
                                 ("return", "team-returned")):
        card.locator(f"[data-act={action}]").click()
        page.wait_for_selector(f".team-card.{status_class}")
    page.wait_for_selector(".team-pin", state="detached")  # back at the centre

    card.locator("textarea[name=requester_situation]").fill("家の中は片付いた")
    card.locator("button[type=submit]").click()
    card.locator("[data-t=reported]").wait_for()
    wait_colour(tab, a["id"], COMPLETED)
    page.wait_for_function("""() => document.querySelector('#need-panel [data-p=status]')
        .textContent === JSON.parse(document.getElementById('coordmap-text').textContent)
        .statuses.completed""")
    page.click("#panel-close")
    panel.wait_for(state="hidden")
    wait_colour(tab, b["id"], RECEIVED)  # the other need was left alone
    assert page.evaluate("() => window.__sameDocument === true")
    tab.shot("map-after-report")
    tab.assert_no_junk()
    assert_clean_but_tiles(tab)


def test_a_refused_team_keeps_every_tick_and_says_why(open_tab, world, live_server):
    mine = world.ready_need(lat=35.70, lon=139.55)
    other = world.ready_need(lat=35.64, lon=139.63, category="cleaning")
    tab = open_tab()
    page = tab.page
    open_map(tab, live_server, markers=2)
    # Keyboard path: the list of needs waiting for a team opens the same panel.
    page.locator("#waiting-list button", has_text=mine["number"]).click()
    page.locator("#volunteer-rows tr").nth(2).wait_for()
    third = world.volunteers[2]
    page.check(f"#vol-{world.volunteers[0]}")
    page.check(f"#vol-{third}")
    # Meanwhile another coordinator sends the third volunteer to the other need.
    world.form_team(other["id"], [third])
    page.click("#form-team")
    alert = page.locator("#panel-messages .flash-error")
    alert.wait_for()
    assert alert.inner_text().strip()
    row = page.locator(f"#volunteer-rows tr:has(#vol-{third})")
    assert "has-problem" in row.get_attribute("class")
    assert row.locator("[data-v=problem]").inner_text().strip()
    assert page.is_checked(f"#vol-{third}") and page.is_checked(f"#vol-{world.volunteers[0]}")
    # Untick the busy one and try again: formed.
    page.uncheck(f"#vol-{third}")
    page.click("#form-team")
    page.locator("#need-panel .team-card").wait_for()
    tab.shot("map-refused-then-formed")
    assert_clean_but_tiles(tab, expected_status=(409,))  # the refusal itself


def test_the_map_works_with_no_basemap_and_refreshes_without_reloading(open_tab, world,
                                                                        live_server):
    live_server.app.config["MAP_TILE_URL"] = ""
    world.post_need(lat=35.70, lon=139.55)
    tab = open_tab()
    page = tab.page
    open_map(tab, live_server, markers=1)
    page.wait_for_selector("#map-note:not([hidden])")
    assert page.locator(".leaflet-control-scale").is_visible()
    added = world.ready_need(lat=35.62, lon=139.70, priority="high")
    page.click("#map-refresh")
    page.wait_for_function("() => window.dvcMapStats.markers === 2")
    # The map does not jump to new needs; look at both, as a person would by zooming out.
    page.evaluate("() => window.dvcMap.map.fitBounds([[35.62, 139.55], [35.70, 139.70]], "
                  "{animate: false})")
    wait_colour(tab, added["id"], READY)
    # Filters: only "ready" needs, then one category.
    page.uncheck("#map-filters input[value=received]")
    page.wait_for_function("() => window.dvcMapStats.markers === 1")
    page.select_option("#filter-category", "debris")
    page.wait_for_function("() => window.dvcMapStats.markers === 0")
    page.select_option("#filter-category", "")
    page.select_option("#filter-district", "北町")
    page.wait_for_function("() => window.dvcMapStats.markers === 1")
    assert page.evaluate("() => window.__sameDocument === true")
    tab.shot("map-no-basemap")
    assert_clean_but_tiles(tab, tiles_expected=False)


ASSIGNED = "#1565c0"


def test_suggested_teams_are_drafts_until_accepted_or_edited(open_tab, world, live_server):
    saw = world.ready_need(skills=["chainsaw"], people_min=2, people_max=2, priority="high",
                           lat=35.70, lon=139.55)
    small = world.ready_need(people_min=1, people_max=1, lat=35.66, lon=139.62,
                             category="cleaning")
    tab = open_tab()
    page = tab.page
    open_map(tab, live_server, markers=2)
    page.click("#suggest-run")
    cards = page.locator("#suggest-list .proposal")
    cards.nth(1).wait_for()
    assert cards.count() == 2
    saw_card = page.locator(f".proposal[data-need='{saw['id']}']")
    small_card = page.locator(f".proposal[data-need='{small['id']}']")
    assert "鈴木 一郎" in saw_card.locator(".proposal-members").inner_text()
    assert "鈴木 一郎" in saw_card.locator(".meta").inner_text()       # why: the chainsaw
    assert page.locator("#suggest-summary").inner_text().strip()
    # Drafts only: nothing formed yet, the needs are still waiting.
    wait_colour(tab, saw["id"], READY)
    assert world.api.get(f"/api/v1/operations/{live_server.op_id}/teams",
                         headers=world.headers).get_json() == []

    small_card.locator("input[type=checkbox]").uncheck()
    page.click("#suggest-accept-selected")
    page.locator("#suggest-messages .flash-info").wait_for()
    saw_card.wait_for(state="detached")
    wait_colour(tab, saw["id"], ASSIGNED)
    wait_colour(tab, small["id"], READY)

    # The other proposal is opened in the team form with its member ticked, and formed there.
    member = world.api.get(f"/api/v1/operations/{live_server.op_id}/volunteers/available",
                           headers=world.headers).get_json()[0]["volunteer_id"]
    small_card.get_by_role("button").click()
    panel = page.locator("#need-panel")
    panel.wait_for(state="visible")
    assert small["number"] in panel.locator("#need-title").inner_text()
    page.locator(f"#vol-{member}").wait_for()
    assert page.is_checked(f"#vol-{member}")
    page.click("#form-team")
    panel.locator(".team-card").wait_for()
    small_card.wait_for(state="detached")
    wait_colour(tab, small["id"], ASSIGNED)
    tab.shot("map-suggested-teams")
    tab.assert_no_junk()
    assert_clean_but_tiles(tab)


# --- layers: districts, sites, shelters ---------------------------------------------------------

CITY_CENTRE = (35.6836, 139.5595)
# Text of the map's layers, as layers.js has them (the page's language).
LAYER_TEXT_JS = "() => JSON.parse(document.getElementById('layers-config').textContent).text"
POPUP_FACT_JS = """fact => {
    const dd = document.querySelector('.leaflet-popup-content [data-fact=' + fact + ']');
    return dd ? dd.textContent : null;
}"""


@dataclass
class City:
    """The demo's fictional districts around the live server's operation, with a satellite
    created by an admin and paused, and a full welfare shelter."""

    satellite: int
    shelter: int
    admin: dict
    reception: dict


@pytest.fixture
def city(world, live_server) -> City:
    from dvc.auth.models import User
    from dvc.auth.operations import create_user, issue_token
    from dvc.districts.fictional import FICTIONAL_LABEL, fictional_city
    from dvc.districts.operations import store_districts
    from dvc.extensions import db
    from dvc.operations.operations import get_operation
    from dvc.sites.operations import get_site, update_site

    app, op_id, api = live_server.app, live_server.op_id, world.api
    with app.app_context():
        op = get_operation(op_id)
        store_districts(op, fictional_city(*CITY_CENTRE), source=FICTIONAL_LABEL, actor="e2e")
        update_site(get_site(live_server.site_id),
                    {"service_districts": ["中央", "南町", "東町", "西町", "川辺"]}, actor="e2e")
        admin = create_user("admin-e2e", "admin", "password-admin", actor="e2e")
        db.session.flush()
        reception = db.session.scalar(db.select(User).where(User.username == live_server.username))
        tokens = {"admin": issue_token(admin, actor="e2e"),
                  "reception": issue_token(reception, actor="e2e")}
        db.session.commit()
        db.session.remove()
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    made = api.post(f"/api/v1/operations/{op_id}/sites", headers=admin, json={
        "name": "北町サテライト", "kind": "satellite", "lat": 35.6990, "lon": 139.5480})
    assert made.status_code == 201, made.get_json()
    satellite = made.get_json()["id"]
    paused = api.patch(f"/api/v1/sites/{satellite}", headers=world.headers, json={
        "service_districts": ["北町", "山手"], "daily_quota": 40, "status": "paused"})
    assert paused.status_code == 200, paused.get_json()
    shelter = api.post(f"/api/v1/operations/{op_id}/shelters", headers=world.headers, json={
        "name": "北町障害者福祉センター", "kind": "welfare", "status": "open", "capacity": 15,
        "care_types": ["wheelchair", "medical_care"], "lat": 35.6700, "lon": 139.5750})
    assert shelter.status_code == 201, shelter.get_json()
    shelter = shelter.get_json()["id"]
    full = api.post(f"/api/v1/shelters/{shelter}/occupancy", headers=world.headers,
                    json={"counts": {"wheelchair": 15}})
    assert full.status_code == 200 and full.get_json()["properties"]["status"] == "full"
    return City(satellite=satellite, shelter=shelter, admin=admin,
                reception={"Authorization": f"Bearer {tokens['reception']}"})


def wait_layers(tab, *names):
    tab.page.wait_for_function("names => names.every(n => window.dvcMap && window.dvcMap.layers"
                               " && window.dvcMap.layers.stats.loaded[n] >= 1)", arg=list(names))


def show_city(tab):
    """Look at the whole city (a popup may have panned the map away)."""
    tab.page.evaluate("c => window.dvcMap.map.setView(c, 13, {animate: false})",
                      list(CITY_CENTRE))


def open_popup(tab, selector: str):
    show_city(tab)
    tab.page.locator(selector).click()
    tab.page.locator(".leaflet-popup-content").wait_for()
    tab.page.wait_for_function("() => getComputedStyle(document.querySelector("
                               "'.leaflet-popup')).opacity === '1'")  # faded in


def test_layers_follow_a_satellite_opening_and_its_first_volunteer(open_tab, world, city,
                                                                   live_server):
    """A coordinator opens a paused satellite and a volunteer checks in there: the sites layer
    shows it open with 1 person today; districts show their open needs, shelters their
    occupancy; needs inside the districts are still clicked as before."""
    in_kitamachi = [world.ready_need(lat=35.700, lon=139.550),
                    world.post_need(lat=35.702, lon=139.546)]
    south = world.ready_need(lat=35.665, lon=139.563, category="debris")
    tab = open_tab()
    page = tab.page
    open_map(tab, live_server, markers=3)
    wait_layers(tab, "districts", "sites", "shelters")
    text = page.evaluate(LAYER_TEXT_JS)

    # Districts: shaded polygons under the needs, labelled with name and counts.
    label = page.locator('[data-district="北町"]')
    label.wait_for()
    assert label.get_attribute("data-open") == "2" and label.get_attribute("data-waiting") == "1"
    assert "北町" in label.inner_text() and "2" in label.inner_text()
    assert page.locator('[data-district="南町"]').get_attribute("data-open") == "1"
    assert page.locator('[data-district="中央"]').get_attribute("data-open") == "0"
    assert page.locator(".leaflet-dvcDistricts-pane path").count() == 7
    assert page.evaluate("() => getComputedStyle(document.querySelector("
                         "'.leaflet-dvcDistricts-pane')).pointerEvents") == "none"
    # The satellite, paused: its word on the pin, and its service area outlined.
    pin = page.locator(f'[data-site="{city.satellite}"]')
    assert "site-paused" in pin.get_attribute("class")
    assert text["site_statuses"]["paused"] in pin.inner_text()
    assert page.locator(".leaflet-dvcAreas-pane path.service-area").count() == 2
    # The shelter, full: red, its people / capacity and the word on the pin.
    shelter_pin = page.locator(f'[data-shelter="{city.shelter}"]')
    assert "occ-full" in shelter_pin.get_attribute("class")
    assert "15/15" in shelter_pin.inner_text()
    assert text["occupancy"]["full"] in shelter_pin.inner_text()
    open_popup(tab, f'[data-shelter="{city.shelter}"]')
    assert "北町障害者福祉センター" in page.inner_text(".leaflet-popup-content")
    assert page.evaluate(POPUP_FACT_JS, "occupied").startswith("15")
    page.keyboard.press("Escape")
    page.locator(".leaflet-popup").wait_for(state="detached")

    # The coordinator opens the satellite; a volunteer checks in there.
    api, op_id = world.api, live_server.op_id
    opened = api.patch(f"/api/v1/sites/{city.satellite}", headers=world.headers,
                       json={"status": "open"})
    assert opened.status_code == 200 and opened.get_json()["properties"]["status"] == "open"
    _name, code = live_server.register_volunteer(phone="090-7777-0001")
    checked = api.post(f"/api/v1/operations/{op_id}/checkins", headers=city.reception,
                       json={"code": code, "site_id": city.satellite, "health_ok": True})
    assert checked.status_code == 201, checked.get_json()

    page.click("#map-refresh")
    page.wait_for_selector(f'[data-site="{city.satellite}"].site-open')
    pin = page.locator(f'[data-site="{city.satellite}"]')
    assert text["site_statuses"]["paused"] not in pin.inner_text()
    open_popup(tab, f'[data-site="{city.satellite}"]')
    assert "北町サテライト" in page.inner_text(".leaflet-popup-content")
    assert page.evaluate(POPUP_FACT_JS, "status") == text["site_statuses"]["open"]
    today = page.evaluate(POPUP_FACT_JS, "today")
    assert re.match(r"^1\D.*/ 40$", today), today
    tab.shot("map-layers")
    page.keyboard.press("Escape")

    # Needs drawn over the districts are still theirs to click.
    show_city(tab)
    click_marker(tab, south["id"])
    page.locator("#need-panel").wait_for(state="visible")
    assert south["number"] in page.inner_text("#need-title")
    assert in_kitamachi and page.evaluate("() => window.__sameDocument === true")
    assert page.locator("#layers-status").is_hidden()
    tab.assert_no_junk()
    assert_clean_but_tiles(tab)


def test_layers_switch_off_and_on_and_the_legend_follows(open_tab, world, city, live_server):
    world.post_need(lat=35.700, lon=139.550)
    tab = open_tab()
    page = tab.page
    open_map(tab, live_server, markers=1)
    wait_layers(tab, "districts", "sites", "shelters")
    # The layers were asked for once the needs were on the map: the needs come first.
    asked = page.evaluate("""() => performance.getEntriesByType('resource')
        .filter(e => /\\/(districts|sites|shelters)$/.test(new URL(e.name).pathname))
        .map(e => e.startTime)""")
    assert len(asked) == 3 and min(asked) >= page.evaluate("() => window.dvcMapStats.readyAt")
    control = page.locator(".leaflet-control-layers")
    boxes = control.locator("input[type=checkbox]")
    assert boxes.count() == 3 and all(boxes.nth(i).is_checked() for i in range(3))
    legend = page.locator(".layers-legend")
    assert legend.locator(".legend-districts li").count() >= 2
    assert legend.locator(".legend-shelters li").count() == 5
    boxes.nth(2).uncheck()   # shelters
    page.locator(f'[data-shelter="{city.shelter}"]').wait_for(state="detached")
    assert legend.locator(".legend-shelters").count() == 0
    boxes.nth(0).uncheck()   # districts: the fills and labels go, the service areas stay
    page.locator('[data-district="北町"]').wait_for(state="detached")
    assert page.locator(".leaflet-dvcAreas-pane path.service-area").count() == 2
    boxes.nth(2).check()
    page.locator(f'[data-shelter="{city.shelter}"]').wait_for()
    assert legend.locator(".legend-shelters li").count() == 5
    tab.assert_no_junk()
    assert_clean_but_tiles(tab)


def test_the_map_says_which_layer_failed_and_keeps_working(open_tab, world, city, live_server,
                                                           monkeypatch):
    """One layer's API fails (500), another is not for this role: both are said in the status
    area, the needs still draw and open, and no script error reaches the console."""
    app = live_server.app
    need = world.ready_need(lat=35.700, lon=139.550)

    def broken(**_kwargs):
        raise InternalServerError("the shelters table is locked")

    working = app.view_functions["shelters_api.list_shelters"]
    monkeypatch.setitem(app.view_functions, "shelters_api.list_shelters", broken)
    from dvc.auth.matrix import ACCESS
    monkeypatch.setitem(ACCESS, "districts_api.list_districts", frozenset({"viewer"}))
    tab = open_tab()
    page = tab.page
    open_map(tab, live_server, markers=1)
    wait_layers(tab, "sites")
    text = page.evaluate(LAYER_TEXT_JS)
    failed = page.locator('#layers-status [data-layer="shelters"]')
    failed.wait_for()
    assert text["layer_names"]["shelters"] in failed.inner_text()
    assert "flash-error" in failed.get_attribute("class")
    denied = page.locator('#layers-status [data-layer="districts"]')
    assert denied.inner_text() == text["denied"].replace("%(layer)s",
                                                         text["layer_names"]["districts"])
    # No district was asked for; sites still show; needs still open.
    assert not any(path.endswith("/districts") for _status, path in tab.loaded)
    page.locator(f'[data-site="{city.satellite}"]').wait_for()
    click_marker(tab, need["id"])
    page.locator("#need-panel").wait_for(state="visible")
    tab.shot("map-layer-failed")
    # The server recovers: the next refresh draws the shelters and the message goes.
    app.view_functions["shelters_api.list_shelters"] = working
    page.click("#map-refresh")
    page.locator(f'[data-shelter="{city.shelter}"]').wait_for()
    failed.wait_for(state="detached")
    # It fails again: the shelters stay as they were, said to be the last data there was.
    app.view_functions["shelters_api.list_shelters"] = broken
    page.click("#map-refresh")
    stale = page.locator('#layers-status [data-layer="shelters"].flash-warn')
    stale.wait_for()
    assert text["layer_names"]["shelters"] in stale.inner_text()
    assert page.locator(f'[data-shelter="{city.shelter}"]').is_visible()
    tab.assert_no_junk()
    shelters = f"/api/v1/operations/{live_server.op_id}/shelters"
    assert [r for r in tab.bad_responses if r[0] == 500] == [(500, "GET", shelters)] * 2
    assert_clean_but_tiles(tab, expected_status=(500,))
