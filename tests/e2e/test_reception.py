"""Reception: a keyboard-wedge scanner types the volunteer's code into the kiosk, staff confirm,
and a second scan of the same code records nothing new."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e


def focused_id(page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


def scan(page, code: str) -> None:
    """What a USB/Bluetooth scanner does: type the characters, then Enter, into whatever has
    the focus (no click first)."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def test_scan_check_in_and_scan_again(phone_tab, open_tab, fill_registration):
    # The volunteer registers on their own phone.
    volunteer = phone_tab
    volunteer.goto(f"/o/{volunteer.server.op_id}/register")
    name = fill_registration(volunteer.page)["name"]
    with volunteer.page.expect_navigation():
        volunteer.page.click("#register-form button[type=submit]")
    code = re.fullmatch(r"/v/([0-9A-Z]+)", urlsplit(volunteer.page.url).path).group(1)
    volunteer.assert_clean()

    # Reception signs in on the kiosk tablet and opens the kiosk. The tablet's clock is set to
    # another time zone: times are still shown in the centre's.
    desk = open_tab(timezone_id="America/New_York")
    page, server = desk.page, desk.server
    desk.sign_in()
    desk.goto(f"/o/{server.op_id}/reception")
    desk.assert_styled()
    assert page.locator(".result-panel .placeholder").is_visible()
    page.wait_for_function("() => document.activeElement && document.activeElement.id === "
                           "'scan-input'")

    # First scan: the card with the name, insurance fine, the confirm button ready.
    scan(page, code)
    card = page.locator("#result .volunteer-card")
    card.wait_for()
    assert card.locator("[data-f=name]").inner_text() == name
    assert card.locator("[data-f=number]").inner_text() == "00001"
    assert card.locator("[data-f=already]").is_hidden()
    assert "ok" in card.locator("[data-f=insurance]").get_attribute("class").split()
    assert card.locator("[data-f=enrol-row]").is_hidden()  # insured: nothing to tick
    confirm = card.locator("[data-f=confirm]")
    assert confirm.is_visible() and confirm.is_enabled()
    assert page.evaluate("() => document.activeElement.dataset.f") == "confirm"
    assert page.input_value("#scan-input") == ""
    desk.assert_no_junk()
    desk.shot("kiosk_card")

    # Staff ask the health questions and press Enter on the focused "check in" button.
    page.keyboard.press("Enter")
    done = page.locator("#result .done .big-check")
    done.wait_for()
    assert done.inner_text().startswith("✔") and name in done.inner_text()
    assert page.locator("#result .done a.button").count() == 1  # print the name tag
    desk.shot("kiosk_checked_in")
    assert focused_id(page) == "scan-input"  # ready for the next scanner input
    assert server.count_checkins() == 1

    # The same code again: "already checked in", at the main site at 09:00, no form.
    scan(page, code)
    already = page.locator("#result .volunteer-card [data-f=already]")
    already.wait_for()
    text = already.inner_text()
    assert "本部" in text and "09:00" in text, text
    assert page.locator("#result .volunteer-card [data-f=form]").is_hidden()
    assert page.locator("#result [data-f=confirm]").is_hidden()
    assert focused_id(page) == "scan-input"
    desk.assert_no_junk()
    desk.shot("kiosk_already")

    # Nothing new was recorded: the database, the API and the roster all say one check-in.
    assert server.count_checkins() == 1
    listed = page.request.get(server.url(f"/api/v1/operations/{server.op_id}/checkins"))
    assert listed.status == 200
    checkins = listed.json()
    assert len(checkins) == 1
    assert checkins[0]["volunteer"]["name"] == name
    assert checkins[0]["method"] == "scan" and checkins[0]["site_id"] == server.site_id

    desk.goto(f"/o/{server.op_id}/roster")
    desk.assert_styled()
    assert page.inner_text("#count-people").strip() == "1"
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 1 and name in rows.first.inner_text()
    desk.shot("roster")
    desk.assert_clean()


