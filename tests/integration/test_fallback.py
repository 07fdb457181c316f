"""The printed fallback pack: it prints N unique, valid codes, and a pre-printed volunteer code
becomes a real registration (through the ordinary form) that then checks in."""
from __future__ import annotations

import re

import pytest

from dvc.config import ROOT
from dvc.core import codes
from dvc.fallback import numbers

FORM = {"name": "紙 太郎", "kana": "かみ たろう", "phone": "080-7777-1234",
        "prefecture": "東京都", "municipality": "三鷹市", "birth_year": "1970",
        "emergency_name": "紙 花子", "emergency_phone": "090-1212-3434",
        "vehicle": "none", "insurance": "none", "consent": "y"}
SECRET = "test-secret"


def order(client, op_id, volunteers=6, needs=3, dispatch=2):
    response = client.post(f"/o/{op_id}/fallback",
                           data={"volunteers": volunteers, "needs": needs, "dispatch": dispatch})
    assert response.status_code == 302, response.text
    return client.get(response.location)


def printed_codes(html: str) -> list[str]:
    return re.findall(r'data-code="([0-9A-Z]+)"', html)


def test_the_pack_prints_n_unique_valid_codes_with_qr(clients, operation):
    op_id = operation[0]
    page = order(clients["reception"], op_id, volunteers=6, needs=3, dispatch=2)
    assert page.status_code == 200
    found = printed_codes(page.text)
    assert len(found) == len(set(found)) == 11
    volunteer = [c for c in found if not c.startswith(numbers.PREFIX)]
    forms = [numbers.read_number(SECRET, op_id, c) for c in found if c.startswith(numbers.PREFIX)]
    assert len(volunteer) == 6
    assert sorted(codes.preprinted_serial(SECRET, op_id, codes.normalize(c))
                  for c in volunteer) == [1, 2, 3, 4, 5, 6]
    assert [(f.kind, f.serial) for f in forms] == [("need", 1), ("need", 2), ("need", 3),
                                                   ("dispatch", 1), ("dispatch", 2)]
    # Each slip carries its QR twice (the form and the stub); each form page once.
    assert page.text.count("<svg") == 6 * 2 + 3 + 2
    for form in forms:
        assert form.label in page.text  # the human-readable number under the QR
    assert "size: A4" in (ROOT / "static/css/field.css").read_text()


def test_a_second_pack_continues_the_numbers_and_a_reprint_repeats_them(clients, operation):
    op_id = operation[0]
    first = printed_codes(order(clients["coordinator"], op_id, 3, 2, 1).text)
    second_page = order(clients["admin"], op_id, 3, 2, 1)
    second = printed_codes(second_page.text)
    assert not set(first) & set(second)
    again = clients["coordinator"].get(second_page.request.path)
    assert printed_codes(again.text) == second
    index = clients["coordinator"].get(f"/o/{op_id}/fallback").text
    assert len(set(re.findall(rf'href="/o/{op_id}/fallback/(\d+)"', index))) == 2


def test_a_preprinted_code_registers_through_the_normal_form_and_checks_in(
        clients, operation, token_for):
    op_id, main, _ = operation
    desk = clients["reception"]
    code = [c for c in printed_codes(order(desk, op_id).text)
            if not c.startswith(numbers.PREFIX)][2]
    # Scanning the returned paper opens the ordinary registration form with that code.
    scanned = desk.get(f"/o/{op_id}/fallback/scan", query_string={"code": code.lower()})
    assert scanned.status_code == 302
    assert f"code={code}" in scanned.location and "via=walk_in" in scanned.location
    form = desk.get(scanned.location + "&lang=en")
    assert code in form.text and "paper registration form" in form.text
    registered = desk.post(scanned.location, data=FORM)
    assert registered.status_code == 302, registered.text
    assert registered.location.endswith(f"/v/{code}?new=1")  # the printed code is theirs now

    checkin = desk.post(f"/api/v1/operations/{op_id}/checkins", headers=token_for("reception"),
                        json={"code": code, "site_id": main, "health_ok": True,
                              "insurance_enrolled_now": True})
    assert checkin.status_code == 201, checkin.get_json()
    assert checkin.get_json()["volunteer"]["name"] == "紙 太郎"

    # The same paper entered twice is refused, and scanning it says it is in already.
    twice = desk.post(scanned.location + "&lang=en", data={**FORM, "phone": "080-9999-0000",
                                                          "name": "別人", "kana": "べつじん"})
    assert twice.status_code == 422 and "already registered" in twice.text
    again = desk.get(f"/o/{op_id}/fallback/scan", query_string={"code": code, "lang": "en"})
    assert again.status_code == 200 and 'data-found="volunteer"' in again.text
    assert "already entered" in again.text


def test_form_numbers_and_bad_codes_at_the_scan_box(clients, operation):
    op_id = operation[0]
    desk = clients["coordinator"]
    need = [c for c in printed_codes(order(desk, op_id).text) if c.startswith("DVCPN")][0]
    label = numbers.read_number(SECRET, op_id, need).label
    found = desk.get(f"/o/{op_id}/fallback/scan", query_string={"code": label, "lang": "en"})
    assert found.status_code == 200 and 'data-found="need"' in found.text and label in found.text
    for bad in ("DVCPN000001ZZZZ", codes.new_token(), "hello"):
        refused = desk.get(f"/o/{op_id}/fallback/scan", query_string={"code": bad, "lang": "en"})
        assert refused.status_code == 422 and 'role="alert"' in refused.text, bad


def test_a_made_up_code_cannot_register(client, operation):
    forged = codes.preprinted_token("another-secret", operation[0], 1)
    response = client.post(f"/o/{operation[0]}/register?via=walk_in&code={forged}&lang=en",
                           data=FORM)
    assert response.status_code == 422
    assert "not a pre-printed code" in response.text


@pytest.mark.parametrize("role", ["needs_intake", "equipment", "viewer", "trainer"])
def test_only_the_desks_print_packs(clients, operation, role):
    assert clients[role].get(f"/o/{operation[0]}/fallback").status_code == 403
    assert clients[None].get(f"/o/{operation[0]}/fallback").status_code == 302


def test_the_order_form_checks_its_numbers(clients, operation):
    desk = clients["reception"]
    too_many = desk.post(f"/o/{operation[0]}/fallback?lang=en",
                         data={"volunteers": 5000, "needs": 0, "dispatch": 0})
    assert too_many.status_code == 422 and "from 0 to 300" in too_many.text
    nothing = desk.post(f"/o/{operation[0]}/fallback?lang=en",
                        data={"volunteers": 0, "needs": 0, "dispatch": 0})
    assert nothing.status_code == 422 and "how many" in nothing.text


def test_a_drills_pack_says_drill_on_every_sheet_and_its_codes_fit_no_other_operation(
        app, clients, operation):
    from dvc.extensions import db
    from dvc.operations.operations import create_operation
    with app.app_context():
        drill = create_operation("訓練 豪雨", "drill", prefecture="東京都",
                                 municipality="テスト市", actor="test")
        db.session.commit()
        drill_id = drill.id
    desk = clients["coordinator"]
    page = order(desk, drill_id, volunteers=2, needs=1, dispatch=1)
    assert page.text.count("訓練 / DRILL") >= 1 + 2 + 1 + 1  # the cover and every sheet
    need = [c for c in printed_codes(page.text) if c.startswith("DVCPN")][0]
    real = desk.get(f"/o/{operation[0]}/fallback/scan", query_string={"code": need})
    assert real.status_code == 422
