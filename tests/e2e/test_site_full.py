"""A site at today's quota: the kiosk says so, offers the next day and links to the public
recruitment page (募集状況), which renders complete offline."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def scan(page, code: str) -> None:
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def test_a_full_site_refuses_at_the_kiosk_and_offers_the_next_day(open_tab, live_server):
    from dvc.extensions import db
    from dvc.operations.operations import get_operation
    from dvc.sites.models import Site
    from dvc.sites.operations import update_site
    from dvc.volunteers.operations import check_in, volunteer_by_token
    server = live_server
    _first, first_code = server.register_volunteer()
    name, code = server.register_volunteer(name="満員 次郎", kana="まんいん じろう",
                                           phone="090-7777-8888")
    with server.app.app_context():
        update_site(db.session.get(Site, server.site_id), {"daily_quota": 1}, actor="e2e")
        check_in(get_operation(server.op_id), volunteer_by_token(first_code),
                 site_id=server.site_id, health_ok=True, insurance_enrolled_now=False,
                 method="scan", actor="e2e")
        db.session.commit()

    desk = open_tab()
    page = desk.page
    desk.sign_in()
    desk.goto(f"/o/{server.op_id}/reception")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === "
                           "'scan-input'")
    scan(page, code)
    page.locator("#result .volunteer-card [data-f=confirm]").wait_for()
    with page.expect_response(lambda r: r.url.endswith("/checkins")) as answer:
        page.click("#result [data-f=confirm]")
    assert answer.value.status == 409
    refusal = page.locator("#result .site-full")
    refusal.wait_for()
    text = refusal.inner_text()
    assert "本部" in text and "11/23" in text, text
    link = refusal.locator("a")
    assert link.get_attribute("href") == f"/o/{server.op_id}/recruitment"
    assert server.count_checkins() == 1
    desk.assert_no_junk()
    desk.shot("kiosk_site_full")
    assert {s for s, _m, _p in desk.bad_responses} == {409}
    desk.console_errors.clear()
    desk.bad_responses.clear()
    desk.assert_clean()

    # A volunteer opens the recruitment page on their phone, signed out, in plain Japanese.
    phone = open_tab(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.goto(f"/o/{server.op_id}/recruitment?lang=ja-easy")
    site = phone.page.locator(f"article[data-site='{server.site_id}']")
    assert site.get_attribute("data-status") == "full"
    assert "きょうは いっぱい" in site.inner_text()
    body = phone.page.inner_text("body")
    assert name not in body and "090-7777-8888" not in body
    phone.assert_styled()
    phone.assert_no_junk()
    phone.shot("recruitment_phone")
    phone.assert_clean()
