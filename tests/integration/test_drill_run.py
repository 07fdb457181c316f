"""Running a drill in the app: set-up, the virtual clock, delivery, acknowledgement, isolation."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from dvc.core.events import Event
from dvc.extensions import db
from dvc.needs.models import Need
from dvc.volunteers.models import Volunteer

SCENARIO = "earthquake-setup"


@pytest.fixture
def trainer(token_for):
    return token_for("trainer")


@pytest.fixture
def drill(client, trainer):
    response = client.post("/api/v1/drills", json={"scenario": SCENARIO}, headers=trainer)
    assert response.status_code == 201, response.text
    return response.json


def clock_action(client, headers, op_id, **body):
    response = client.post(f"/api/v1/operations/{op_id}/drill/clock", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json


def count(app, model, op_id):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(
            model.operation_id == op_id))


def test_a_new_drill_waits_at_the_scenario_start_with_its_initial_state(app, client, drill):
    assert drill["status"] == "ready"
    assert drill["now"] == drill["start"]
    assert count(app, Volunteer, drill["operation_id"]) == 30  # pre-registered in the file
    assert count(app, Need, drill["operation_id"]) == 0


def test_the_clock_runs_at_its_speed_pauses_and_jumps_without_sleeping(client, clock, drill,
                                                                        trainer):
    op = drill["operation_id"]
    state = clock_action(client, trainer, op, action="start")
    assert state["status"] == "running" and state["speed"] == 10
    clock.advance(timedelta(seconds=60))              # one real minute at 10x
    now = client.get(f"/api/v1/operations/{op}/drill", headers=trainer).json["now"]
    assert now == "2026-09-01T00:10:00+00:00"
    clock_action(client, trainer, op, action="pause")
    clock.advance(timedelta(hours=1))
    assert client.get(f"/api/v1/operations/{op}/drill", headers=trainer).json["now"] == now
    state = clock_action(client, trainer, op, action="speed", speed=600)
    assert state["speed"] == 600 and state["status"] == "paused"
    state = clock_action(client, trainer, op, action="jump", to="2026-09-01T10:00:00+09:00")
    assert state["now"] == "2026-09-01T01:00:00+00:00"
    back = client.post(f"/api/v1/operations/{op}/drill/clock", headers=trainer,
                       json={"action": "jump", "to": "2026-09-01T09:30:00+09:00"})
    assert back.status_code == 422 and "to" in back.json["fields"]


def test_injects_are_delivered_at_their_times_and_acknowledged_once(app, client, clock, drill,
                                                                    trainer, token_for):
    op = drill["operation_id"]
    clock_action(client, trainer, op, action="start")
    clock.advance(timedelta(seconds=31))   # 5 min 10 s of scenario time at 10x
    tick = client.post(f"/api/v1/operations/{op}/drill/tick", headers=trainer).json
    assert tick["delivered"] >= 1 and tick["now"] == "2026-09-01T00:05:10+00:00"
    needs_desk = token_for("needs_intake")
    inbox = client.get(f"/api/v1/operations/{op}/drill/messages?desk=needs",
                       headers=needs_desk).json["messages"]
    assert [m["inject"] for m in inbox] == [2]
    assert "notes" not in inbox[0]
    first = client.post(f"/api/v1/operations/{op}/drill/injects/2/acknowledge",
                        json={"desk": "needs"}, headers=needs_desk)
    again = client.post(f"/api/v1/operations/{op}/drill/injects/2/acknowledge",
                        json={"desk": "needs"}, headers=needs_desk)
    assert (first.status_code, again.status_code) == (201, 200)
    early = client.post(f"/api/v1/operations/{op}/drill/injects/5/acknowledge",
                        json={"desk": "needs"}, headers=needs_desk)
    assert early.status_code == 409 and early.json["error"] == "not_delivered"
    timeline = client.get(f"/api/v1/operations/{op}/drill/timeline", headers=trainer).json
    row = next(r for r in timeline["injects"] if r["number"] == 2)
    assert row["status"] == "acknowledged" and row["response_minutes"] is not None


def test_generated_needs_and_arrivals_carry_their_scheduled_times(app, client, clock, drill,
                                                                  trainer):
    op = drill["operation_id"]
    clock_action(client, trainer, op, action="start")
    clock_action(client, trainer, op, action="jump", to="2026-09-01T10:00:00+09:00")
    with app.app_context():
        needs = db.session.scalars(select(Need).where(Need.operation_id == op)).all()
        # In the order recorded: without ORDER BY, PostgreSQL returns rows where they lie on
        # disk, and a row may fill space freed by an earlier test's deletes.
        arrivals = db.session.scalars(select(Event).where(
            Event.operation_id == op, Event.kind == "drill.volunteer_arrived")
            .order_by(Event.id)).all()
    assert needs and arrivals
    start = datetime.fromisoformat(drill["start"])
    assert all(start < n.received_dt <= start + timedelta(hours=1) for n in needs)
    times = [e.scenario_dt for e in arrivals]
    assert times == sorted(times) and len(set(times)) > 1


def test_a_missed_expected_action_fires_its_contingency_once(app, client, clock, drill, trainer):
    op = drill["operation_id"]
    clock_action(client, trainer, op, action="start")
    clock_action(client, trainer, op, action="jump", to="2026-09-01T09:25:00+09:00")
    clock_action(client, trainer, op, action="jump", to="2026-09-01T09:40:00+09:00")
    with app.app_context():
        fired = db.session.scalars(select(Event).where(
            Event.operation_id == op, Event.kind == "drill.contingency_fired")).all()
    numbers = [e.payload["inject"] for e in fired]
    assert 21 in numbers and len(numbers) == len(set(numbers))
    timeline = client.get(f"/api/v1/operations/{op}/drill/timeline", headers=trainer).json
    row = next(r for r in timeline["injects"] if r["number"] == 21)
    assert row["fired_because"] == 1 and row["delivered"] is not None


def test_skip_and_release_by_the_trainer(app, client, clock, drill, trainer):
    op = drill["operation_id"]
    clock_action(client, trainer, op, action="start")
    assert client.post(f"/api/v1/operations/{op}/drill/injects/4/skip",
                       headers=trainer).status_code == 200
    released = client.post(f"/api/v1/operations/{op}/drill/injects/5/release", headers=trainer)
    assert released.status_code == 200
    clock_action(client, trainer, op, action="jump", to="2026-09-01T09:50:00+09:00")
    rows = {r["number"]: r for r in
            client.get(f"/api/v1/operations/{op}/drill/timeline", headers=trainer).json["injects"]}
    assert rows[4]["status"] == "skipped" and rows[4]["delivered"] is None
    assert rows[5]["delivered"] == drill["start"]
    twice = client.post(f"/api/v1/operations/{op}/drill/injects/5/release", headers=trainer)
    assert twice.status_code == 409


def test_players_may_not_drive_the_clock(client, drill, token_for):
    op = drill["operation_id"]
    response = client.post(f"/api/v1/operations/{op}/drill/clock", json={"action": "start"},
                           headers=token_for("reception"))
    assert response.status_code == 403


def test_a_real_operation_is_not_a_drill_and_keeps_the_real_clock(client, operation, token_for,
                                                                  drill):
    op_id, *_ = operation
    response = client.get(f"/api/v1/operations/{op_id}/drill", headers=token_for("trainer"))
    assert response.status_code == 404 and response.json["error"] == "not_a_drill"


def test_needs_the_drill_creates_are_not_the_desks_expected_action(app, client, drill, trainer,
                                                                   token_for):
    """Inject 2 expects the needs desk to record a need within 15 minutes: the needs the
    scenario generates itself do not count, a need the desk enters does."""
    op = drill["operation_id"]
    clock_action(client, trainer, op, action="start")
    clock_action(client, trainer, op, action="jump", to="2026-09-01T09:10:00+09:00")
    entered = client.post(f"/api/v1/operations/{op}/needs", headers=token_for("needs_intake"),
                          json={"requester_name": "訓練 花子", "address": "架空市中央1-1",
                                "category": "debris", "lat": 35.684, "lon": 139.56})
    assert entered.status_code == 201, entered.text
    clock_action(client, trainer, op, action="jump", to="2026-09-01T09:30:00+09:00")
    rows = {r["number"]: r for r in
            client.get(f"/api/v1/operations/{op}/drill/timeline", headers=trainer).json["injects"]}
    assert rows[22]["status"] == "waiting"           # not fired: the desk did it
    assert rows[2]["response_minutes"] == 5.0        # 09:05 delivered, 09:10 entered
    clock_action(client, trainer, op, action="jump", to="2026-09-01T09:40:00+09:00")
    rows = {r["number"]: r for r in
            client.get(f"/api/v1/operations/{op}/drill/timeline", headers=trainer).json["injects"]}
    assert rows[22]["delivered"] is None and rows[23]["fired_because"] == 3  # no check-in


@pytest.mark.parametrize("name", ["/etc/passwd", "../dvc/config", "earthquake-setup.yaml", ""])
def test_only_shipped_scenarios_start_from_the_web(client, trainer, name):
    response = client.post("/api/v1/drills", json={"scenario": name}, headers=trainer)
    assert response.status_code in (404, 422)
