"""Two kiosks at the same moment: exactly one winner, and a clear answer for the other.

Runs on SQLite and, with DVC_TEST_DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

import threading

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
