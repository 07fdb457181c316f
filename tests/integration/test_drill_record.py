"""Record a day, export it as a scenario, replay it, fork it: the same counts, no one's data."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dvc.core.context import clock_in_use
from dvc.core.events import Event
from dvc.drills import operations as drills
from dvc.drills.record import export_scenario
from dvc.drills.scenario import check_text
from dvc.extensions import db
from dvc.needs.operations import NeedInput, change_status, create_need
from dvc.operations.models import Operation
from dvc.operations.operations import create_operation
from dvc.sites.operations import create_site
from dvc.teams.operations import dispatch_team, form_team, report_team
from dvc.volunteers.operations import Registration, check_in, register_volunteer

NAMES = ["山田 一郎", "川口 二郎", "森本 三子", "大石 四郎", "中野 五月", "木村 六助"]
COUNTED = ("volunteer.checked_in", "need.received", "team.formed", "team.dispatched",
           "team.reported")


def _registration(i: int, name: str) -> Registration:
    return Registration(name=name, kana="テスト", phone=f"090-1111-{i:04d}", prefecture="岡山県",
                        municipality="倉敷市", birth_year=1980 + i, emergency_name="家族",
                        emergency_phone=f"080-2222-{i:04d}", consent=True,
                        insurance="home", insurance_council="倉敷市社会福祉協議会",
                        skills=["driving"] if i == 0 else [])


@pytest.fixture
def recorded_day(app, clock):
    """A small real day: 6 volunteers, 5 check in, 3 needs, 2 teams, one reported back."""
    with app.app_context():
        op = create_operation("倉敷市 豪雨災害", "real", actor="t", prefecture="岡山県",
                              municipality="倉敷市")
        site = create_site(op, "本部", "main", lat=34.585, lon=133.772, actor="t")
        volunteers = [register_volunteer(op, _registration(i, n), via="pre", actor="t")[0]
                      for i, n in enumerate(NAMES)]
        for v in volunteers[:5]:
            clock.advance(timedelta(minutes=3))
            check_in(op, v, site_id=site.id, health_ok=True, insurance_enrolled_now=False,
                     method="scan", actor="t")
        needs = []
        for i in range(3):
            clock.advance(timedelta(minutes=5))
            needs.append(create_need(op, NeedInput(
                requester_name=f"被災 太郎{i}", address=f"倉敷市真備町有井{i}-1",
                phone=f"086-000-000{i}", category="mud_removal", lat=34.63 + i / 100,
                lon=133.70), actor="t"))
        for need in needs[:2]:
            change_status(need, "ready", actor="t")
        clock.advance(timedelta(minutes=10))
        team1, _ = form_team(op, needs[0], [volunteers[0].id, volunteers[1].id],
                             volunteers[0].id, actor="t")
        dispatch_team(team1, transport="walk", actor="t")
        clock.advance(timedelta(minutes=5))
        team2, _ = form_team(op, needs[1], [volunteers[2].id, volunteers[3].id],
                             volunteers[2].id, actor="t")
        dispatch_team(team2, transport="walk", actor="t")
        clock.advance(timedelta(hours=3))
        report_team(team1, outcome="completed", actor="t", reported_by="山田")
        db.session.commit()
        return op.id


def counts(operation_id: int) -> dict:
    rows = db.session.execute(select(Event.kind, func.count()).where(
        Event.operation_id == operation_id, Event.kind.in_(COUNTED)).group_by(Event.kind))
    return dict(rows.all())


def replay(text: str, *, fork_at=None):
    drill = drills.start_drill(text, actor="trainer")
    drills.start_clock(drill, actor="trainer")
    scenario = drills.scenario_of(drill)
    if fork_at is not None:
        drill = drills.fork_drill(drill, scenario.start + fork_at, actor="trainer")
        drills.start_clock(drill, actor="trainer")
    with clock_in_use(drills.drill_clock(drill)):
        drills.tick(drill, until=scenario.end)
    db.session.commit()
    return drill


def test_the_export_is_a_valid_scenario_with_no_ones_personal_data(app, recorded_day):
    with app.app_context():
        text = export_scenario(db.session.get(Operation, recorded_day))
    assert [p for p in check_text(text) if p.severity == "error"] == []
    for private in [*NAMES, "被災 太郎", "090-1111", "086-000", "真備町有井", "34.63,", "133.7,"]:
        assert private not in text


def test_record_export_replay_gives_the_same_counts(app, clock, recorded_day):
    with app.app_context():
        original = counts(recorded_day)
        text = export_scenario(db.session.get(Operation, recorded_day))
        drill = replay(text)
        assert counts(drill.operation_id) == original == {
            "volunteer.checked_in": 5, "need.received": 3, "team.formed": 2,
            "team.dispatched": 2, "team.reported": 1}
        failed = db.session.scalar(select(func.count()).select_from(Event).where(
            Event.operation_id == drill.operation_id, Event.kind == drills.REPLAY_FAILED))
        assert failed == 0


def test_a_fork_hands_control_to_the_trainees_from_its_time(app, clock, recorded_day):
    with app.app_context():
        text = export_scenario(db.session.get(Operation, recorded_day))
        scenario_start = drills._parsed(text).start
        first_event = db.session.scalar(select(func.min(Event.scenario_dt)).where(
            Event.operation_id == recorded_day, Event.kind == "volunteer.checked_in"))
        # Fork just after the third check-in: the record's later actions are the trainees'.
        fork = replay(text, fork_at=first_event - scenario_start + timedelta(minutes=7))
        done = counts(fork.operation_id)
        assert done["volunteer.checked_in"] == 3
        assert done["need.received"] == 3          # the world goes on: needs keep coming
        assert "team.formed" not in done
        assert fork.live_from_dt is not None and fork.source_operation_id is not None


def test_export_replay_and_fork_through_the_api(client, recorded_day, token_for):
    trainer = token_for("trainer")
    exported = client.get(f"/api/v1/operations/{recorded_day}/scenario", headers=trainer)
    assert exported.status_code == 200 and exported.mimetype == "application/yaml"
    assert "recorded_day" in exported.text and "山田" not in exported.text
    assert client.get(f"/api/v1/operations/{recorded_day}/scenario",
                      headers=token_for("reception")).status_code == 403
    replayed = client.post(f"/api/v1/operations/{recorded_day}/replay", json={"speed": 600},
                           headers=trainer)
    assert replayed.status_code == 201 and replayed.json["speed"] == 600
    drill_op = replayed.json["operation_id"]
    assert drill_op != recorded_day
    forked = client.post(f"/api/v1/operations/{drill_op}/drill/fork", headers=trainer,
                         json={"at": replayed.json["start"]})
    assert forked.status_code == 201 and forked.json["status"] == "paused"
    outside = client.post(f"/api/v1/operations/{drill_op}/drill/fork", headers=trainer,
                          json={"at": "2020-01-01T00:00:00+00:00"})
    assert outside.status_code == 422 and "at" in outside.json["fields"]


def test_the_after_action_report_suggests_ratings_and_keeps_the_trainers_review(
        app, client, clock, login):
    from dvc.drills.models import Drill
    login("trainer")
    with app.app_context():
        drill = drills.start_drill(drills.read_scenario("earthquake-setup"), actor="t")
        drills.start_clock(drill, actor="t")
        with clock_in_use(drills.drill_clock(drill)):
            drills.tick(drill, until=drills.scenario_of(drill).start + timedelta(minutes=40))
        db.session.commit()
        op_id = drill.operation_id
        notes = [i.notes for i in drills.scenario_of(drill).injects if i.notes]
    page = client.get(f"/o/{op_id}/drill/review")
    assert page.status_code == 200
    assert 'data-objective="open-reception"' in page.text and 'data-inject="21"' in page.text
    assert all(note not in page.text for note in notes)  # controllers' notes stay out
    saved = client.post(f"/o/{op_id}/drill/review", data={
        "rating-open-reception": "S", "note-open-reception": "受付開始が遅れた",
        "strengths": "総務の掲示が早かった", "improvements": "受付の導線",
        "plan_rows": "2", "plan-0-action": "受付レイアウトの見直し", "plan-0-owner": "総務課",
        "plan-0-due": "2026-12-01", "plan-1-action": ""})
    assert saved.status_code == 302
    with app.app_context():
        review = db.session.get(Drill, op_id).review
    assert review["ratings"]["open-reception"] == {"rating": "S", "note": "受付開始が遅れた"}
    assert review["plan"] == [{"action": "受付レイアウトの見直し", "owner": "総務課",
                               "due": "2026-12-01"}]
    bad = client.post(f"/o/{op_id}/drill/review", data={
        "plan_rows": "1", "plan-0-action": "x", "plan-0-due": "来週"})
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text
    assert client.get(f"/o/{op_id}/drill/review").status_code == 200


def test_the_command_line_exports_a_day_that_replays_headless(app, recorded_day, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "day.yaml"
    result = runner.invoke(args=["drill", "export", str(recorded_day), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "recorded_day" in out.read_text(encoding="utf-8")
    checked = runner.invoke(args=["drill", "check", str(out)])
    assert checked.exit_code == 0 and "OK" in checked.output
    missing = runner.invoke(args=["drill", "export", "999999"])
    assert missing.exit_code == 1 and "Error" in missing.output
