"""Scratch databases built by the migrations (not by create_all), for backup and upgrade tests.

SQLite: a file in the test's tmp_path. PostgreSQL (DVC_TEST_DATABASE_URL set): a database of
its own on the same server, created empty and dropped afterwards, so the suite's database is
never touched."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text

from dvc import create_app
from dvc.core.clock import VirtualClock
from dvc.extensions import db
from tests.conftest import T0

PG_URL = os.environ.get("DVC_TEST_DATABASE_URL")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG_URL, reason="DVC_TEST_DATABASE_URL is not set"))]
FORBIDDEN = {"test", "postgres", "template0", "template1"}


def _admin():
    return create_engine(PG_URL.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")


def create_pg_database(name: str) -> str:
    """(Re)create an empty PostgreSQL database next to the test database; return its URL."""
    assert name not in FORBIDDEN
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(name: str) -> None:
    assert name not in FORBIDDEN
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def scratch(tmp_path):
    """scratch(backend, name) -> the URL of a new empty database; all dropped after the test."""
    made, apps = [], []

    def make(backend: str, name: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / (name + '.sqlite3')}"
        made.append(name)
        return create_pg_database(name)

    make.apps = apps
    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    for name in made:
        drop_pg_database(name)


def scratch_app(scratch_fixture, url: str, tmp_path, **config):
    """An app on `url` with a frozen clock, disposed of by the scratch fixture."""
    settings = {"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "test-secret",
                "WTF_CSRF_ENABLED": False, "SERVER_NAME": "dvc.test",
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                "UPLOAD_DIR": str(tmp_path / "uploads")}
    settings.update(config)
    app = create_app(settings)
    app.extensions["dvc.clock"] = VirtualClock(T0)
    scratch_fixture.apps.append(app)
    return app


def migration_head(app) -> str:
    from alembic.script import ScriptDirectory
    return ScriptDirectory(app.extensions["migrate"].directory).get_current_head()


def broken_references(app) -> list[str]:
    """Return every foreign key whose value points at no row (should be empty)."""
    broken = []
    with app.app_context(), db.engine.connect() as conn:
        inspector = db.inspect(conn)
        for table in inspector.get_table_names():
            for fk in inspector.get_foreign_keys(table):
                cols = fk["constrained_columns"]
                ref = fk["referred_table"]
                join = " AND ".join(f'r."{r}" = c."{c}"' for c, r in
                                    zip(cols, fk["referred_columns"]))
                present = " AND ".join(f'c."{c}" IS NOT NULL' for c in cols)
                n = conn.execute(text(
                    f'SELECT count(*) FROM "{table}" c WHERE {present} AND NOT EXISTS '
                    f'(SELECT 1 FROM "{ref}" r WHERE {join})')).scalar()
                if n:
                    broken.append(f"{table}.{','.join(cols)} -> {ref}: {n} rows")
    return broken
