"""Needs desk pages through HTTP: intake form, duplicate hints, list, detail (logged), status,
survey, merge and repeat-call forms."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.integration.test_needs_api import need_body

FORM = {"requester_name": "高橋 ハナ", "requester_kana": "たかはし はな", "phone": "0422-11-2233",
        "address": "架空市北町1-2-3", "lat": "35.70", "lon": "139.55", "district": "北町",
        "category": "mud_removal", "description": "床上浸水、泥出し", "damage": "above_floor",
        "people_min": "3", "people_max": "6", "est_hours": "4", "skills": ["driving"],
        "vehicle_needed": "y", "equipment_wanted": "スコップ", "priority": "high",
        "elderly": "y", "living_alone": "y", "source": "phone"}


@pytest.fixture
def intake(client, login):
    login("needs_intake")
    return client


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "brown").save(buf, format="PNG")
    return buf.getvalue()


def _events(app, need_id, kind):
    from dvc.core.events import Event
    from dvc.extensions import db
    with app.app_context():
        return db.session.scalars(db.select(Event).where(
            Event.subject_type == "need", Event.subject_id == need_id, Event.kind == kind)).all()


def _need(app, need_id):
    from dvc.extensions import db
    from dvc.needs.models import Need
    with app.app_context():
        need = db.session.get(Need, need_id)
        db.session.expunge(need)
        return need


def _create(client, op_id, **overrides) -> int:
    response = client.post(f"/o/{op_id}/needs/new", data={**FORM, **overrides})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/needs/(\d+)$", response.location).group(1))


def test_intake_form_creates_a_need_with_photos(app, intake, operation):
    op_id = operation[0]
    page = intake.get(f"/o/{op_id}/needs/new?lang=en").get_data(as_text=True)
    assert 'id="need-form"' in page and "js/needs.js" in page
    assert f'data-op="{op_id}"' in page and 'data-dup="phone"' in page
    data = {**FORM, "photos": [(io.BytesIO(_png()), "house.png"),
                               (io.BytesIO(b"MZ\x90\x00"), "virus.jpg")]}
    response = intake.post(f"/o/{op_id}/needs/new?lang=en", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 302
    need_id = int(response.location.rsplit("/", 1)[1])
    need = _need(app, need_id)
    assert (need.requester_name, need.status, need.category) == ("高橋 ハナ", "received",
                                                                 "mud_removal")
    assert (need.lat, need.people_min, need.people_max, need.est_hours) == (35.70, 3, 6, 4.0)
    assert need.skills == ["driving"] and need.vehicle_needed and need.elderly
    assert need.living_alone and not need.disabled and need.site_id == operation[2]
    detail = intake.get(response.location + "?lang=en").get_data(as_text=True)
    assert f"Need N{need_id:05d} recorded." in detail
    assert "virus.jpg: Send a JPEG, PNG or WebP photo." in detail  # the bad one is named
    photos = re.findall(rf"/api/v1/needs/{need_id}/photos/(\d+)", detail)
    assert len(set(photos)) == 1
    with intake.get(f"/api/v1/needs/{need_id}/photos/{photos[0]}") as photo:
        assert photo.data == _png()


def test_invalid_intake_keeps_every_value_with_field_errors(app, intake, operation):
    op_id = operation[0]
    bad = {**FORM, "requester_name": "", "people_min": "5", "people_max": "2", "lat": "10.0",
           "lon": "10.0", "phone": "123", "category": ""}
    response = intake.post(f"/o/{op_id}/needs/new?lang=en", data=bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Please fill this in." in html and "Choose the kind of work." in html
    # The domain's rules speak once WTForms is satisfied: fix the form's own errors first.
    again = intake.post(f"/o/{op_id}/needs/new?lang=en",
                        data={**bad, "requester_name": "高橋 ハナ", "category": "debris"})
    assert again.status_code == 422
    html = again.get_data(as_text=True)
    assert "the maximum must be at least the minimum" in html
    assert "This point is outside Japan" in html
    assert "Enter a phone number of 10 or 11 digits." in html
    assert html.count('class="field-error"') == 3
    for kept in ('value="高橋 ハナ"', 'value="たかはし はな"', 'value="架空市北町1-2-3"',
                 'value="123"', 'value="10.0"', "床上浸水、泥出し", 'value="北町"'):
        assert kept in html, kept
    checked = re.findall(r'<input checked[^>]*value="(\w+)"', html)
    assert {"debris", "high", "driving", "above_floor", "y"} <= set(checked)
    with app.app_context():
        from dvc.extensions import db
        from dvc.needs.models import Need
        assert db.session.scalar(db.select(db.func.count()).select_from(Need)) == 0


def test_intake_page_offers_the_duplicate_hint_endpoint(intake, operation):
    """The page's script asks this endpoint while typing; the answer names each reason."""
    op_id = operation[0]
    first = _create(intake, op_id)
    page = intake.get(f"/o/{op_id}/needs/new").get_data(as_text=True)
    assert 'data-api="/api/v1"' in page and 'id="dup-list"' in page
    url = f"/api/v1/operations/{op_id}/needs/duplicates"
    hint = intake.get(url, query_string={"phone": "0422-11-2233", "kana": "タカハシハナ",
                                         "lat": "35.7001", "lon": "139.5501"}).get_json()
    assert hint[0]["id"] == first and hint[0]["reasons"] == ["phone", "name", "nearby"]
    assert hint[0]["number"] == f"N{first:05d}" and hint[0]["address"] == "架空市北町1-2-3"
    # "Add this call to it" from the page: a session POST with the page's CSRF header.
    call = intake.post(f"/api/v1/needs/{first}/calls", json={"note": "二階も浸水"})
    assert call.status_code == 200 and "二階も浸水" in call.get_json()["description"]


