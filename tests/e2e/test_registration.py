"""A volunteer registers on their phone and gets their own page with the QR code."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e

CODE_PAGE = re.compile(r"^/v/([0-9A-Z]+)$")
ERROR_RED = "rgb(179, 38, 30)"  # --err: #b3261e


def qr_loaded(page) -> bool:
    return page.evaluate("""() => {
        const img = document.querySelector('img.qr');
        return !!img && img.complete && img.naturalWidth > 0 && img.naturalHeight > 0;
    }""")


def test_volunteer_registers_and_sees_their_code(phone_tab, fill_registration):
    tab, page = phone_tab, phone_tab.page
    tab.goto(f"/o/{tab.server.op_id}/register")
    tab.assert_styled()
    answers = fill_registration(page)
    tab.shot("register")

    with page.expect_navigation():
        page.click("#register-form button[type=submit]")

    parts = urlsplit(page.url)
    match = CODE_PAGE.match(parts.path)
    assert match, page.url
    assert parts.query == "new=1"
    code = match.group(1)
    page.wait_for_function("""() => {
        const img = document.querySelector('img.qr');
        return img && img.complete;
    }""")
    assert qr_loaded(page), "the QR image did not load"
    assert page.inner_text("p.code").strip() == code
    assert answers["name"] in page.inner_text("h1")
    assert page.locator(".flash-info").is_visible()  # "you are registered: save this page"
    tab.assert_styled()
    tab.assert_no_junk()
    tab.shot("my_page")
    assert any(path == f"/v/{code}/qr.svg" for _status, path in tab.loaded), tab.loaded
    tab.assert_clean()

    # The page stays the volunteer's: opening it again (no ?new=1) shows the same code.
    tab.goto(f"/v/{code}")
    assert page.inner_text("p.code").strip() == code
    assert page.locator(".flash-info").count() == 0
    tab.assert_clean()


def test_half_filled_form_keeps_every_answer_and_marks_what_is_missing(phone_tab,
                                                                       fill_registration):
    tab, page = phone_tab, phone_tab.page
    tab.goto(f"/o/{tab.server.op_id}/register")
    typed = fill_registration(page, municipality=None, birth_year=None, emergency_name=None,
                              emergency_phone=None, consent=False,
                              email="taro@example.jp", phone="090-12")

    with page.expect_navigation() as nav:
        page.click("#register-form button[type=submit]")
    assert nav.value.status == 422
    assert urlsplit(page.url).path == f"/o/{tab.server.op_id}/register"

    # One message at the top, and one next to each field that needs fixing.
    assert page.locator("main .flash-error").count() >= 1
    wrong = page.eval_on_selector_all(
        ".field.has-error", "els => els.map(e => e.querySelector('[name]').name)")
    assert set(wrong) == {"phone", "municipality", "birth_year", "emergency_name",
                          "emergency_phone", "consent"}, wrong
    for name in wrong:
        field = page.locator(f".field.has-error:has([name={name}])")
        error = field.locator(".field-error")
        assert error.count() >= 1 and error.first.inner_text().strip(), name
        # Marked in red where the eye is: a bar beside the field (styles from dvc.css).
        assert field.evaluate("e => getComputedStyle(e).borderLeftColor") == ERROR_RED, name
    border = page.eval_on_selector("#municipality", "e => getComputedStyle(e).borderTopColor")
    assert border == ERROR_RED
    tab.shot("register_errors")

    # Nothing typed so far is lost.
    for name in ("name", "kana", "phone", "email", "insurance_council", "insurance_date"):
        assert page.input_value(f"#{name}") == str(typed[name]), name
    assert page.input_value("#prefecture") == typed["prefecture"]
    checked = page.eval_on_selector_all("input[name=skills]:checked", "els => els.map(e => e.value)")
    assert sorted(checked) == sorted(typed["skills"])
    assert page.is_checked(f"input[name=vehicle][value={typed['vehicle']}]")
    assert page.is_checked(f"input[name=insurance][value={typed['insurance']}]")
    assert page.input_value("#municipality") == ""
    assert not page.is_checked("#consent")
    tab.assert_styled()
    tab.assert_no_junk()

    # Fixing only what was marked is enough: the re-shown form (and its CSRF token) still works.
    page.fill("#phone", "090-1234-5678")
    page.fill("#municipality", "三鷹市")
    page.fill("#birth_year", "1985")
    page.fill("#emergency_name", "山田 花子")
    page.fill("#emergency_phone", "080-1111-2222")
    page.check("#consent")
    with page.expect_navigation():
        page.click("#register-form button[type=submit]")
    assert CODE_PAGE.match(urlsplit(page.url).path), page.url
    assert typed["name"] in page.inner_text("h1")
    tab.assert_clean(expected_status=(422,))
