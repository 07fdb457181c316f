"""Teams through the HTTP API: formation rules, dispatch, report, overdue, recall, and parallel
assignment of one volunteer (exactly one coordinator wins) on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from tests.integration.test_needs_api import need_body


@pytest.fixture
def coord(token_for):
    return token_for("coordinator")


@pytest.fixture
def setup(client, operation, register, coord, token_for):
    """A ready need and four checked-in volunteers: returns (need_id, [volunteer ids])."""
    op_id, main, _ = operation
    need = client.post(f"/api/v1/operations/{op_id}/needs", json=need_body(people_max=4),
                       headers=coord).get_json()
    client.patch(f"/api/v1/needs/{need['id']}", json={"status": "ready"}, headers=coord)
    desk = token_for("reception")
    ids = []
    for i in range(4):
        body = register(phone=f"090-3000-{i:04d}", name=f"班員 {i}", kana=f"はんいん {i}",
                        vehicle="light_truck" if i == 0 else "none")
        client.post(f"/api/v1/operations/{op_id}/checkins", headers=desk,
                    json={"code": body["code"], "site_id": main, "health_ok": True})
        ids.append(body["id"])
    return need["id"], ids


def form(client, op_id, headers, need_id, members, leader):
    return client.post(f"/api/v1/operations/{op_id}/teams", headers=headers,
                       json={"need_id": need_id, "member_ids": members, "leader_id": leader})


def need_status(client, need_id, headers):
    return client.get(f"/api/v1/needs/{need_id}", headers=headers).get_json()["status"]


def test_full_day_form_dispatch_report_continuing_then_completed(client, clock, operation,
                                                                setup, coord):
    op_id = operation[0]
    need_id, ids = setup
    team = form(client, op_id, coord, need_id, ids[:3], ids[0])
    assert team.status_code == 201, team.get_json()
    team = team.get_json()
    assert team["warnings"] == [] and team["headcount"] == 3
    assert need_status(client, need_id, coord) == "assigned"
    available = client.get(f"/api/v1/operations/{op_id}/volunteers/available",
                           headers=coord).get_json()
    assert [v["volunteer_id"] for v in available] == [ids[3]]
    tid = team["id"]
    assert client.post(f"/api/v1/teams/{tid}/dispatch", json={"transport": "own_vehicle"},
                       headers=coord).get_json()["need_status"] == "in_progress"
    assert client.post(f"/api/v1/teams/{tid}/arrive", headers=coord).status_code == 200
    no_remaining = client.post(f"/api/v1/teams/{tid}/report", headers=coord,
                               json={"outcome": "continuing"})
    assert no_remaining.status_code == 422
    report = client.post(f"/api/v1/teams/{tid}/report", headers=coord, json={
        "outcome": "continuing", "remaining_work": "床下の泥", "people_next": 5,
        "incidents": [{"kind": "near_miss", "description": "釘を踏みそうになった"}]})
    assert report.status_code == 201 and report.get_json()["need_status"] == "continuing"
    again = client.post(f"/api/v1/teams/{tid}/report", headers=coord, json={"outcome": "completed"})
    assert again.status_code == 409 and again.get_json()["error"] == "already_reported"
    assert client.post(f"/api/v1/teams/{tid}/return", headers=coord).status_code == 200
    incidents = client.get(f"/api/v1/operations/{op_id}/incidents", headers=coord).get_json()
    assert [i["kind"] for i in incidents] == ["near_miss"]
    # The next day the continuing need goes straight to a new team.
    clock.advance(timedelta(days=1))
    features = client.get(f"/api/v1/operations/{op_id}/needs", headers=coord).get_json()
    assert features["features"][0]["properties"]["status"] == "continuing"
    freed = form(client, op_id, coord, need_id, [ids[0]], ids[0])
    assert freed.status_code == 409 and freed.get_json()["error"] == "not_checked_in"


def test_busy_or_absent_volunteers_and_bad_leaders_are_refused(client, operation, setup, coord,
                                                              register):
    op_id = operation[0]
    need_id, ids = setup
    assert form(client, op_id, coord, need_id, ids[:2], ids[0]).status_code == 201
    busy = form(client, op_id, coord, need_id, [ids[1], ids[2]], ids[2])
    assert busy.status_code == 409 and busy.get_json()["error"] == "volunteer_busy"
    assert busy.get_json()["volunteer_ids"] == [ids[1]]
    absent = register(phone="090-3999-0000", name="未受付", kana="みうけつけ")["id"]
    not_in = form(client, op_id, coord, need_id, [absent], absent)
    assert not_in.status_code == 409 and not_in.get_json()["volunteer_ids"] == [absent]
    leader_outside = form(client, op_id, coord, need_id, [ids[2]], ids[3])
    assert leader_outside.status_code == 422 and "leader_id" in leader_outside.get_json()["fields"]


def test_warnings_for_understaffing_and_missing_truck(client, operation, setup, coord):
    need_id, ids = setup
    client.patch(f"/api/v1/needs/{need_id}", json={"status": "on_hold"}, headers=coord)
    client.patch(f"/api/v1/needs/{need_id}", json={"status": "ready"}, headers=coord)
    op_id = operation[0]
    need2 = client.post(f"/api/v1/operations/{op_id}/needs", headers=coord,
                        json=need_body(people_min=3, people_max=4, vehicle_needed=True,
                                       phone="0422-00-0001", lat=35.69)).get_json()
    client.patch(f"/api/v1/needs/{need2['id']}", json={"status": "ready"}, headers=coord)
    team = form(client, op_id, coord, need2["id"], [ids[1]], ids[1]).get_json()
    assert set(team["warnings"]) == {"understaffed", "no_light_truck"}
    too_many = client.post(f"/api/v1/operations/{op_id}/needs", headers=coord,
                           json=need_body(people_min=1, people_max=2, phone="0422-00-0002",
                                          lat=35.68))
    tm = too_many.get_json()
    client.patch(f"/api/v1/needs/{tm['id']}", json={"status": "ready"}, headers=coord)
    refused = form(client, op_id, coord, tm["id"], ids[2:4] + [ids[0]], ids[0])
    assert refused.status_code == 422


def test_a_need_with_a_team_cannot_be_changed_by_hand(client, operation, setup, coord):
    need_id, ids = setup
    form(client, operation[0], coord, need_id, ids[:2], ids[0])
    for status in ("ready", "cancelled", "on_hold"):
        response = client.patch(f"/api/v1/needs/{need_id}", json={"status": status},
                                headers=coord)
        assert response.status_code == 409 and response.get_json()["error"] == "need_has_team"
    assert need_status(client, need_id, coord) == "assigned"


def test_disband_puts_the_need_back_and_frees_the_volunteers(client, operation, setup, coord):
    op_id = operation[0]
    need_id, ids = setup
    team = form(client, op_id, coord, need_id, ids[:2], ids[0]).get_json()
    assert client.post(f"/api/v1/teams/{team['id']}/disband", headers=coord).status_code == 200
    assert need_status(client, need_id, coord) == "ready"
    assert form(client, op_id, coord, need_id, ids[:2], ids[1]).status_code == 201
    # A dispatched team cannot be disbanded, and a formed one cannot report.
    assert client.post(f"/api/v1/teams/{team['id']}/report", headers=coord,
                       json={"outcome": "completed"}).status_code == 409


def test_overdue_after_the_activity_window_and_recall_all(client, clock, operation, setup, coord):
    op_id = operation[0]
    need_id, ids = setup
    team = form(client, op_id, coord, need_id, ids[:2], ids[0]).get_json()
    client.post(f"/api/v1/teams/{team['id']}/dispatch", json={}, headers=coord)
    url = f"/api/v1/operations/{op_id}/teams/overdue"
    assert client.get(url, headers=coord).get_json() == []
    clock.advance(timedelta(hours=6, minutes=1))  # 15:01 in Tokyo
    assert [t["id"] for t in client.get(url, headers=coord).get_json()] == [team["id"]]
    recalled = client.post(f"/api/v1/operations/{op_id}/recall", json={"reason": "大雨警報"},
                           headers=coord).get_json()
    assert [t["id"] for t in recalled] == [team["id"]] and recalled[0]["recalled_dt"]
    client.post(f"/api/v1/teams/{team['id']}/return", headers=coord)
    assert client.get(url, headers=coord).get_json() == []


def test_roles_for_teams(client, operation, setup, token_for):
    need_id, ids = setup
    for role in ("reception", "needs_intake", "viewer", "equipment"):
        response = form(client, operation[0], token_for(role), need_id, ids[:1], ids[0])
        assert response.status_code == 403, role


def test_two_coordinators_assigning_one_volunteer_at_once_one_wins(app, operation, setup,
                                                                    token_for, client):
    op_id = operation[0]
    need_id, ids = setup
    a, b = token_for("coordinator"), token_for("admin")
    for round_ in range(3):
        barrier = threading.Barrier(2)
        results = []

        def assign(headers, members, leader):
            c = app.test_client()
            barrier.wait()
            results.append(form(c, op_id, headers, need_id, members, leader))

        shared = ids[round_]
        threads = [threading.Thread(target=assign, args=(a, [shared], shared)),
                   threading.Thread(target=assign, args=(b, [shared], shared))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        statuses = sorted(r.status_code for r in results)
        assert statuses == [201, 409], statuses
        loser = next(r for r in results if r.status_code == 409).get_json()
        assert loser["error"] == "volunteer_busy" and loser["message"]
    with app.app_context():
        from sqlalchemy import func, select

        from dvc.extensions import db
        from dvc.teams.models import TeamMember
        active = db.session.execute(select(TeamMember.volunteer_id, func.count()).where(
            TeamMember.active).group_by(TeamMember.volunteer_id)).all()
    assert sorted(v for v, _ in active) == sorted(ids[:3]) and all(n == 1 for _, n in active)
