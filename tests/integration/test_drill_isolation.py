"""Nothing from a drill appears in a real operation, and a drill's clock stays in the drill."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from dvc.core.events import Event
from dvc.drills.models import DrillArrival
from dvc.extensions import db
from dvc.needs.models import Need
from dvc.volunteers.models import Volunteer

from tests.conftest import T0


@pytest.fixture
def played(client, token_for):
    """A drill started and played to 10:00 of its scenario (needs and arrivals delivered)."""
    trainer = token_for("trainer")
    op = client.post("/api/v1/drills", json={"scenario": "earthquake-setup"},
                     headers=trainer).json["operation_id"]
    for body in ({"action": "start"}, {"action": "jump", "to": "2026-09-01T10:00:00+09:00"}):
        assert client.post(f"/api/v1/operations/{op}/drill/clock", json=body,
                           headers=trainer).status_code == 200
    return op


def rows(app, model, op_id) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(
            model.operation_id == op_id))


def test_a_real_operation_sees_none_of_the_drills_records(app, client, operation, played,
                                                          token_for):
    real, main, _ = operation
    coordinator = token_for("coordinator")
    assert rows(app, Need, played) > 0 and rows(app, Volunteer, played) > 0
    assert rows(app, Need, real) == 0 and rows(app, Volunteer, real) == 0
    needs = client.get(f"/api/v1/operations/{real}/needs", headers=coordinator).json
    assert needs["features"] == [] if isinstance(needs, dict) else needs == []
    stats = client.get(f"/api/v1/operations/{real}/stats/daily", headers=coordinator).json
    assert stats["since_opening"]["needs"]["received"] == 0
    assert stats["since_opening"]["volunteers"]["people"] == 0
    with app.app_context():
        kinds = set(db.session.scalars(select(Event.kind).where(Event.operation_id == real)))
    assert not any(k.startswith("drill.") for k in kinds)


def test_a_drill_volunteers_code_is_unknown_at_a_real_centre(app, client, operation, played,
                                                             token_for):
    real, main, _ = operation
    with app.app_context():
        code = db.session.scalars(select(DrillArrival.code).where(
            DrillArrival.operation_id == played)).first()
    response = client.post(f"/api/v1/operations/{real}/checkins", headers=token_for("reception"),
                           json={"code": code, "site_id": main, "health_ok": True})
    assert response.status_code == 404 and response.json["error"] == "unknown_code"


def test_a_drill_need_cannot_be_given_a_team_of_the_real_operation(app, client, operation,
                                                                   played, token_for):
    real, _, _ = operation
    with app.app_context():
        need_id = db.session.scalars(select(Need.id).where(Need.operation_id == played)).first()
    response = client.post(f"/api/v1/operations/{real}/teams", headers=token_for("coordinator"),
                           json={"need_id": need_id, "member_ids": [1], "leader_id": 1})
    assert response.status_code in (404, 409, 422)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event).where(
            Event.operation_id == real, Event.kind == "team.formed")) == 0


def test_the_drill_clock_never_reaches_a_real_operation(app, client, operation, played,
                                                        token_for):
    real, _, _ = operation
    response = client.post(f"/api/v1/operations/{real}/needs", headers=token_for("coordinator"),
                           json={"requester_name": "実際 太郎", "address": "テスト市1-1",
                                 "category": "mud_removal", "lat": 35.68, "lon": 139.56})
    assert response.status_code == 201, response.text
    with app.app_context():
        need = db.session.get(Need, response.json["id"])
        event = db.session.scalars(select(Event).where(Event.operation_id == real,
                                                       Event.kind == "need.received")).one()
    assert need.received_dt == T0 and event.scenario_dt == T0  # the app's clock, not 2026-09-01
    with app.app_context():
        drill_times = db.session.scalars(select(Need.received_dt).where(
            Need.operation_id == played)).all()
    assert all(t.date() == datetime(2026, 9, 1).date() for t in drill_times)
    assert all(t < T0 - timedelta(days=30) for t in drill_times)
