"""The Content Security Policy in a real browser (issue 9): the main pages, the coordinator's
map (folium + Leaflet), the reception kiosk, the dashboard and the needs pages do their work
under the policy, and the browser reports no violation on any of them.

Violations are caught twice: the page's `securitypolicyviolation` events (a listener added
before any page script runs) and Chromium's console ("Refused to ... Content Security Policy").
"""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

TILE_HOST = "cyberjapandata.gsi.go.jp"  # the online basemap: allowed, but aborted offline
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " blocked " + e.blockedURI + " at " +
                    e.sourceFile + ":" + e.lineNumber + " " + (e.sample || ""));
}, true);
"""


@pytest.fixture
def demo(live_server):
    """The demo centre (dvc/demo.py) in the live server: its id, a need, a volunteer's code."""
    from dvc.demo import DEMO_NAME, load_demo
    from dvc.extensions import db
    from dvc.needs.models import Need
    from dvc.operations.models import Operation
    from dvc.volunteers.models import CheckIn, Volunteer
    from dvc.volunteers.operations import reissue_code

    app = live_server.app
    app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"  # seven demo accounts, quickly
    with app.app_context():
        assert load_demo()
        op = db.session.scalar(db.select(Operation).where(Operation.name == DEMO_NAME))
        here = db.session.scalars(db.select(CheckIn.volunteer_id)).all()
        volunteer = db.session.scalars(db.select(Volunteer).where(
            Volunteer.operation_id == op.id, Volunteer.id.not_in(here),
            Volunteer.group_id.is_(None)).order_by(Volunteer.id)).first()
        code = reissue_code(volunteer, actor="e2e")
        need = db.session.scalars(db.select(Need.id).where(Need.operation_id == op.id)
                                  .order_by(Need.id)).first()
        db.session.commit()
        found = {"op": op.id, "need": need, "code": code, "name": volunteer.name}
        db.session.remove()
    return found


def csp_tab(open_tab, **options):
    tab = open_tab(**options)
    tab.context.add_init_script(LISTEN)
    return tab


def violations(tab) -> list[str]:
    """What the browser refused on the current page (events and console alike)."""
    events = tab.page.evaluate("() => window.__csp || ['the listener did not run']")
    console = [e for e in tab.console_errors if "Content Security Policy" in e]
    return events + console


def assert_obeyed(tab, where: str):
    assert violations(tab) == [], where
    assert tab.page_errors == [], (where, tab.page_errors)
    offsite = [u for u in tab.blocked if TILE_HOST not in u]
    assert offsite == [], (where, offsite)


def visit(tab, path: str, ready: str | None = None):
    """Open a page, wait until its script has done its work, and check nothing was refused."""
    tab.goto(path)
    if ready:
        tab.page.wait_for_function(ready)
    assert_obeyed(tab, path)


def test_the_listener_sees_what_the_policy_refuses(open_tab, demo):
    """The check itself works: an inline style attribute, an inline script and an image
    from another host are refused and reported."""
    tab = csp_tab(open_tab)
    tab.goto("/login")
    tab.page.evaluate("""() => {
        document.body.setAttribute("style", "color: red");
        const s = document.createElement("script");
        s.textContent = "window.__ran = true";
        document.body.append(s);
        const img = document.createElement("img");
        img.src = "https://elsewhere.example/x.png";
        document.body.append(img);
    }""")
    tab.page.wait_for_function("() => window.__csp.length >= 3")
    seen = " ".join(violations(tab))
    assert "style-src" in seen and "script-src" in seen and "img-src" in seen, seen
    assert tab.page.evaluate("() => window.__ran") is None


def test_public_pages_obey_the_policy(open_tab, demo):
    tab = csp_tab(open_tab)
    for path in ("/login", f"/o/{demo['op']}/register", f"/o/{demo['op']}/recruitment",
                 f"/o/{demo['op']}/stats", f"/v/{demo['code']}"):
        visit(tab, path)
        tab.assert_styled()
    assert ("/static/js/dvc.js", 200) in tab.scripts()


