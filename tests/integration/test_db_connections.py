"""A pooled database connection that went away while idle (a database restart, a dropped
link) is found before use and replaced: the next request works (dvc/web.py). A server
database's matter: an SQLite file has no link to drop."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from dvc.extensions import db
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="DVC_TEST_DATABASE_URL is not set")


def _pooled_connection_dies(app) -> None:
    """End the one pooled connection on the server's side, as a restart would."""
    with app.app_context():
        raw = db.engine.raw_connection()      # the pool's connection, the one requests get
        pid = raw.driver_connection.info.backend_pid
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.invalidate()                # not back into the pool: only the dead one is
        raw.close()                           # back into the pool, dead


def test_idle_connection_that_died_is_replaced(make_app, operation, token_for):
    app = make_app(DB_PING_IDLE_SECONDS=0)    # every checkout counts as idle: ping it
    client = app.test_client()
    headers = token_for("reception")
    url = f"/api/v1/operations/{operation[0]}/checkins"
    assert client.get(url, headers=headers).status_code == 200
    _pooled_connection_dies(app)
    answer = client.get(url, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    with app.app_context():
        assert db.session.execute(text("SELECT 1")).scalar() == 1


def test_busy_connection_is_not_pinged(make_app, operation, token_for):
    """Handed from one request to the next within the idle limit, a connection is used as it
    is: no ping round trip per request."""
    app = make_app(DB_PING_IDLE_SECONDS=3600)
    client, headers = app.test_client(), token_for("reception")
    url = f"/api/v1/operations/{operation[0]}/checkins"
    assert client.get(url, headers=headers).status_code == 200
    pings = []
    with app.app_context():
        dialect = db.engine.dialect
    original = dialect.do_ping
    dialect.do_ping = lambda conn: pings.append(conn) or original(conn)
    try:
        for _ in range(3):
            assert client.get(url, headers=headers).status_code == 200
    finally:
        del dialect.do_ping
    assert pings == []
