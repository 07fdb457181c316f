"""Two desks at the same moment: exactly one winner, and a clear answer for the other.

Kiosks checking one volunteer in, duplicate registrations, two coordinators changing one need,
one volunteer sent to two needs, one team dispatched twice, the last item on a shelf lent to
two teams, and a kiosk's retry racing its first request (idempotency key). Also in other
files: two coordinators forming teams with one volunteer for one need (test_teams_api), the
last shovels and returns (test_equipment), twin keyed requests (test_idempotency).

Each call runs in its own thread with its own test client (its own database connection).
Runs on SQLite and, with DVC_TEST_DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

import itertools
import threading
import uuid

import pytest
from sqlalchemy import func, select

from tests.conftest import registration


def _race(app, calls):
    """Run each call in its own thread with its own client, released at the same moment."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        client = app.test_client()
        barrier.wait()
        results[i] = call(client)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_kiosks_scanning_one_volunteer_create_one_checkin(app, operation, register, token_for):
    from dvc.extensions import db
    from dvc.volunteers.models import CheckIn
    op_id, main, sat = operation
    headers = token_for("reception")
    codes = [register(phone=f"090-0000-{i:04d}", name=f"並行 {i}", kana=f"へいこう {i}")["code"]
             for i in range(8)]
    for code in codes:
        def kiosk(site):
            return lambda c: c.post(f"/api/v1/operations/{op_id}/checkins", headers=headers,
                                    json={"code": code, "site_id": site, "health_ok": True})
        statuses = sorted(r.status_code for r in _race(app, [kiosk(main), kiosk(sat)]))
        assert statuses == [200, 201], statuses
    with app.app_context():
        per_volunteer = db.session.execute(
            select(CheckIn.volunteer_id, func.count()).group_by(CheckIn.volunteer_id)).all()
    assert len(per_volunteer) == 8 and all(n == 1 for _, n in per_volunteer)


def test_simultaneous_duplicate_registrations_make_one_volunteer(app, operation):
    from dvc.extensions import db
    from dvc.volunteers.models import Volunteer
    url = f"/api/v1/operations/{operation[0]}/volunteers"
    for i in range(5):
        body = registration(phone=f"070-1000-{i:04d}", name=f"重複 {i}", kana=f"ちょうふく {i}")
        responses = _race(app, [lambda c, b=body: c.post(url, json=b)] * 2)
        assert sorted(r.status_code for r in responses) == [201, 409]
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.get_json()["error"] == "duplicate_registration"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 5


# --- one need, one team, one volunteer, one shelf, one tablet ------------------------------

def _need(client, op_id, headers, n: int, status: str = "ready") -> int:
    from tests.integration.test_needs_api import need_body
    need = client.post(f"/api/v1/operations/{op_id}/needs", headers=headers, json=need_body(
        requester_name=f"競合 {n}", phone=f"0422-77-{n:04d}", people_max=4)).get_json()
    if status != "received":
        assert client.patch(f"/api/v1/needs/{need['id']}", json={"status": status},
                            headers=headers).status_code == 200
    return need["id"]


def _winner_and_loser(responses, ok: int = 200):
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [ok, 409], [(r.status_code, r.get_json()) for r in responses]
    return (next(r for r in responses if r.status_code == ok).get_json(),
            next(r for r in responses if r.status_code == 409).get_json())


def test_two_coordinators_changing_one_need_at_once_one_wins(app, client, operation, token_for):
    from dvc.core.events import Event
    from dvc.extensions import db
    op_id = operation[0]
    a, b = token_for("coordinator"), token_for("admin")
    # Every pair must refuse the second change whichever request runs first, so that the test
    # does not depend on thread timing: ("referred", "on_hold") was legal one after the other.
    pairs = [("cancelled", "referred"), ("on_hold", "on_hold"), ("cancelled", "cancelled"),
             ("referred", "cancelled")]
    for n, (first, second) in enumerate(pairs):
        need_id = _need(client, op_id, a, n)
        calls = [lambda c, h=h, s=s: c.patch(f"/api/v1/needs/{need_id}", headers=h, json={
                     "status": s, "referred_to": "重機ボランティア団体" if s == "referred" else None})
                 for h, s in ((a, first), (b, second))]
        won, lost = _winner_and_loser(_race(app, calls))
        assert lost["error"] in ("need_changed", "invalid_transition") and lost["message"]
        assert lost["status"] == won["status"]  # the loser is told what the need is now
        with app.app_context():
            changes = db.session.scalars(select(Event.payload).where(
                Event.kind == "need.status_changed", Event.subject_id == need_id)).all()
        assert [c["from"] for c in changes] == ["received", "ready"], changes


@pytest.fixture
def volunteer(client, operation, register, token_for):
    """volunteer(site_id=main) -> the id of a new volunteer checked in today."""
    op_id, main, _sat = operation
    reception, counter = token_for("reception"), itertools.count(1)

    def make(site_id: int = main) -> int:
        n = next(counter)
        body = register(phone=f"090-6100-{n:04d}", name=f"並行 班{n}", kana=f"へいこう はん{n}")
        checked = client.post(f"/api/v1/operations/{op_id}/checkins", headers=reception,
                              json={"code": body["code"], "site_id": site_id, "health_ok": True})
        assert checked.status_code == 201, checked.get_json()
        return body["id"]
    return make


def _form(client, op_id, headers, need_id, members):
    return client.post(f"/api/v1/operations/{op_id}/teams", headers=headers,
                       json={"need_id": need_id, "member_ids": members, "leader_id": members[0]})


def _team(client, op_id, headers, n, members) -> int:
    formed = _form(client, op_id, headers, _need(client, op_id, headers, n), members)
    assert formed.status_code == 201, formed.get_json()
    return formed.get_json()["id"]