def test_the_coordinator_map_works_under_the_policy(open_tab, demo):
    tab = csp_tab(open_tab)
    tab.sign_in("coordinator", "coordinator-demo")
    path = f"/o/{demo['op']}/map"
    visit(tab, path, "() => window.dvcMapStats && window.dvcMapStats.ready")
    page = tab.page
    assert page.evaluate("() => window.dvcMapStats.markers") >= 30  # the demo's needs
    assert page.locator(".leaflet-container").count() == 1
    assert page.locator(".leaflet-control-scale").count() == 1
    # The layers (districts, sites, shelters) drew from the API.
    page.wait_for_function("() => ['districts', 'sites', 'shelters'].every(n => "
                           "window.dvcMap.layers && window.dvcMap.layers.stats.loaded[n] >= 1)")
    assert page.evaluate("() => window.dvcMap.layers.districts.getLayers().length") > 0
    # The tiles were allowed by the policy (then aborted: the test is offline).
    assert any(TILE_HOST in u for u in tab.blocked)
    # A need waiting for a team opens its panel, filled from the API (coordmap.js builds it
    # from <template>s: no inline handler, no style attribute).
    page.locator("#waiting-list button").first.click()
    panel = page.locator("#need-panel")
    panel.wait_for(state="visible")
    page.locator("#volunteer-rows tr").first.wait_for()
    assert_obeyed(tab, path)
    tab.shot("csp_map")


def test_the_reception_kiosk_works_under_the_policy(open_tab, demo):
    tab = csp_tab(open_tab)
    tab.sign_in("reception", "reception-demo")
    path = f"/o/{demo['op']}/reception"
    visit(tab, path, "() => document.activeElement && document.activeElement.id === "
                     "'scan-input'")
    page = tab.page
    # The camera is this site's to ask for (Permissions-Policy), the position nobody's.
    allows = page.evaluate("""() => document.featurePolicy ? {
        camera: document.featurePolicy.allowsFeature("camera"),
        geolocation: document.featurePolicy.allowsFeature("geolocation")} : null""")
    if allows is not None:
        assert allows == {"camera": True, "geolocation": False}, allows
    page.keyboard.type(demo["code"])
    page.keyboard.press("Enter")
    card = page.locator("#result .volunteer-card")
    card.wait_for()
    assert card.locator("[data-f=name]").inner_text() == demo["name"]
    page.keyboard.press("Enter")  # check in (fetch with the CSRF header)
    page.locator("#result .done .big-check").wait_for()
    assert_obeyed(tab, path)


def test_the_dashboard_works_under_the_policy(open_tab, demo):
    tab = csp_tab(open_tab)
    tab.sign_in("viewer", "viewer-demo")
    path = f"/o/{demo['op']}/dashboard"
    visit(tab, path)
    page = tab.page
    page.evaluate("() => window.dvcDashboard.poll()")  # a poll now, not in 15 s
    page.wait_for_function("() => window.dvcDashboard.ok >= 1")
    assert page.locator("svg.chart").count() >= 1
    assert_obeyed(tab, path)


def test_the_needs_pages_work_under_the_policy(open_tab, demo):
    tab = csp_tab(open_tab)
    tab.sign_in("coordinator", "coordinator-demo")
    op = demo["op"]
    visit(tab, f"/o/{op}/needs")
    visit(tab, f"/o/{op}/needs/{demo['need']}")
    visit(tab, f"/o/{op}/needs/new")
    page = tab.page
    # needs.js asks the API for possible duplicates while staff type (fetch under connect-src).
    with page.expect_response(lambda r: "/needs/duplicates" in r.url):
        page.fill("[data-dup=phone]", "0422000001")
    # The intake map (Leaflet from this server) places the point where staff click.
    page.locator("#need-map.leaflet-container").wait_for()
    page.locator("#need-map").click(position={"x": 120, "y": 80})
    assert page.input_value("#lat") and page.input_value("#lon")
    page.fill("#requester_name", "地図 太郎")
    page.fill("#address", "架空市南町5")
    page.check("input[name=category][value=debris]")
    with page.expect_navigation():  # the form posts to this server (form-action 'self')
        page.click("#need-form button[type=submit]")
    assert "/needs/new" not in page.url
    assert_obeyed(tab, "the need just saved")


def test_the_other_staff_pages_obey_the_policy(open_tab, demo):
    tab = csp_tab(open_tab)
    tab.sign_in("admin", "admin-demo")
    op = demo["op"]
    for path in ("/", f"/o/{op}", f"/o/{op}/roster", f"/o/{op}/nametags",
                 f"/o/{op}/reports", f"/o/{op}/safety", f"/o/{op}/equipment",
                 f"/o/{op}/sites", f"/o/{op}/shelters", f"/o/{op}/districts",
                 f"/o/{op}/map/overview", f"/o/{op}/reports/daily", f"/o/{op}/export",
                 f"/o/{op}/fallback", f"/o/{op}/posters/register", "/prefecture", "/ca"):
        visit(tab, path)
    assert_obeyed(tab, "staff pages")
