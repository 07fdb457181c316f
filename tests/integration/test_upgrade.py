"""Schema upgrades with data in: a database made at the first migration, filled with rows as the
app of that time wrote them, upgraded to the newest schema (whatever head is now), still works.

On SQLite always; on PostgreSQL in a scratch database (dvc_upgrade_test) when
DVC_TEST_DATABASE_URL is set."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from dvc.core import codes
from dvc.extensions import db
from tests.conftest import T0
from tests.integration.scratch import (BACKENDS, broken_references, migration_head, scratch,
                                       scratch_app)

__all__ = ["scratch"]
FIRST = "7d7e93089f34"
STAMP = "2026-11-21 00:30:00.000000"  # naive UTC, as UTCDateTime stores it: the day before T0


def _fill_first_revision(conn, code: str) -> None:
    """Rows as revision 7d7e93089f34 knew them, in plain SQL of that revision."""
    rows = [
        ("INSERT INTO operation (id, name, kind, status, prefecture, municipality, notice, "
         "opened_dt, closed_dt) VALUES (1, '初版市 水害', 'real', 'open', '東京都', '初版市', "
         "'長靴で来てください', :t, NULL)", {}),
        ("INSERT INTO site (id, operation_id, name, kind, status, lat, lon) "
         "VALUES (1, 1, '本部', 'main', 'open', 35.68, 139.56)", {}),
        ("INSERT INTO volunteer (id, operation_id, name, kana, name_key, phone, phone_key, email, "
         "prefecture, municipality, birth_year, emergency_name, emergency_phone, skills, vehicle, "
         "insurance, insurance_council, insurance_date, group_id, registered_via, language, "
         "consent_dt, created_dt) VALUES (1, 1, '古株 一郎', 'ふるかぶ いちろう', "
         "'古株一郎|フルカブイチロウ', '090-1111-0001', '09011110001', NULL, '東京都', '三鷹市', "
         "1970, '古株 花子', '080-1111-0002', :skills, 'light_truck', 'home', "
         "'三鷹市社会福祉協議会', NULL, NULL, 'pre', 'ja', :t, :t)",
         {"skills": json.dumps(["driving"])}),
        ("INSERT INTO volunteer_code (id, volunteer_id, code_hash, issued_dt, revoked_dt) "
         "VALUES (1, 1, :hash, :t, NULL)", {"hash": codes.token_hash(code)}),
        ("INSERT INTO check_in (id, operation_id, volunteer_id, site_id, day, checked_in_dt, "
         "headcount, health, insurance_enrolled_now, method, actor) VALUES (1, 1, 1, 1, "
         "'2026-11-21', :t, 1, :health, :no, 'scan', 'user:desk')",
         {"health": json.dumps({"feeling_well": True}), "no": False}),
        ("INSERT INTO event (id, operation_id, scenario_dt, wall_dt, actor, kind, subject_type, "
         "subject_id, payload) VALUES (1, 1, :t, :t, 'user:desk', 'volunteer.checked_in', "
         "'checkin', 1, :payload)",
         {"payload": json.dumps({"volunteer_id": 1, "site_id": 1, "headcount": 1})}),
    ]
    for sql, params in rows:
        conn.execute(text(sql), {"t": STAMP, **params})
    if conn.dialect.name == "postgresql":  # explicit ids: move the sequences past them
        for table in ("operation", "site", "volunteer", "volunteer_code", "check_in", "event"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1)"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_from_the_first_migration_keeps_the_data_usable(backend, scratch, tmp_path):
    app = scratch_app(scratch, scratch(backend, "dvc_upgrade_test"), tmp_path)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade", FIRST])
    assert result.exit_code == 0, result.output
    code = codes.new_token()
    with app.app_context():
        with db.engine.begin() as conn:
            _fill_first_revision(conn, code)
        db.engine.dispose()

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output

    from dvc.auth.models import User
    from dvc.auth.operations import create_user, issue_token
    from dvc.core.events import Event
    from dvc.sites.models import Site
    from dvc.volunteers.models import CheckIn, Volunteer
    with app.app_context():
        revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert revision == migration_head(app)
        volunteer = db.session.get(Volunteer, 1)
        assert (volunteer.name, volunteer.phone_key, volunteer.skills) == \
            ("古株 一郎", "09011110001", ["driving"])
        site = db.session.get(Site, 1)
        # Columns added later have the values a new row would get.
        assert (site.opens_at, site.closes_at, site.service_districts, site.daily_quota) == \
            ("09:00", "15:00", [], None)
        checkin = db.session.scalar(select(CheckIn))
        assert checkin.checked_in_dt == T0 - timedelta(days=1) + timedelta(minutes=30)
        assert db.session.get(Event, 1).payload["volunteer_id"] == 1
        create_user("desk", "reception", "password-desk", actor="test")
        token = issue_token(db.session.scalar(select(User).where(User.username == "desk")),
                            actor="test")
        db.session.commit()
    assert broken_references(app) == []

    # The app uses the old rows: finds the volunteer by name and by code, checks them in today.
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    found = client.get("/api/v1/operations/1/volunteers?q=古株", headers=headers)
    assert found.status_code == 200 and [v["id"] for v in found.get_json()] == [1]
    card = client.post("/api/v1/operations/1/lookup", headers=headers, json={"code": code})
    assert card.status_code == 200, card.get_json()
    assert card.get_json()["checkin"] is None  # yesterday's check-in is not today's
    response = client.post("/api/v1/operations/1/checkins", headers=headers,
                           json={"code": code, "site_id": 1, "health_ok": True})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["volunteer_id"] == 1
    with app.app_context():
        assert db.session.scalar(select(CheckIn.id).where(CheckIn.id != 1)) > 1
        assert len(db.session.scalars(select(CheckIn)).all()) == 2
