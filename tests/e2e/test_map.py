"""The coordinator's map in a real browser, with every other host aborted (the GSI tiles too):
needs created through the API show as markers, a click opens the panel, a team is formed,
dispatched, followed and reported from it, and the marker changes colour without a reload."""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

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
    assert rows.count() == 1  # the two are no longer free

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
