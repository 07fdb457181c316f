"""Needs and dispatch in a real browser: duplicate hints while typing on the intake form,
click-to-place on the intake map, the report desk's scanner, the sheet and the leader's phone."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e
COORDINATOR, PASSWORD = "coord-e2e", "password-coordinator"


@pytest.fixture
def coordinator(live_server):
    from dvc.auth.operations import create_user
    from dvc.extensions import db
    with live_server.app.app_context():
        create_user(COORDINATOR, "coordinator", PASSWORD, display_name="調整 花子", actor="e2e")
        db.session.commit()
    return COORDINATOR


def _only_tiles_blocked(tab):
    """Offline, the basemap's tiles may be refused; nothing else may leave the machine."""
    others = [u for u in tab.blocked if "cyberjapandata.gsi.go.jp" not in u]
    assert others == [], others
    tab.blocked.clear()
    tab.console_errors[:] = [e for e in tab.console_errors if "ERR_BLOCKED_BY_CLIENT" not in e]


def _need(server, **overrides) -> int:
    from dvc.extensions import db
    from dvc.needs.operations import NeedInput, create_need
    from dvc.operations.operations import get_operation
    answers = dict(requester_name="高橋 ハナ", requester_kana="たかはし はな",
                   phone="0422-11-2233", address="テスト市北町1-2-3", category="mud_removal",
                   lat=35.70, lon=139.55, description="床上浸水")
    answers.update(overrides)
    with server.app.app_context():
        need = create_need(get_operation(server.op_id), NeedInput(**answers), actor="e2e")
        db.session.commit()
        return need.id


def _team(server) -> tuple[int, str, str]:
    """A dispatched team of two for a ready need: (team id, leader's code, sheet code)."""
    from dvc.extensions import db
    from dvc.needs.operations import change_status, get_need
    from dvc.operations.operations import get_operation
    from dvc.teams.operations import dispatch_team, form_team
    from dvc.teams.sheets import sheet_code
    from dvc.volunteers.operations import check_in, volunteer_by_token
    need_id = _need(server)
    codes = [server.register_volunteer(name=f"班員 {i}", kana=f"はんいん {i}",
                                       phone=f"090-7000-{i:04d}")[1] for i in range(2)]
    with server.app.app_context():
        operation = get_operation(server.op_id)
        need = get_need(need_id)
        change_status(need, "ready", actor="e2e")
        volunteers = [volunteer_by_token(c) for c in codes]
        for v in volunteers:
            check_in(operation, v, site_id=server.site_id, health_ok=True, health={},
                     insurance_enrolled_now=False, method="scan", actor="e2e")
        team, _warnings = form_team(operation, need, [v.id for v in volunteers],
                                    volunteers[0].id, actor="e2e")
        dispatch_team(team, transport="walk", actor="e2e")
        db.session.commit()
        return team.id, codes[0], sheet_code(server.app.config["SECRET_KEY"], operation.id,
                                             team.id)


def test_intake_shows_a_duplicate_while_typing_and_adds_the_call(open_tab, coordinator):
    tab = open_tab()
    page, server = tab.page, tab.server
    first = _need(server)
    tab.sign_in(COORDINATOR, PASSWORD)
    tab.goto(f"/o/{server.op_id}/needs/new")
    tab.assert_styled()
    assert page.evaluate("() => document.activeElement.id") == "requester_name"
    page.fill("#description", "二階も浸水したとの電話")
    page.type("#phone", "0422112233")
    hint = page.locator("#dup-list .dup")
    hint.wait_for()
    assert f"N{first:05d}" in hint.inner_text()
    assert "same phone" in hint.inner_text() or "電話" in hint.inner_text()
    tab.shot("needs_intake_duplicate")
    hint.locator("button").click()
    page.locator("#dup-result .flash-info").wait_for()
    assert f"N{first:05d}" in page.inner_text("#dup-result")
    from dvc.extensions import db
    from dvc.needs.models import Need
    with server.app.app_context():
        assert "二階も浸水したとの電話" in db.session.get(Need, first).description
        assert db.session.scalar(db.select(db.func.count()).select_from(Need)) == 1
    _only_tiles_blocked(tab)
    tab.assert_no_junk()
    tab.assert_clean()


def test_intake_map_click_places_the_point(open_tab, coordinator):
    tab = open_tab()
    page, server = tab.page, tab.server
    tab.sign_in(COORDINATOR, PASSWORD)
    tab.goto(f"/o/{server.op_id}/needs/new")
    if not page.locator("#need-map").count():
        pytest.skip("Leaflet is not served by this build (dvc/maps)")
    page.locator("#need-map.leaflet-container").wait_for()
    page.locator("#need-map").click(position={"x": 120, "y": 80})
    lat, lon = float(page.input_value("#lat")), float(page.input_value("#lon"))
    assert 35.5 < lat < 35.9 and 139.3 < lon < 139.8, (lat, lon)
    page.fill("#requester_name", "地図 太郎")
    page.fill("#address", "テスト市南町5")
    page.check("input[name=category][value=debris]")
    page.locator("#dup-list li").first.wait_for()  # the hint has answered; nothing in flight
    with page.expect_navigation():
        page.click("#need-form button[type=submit]")
    assert re.fullmatch(rf"/o/{server.op_id}/needs/\d+", urlsplit(page.url).path)
    _only_tiles_blocked(tab)
    tab.assert_clean()


def test_report_desk_scanner_opens_the_teams_report(open_tab, coordinator):
    tab = open_tab()
    page, server = tab.page, tab.server
    team_id, leader_code, code = _team(server)
    tab.sign_in(COORDINATOR, PASSWORD)
    tab.goto(f"/o/{server.op_id}/reports")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === "
                           "'scan-input'")
    page.keyboard.type(code)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urlsplit(page.url).path == f"/o/{server.op_id}/teams/{team_id}/report"
    page.check("input[name=outcome][value=completed]")
    with page.expect_navigation():
        page.click("#report-form button[type=submit]")
    assert urlsplit(page.url).path == f"/o/{server.op_id}/reports"
    assert page.locator(".flash-info").count() == 1
    tab.assert_no_junk()
    tab.assert_clean()


def test_dispatch_sheet_prints(open_tab, coordinator):
    tab = open_tab()
    page, server = tab.page, tab.server
    team_id, _leader, code = _team(server)
    tab.sign_in(COORDINATOR, PASSWORD)
    tab.goto(f"/o/{server.op_id}/teams/{team_id}/sheet")
    assert code in page.inner_text(".sheet-qr")
    assert page.locator(".sheet-map circle").count() == 1
    page.emulate_media(media="print")
    assert page.locator(".topbar").is_hidden()
    tab.shot("dispatch_sheet")
    tab.assert_no_junk()
    tab.assert_clean()


def test_leader_phone_page(open_tab, phone_tab, coordinator):
    team_id, leader_code, _code = _team(phone_tab.server)
    phone_tab.goto(f"/v/{leader_code}")
    page = phone_tab.page
    assert page.locator("#requester-phone").is_visible()
    with page.expect_navigation():
        page.click("form[action$='/arrive'] button")
    assert page.locator("form[action$='/arrive']").count() == 0
    phone_tab.shot("leader_phone")
    phone_tab.assert_no_junk()
    phone_tab.assert_clean()