def test_one_volunteer_sent_to_two_needs_at_once_joins_one_team(app, client, operation,
                                                                token_for, volunteer):
    from dvc.extensions import db
    from dvc.teams.models import TeamMember
    op_id = operation[0]
    a, b = token_for("coordinator"), token_for("admin")
    for round_ in range(3):
        shared = volunteer()
        needs = [_need(client, op_id, a, 10 + 2 * round_ + i) for i in range(2)]
        calls = [lambda c, h=h, n=n: _form(c, op_id, h, n, [shared])
                 for h, n in zip((a, b), needs)]
        won, lost = _winner_and_loser(_race(app, calls), ok=201)
        assert lost["error"] == "volunteer_busy" and lost["volunteer_ids"] == [shared]
        assert lost["message"]
        other = next(n for n in needs if n != won["need_id"])
        assert client.get(f"/api/v1/needs/{other}", headers=a).get_json()["status"] == "ready"
    with app.app_context():
        active = db.session.execute(select(TeamMember.volunteer_id, func.count()).where(
            TeamMember.active).group_by(TeamMember.volunteer_id)).all()
    assert len(active) == 3 and all(n == 1 for _, n in active)


def test_two_coordinators_dispatching_one_team_at_once_one_wins(app, client, operation,
                                                                token_for, volunteer):
    from dvc.core.events import Event
    from dvc.extensions import db
    op_id = operation[0]
    a, b = token_for("coordinator"), token_for("admin")
    for round_ in range(3):
        team_id = _team(client, op_id, a, 20 + round_, [volunteer(), volunteer()])
        calls = [lambda c, h=h, how=how: c.post(f"/api/v1/teams/{team_id}/dispatch", headers=h,
                                                json={"transport": how})
                 for h, how in ((a, "walk"), (b, "shuttle"))]
        won, lost = _winner_and_loser(_race(app, calls))
        assert lost["error"] == "invalid_team_state" and lost["status"] == "dispatched"
        assert won["need_status"] == "in_progress"
        with app.app_context():
            kinds = db.session.scalars(select(Event.kind).where(
                Event.kind.in_(("team.dispatched", "need.status_changed")),
                ((Event.subject_type == "team") & (Event.subject_id == team_id))
                | ((Event.subject_type == "need") & (Event.subject_id == won["need_id"])))).all()
        assert sorted(kinds).count("team.dispatched") == 1
        assert kinds.count("need.status_changed") == 3  # ready, assigned, in_progress: once each


def test_two_desks_lending_the_last_item_at_once_one_wins_and_retries_change_nothing(
        app, client, operation, token_for, volunteer):
    from tests.integration.test_equipment import lend, ledger_matches_shelves, shelf
    op_id, main, _sat = operation
    desk, coord = token_for("equipment"), token_for("coordinator")
    washer = client.post(f"/api/v1/operations/{op_id}/equipment/items", headers=desk,
                         json={"name": "高圧洗浄機", "unit": "台"}).get_json()["id"]
    teams = [_team(client, op_id, coord, 30 + i, [volunteer()]) for i in range(2)]
    for round_ in range(3):
        assert client.post(f"/api/v1/operations/{op_id}/sites/{main}/equipment/receive",
                           headers=desk, json={"item_type_id": washer, "quantity": 1}
                           ).status_code == 201
        keys = [{**h, "Idempotency-Key": str(uuid.uuid4())} for h in (desk, coord)]
        calls = [lambda c, t=t, h=h: lend(c, t, h, (washer, 1)) for t, h in zip(teams, keys)]
        responses = _race(app, calls)
        won, lost = _winner_and_loser(responses, ok=201)
        assert lost["error"] == "insufficient_stock" and lost["available"] == 0
        # Each tablet retries as after a dropped connection: nothing is lent twice.
        retried = [lend(client, t, h, (washer, 1)) for t, h in zip(teams, keys)]
        assert [r.status_code for r in retried] == [r.status_code for r in responses]
        winner = next(r for r in retried if r.status_code == 201)
        assert winner.headers["Idempotent-Replayed"] == "true" and winner.get_json() == won
        assert shelf(client, op_id, desk, main, washer)["on_hand"] == 0
    held = [client.get(f"/api/v1/teams/{t}/equipment", headers=desk).get_json()["items"]
            for t in teams]
    assert sum(i["outstanding"] for items in held for i in items) == 3
    ledger_matches_shelves(app)


def test_a_kiosk_retrying_a_check_in_while_the_first_is_running_checks_in_once(
        app, operation, register, token_for):
    from dvc.core.events import Event
    from dvc.extensions import db
    from dvc.volunteers.models import CheckIn
    op_id, main, _sat = operation
    reception = token_for("reception")
    for i in range(5):
        code = register(phone=f"090-6200-{i:04d}", name=f"再送 {i}", kana=f"さいそう {i}")["code"]
        headers = {**reception, "Idempotency-Key": str(uuid.uuid4())}

        def send(c, headers=headers, code=code):
            return c.post(f"/api/v1/operations/{op_id}/checkins", headers=headers,
                          json={"code": code, "site_id": main, "health_ok": True})
        responses = _race(app, [send, send])
        # Without the key the copy would say "already checked in" (200); with it, both
        # get the one answer the kiosk was waiting for.
        assert [r.status_code for r in responses] == [201, 201]
        assert responses[0].get_json() == responses[1].get_json()
        assert sorted("Idempotent-Replayed" in r.headers for r in responses) == [False, True]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 5
        assert db.session.scalar(select(func.count()).select_from(Event).where(
            Event.kind == "volunteer.checked_in")) == 5