def test_list_orders_continuing_first_and_filters(app, intake, operation, clock):
    from datetime import timedelta
    op_id = operation[0]
    old = _create(intake, op_id, priority="low", district="南町", elderly="", living_alone="")
    clock.advance(timedelta(days=3))
    urgent = _create(intake, op_id, priority="urgent", phone="090-1111-0000", category="debris")
    with app.app_context():
        from dvc.extensions import db
        from dvc.needs.models import Need
        db.session.get(Need, old).status = "continuing"
        db.session.commit()
    html = intake.get(f"/o/{op_id}/needs?lang=en").get_data(as_text=True)
    order = re.findall(r"needs/(\d+)\">N\d+", html)
    assert order == [str(old), str(urgent)]
    waited = intake.get(f"/o/{op_id}/needs?waiting=2&lang=en").get_data(as_text=True)
    assert f"N{old:05d}" in waited and f"N{urgent:05d}" not in waited
    care = intake.get(f"/o/{op_id}/needs?care=elderly").get_data(as_text=True)
    assert f"N{urgent:05d}" in care and f"N{old:05d}" not in care
    debris = intake.get(f"/o/{op_id}/needs?category=debris").get_data(as_text=True)
    assert f"N{urgent:05d}" in debris and f"N{old:05d}" not in debris
    south = intake.get(f"/o/{op_id}/needs?district=南町&status=all").get_data(as_text=True)
    assert f"N{old:05d}" in south and f"N{urgent:05d}" not in south
    survey = intake.get(f"/o/{op_id}/needs?status=survey").get_data(as_text=True)
    assert "N0" not in survey


def test_detail_shows_everything_and_logs_the_view(app, intake, operation):
    op_id = operation[0]
    need_id = _create(intake, op_id)
    assert _events(app, need_id, "need.viewed") == []
    html = intake.get(f"/o/{op_id}/needs/{need_id}?lang=en").get_data(as_text=True)
    for shown in ("高橋 ハナ", "0422-11-2233", "架空市北町1-2-3", "床上浸水、泥出し", "Elderly",
                  "Living alone", "スコップ", "Flooded above floor", "Received"):
        assert shown in html, shown
    viewed = _events(app, need_id, "need.viewed")
    assert [e.actor for e in viewed] == ["user:needs_intake-user"]
    assert "Viewed 1 time" in html
    # Only the transitions staff may make by hand are offered.
    select = re.search(r'<select[^>]*name="status".*?</select>', html, re.S).group(0)
    assert re.findall(r'value="(\w+)"', select) == ["survey", "ready", "on_hold", "cancelled",
                                                    "referred"]


