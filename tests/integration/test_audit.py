"""The audit trail (/o/<op>/audit): who viewed or changed survivors' and volunteers' records,
searched by the head of the centre by who, which record, what and when; paged; as CSV; on
SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from dvc.extensions import db
from tests.integration.test_needs_api import need_body

SURVIVOR = {"requester_name": "高橋 ハナ", "requester_kana": "たかはし はな",
            "phone": "0422-11-2233", "address": "架空市北町1-2-3"}


@pytest.fixture
def head(client, login):
    """The test client, signed in as the head of the centre (admin)."""
    login("admin")
    return client


@pytest.fixture
def api(app):
    """A client of its own for bearer-token calls (the head's client has a session)."""
    return app.test_client()


@pytest.fixture
def needs(api, operation, token_for):
    """Two survivors' needs, entered by the needs desk: returns their ids."""
    intake = token_for("needs_intake")
    url = f"/api/v1/operations/{operation[0]}/needs"
    first = api.post(url, headers=intake, json=need_body(**SURVIVOR)).get_json()["id"]
    second = api.post(url, headers=intake, json=need_body(
        requester_name="佐藤 一郎", requester_kana="さとう いちろう", phone="090-5555-6666",
        address="架空市南町4-5-6", lat=35.68, lon=139.56)).get_json()["id"]
    return first, second


def rows(page: str) -> list[str]:
    """The audit table's rows as text, one line each."""
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S).group(1)
    cells = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells]


def audit(head, op_id: int, **query) -> str:
    answer = head.get(f"/o/{op_id}/audit", query_string={"lang": "en", **query})
    assert answer.status_code == 200, answer.text
    return answer.get_data(as_text=True)


def test_opening_a_need_is_on_the_trail_with_who_and_which(api, head, operation, needs,
                                                           token_for):
    op_id, (first, _second) = operation[0], needs
    coordinator = token_for("coordinator")
    assert api.get(f"/api/v1/needs/{first}", headers=coordinator).status_code == 200
    api.patch(f"/api/v1/needs/{first}", headers=coordinator, json={"status": "survey"})
    page = audit(head, op_id)
    lines = rows(page)
    assert "4 events" in page and len(lines) == 4    # two received, one viewed, one changed
    assert f"user:api-coordinator Need: Status changed Need N{first:05d}" in lines[0]
    assert "from: received" in lines[0] and "to: survey" in lines[0]
    assert f"user:api-coordinator Need: Viewed Need N{first:05d}" in lines[1]
    assert f'href="/o/{op_id}/needs/{first}"' in page
    # The trail names records by number: no survivor's name, phone or address on it.
    for secret in SURVIVOR.values():
        assert secret not in page


def test_filters_who_which_record_what_and_when(api, head, operation, needs, clock, token_for):
    op_id, (first, second) = operation[0], needs
    coordinator, intake = token_for("coordinator"), token_for("needs_intake")
    api.get(f"/api/v1/needs/{first}", headers=coordinator)
    clock.advance(timedelta(days=1))
    api.get(f"/api/v1/needs/{second}", headers=intake)
    api.get(f"/api/v1/needs/{first}", headers=intake)

    def found(**query) -> list[str]:
        return rows(audit(head, op_id, **query))

    assert len(found(actor="coordinator")) == 1
    assert len(found(actor="API-NEEDS")) == 4            # two received, two viewed
    viewed = found(kind="need.viewed")
    assert len(viewed) == 3 and all("Viewed" in line for line in viewed)
    # Which record: its number, a phone in any form, or part of a name or its reading.
    for record in (f"N{first:05d}", str(first), "0422112233", "+81 422-11-2233", "高橋",
                   "タカハシ", "たかはし"):
        assert {f"N{first:05d}"} == {re.search(r"N\d{5}", line)[0]
                                     for line in found(record=record)}, record
    assert found(record="鈴木") == ["No events match these filters."]
    day1 = clock.now().date() - timedelta(days=1)
    assert len(found(start=day1.isoformat(), end=day1.isoformat())) == 3
    assert len(found(start=(day1 + timedelta(days=1)).isoformat())) == 2
    assert len(found(record="佐藤", kind="need.viewed", actor="needs_intake")) == 1


def test_bad_dates_get_field_messages(head, operation):
    answer = head.get(f"/o/{operation[0]}/audit?lang=en&start=2026-13-01&end=yesterday")
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert page.count("Enter a date like 2026-11-22.") == 2 and "<tbody>" not in page
    backwards = head.get(f"/o/{operation[0]}/audit?lang=en&start=2026-11-22&end=2026-11-01")
    assert backwards.status_code == 422
    assert "The end date is before the start date." in backwards.get_data(as_text=True)


