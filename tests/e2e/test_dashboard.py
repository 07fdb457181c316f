"""The live dashboard in a real browser, with every other host aborted: it renders from the
app alone, a check-in made through the API shows up by itself (arrivals and queue) without a
reload and without redrawing the panels that did not change, a server that stops answering
is said plainly and the old figures stay; a tablet and the wall mode are legible."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from werkzeug.exceptions import InternalServerError

from tests.e2e.conftest import T0

pytestmark = pytest.mark.e2e

VIEWER, PASSWORD = "viewer-e2e", "password-viewer"
JST = ZoneInfo("Asia/Tokyo")
TABLET = {"viewport": {"width": 820, "height": 1180}, "device_scale_factor": 1,
          "has_touch": True}
WALL = {"viewport": {"width": 1920, "height": 1080}}
FIGURE_JS = "name => document.querySelector('[data-value=\"' + name + '\"]').textContent"


def local(hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return T0.astimezone(JST).replace(hour=hours, minute=minutes)


@pytest.fixture
def morning(live_server):
    """A morning at the centre: 14 check-ins from 08:30 (one a group of 5), a team out, needs
    in three districts, shovels lent and low, an injury; the clock at 09:20. Returns a bearer
    header for reception (to check someone in during the test)."""
    from dvc.auth.models import User
    from dvc.auth.operations import create_user, issue_token
    from dvc.equipment import operations as eq
    from dvc.extensions import db
    from dvc.needs.operations import NeedInput, change_status, create_need
    from dvc.operations.operations import get_operation
    from dvc.sites.operations import get_site
    from dvc.teams import operations as teams
    from dvc.volunteers.operations import Registration, check_in, register_volunteer

    app, clock = live_server.app, live_server.app.extensions["dvc.clock"]
    app.config["DASHBOARD_REFRESH_SECONDS"] = 1
    with app.app_context():
        create_user(VIEWER, "viewer", PASSWORD, display_name="センター長", actor="e2e")
        reception = db.session.scalar(db.select(User).where(User.username == live_server.username))
        token = issue_token(reception, actor="e2e")
        op = get_operation(live_server.op_id)
        clock.jump(local("08:00"))
        needs = []
        for i, (district, priority) in enumerate([("北町", "urgent"), ("北町", "normal"),
                                                  ("南町", "high"), ("南町", "normal"),
                                                  ("中央", "normal"), (None, "normal")]):
            need = create_need(op, NeedInput(
                requester_name=f"依頼者 {i}", address=f"テスト市 {i}", category="mud_removal",
                phone=f"0422-22-{i:04d}", district=district, priority=priority), actor="e2e")
            if i < 4:
                change_status(need, "ready", actor="e2e")
            needs.append(need)
        people = []
        for i in range(14):
            clock.jump(local("08:30") + timedelta(minutes=3 * i))
            volunteer, _code = register_volunteer(op, Registration(
                name=f"朝 {i}", kana=f"あさ {i}", phone=f"090-8100-{i:04d}", prefecture="東京都",
                municipality="三鷹市", birth_year=1970 + i, emergency_name="家族",
                emergency_phone="080-0000-0000", consent=True, insurance="home",
                insurance_council="三鷹市社会福祉協議会",
                group_name="青年会" if i == 5 else None, group_size=5 if i == 5 else None),
                via="pre", actor="e2e")
            check_in(op, volunteer, site_id=live_server.site_id, health_ok=True,
                     insurance_enrolled_now=False, method="scan", actor="e2e")
            people.append(volunteer.id)
        clock.jump(local("09:10"))
        shovel = eq.add_item_type(op, "スコップ", unit="本", low_stock=3, actor="e2e")
        eq.receive_stock(get_site(live_server.site_id), shovel, 6, actor="e2e")
        team, _warnings = teams.form_team(op, needs[0], people[:3], people[0], actor="e2e")
        eq.lend_to_team(team, shovel, 3, actor="e2e")
        teams.dispatch_team(team, transport="walk", actor="e2e")
        teams.record_incident(op.id, kind="injury", description="転倒", actor="e2e", team=team)
        clock.jump(local("09:20"))
        db.session.commit()
        db.session.remove()
    return {"Authorization": f"Bearer {token}"}


def open_dashboard(tab, server, query: str = ""):
    tab.sign_in(VIEWER, PASSWORD)
    tab.goto(f"/o/{server.op_id}/dashboard{query}")
    tab.page.evaluate("() => { window.__sameDocument = true; }")  # gone if the page reloads


def figure(tab, name: str) -> str:
    return tab.page.evaluate(FIGURE_JS, name)


def test_the_dashboard_updates_itself_after_a_check_in(open_tab, live_server, morning):
    tab = open_tab()
    page = tab.page
    open_dashboard(tab, live_server)
    tab.assert_styled()
    assert ("/static/js/dashboard.js", 200) in tab.scripts()
    # 14 check-ins, 18 people (a group of 5); 3 sent out in a team, 15 waiting.
    assert figure(tab, "arrivals-people") == "18"
    assert figure(tab, "queue-people") == "15"
    assert figure(tab, "teams-out") == "1"
    assert figure(tab, "injuries") == "1"
    assert page.locator("[data-figure=injuries]").get_attribute("class") == "alert"
    assert page.locator("svg.chart").count() == 4
    assert page.locator("svg.column-chart rect.current").count() == 1    # 09:15 now
    assert "スコップ" in page.inner_text("[data-panel=equipment] .low-stock")
    page.wait_for_function("() => window.dvcDashboard.ok >= 1")          # a first poll
    assert page.locator("[data-stale]").is_hidden()
    assert page.inner_text("[data-updated]").strip()
    tab.shot("dashboard")

    redraws_before = page.evaluate("() => Object.assign({}, window.dvcDashboard.redraws)")
    _name, code = live_server.register_volunteer(phone="090-8199-0001")
    checked = live_server.app.test_client().post(
        f"/api/v1/operations/{live_server.op_id}/checkins", headers=morning,
        json={"code": code, "site_id": live_server.site_id, "health_ok": True})
    assert checked.status_code == 201, checked.get_json()
    page.wait_for_function(f"() => ({FIGURE_JS})('arrivals-people') === '19'")
    assert figure(tab, "queue-people") == "16"
    assert page.evaluate("() => window.__sameDocument === true")      # no reload
    redraws = page.evaluate("() => window.dvcDashboard.redraws")
    changed = {k for k, v in redraws.items() if v != redraws_before.get(k)}
    assert changed == {"figures", "arrivals", "queue"}, redraws
    # The new arrival is in the 09:15 column's table row too.
    page.click("[data-panel=arrivals] summary")
    assert "09:15" in page.inner_text("#arrivals-table")
    tab.assert_no_junk()
    tab.assert_clean()
    assert tab.blocked == []


def test_a_silent_server_is_said_and_the_figures_stay(open_tab, live_server, morning,
                                                      monkeypatch):
    app = live_server.app
    tab = open_tab()
    page = tab.page
    open_dashboard(tab, live_server)
    page.wait_for_function("() => window.dvcDashboard.ok >= 1")

    def broken(**_kwargs):
        raise InternalServerError("the database is locked")
    working = app.view_functions["dashboard.panels"]
    monkeypatch.setitem(app.view_functions, "dashboard.panels", broken)
    stale = page.locator("[data-stale]")
    stale.wait_for()
    assert "flash-warn" in stale.get_attribute("class")
    assert figure(tab, "arrivals-people") == "18"                         # kept
    assert "is-stale" in page.get_attribute(".dashboard", "class")
    tab.shot("dashboard-stale")
    app.view_functions["dashboard.panels"] = working
    stale.wait_for(state="hidden")
    assert "is-stale" not in page.get_attribute(".dashboard", "class")
    assert page.evaluate("() => window.__sameDocument === true")
    path = f"/o/{live_server.op_id}/dashboard/panels"
    assert {r for r in tab.bad_responses} == {(500, "GET", path)}
    tab.assert_clean(expected_status=(500,))


def test_tablet_and_wall_are_legible(open_tab, live_server, morning):
    tablet = open_tab(**TABLET)
    open_dashboard(tablet, live_server)
    # Two columns on a tablet, nothing wider than the screen.
    width = tablet.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= TABLET["viewport"]["width"]
    columns = tablet.page.evaluate(
        "() => getComputedStyle(document.querySelector('.dash-grid')).gridTemplateColumns"
        ".split(' ').length")
    assert columns == 2
    tablet.shot("dashboard-tablet")
    tablet.assert_clean()

    wall = open_tab(**WALL)
    open_dashboard(wall, live_server, "?wall=1")
    page = wall.page
    assert page.locator(".topbar").is_hidden()
    style = page.evaluate("""() => {
        const b = getComputedStyle(document.body);
        const big = getComputedStyle(document.querySelector('[data-value=arrivals-people]'));
        return {bg: b.backgroundColor, ink: b.color, size: parseFloat(b.fontSize),
                big: parseFloat(big.fontSize)};
    }""")
    assert style["bg"] == "rgb(255, 255, 255)" and style["ink"] == "rgb(0, 0, 0)"
    assert style["size"] >= 22 and style["big"] >= 70
    # Chart text as large as the page's (SVG units near pixels on this screen).
    chart_text = page.evaluate("""() => {
        const t = document.querySelector('[data-panel=needs] svg text');
        return t.getBoundingClientRect().height;
    }""")
    assert chart_text >= 18
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1920
    # A day like this one fits the screen: nobody scrolls a wall.
    assert page.evaluate("() => document.documentElement.scrollHeight") <= 1080
    page.wait_for_function("() => window.dvcDashboard.ok >= 1")
    wall.shot("dashboard-wall")
    wall.assert_no_junk()
    wall.assert_clean()
