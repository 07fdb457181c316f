"""A drill in a real browser: a trainer starts a shipped scenario at 600x from /drills and
starts its clock; a needs desk (another browser, another account) sees the 訓練 / DRILL banner
and a delivered inject in its inbox and acknowledges it; the trainer's console shows the
acknowledgement and the response time. The app's clock is moved by the test, never waited for."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from dvc.drills.operations import read_scenario
from dvc.drills.scenario import loads
from tests.e2e.conftest import TIMEOUT_MS

pytestmark = pytest.mark.e2e
TRAINER, TRAINER_PASSWORD = "trainer-e2e", "password-trainer"
NEEDS, NEEDS_PASSWORD = "needs-e2e", "password-needs"
SCENARIO = loads(read_scenario("earthquake-setup"))
# +00:35, a welfare commissioner's call to the needs and matching desks; what it expects (a
# team formed) nobody does here, so its response time is the needs desk's acknowledgement.
INJECT = SCENARIO.inject(5)
# Listen for what the Content Security Policy refuses, before any page script runs.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
}, true);
"""


@pytest.fixture
def accounts(live_server):
    from dvc.auth.operations import create_user
    from dvc.extensions import db
    with live_server.app.app_context():
        create_user(TRAINER, "trainer", TRAINER_PASSWORD, display_name="統制 一郎", actor="e2e")
        create_user(NEEDS, "needs_intake", NEEDS_PASSWORD, display_name="ニーズ 花子",
                    actor="e2e")
        db.session.commit()


@pytest.fixture
def expect():
    """Playwright's expect, patient enough for the banner's tick (every 3 s) and a refresh."""
    from playwright.sync_api import expect
    expect.set_options(timeout=TIMEOUT_MS)
    yield expect
    expect.set_options(timeout=None)  # back to Playwright's default


def _tab(open_tab, username: str, password: str):
    tab = open_tab()
    tab.context.add_init_script(LISTEN)
    tab.sign_in(username, password)
    return tab


def _csp(tab) -> list[str]:
    return tab.page.evaluate("() => window.__csp || ['the listener did not run']")


def test_a_trainer_runs_a_drill_and_a_desk_acknowledges_an_inject(open_tab, live_server,
                                                                 accounts, expect):
    clock = live_server.app.extensions["dvc.clock"]   # the app's own clock: frozen

    # The trainer starts the earthquake set-up scenario at 600x from the drills page.
    trainer = _tab(open_tab, TRAINER, TRAINER_PASSWORD)
    trainer.goto("/drills")
    trainer.assert_styled()
    card = trainer.page.locator("#scenario-earthquake-setup")
    expect(card).to_contain_text(SCENARIO.title)
    card.locator("input[name=speed]").fill("600")
    with trainer.page.expect_navigation():
        card.locator("button[type=submit]").click()
    path = urlsplit(trainer.page.url).path
    op = int(re.fullmatch(r"/o/(\d+)/drill/console", path).group(1))
    console, banner = trainer.page.locator(".drill-console"), trainer.page.locator("#drill-banner")
    expect(banner).to_have_attribute("data-status", "ready")
    expect(console.locator('[data-c="speed"]')).to_have_text("×600")
    expect(console.locator('[data-c="time"]')).to_have_text("09:00:00")

    console.locator('button[data-action="start"]').click()
    expect(banner).to_have_attribute("data-status", "running")
    expect(console.locator('button[data-action="pause"]')).to_be_visible()
    # 3.5 s of the app's clock at 600x: 35 minutes of the scenario, to 09:35.
    clock.advance(timedelta(seconds=3.5))
    expect(console.locator('[data-c="time"]')).to_have_text("09:35:00")
    expect(console.locator('tr[data-n="5"]')).to_have_class("inject-delivered")

    # A needs desk, in its own browser, plays: the banner, the inject, the acknowledgement.
    desk = _tab(open_tab, NEEDS, NEEDS_PASSWORD)
    desk.goto(f"/o/{op}/drill/inbox")
    page = desk.page
    expect(page.locator("#drill-banner")).to_contain_text("訓練 / DRILL")
    expect(page.locator('#drill-banner [data-b="clock"]')).to_have_text("09:35")
    page.select_option("#desk", label="ニーズ")
    message = page.locator('.drill-message-card[data-inject="5"]')
    expect(message).to_contain_text(INJECT.message)
    expect(message).to_contain_text("09:35")
    expect(page.locator(".drill-message-card").first).to_have_attribute("data-inject", "5")
    expect(message).to_have_class(re.compile(r"\bunread\b"))
    expect(page.locator('#drill-banner [data-b="unread"]')).to_have_class(re.compile("has-unread"))
    desk.shot("drill-inbox")
    clock.advance(timedelta(seconds=0.5))             # five minutes later, 09:40
    expect(page.locator('#drill-banner [data-b="clock"]')).to_have_text("09:40")
    message.locator('[data-f="ack"]').click()
    expect(message.locator('[data-f="acked"]')).to_contain_text("09:40")
    expect(message).not_to_have_class(re.compile(r"\bunread\b"))
    body = page.inner_text("body")
    assert all(i.notes not in body for i in SCENARIO.injects if i.notes)
    assert page.evaluate(f"() => localStorage.getItem('dvc.drill.{op}.desk')") == "needs"

    # The trainer's console shows who acknowledged, when, and how fast.
    row = console.locator('tr[data-n="5"]')
    expect(row.locator('[data-t="acks"]')).to_contain_text("ニーズ 09:40")
    expect(row.locator('[data-t="response"]')).to_contain_text("5.0")
    expect(row).to_have_class("inject-acknowledged")
    expect(row).to_contain_text(INJECT.notes)          # the notes, for the trainer only
    trainer.shot("drill-console")

    # Jump to a time typed as HH:MM in the scenario's zone; going back is refused, clearly.
    jump = console.locator('form[data-form="jump"]')
    jump.locator("input[name=to]").fill("10:30")
    jump.locator("button[type=submit]").click()
    expect(console.locator('[data-c="time"]')).to_have_text("10:30:00")
    expect(page.locator('#drill-banner [data-b="clock"]')).to_have_text("10:30")
    jump.locator("input[name=to]").fill("10:00")
    jump.locator("button[type=submit]").click()
    expect(trainer.page.locator("#console-error")).to_contain_text("10:30")
    expect(console.locator('[data-c="time"]')).to_have_text("10:30:00")

    for tab in (trainer, desk):
        tab.assert_no_junk()
        tab.assert_clean(expected_status=(422,) if tab is trainer else ())
        assert _csp(tab) == []