def test_the_trail_is_paged_newest_first(app, head, operation, needs):
    from dvc.needs.models import Need
    from dvc.needs.operations import log_view
    op_id, first = operation[0], needs[0]
    with app.app_context():
        need = db.session.get(Need, first)
        for n in range(118):
            log_view(need, actor=f"user:reader{n:03d}")
        db.session.commit()
    page1 = audit(head, op_id)      # 120 events: 2 received, 118 viewed
    assert "120 events" in page1 and "Page 1 of 3" in page1
    assert len(rows(page1)) == 50 and "user:reader117" in rows(page1)[0]
    page3 = audit(head, op_id, page=3)
    assert len(rows(page3)) == 20 and "Received" in rows(page3)[-1]
    assert 'rel="prev"' in page3 and 'rel="next"' not in page3
    filtered = audit(head, op_id, actor="reader00", page=2)
    assert "10 events" in filtered and "Page 1 of 1" not in filtered   # one page: no pager
    assert len(rows(filtered)) == 10


def test_csv_has_every_matching_event_and_opens_in_excel(app, head, operation, needs,
                                                         monkeypatch):
    from dvc.needs.models import Need
    from dvc.needs.operations import log_view, move_need
    monkeypatch.setattr("dvc.audit.operations.CSV_BATCH", 25)   # read in three batches
    op_id, first = operation[0], needs[0]
    with app.app_context():
        need = db.session.get(Need, first)
        for n in range(60):
            log_view(need, actor=f"user:reader{n:02d}")
        move_need(need, 35.7011, 139.5511, actor="user:mapper")
        db.session.commit()
    answer = head.get(f"/o/{op_id}/audit.csv?lang=en&record=N{first:05d}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert f'filename="audit-{op_id}-' in answer.headers["Content-Disposition"]
    raw = answer.get_data()
    assert raw.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0] == ["Time", "Recorded at", "Who", "What", "Event code", "Record",
                        "Record number", "Details"]
    assert len(table) == 1 + 62          # every event of that need, not one page of them
    moved = next(r for r in table if r[4] == "need.moved")
    assert "35.70" not in moved[7] and "139.55" not in moved[7]   # no house on the map
    assert table[1][2] == "user:mapper" and table[1][0].startswith("2026-11-22T09:00")
    text = raw.decode("utf-8-sig")
    for secret in SURVIVOR.values():
        assert secret not in text


def test_opening_a_volunteer_found_by_search_is_logged_a_scan_is_not(
        api, head, operation, register, token_for):
    op_id = operation[0]
    volunteer = register()
    desk = token_for("reception")
    card = api.get(f"/api/v1/operations/{op_id}/volunteers/{volunteer['id']}/card",
                   headers=desk)
    assert card.status_code == 200
    assert api.post(f"/api/v1/operations/{op_id}/lookup", json={"code": volunteer["code"]},
                    headers=desk).status_code == 200
    lines = rows(audit(head, op_id, kind="volunteer.viewed"))
    assert len(lines) == 1
    assert f"user:api-reception Volunteer: Viewed Volunteer {volunteer['id']:05d}" in lines[0]
    assert len(rows(audit(head, op_id, record=f"V{volunteer['id']}"))) == 2   # registered, viewed
    assert len(rows(audit(head, op_id, record="やまだ"))) == 2


def test_another_centres_records_never_show(app, api, head, operation, needs, token_for):
    from dvc.operations.operations import create_operation
    with app.app_context():
        other = create_operation("別町 豪雨災害", "real", prefecture="東京都",
                                 municipality="別町", actor="test").id
        db.session.commit()
    admin = token_for("admin")
    theirs = api.post(f"/api/v1/operations/{other}/needs", headers=admin,
                      json=need_body(**SURVIVOR)).get_json()["id"]
    api.get(f"/api/v1/needs/{theirs}", headers=admin)
    mine = rows(audit(head, operation[0], record="高橋"))
    assert len(mine) == 1 and f"N{needs[0]:05d}" in mine[0]
    assert f"N{theirs:05d}" not in audit(head, operation[0])
    assert len(rows(audit(head, other))) == 2


def test_only_the_head_of_the_centre_sees_the_trail_and_its_link(app, clients, operation):
    op_id = operation[0]
    for role, client in clients.items():
        answer = client.get(f"/o/{op_id}/audit")
        assert (answer.status_code == 200) == (role == "admin"), role
        link = f'href="/o/{op_id}/audit"' in client.get(f"/o/{op_id}").get_data(as_text=True)
        assert link == (role == "admin"), role
