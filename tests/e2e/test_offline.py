"""The offline promise: every page renders complete from this server alone, with every request
to another host aborted, no console errors and no failed requests."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


# The one other host the Content Security Policy lets a page reach: the online basemap's tiles
# (img-src); a fetch to any other host is refused by the browser before the guard sees it.
TILE = "https://cyberjapandata.gsi.go.jp/xyz/std/0/0/0.png"


def test_the_guard_aborts_requests_to_other_hosts(tab):
    """The other tests' "nothing was blocked" means something only if blocking works."""
    tab.goto("/login")
    outcome = tab.page.evaluate("""url => new Promise(done => {
        const img = new Image();
        img.onload = () => done('reached');
        img.onerror = () => done('aborted');
        img.src = url;
    })""", TILE)
    assert outcome == "aborted"
    assert tab.blocked == [TILE]
    refused = tab.page.evaluate("""() => fetch('https://example.org/x.js').then(
        () => 'reached', () => 'refused')""")
    assert refused == "refused" and tab.blocked == [TILE]  # the CSP (connect-src) refused it
    tab.blocked.clear()
    # "Failed to load resource: net::ERR_BLOCKED_BY_CLIENT", "Refused to connect to ..."
    tab.console_errors.clear()
    tab.assert_clean()


PUBLIC_PAGES = ("register", "my_page", "login")
STAFF_PAGES = ("kiosk", "roster")


def page_path(server, which: str, code: str) -> str:
    return {"register": f"/o/{server.op_id}/register", "my_page": f"/v/{code}",
            "login": "/login", "kiosk": f"/o/{server.op_id}/reception",
            "roster": f"/o/{server.op_id}/roster"}[which]


@pytest.mark.parametrize("language", ["ja", "ja-easy", "en"])
def test_pages_render_complete_offline(open_tab, live_server, language):
    _name, code = live_server.register_volunteer()
    tab = open_tab()
    page = tab.page

    def visit(which):
        path = page_path(live_server, which, code)
        tab.goto(f"{path}?lang={language}")
        assert page.title().strip(), which
        assert page.get_attribute("html", "lang") == ("en" if language == "en" else "ja")
        assert page.locator("main h1").first.inner_text().strip(), which
        tab.assert_styled()
        tab.assert_no_junk()
        broken = page.evaluate("""() => [...document.images]
            .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)""")
        assert broken == [], (which, broken)
        tab.assert_clean()

    for which in PUBLIC_PAGES:
        visit(which)
    tab.goto(f"/v/{code}")
    assert page.locator("img.qr").count() == 1  # the volunteer page had its QR code
    tab.sign_in()
    for which in STAFF_PAGES:
        visit(which)
    # The kiosk's own script was fetched and ran without error; the scanner input has the focus.
    tab.goto(f"{page_path(live_server, 'kiosk', code)}?lang={language}")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === "
                           "'scan-input'")
    assert ("/static/js/kiosk.js", 200) in tab.scripts(), tab.scripts()
    tab.assert_clean()
