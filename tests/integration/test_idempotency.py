"""Idempotency keys on state-changing API calls: a retry is applied once, a reused key for
another request is refused, twins sent at once apply once, and the document names the header.

Runs on SQLite and, with DVC_TEST_DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.integration.test_concurrency import _race
from tests.integration.test_needs_api import need_body


@pytest.fixture
def reception(token_for):
    return token_for("reception")


@pytest.fixture
def intake(token_for):
    return token_for("needs_intake")


def keyed(headers: dict, key: str) -> dict:
    return {**headers, "Idempotency-Key": key}


def checkin(client, op_id, headers, **body):
    payload = {"health_ok": True, "insurance_enrolled_now": False, **body}
    return client.post(f"/api/v1/operations/{op_id}/checkins", json=payload, headers=headers)


def count(app, model, *where) -> int:
    from dvc.extensions import db
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_retry_with_the_same_key_gets_the_stored_answer_and_changes_nothing(
        app, client, operation, register, reception):
    from dvc.core.events import Event
    from dvc.volunteers.models import CheckIn
    op_id, main, _sat = operation
    code = register()["code"]
    key = str(uuid.uuid4())
    first = checkin(client, op_id, keyed(reception, key), code=code, site_id=main)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = checkin(client, op_id, keyed(reception, key), code=code, site_id=main)
    assert again.status_code == 201  # the first answer, not "already checked in" (200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert count(app, CheckIn) == 1
    assert count(app, Event, Event.kind == "volunteer.checked_in") == 1


def test_same_key_for_a_different_request_is_refused_with_a_clear_message(
        app, client, operation, register, reception):
    from dvc.volunteers.models import CheckIn
    op_id, main, sat = operation
    first, second = register()["code"], register(phone="090-5555-0000", name="別 人",
                                                 kana="べつ ひと")["code"]
    key = str(uuid.uuid4())
    assert checkin(client, op_id, keyed(reception, key), code=first, site_id=main
                   ).status_code == 201
    for body in ({"code": second, "site_id": main}, {"code": first, "site_id": sat}):
        refused = checkin(client, op_id, keyed(reception, key), **body)
        assert refused.status_code == 422
        answer = refused.get_json()
        assert answer["error"] == "idempotency_key_reused" and "Idempotency-Key" in answer["fields"]
        assert answer["message"]
    other_path = client.post(f"/api/v1/operations/{op_id}/needs", json=need_body(),
                             headers=keyed(reception, key))
    assert other_path.status_code == 403  # access is checked before any key
    assert count(app, CheckIn) == 1


def test_keys_are_per_user(app, client, operation, register, reception, token_for):
    from dvc.volunteers.models import CheckIn
    op_id, main, _sat = operation
    codes = [register(phone=f"090-4444-{i:04d}", name=f"鍵 {i}", kana=f"かぎ {i}")["code"]
             for i in range(2)]
    key = str(uuid.uuid4())
    other = token_for("coordinator")
    assert checkin(client, op_id, keyed(reception, key), code=codes[0], site_id=main
                   ).status_code == 201
    assert checkin(client, op_id, keyed(other, key), code=codes[1], site_id=main
                   ).status_code == 201
    assert count(app, CheckIn) == 2


def test_a_refused_request_is_not_stored_so_its_retry_runs_again(app, client, operation,
                                                                  register, reception):
    from dvc.core.idempotency import IdempotencyKey
    from dvc.sites.models import Site
    from dvc.volunteers.models import CheckIn
    op_id, main, _sat = operation
    code = register()["code"]
    key = str(uuid.uuid4())
    with app.app_context():
        from dvc.extensions import db
        db.session.get(Site, main).status = "paused"
        db.session.commit()
    refused = checkin(client, op_id, keyed(reception, key), code=code, site_id=main)
    assert refused.status_code == 409 and refused.get_json()["error"] == "site_not_open"
    assert count(app, IdempotencyKey) == 0
    with app.app_context():
        db.session.get(Site, main).status = "open"
        db.session.commit()
    retried = checkin(client, op_id, keyed(reception, key), code=code, site_id=main)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert count(app, CheckIn) == 1 and count(app, IdempotencyKey) == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 129, "日本語"])
def test_a_malformed_key_is_refused_before_anything_happens(app, client, operation, intake, key):
    from dvc.needs.models import Need
    response = client.post(f"/api/v1/operations/{operation[0]}/needs", json=need_body(),
                           headers=keyed(intake, key.encode().decode("latin-1")))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_idempotency_key"
    assert count(app, Need) == 0


def test_without_a_key_or_signed_out_nothing_changes(app, client, operation, intake):
    from dvc.core.idempotency import IdempotencyKey
    from dvc.needs.models import Need
    url = f"/api/v1/operations/{operation[0]}/needs"
    for _ in range(2):
        assert client.post(url, json=need_body(), headers=intake).status_code == 201
    assert count(app, Need) == 2  # no key: two requests are two needs, as before
    # Anonymous registration ignores the header; its own duplicate check answers the retry.
    from tests.conftest import registration
    body, key = registration(phone="090-8888-0001"), {"Idempotency-Key": str(uuid.uuid4())}
    url = f"/api/v1/operations/{operation[0]}/volunteers"
    assert client.post(url, json=body, headers=key).status_code == 201
    assert client.post(url, json=body, headers=key).status_code == 409
    assert count(app, IdempotencyKey) == 0


def test_patch_and_upload_retries_apply_once(app, client, operation, intake):
    from dvc.core.events import Event
    from dvc.needs.models import NeedPhoto
    need = client.post(f"/api/v1/operations/{operation[0]}/needs", json=need_body(),
                       headers=intake).get_json()
    key = str(uuid.uuid4())
    for _ in range(2):
        changed = client.patch(f"/api/v1/needs/{need['id']}", json={"status": "ready"},
                               headers=keyed(intake, key))
        assert changed.status_code == 200 and changed.get_json()["status"] == "ready"
    assert count(app, Event, Event.kind == "need.status_changed") == 1
    image = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(image, "PNG")
    key = str(uuid.uuid4())
    answers = []
    for _ in range(2):  # each send has its own multipart boundary; the same photo all the same
        answers.append(client.post(f"/api/v1/needs/{need['id']}/photos",
                                   data={"photo": (io.BytesIO(image.getvalue()), "p.png")},
                                   headers=keyed(intake, key)))
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].get_json() == answers[1].get_json()
    assert count(app, NeedPhoto) == 1


def test_twins_sent_at_once_apply_once_and_get_the_same_answer(app, operation, intake):
    from dvc.needs.models import Need
    url = f"/api/v1/operations/{operation[0]}/needs"
    for round_ in range(3):
        headers = keyed(intake, str(uuid.uuid4()))
        body = need_body(requester_name=f"二重 {round_}", phone=f"0422-55-{round_:04d}")
        responses = _race(app, [lambda c: c.post(url, json=body, headers=headers)] * 3)
        assert [r.status_code for r in responses] == [201] * 3
        assert len({r.get_json()["id"] for r in responses}) == 1
        assert sorted("Idempotent-Replayed" in r.headers for r in responses) == [False, True,
                                                                                 True]
    assert count(app, Need) == 3


def test_day_old_keys_are_forgotten_as_the_user_sends_new_ones(app, client, operation, intake):
    from dvc.core.clock import wall_now
    from dvc.core.idempotency import KEEP, IdempotencyKey
    from dvc.extensions import db
    url = f"/api/v1/operations/{operation[0]}/needs"
    old = keyed(intake, "old-key")
    assert client.post(url, json=need_body(), headers=old).status_code == 201
    with app.app_context():
        db.session.execute(db.update(IdempotencyKey).values(
            created_dt=wall_now() - KEEP - timedelta(minutes=1)))
        db.session.commit()
    assert client.post(url, json=need_body(), headers=keyed(intake, "new-key")).status_code == 201
    with app.app_context():
        assert db.session.scalars(select(IdempotencyKey.key)).all() == ["new-key"]


def test_openapi_names_the_header_on_state_changes_only(client):
    spec = client.get("/api/openapi.json").get_json()
    parameter = spec["components"]["parameters"]["IdempotencyKey"]
    assert parameter["in"] == "header" and parameter["name"] == "Idempotency-Key"
    ref = {"$ref": "#/components/parameters/IdempotencyKey"}
    checkins = spec["paths"]["/api/v1/operations/{op_id}/checkins"]
    assert ref in checkins["post"]["parameters"]
    assert ref not in checkins["get"].get("parameters", [])
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("post", "put", "patch", "delete") and path.startswith("/api/v1/"):
                assert ref in operation.get("parameters", []), (method, path)
