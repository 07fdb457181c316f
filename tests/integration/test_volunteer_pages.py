"""The volunteer-facing pages: registration form, own page, self check-in."""
from __future__ import annotations

import re

from dvc.core import codes

FORM = {"name": "鈴木 花子", "kana": "すずき はなこ", "phone": "080-2222-3333",
        "prefecture": "神奈川県", "municipality": "川崎市", "birth_year": "1990",
        "emergency_name": "鈴木 一郎", "emergency_phone": "090-4444-5555",
        "vehicle": "none", "insurance": "none", "consent": "y"}


def test_registration_form_registers_and_opens_my_page(client, operation):
    response = client.post(f"/o/{operation[0]}/register?lang=en", data=FORM)
    assert response.status_code == 302
    match = re.search(r"/v/([0-9A-Z]{28})", response.location)
    assert match and codes.normalize(match.group(1))
    page = client.get(response.location)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "鈴木 花子" in html and match.group(1) in html
    assert "Not checked in today" in html
    assert "insurance is not registered" in html
    assert page.headers["Cache-Control"] == "private, no-store"


def test_half_filled_form_shows_field_errors_and_keeps_answers(client, operation):
    partial = {k: v for k, v in FORM.items() if k not in ("phone", "consent", "birth_year")}
    response = client.post(f"/o/{operation[0]}/register?lang=en", data=partial)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.count('class="field-error"') >= 3
    assert "Agree to the privacy terms to register." in html
    assert 'value="鈴木 花子"' in html and 'value="川崎市"' in html


def test_second_registration_of_the_same_person_says_so(client, operation):
    client.post(f"/o/{operation[0]}/register", data=FORM)
    again = client.post(f"/o/{operation[0]}/register?lang=en", data=FORM)
    assert again.status_code == 422
    assert "You are already registered" in again.get_data(as_text=True)


def test_group_needs_a_size(client, operation):
    response = client.post(f"/o/{operation[0]}/register?lang=en",
                           data={**FORM, "group_name": "川崎青年会"})
    assert response.status_code == 422
    assert "A group has at least 2 people." in response.get_data(as_text=True)


def test_my_page_shows_todays_checkin_and_the_notice(app, client, operation, register, token_for):
    from dvc.extensions import db
    from dvc.operations.models import Operation
    with app.app_context():
        db.session.get(Operation, operation[0]).notice = "熱中症に注意"
        db.session.commit()
    code = register()["code"]
    client.post(f"/api/v1/operations/{operation[0]}/checkins", headers=token_for("reception"),
                json={"code": code, "site_id": operation[2], "health_ok": True})
    html = client.get(f"/v/{code}?lang=en").get_data(as_text=True)
    assert "Checked in today at 北サテライト, 09:00" in html
    assert "熱中症に注意" in html


def test_unknown_or_malformed_code_page_is_404(client):
    assert client.get(f"/v/{codes.new_token()}").status_code == 404
    assert client.get("/v/not-a-code").status_code == 404


def _poster_url(app, op_id, site_id):
    from dvc.core.context import today
    with app.test_request_context():
        day_code = codes.daily_poster_code(app.config["SECRET_KEY"], op_id, site_id, today())
    return f"/o/{op_id}/s/{site_id}/{day_code}"


def test_self_checkin_from_todays_poster_with_the_code_on_the_phone(app, client, operation,
                                                                    register):
    op_id, main, _ = operation
    code = register()["code"]
    client.get(f"/v/{code}")  # the phone keeps the code
    url = _poster_url(app, op_id, main)
    page = client.get(url + "?lang=en").get_data(as_text=True)
    assert "山田 太郎" in page
    answers = {f"health_{q}": "yes" for q in app.config["HEALTH_QUESTIONS"]}
    done = client.post(url + "?lang=en", data=answers)
    assert done.status_code == 200
    assert "You are checked in." in done.get_data(as_text=True)
    assert "Checked in today" in client.get(f"/v/{code}?lang=en").get_data(as_text=True)


def test_self_checkin_unanswered_or_unwell_records_nothing(app, client, operation, register,
                                                         token_for):
    op_id, main, _ = operation
    code = register()["code"]
    url = _poster_url(app, op_id, main)
    unanswered = client.post(url + "?lang=en", data={"code": code})
    assert unanswered.status_code == 422
    assert "Answer this question." in unanswered.get_data(as_text=True)
    unwell = {f"health_{q}": "yes" for q in app.config["HEALTH_QUESTIONS"]}
    unwell["health_no_fever"] = "no"
    response = client.post(url + "?lang=en", data={"code": code, **unwell})
    assert response.status_code == 422
    assert "please rest today" in response.get_data(as_text=True)
    assert client.get(f"/api/v1/operations/{op_id}/checkins",
                      headers=token_for("reception")).get_json() == []


def test_yesterdays_poster_is_refused(app, client, clock, operation, register):
    from datetime import timedelta
    url = _poster_url(app, operation[0], operation[1])
    clock.advance(timedelta(days=1))
    response = client.get(url + "?lang=en")
    assert response.status_code == 410
    assert "This poster is not today's" in response.get_data(as_text=True)


def test_uninsured_self_checkin_is_sent_to_the_desk(app, client, operation, register):
    code = register(insurance="none", insurance_council=None, insurance_date=None)["code"]
    url = _poster_url(app, operation[0], operation[1])
    answers = {f"health_{q}": "yes" for q in app.config["HEALTH_QUESTIONS"]}
    response = client.post(url + "?lang=en", data={"code": code, **answers})
    assert response.status_code == 422
    assert "enrol at the insurance desk" in response.get_data(as_text=True)