def test_unknown_code_is_refused_on_the_kiosk(open_tab):
    desk = open_tab()
    page, server = desk.page, desk.server
    desk.sign_in()
    desk.goto(f"/o/{server.op_id}/reception")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === "
                           "'scan-input'")
    _name, code = server.register_volunteer()
    # A code that is not a volunteer code at all, then one with a mistyped character.
    damaged = code[:-1] + ("A" if code[-1] != "A" else "B")
    messages = []
    for text in ("HELLO", damaged):
        with page.expect_response(lambda r: r.url.endswith("/lookup")) as answer:
            scan(page, text)
        assert answer.value.status == 422, answer.value.status
        shown = page.wait_for_function(
            """previous => {
                const p = document.querySelector('#result .flash-error');
                return p && p.textContent.trim() !== previous && p.textContent.trim();
            }""", arg=messages[-1] if messages else "")
        messages.append(shown.json_value())
        assert focused_id(page) == "scan-input"
    assert all(messages) and messages[0] != messages[1], messages  # says which problem it is

    # Staff may use the search box; a click anywhere else gives the scanner its input back.
    page.click("#search-input")
    assert focused_id(page) == "search-input"
    page.click(".scan-panel h1")
    assert focused_id(page) == "scan-input"
    assert page.locator("#result .volunteer-card").count() == 0
    assert server.count_checkins() == 0
    desk.assert_no_junk()
    # The API's refusals are 4xx answers the page shows; the browser logs them to the console.
    assert {status for status, _m, _p in desk.bad_responses} == {422}
    assert all(path.endswith("/lookup") for _s, _m, path in desk.bad_responses)
    desk.console_errors.clear()
    desk.bad_responses.clear()
    desk.assert_clean()


def test_uninsured_volunteer_is_enrolled_at_the_desk(open_tab):
    desk = open_tab()
    page, server = desk.page, desk.server
    name, code = server.register_volunteer(insurance="none", insurance_council=None)
    desk.sign_in()
    desk.goto(f"/o/{server.op_id}/reception")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === "
                           "'scan-input'")
    scan(page, code)
    card = page.locator("#result .volunteer-card")
    card.wait_for()
    assert card.locator("[data-f=name]").inner_text() == name
    assert "warn" in card.locator("[data-f=insurance]").get_attribute("class").split()
    enrol = card.locator("[data-f=enrol-row]")
    assert enrol.is_visible()
    desk.shot("kiosk_uninsured")

    # Confirming without the insurance is refused, said on the card, and nothing is recorded.
    with page.expect_response(lambda r: r.url.endswith("/checkins")) as answer:
        card.locator("[data-f=confirm]").click()
    assert answer.value.status == 409
    page.locator("#result > .flash-error").wait_for()  # above the card, which stays
    assert server.count_checkins() == 0
    assert card.locator("[data-f=confirm]").is_enabled()
    with page.expect_response(lambda r: r.url.endswith("/checkins")):
        card.locator("[data-f=confirm]").click()  # again, still without the insurance
    page.wait_for_function("() => !document.querySelector('#result [data-f=confirm]').disabled")
    assert page.locator("#result > .flash-error").count() == 1
    assert server.count_checkins() == 0

    # Enrolled at the desk just now: tick, confirm, checked in.
    card.locator("[data-f=enrol]").check()
    card.locator("[data-f=confirm]").click()
    done = page.locator("#result .done .big-check")
    done.wait_for()
    assert name in done.inner_text()
    assert server.count_checkins() == 1
    listed = page.request.get(server.url(f"/api/v1/operations/{server.op_id}/checkins")).json()
    assert [c["insurance_enrolled_now"] for c in listed] == [True]
    assert listed[0]["volunteer"]["insurance"] == "centre"
    desk.assert_no_junk()
    assert [s for s, _m, _p in desk.bad_responses] == [409, 409]
    desk.console_errors.clear()
    desk.bad_responses.clear()
    desk.assert_clean()


def test_group_checks_in_with_todays_headcount(open_tab):
    desk = open_tab()
    page, server = desk.page, desk.server
    name, code = server.register_volunteer(group_name="三鷹ボランティア会", group_size=5,
                                           group_members="田中、鈴木、高橋、伊藤")
    desk.sign_in()
    desk.goto(f"/o/{server.op_id}/reception")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === "
                           "'scan-input'")
    scan(page, code)
    card = page.locator("#result .volunteer-card")
    card.wait_for()
    assert "三鷹ボランティア会" in card.locator("[data-f=group]").inner_text()
    headcount = card.locator("[data-f=headcount]")
    assert headcount.is_visible() and headcount.input_value() == "5"
    headcount.fill("3")  # two of them stayed home today
    card.locator("[data-f=confirm]").click()
    page.locator("#result .done .big-check").wait_for()
    listed = page.request.get(server.url(f"/api/v1/operations/{server.op_id}/checkins")).json()
    assert [(c["volunteer"]["name"], c["headcount"]) for c in listed] == [(name, 3)]
    desk.goto(f"/o/{server.op_id}/roster")
    assert page.inner_text("#count-people").strip() == "3"
    desk.assert_no_junk()
    desk.assert_clean()