def test_detail_of_another_operations_need_is_404(app, intake, operation):
    from dvc.extensions import db
    from dvc.operations.operations import create_operation
    need_id = _create(intake, operation[0])
    with app.app_context():
        other = create_operation("別の災害", "real", actor="t")
        db.session.commit()
        other_id = other.id
    assert intake.get(f"/o/{other_id}/needs/{need_id}").status_code == 404


def test_status_form_refuses_impossible_transitions_clearly(app, intake, operation):
    op_id = operation[0]
    need_id = _create(intake, op_id)
    url = f"/o/{op_id}/needs/{need_id}/status?lang=en"
    ok = intake.post(url, data={"status": "ready", "reason": "電話で確認"})
    assert ok.status_code == 302 and _need(app, need_id).status == "ready"
    back = intake.post(url, data={"status": "received"})
    assert back.status_code == 409
    assert "A need cannot go from “Ready” to “Received”." in back.get_data(as_text=True)
    by_team = intake.post(url, data={"status": "completed"})
    assert by_team.status_code == 409
    assert "cannot be set by hand" in by_team.get_data(as_text=True)
    no_group = intake.post(url, data={"status": "referred"})
    assert no_group.status_code == 422
    assert "Name the specialist group it goes to." in no_group.get_data(as_text=True)
    assert _need(app, need_id).status == "ready"


def test_survey_form_records_and_moves_the_need(app, intake, operation):
    op_id = operation[0]
    need_id = _create(intake, op_id)
    url = f"/o/{op_id}/needs/{need_id}/surveys?lang=en"
    missing = intake.post(url, data={"surveyor": "社協 佐藤", "headcount": "4"})
    assert missing.status_code == 422
    assert "Choose the decision." in missing.get_data(as_text=True)
    done = intake.post(url, data={"surveyor": "社協 佐藤", "headcount": "4", "hours": "3",
                                  "tools": "スコップ", "hazards": "", "decision": "specialist",
                                  "specialist": "技術系NPO", "notes": "屋根上"})
    assert done.status_code == 302
    need = _need(app, need_id)
    assert (need.status, need.referred_to, need.people_max) == ("referred", "技術系NPO", 4)
    html = intake.get(f"/o/{op_id}/needs/{need_id}?lang=en").get_data(as_text=True)
    assert "社協 佐藤" in html and "Specialists only" in html
    assert "Received → Survey" in html and "Survey → Referred to specialists" in html


def test_merge_and_repeat_call_forms(app, intake, operation):
    op_id = operation[0]
    keep = _create(intake, op_id)
    dup = _create(intake, op_id, phone="090-5555-6666", description="息子から")
    call = intake.post(f"/o/{op_id}/needs/{keep}/calls", data={"note": "二階も"})
    assert call.status_code == 302 and "二階も" in _need(app, keep).description
    wrong = intake.post(f"/o/{op_id}/needs/{dup}/merge?lang=en", data={"keep": "N99999"})
    assert wrong.status_code == 422
    assert re.search(r'field-error[^>]*>No such need\.', wrong.get_data(as_text=True))
    itself = intake.post(f"/o/{op_id}/needs/{dup}/merge?lang=en", data={"keep": str(dup)})
    assert itself.status_code == 422
    merged = intake.post(f"/o/{op_id}/needs/{dup}/merge", data={"keep": f"N{keep:05d}"})
    assert merged.status_code == 302 and merged.location.endswith(f"/needs/{keep}")
    assert _need(app, dup).status == "cancelled" and "息子から" in _need(app, keep).description


def test_reception_cannot_open_survivors_pages(app, client, login, operation, token_for):
    op_id = operation[0]
    need = client.post(f"/api/v1/operations/{op_id}/needs", json=need_body(),
                       headers=token_for("needs_intake")).get_json()
    login("reception")
    for path in (f"/o/{op_id}/needs", f"/o/{op_id}/needs/new", f"/o/{op_id}/needs/{need['id']}"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "高橋" not in response.get_data(as_text=True)
    assert client.post(f"/o/{op_id}/needs/{need['id']}/status",
                       data={"status": "ready"}).status_code == 403
    assert _events(app, need["id"], "need.viewed") == []
