"""Dispatch pages through HTTP: the dispatch sheet, the report desk, the leader's phone, recall
and the safety list."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.integration.test_needs_api import need_body


@pytest.fixture
def coord(token_for):
    return token_for("coordinator")


@pytest.fixture
def crew(client, operation, register, coord, token_for):
    """A ready need and three checked-in volunteers (the first leads): returns a dict with the
    need id, the volunteer ids and their codes, and form(...) to make a team of them."""
    op_id, main, _ = operation
    need = client.post(f"/api/v1/operations/{op_id}/needs", json=need_body(people_max=5),
                       headers=coord).get_json()
    client.patch(f"/api/v1/needs/{need['id']}", json={"status": "ready"}, headers=coord)
    desk = token_for("reception")
    ids, tokens = [], []
    for i in range(3):
        body = register(phone=f"090-3000-{i:04d}", name=f"班員 {i}", kana=f"はんいん {i}")
        client.post(f"/api/v1/operations/{op_id}/checkins", headers=desk,
                    json={"code": body["code"], "site_id": main, "health_ok": True})
        ids.append(body["id"])
        tokens.append(body["code"])

    def form(dispatch=True) -> int:
        team = client.post(f"/api/v1/operations/{op_id}/teams", headers=coord,
                           json={"need_id": need["id"], "member_ids": ids, "leader_id": ids[0]})
        assert team.status_code == 201, team.get_json()
        team_id = team.get_json()["id"]
        if dispatch:
            assert client.post(f"/api/v1/teams/{team_id}/dispatch", headers=coord,
                               json={"transport": "walk"}).status_code == 200
        return team_id
    return {"need_id": need["id"], "ids": ids, "codes": tokens, "form": form}


def _sheet_code(app, op_id, team_id):
    from dvc.teams.sheets import sheet_code
    return sheet_code(app.config["SECRET_KEY"], op_id, team_id)


def _team(app, team_id):
    from dvc.extensions import db
    from dvc.teams.models import Team
    with app.app_context():
        team = db.session.get(Team, team_id)
        return {"status": team.status, "need_status": team.need.status,
                "report": team.report.outcome if team.report else None,
                "remaining": team.need.remaining_work}


def test_dispatch_sheet_has_members_leader_phone_map_and_report_qr(app, client, login,
                                                                   operation, crew):
    op_id = operation[0]
    team_id = crew["form"](dispatch=False)
    login("reception")
    response = client.get(f"/o/{op_id}/teams/{team_id}/sheet?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "活動指示書" in html and f"T{team_id:04d}" in html
    for member in ("班員 0", "班員 1", "班員 2"):
        assert member in html
    assert "090-3000-0000" in html  # the leader's phone, to call them in the field
    assert "090-3000-0001" not in html  # the other members' phones stay off the paper
    assert "架空市北町1-2-3" in html and "Mud removal" in html
    assert 'class="sheet-map"' in html and "本部" in html  # the offline map with the sites
    code = _sheet_code(app, op_id, team_id)
    qr = re.search(r'class="sheet-qr">(.*?)</div>', html, re.S).group(1)
    assert "<svg" in qr and code in qr
    assert "0422-11-2233" not in html  # the requester's phone is not printed
    assert "Back by 15:00" in html


def test_sheet_qr_text_round_trips_through_a_camera_frame(app, operation, crew):
    from dvc.volunteers import qr
    code = _sheet_code(app, operation[0], 7)
    assert re.fullmatch(r"DVCT\d{6}[0-9A-Z]{4}", code)
    assert qr.decode_image(qr.png(code)) == code


def test_report_desk_resolves_a_scan_and_files_completed(app, client, login, operation, crew):
    op_id = operation[0]
    team_id = crew["form"]()
    login("reception")
    desk = client.get(f"/o/{op_id}/reports?lang=en").get_data(as_text=True)
    assert 'id="scan-input"' in desk and "autofocus" in desk and f"T{team_id:04d}" in desk
    scanned = client.get(f"/o/{op_id}/reports", query_string={
        "code": _sheet_code(app, op_id, team_id).lower() + " "})
    assert scanned.status_code == 302
    assert scanned.location.endswith(f"/o/{op_id}/teams/{team_id}/report")
    typed = client.get(f"/o/{op_id}/reports?code=T{team_id:04d}")
    assert typed.location.endswith(f"/teams/{team_id}/report")
    form = client.get(scanned.location + "?lang=en").get_data(as_text=True)
    assert 'id="report-form"' in form and "0422-11-2233" not in form and "高橋" not in form
    filed = client.post(scanned.location, data={"outcome": "completed", "returned": "y",
                                                "requester_situation": "安心された",
                                                "near_miss": "釘を踏みそうになった"})
    assert filed.status_code == 302
    assert _team(app, team_id) == {"status": "returned", "need_status": "completed",
                                   "report": "completed", "remaining": None}
    again = client.get(scanned.location + "?lang=en").get_data(as_text=True)
    assert "Report filed" in again and 'id="report-form"' not in again


def test_report_desk_refuses_damaged_or_foreign_codes(app, client, login, operation, crew):
    op_id = operation[0]
    team_id = crew["form"]()
    login("reception")
    code = _sheet_code(app, op_id, team_id)
    damaged = code[:-1] + ("0" if code[-1] != "0" else "1")
    response = client.get(f"/o/{op_id}/reports", query_string={"code": damaged, "lang": "en"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "not from this operation, or its code is damaged" in html
    assert f'value="{damaged}"' not in html  # the box is empty for the next scan
    foreign = client.get(f"/o/{op_id}/reports",
                         query_string={"code": _sheet_code(app, op_id + 1, team_id)})
    assert foreign.status_code == 422
    nonsense = client.get(f"/o/{op_id}/reports", query_string={"code": "HELLO"})
    assert nonsense.status_code == 422 and "not a dispatch sheet" in nonsense.get_data(as_text=True)
    unknown = client.get(f"/o/{op_id}/reports", query_string={"code": "T9999"})
    assert unknown.status_code == 404


def test_report_desk_files_continuing_with_what_remains(app, client, login, operation, crew):
    op_id = operation[0]
    team_id = crew["form"]()
    login("coordinator")
    url = f"/o/{op_id}/teams/{team_id}/report?lang=en"
    missing = client.post(url, data={"outcome": "continuing", "people_next": "4",
                                     "requester_situation": "疲れている"})
    assert missing.status_code == 422
    html = missing.get_data(as_text=True)
    assert re.search(r'field-error[^>]*>Describe the work that remains\.', html)
    assert "疲れている" in html and 'value="4"' in html
    filed = client.post(url, data={"outcome": "continuing", "remaining_work": "床下の泥",
                                   "people_next": "4", "injury": "手を切った",
                                   "injury_severity": "treated"})
    assert filed.status_code == 302
    state = _team(app, team_id)
    assert state["need_status"] == "continuing" and state["remaining"] == "床下の泥"
    assert state["status"] == "dispatched"  # "back at the centre" was not ticked
    returned = client.post(f"/o/{op_id}/teams/{team_id}/return")
    assert returned.status_code == 302 and _team(app, team_id)["status"] == "returned"
    safety = client.get(f"/o/{op_id}/safety?lang=en").get_data(as_text=True)
    assert "手を切った" in safety and "Treated (first aid)" in safety


def test_leader_page_shows_task_and_requester_phone_to_the_leader_only(app, client, operation,
                                                                       crew, coord):
    team_id = crew["form"]()
    leader, member = crew["codes"][0], crew["codes"][1]
    page = client.get(f"/v/{leader}?lang=en").get_data(as_text=True)
    assert "You are the leader." in page and "0422-11-2233" in page
    assert "架空市北町1-2-3" in page and "Mud removal" in page
    assert "geo:35.7,139.55" in page and "maps.gsi.go.jp/#17/35.7/139.55/" in page
    assert "/team/%d/arrive" % team_id in page and "/team/%d/finish" % team_id in page
    other = client.get(f"/v/{member}?lang=en").get_data(as_text=True)
    assert f"T{team_id:04d}" in other and "班員 0" in other
    for secret in ("0422-11-2233", "架空市北町1-2-3", "/arrive", "高橋"):
        assert secret not in other
    # Once the team is back, the phone number is gone from the leader's page too.
    client.post(f"/api/v1/teams/{team_id}/return", headers=coord)
    after = client.get(f"/v/{leader}?lang=en").get_data(as_text=True)
    assert "0422-11-2233" not in after and "You are the leader." not in after


def test_arrived_finished_and_report_from_the_leaders_phone(app, client, operation, crew):
    team_id = crew["form"]()
    leader, member = crew["codes"][0], crew["codes"][1]
    refused = client.post(f"/v/{member}/team/{team_id}/arrive?lang=en")
    assert refused.status_code == 403
    assert "Only the team&#39;s leader" in refused.get_data(as_text=True)
    assert _team(app, team_id)["status"] == "dispatched"
    assert client.post(f"/v/{leader}/team/{team_id + 1}/arrive").status_code == 403
    arrived = client.post(f"/v/{leader}/team/{team_id}/arrive")
    assert arrived.status_code == 302 and arrived.location.endswith(f"/v/{leader}")
    assert _team(app, team_id)["status"] == "on_site"
    twice = client.post(f"/v/{leader}/team/{team_id}/arrive?lang=en", follow_redirects=True)
    assert "The team cannot do this now" in twice.get_data(as_text=True)
    assert client.post(f"/v/{leader}/team/{team_id}/finish").status_code == 302
    assert _team(app, team_id)["status"] == "finished"
    bad = client.post(f"/v/{leader}/team/{team_id}/report?lang=en",
                      data={"outcome": "continuing"})
    assert bad.status_code == 422
    assert "Describe the work that remains." in bad.get_data(as_text=True)
    sent = client.post(f"/v/{leader}/team/{team_id}/report?lang=en",
                       data={"outcome": "continuing", "remaining_work": "二階の片付け",
                             "people_next": "3"}, follow_redirects=True)
    assert "Report sent" in sent.get_data(as_text=True)
    assert _team(app, team_id)["need_status"] == "continuing"
    assert client.post(f"/v/{member}/team/{team_id}/report",
                       data={"outcome": "completed"}).status_code == 403


def test_leader_buttons_need_the_csrf_token(make_app, operation, crew, client):
    team_id = crew["form"]()
    app = make_app(WTF_CSRF_ENABLED=True)
    phone = app.test_client()
    leader = crew["codes"][0]
    page = phone.get(f"/v/{leader}").get_data(as_text=True)
    assert phone.post(f"/v/{leader}/team/{team_id}/arrive").status_code == 400
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert phone.post(f"/v/{leader}/team/{team_id}/arrive",
                      data={"csrf_token": token}).status_code == 302
    assert _team(app, team_id)["status"] == "on_site"


def test_recall_shows_a_red_banner_on_every_members_page(app, client, login, operation, crew):
    op_id = operation[0]
    crew["form"]()
    login("reception")
    assert client.post(f"/o/{op_id}/recall", data={"reason": "大雨警報"}).status_code == 403
    login("coordinator")
    no_reason = client.post(f"/o/{op_id}/recall?lang=en", data={"reason": ""},
                            follow_redirects=True)
    assert "Say why every team must come back." in no_reason.get_data(as_text=True)
    sent = client.post(f"/o/{op_id}/recall?lang=en", data={"reason": "大雨警報"},
                       follow_redirects=True)
    assert "Recall sent to 1 team" in sent.get_data(as_text=True)
    for code in crew["codes"]:
        page = client.get(f"/v/{code}?lang=en").get_data(as_text=True)
        assert 'id="recall-banner"' in page and "大雨警報" in page
    desk = client.get(f"/o/{op_id}/reports?lang=en").get_data(as_text=True)
    assert "Recalled" in desk
    safety = client.get(f"/o/{op_id}/safety?lang=en").get_data(as_text=True)
    recalled = re.search(r'id="recalled">(.*?)</section>', safety, re.S).group(1)
    assert "班員 0" in recalled and "090-3000-0000" in recalled


def test_overdue_teams_are_highlighted_and_listed_for_safety(app, client, login, clock,
                                                             operation, crew):
    op_id = operation[0]
    team_id = crew["form"]()
    login("coordinator")
    html = client.get(f"/o/{op_id}/safety?lang=en").get_data(as_text=True)
    overdue = re.search(r'id="overdue">(.*?)</section>', html, re.S).group(1)
    assert f"T{team_id:04d}" not in overdue
    clock.advance(timedelta(hours=6, minutes=5))  # 15:05 in Tokyo
    desk = client.get(f"/o/{op_id}/reports?lang=en").get_data(as_text=True)
    assert re.search(rf'<tr class="overdue[^"]*" id="team-{team_id}"', desk)
    html = client.get(f"/o/{op_id}/safety?lang=en").get_data(as_text=True)
    overdue = re.search(r'id="overdue">(.*?)</section>', html, re.S).group(1)
    assert f"T{team_id:04d}" in overdue
    back = client.post(f"/o/{op_id}/teams/{team_id}/return", data={"back": "safety"})
    assert back.location.endswith(f"/o/{op_id}/safety")
    html = client.get(f"/o/{op_id}/safety?lang=en").get_data(as_text=True)
    assert f"T{team_id:04d}" not in re.search(r'id="overdue">(.*?)</section>', html, re.S).group(1)


def test_sheet_of_another_operations_team_is_404(app, client, login, operation, crew):
    from dvc.extensions import db
    from dvc.operations.operations import create_operation
    team_id = crew["form"]()
    with app.app_context():
        other = create_operation("別の災害", "drill", actor="t")
        db.session.commit()
        other_id = other.id
    login("coordinator")
    assert client.get(f"/o/{other_id}/teams/{team_id}/sheet").status_code == 404
    assert client.get(f"/o/{other_id}/teams/{team_id}/report").status_code == 404
