"""Suggested teams through the HTTP API: proposals obey the rules, accepting forms real teams
through the same operations as manual ones, and a conflict refuses only the proposal it hits."""
from __future__ import annotations

import pytest

from tests.integration.test_needs_api import need_body


@pytest.fixture
def coord(token_for):
    return token_for("coordinator")


@pytest.fixture
def day(client, operation, register, coord, token_for):
    """Two ready needs (one wants chainsaw and a light truck) and six volunteers checked in at
    the satellite, the site nearest to both needs (so the one that serves them)."""
    op_id, main, satellite = operation
    needs = []
    for body in (need_body(people_min=2, people_max=3, skills=["chainsaw"], vehicle_needed=True,
                           priority="high"),
                 need_body(people_min=3, people_max=4, phone="090-5555-0001")):
        need = client.post(f"/api/v1/operations/{op_id}/needs", json=body, headers=coord)
        assert need.status_code == 201, need.get_json()
        client.patch(f"/api/v1/needs/{need.get_json()['id']}", json={"status": "ready"},
                     headers=coord)
        needs.append(need.get_json()["id"])
    desk = token_for("reception")
    people = []
    for i in range(6):
        body = register(phone=f"090-4000-{i:04d}", name=f"提案 {i}", kana=f"ていあん {i}",
                        skills=["chainsaw"] if i == 4 else [],
                        vehicle="light_truck" if i == 5 else "none")
        checkin = client.post(f"/api/v1/operations/{op_id}/checkins", headers=desk,
                              json={"code": body["code"], "site_id": satellite, "health_ok": True})
        assert checkin.status_code == 201, checkin.get_json()
        people.append(body["id"])
    return op_id, needs, people


def suggestions(client, op_id, headers):
    response = client.get(f"/api/v1/operations/{op_id}/matching/suggestions", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_suggestions_follow_the_rules_and_explain_themselves(client, day, coord):
    op_id, (saw_need, plain_need), people = day
    got = suggestions(client, op_id, coord)
    teams = {t["need_id"]: t for t in got["teams"]}
    assert set(teams) == {saw_need, plain_need} and got["unserved_need_ids"] == []
    saw = teams[saw_need]
    assert people[4] in saw["member_ids"] and people[5] in saw["member_ids"]
    assert 2 <= len(saw["member_ids"]) <= 3 and saw["leader_id"] in saw["member_ids"]
    assert 3 <= len(teams[plain_need]["member_ids"]) <= 4
    assert not set(saw["member_ids"]) & set(teams[plain_need]["member_ids"])
    assert "提案 4" in saw["reason"] and "km" in saw["reason"]
    placed = {i for t in got["teams"] for i in t["member_ids"]}
    assert placed | set(got["unassigned_volunteer_ids"]) == set(people)
    assert got["objective"] > 0


def test_nothing_is_formed_until_accepted_then_teams_are_real(client, day, coord):
    op_id, needs, people = day
    got = suggestions(client, op_id, coord)
    assert client.get(f"/api/v1/operations/{op_id}/teams", headers=coord).get_json() == []
    accepted = client.post(f"/api/v1/operations/{op_id}/matching/accept", headers=coord,
                           json={"teams": [{k: t[k] for k in ("need_id", "member_ids", "leader_id")}
                                           for t in got["teams"]]})
    assert accepted.status_code == 200, accepted.get_json()
    body = accepted.get_json()
    assert body["refused"] == [] and sorted(t["need_id"] for t in body["formed"]) == sorted(needs)
    for need_id in needs:
        assert client.get(f"/api/v1/needs/{need_id}", headers=coord).get_json()["status"] == \
            "assigned"
    again = suggestions(client, op_id, coord)
    assert again["teams"] == [] and set(again["unassigned_volunteer_ids"]) <= set(people)


def test_an_edited_proposal_and_a_conflict_refuse_only_that_team(client, day, coord):
    op_id, needs, people = day
    got = suggestions(client, op_id, coord)
    first, second = sorted(got["teams"], key=lambda t: t["need_id"])
    # Another coordinator takes one of the second team's members by hand first.
    taken = second["member_ids"][0]
    manual = client.post(f"/api/v1/operations/{op_id}/teams", headers=coord,
                         json={"need_id": second["need_id"], "member_ids": [taken],
                               "leader_id": taken})
    assert manual.status_code == 201
    edited = dict(first, member_ids=first["member_ids"][:2])   # the coordinator trims one
    edited["leader_id"] = edited["member_ids"][0]
    response = client.post(f"/api/v1/operations/{op_id}/matching/accept", headers=coord,
                           json={"teams": [{k: t[k] for k in ("need_id", "member_ids", "leader_id")}
                                           for t in (edited, second)]})
    body = response.get_json()
    assert [t["need_id"] for t in body["formed"]] == [first["need_id"]]
    assert body["formed"][0]["headcount"] == 2
    assert body["refused"][0]["need_id"] == second["need_id"]
    assert body["refused"][0]["error"] == "volunteer_busy"
    assert body["refused"][0]["volunteer_ids"] == [taken]


def test_only_coordinators_see_suggestions_and_empty_accepts_are_refused(client, day, coord,
                                                                         token_for):
    op_id = day[0]
    url = f"/api/v1/operations/{op_id}/matching/suggestions"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=token_for("reception")).status_code == 403
    empty = client.post(f"/api/v1/operations/{op_id}/matching/accept", headers=coord,
                        json={"teams": []})
    assert empty.status_code == 422 and empty.get_json()["fields"]
