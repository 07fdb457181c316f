"""Reception on a weak Wi-Fi: the kiosk's check-in reaches the server but the answer is lost;
the kiosk sends it again with the same Idempotency-Key and the volunteer is checked in once."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_a_lost_answer_is_retried_with_the_same_key_and_applied_once(open_tab):
    desk = open_tab()
    page, server = desk.page, desk.server
    first_name, first = server.register_volunteer()
    second_name, second = server.register_volunteer(name="鈴木 一郎", kana="すずき いちろう",
                                                    phone="090-7777-8888")
    sent, answers = [], []

    def drop_first_answer(route):
        """The first check-in reaches the server; its answer never reaches the tablet."""
        sent.append(route.request.headers.get("idempotency-key"))
        if len(sent) == 1:
            answers.append(route.fetch())
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/operations/*/checkins", drop_first_answer)
    page.on("response", lambda r: answers.append(r) if r.url.endswith("/checkins") else None)
    desk.sign_in()
    desk.goto(f"/o/{server.op_id}/reception")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === "
                           "'scan-input'")
    for code in (first, second):
        page.keyboard.type(code)
        page.keyboard.press("Enter")
        page.locator("#result .volunteer-card [data-f=confirm]").click()
        page.locator("#result .done .big-check").wait_for()

    assert server.count_checkins() == 2
    # The lost one went twice with one key; the next volunteer is a new action, a new key.
    assert len(sent) == 3 and UUID.fullmatch(sent[0]) and sent[1] == sent[0] != sent[2]
    lost, retried = answers[0], answers[1]
    assert lost.status == 201 and retried.status == 201
    assert retried.headers.get("idempotent-replayed") == "true"
    assert retried.json() == lost.json()
    assert second_name in page.locator("#result .done .big-check").inner_text()
