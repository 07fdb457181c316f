"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

import os

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from dvc import create_app
from dvc.extensions import db
from tests.conftest import reset_database


def test_upgrade_from_empty_matches_the_models_and_downgrades(tmp_path):
    url = os.environ.get("DVC_TEST_DATABASE_URL")
    if url:
        # A database of its own, so the suite's schema (made from the models) stays intact.
        url = url.rsplit("/", 1)[0] + "/dvc_migrations"
        _create_pg_database(url)
    else:
        url = f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    reset_database(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "t"})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], diff
        downgrade(revision="base")
        with db.engine.connect() as conn:
            tables = set(db.inspect(conn).get_table_names()) - {"alembic_version"}
        assert tables == set()
        db.engine.dispose()


def _create_pg_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        name = url.rsplit("/", 1)[1]
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                            {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
