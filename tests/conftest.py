"""Fixtures: an app on SQLite (or PostgreSQL when DVC_TEST_DATABASE_URL is set), a frozen clock,
and factories that return callables (create_operation(...), register(...), ...)."""
from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, text

from dvc import create_app
from dvc.core.clock import VirtualClock
from dvc.extensions import db

# 09:00 in Tokyo on a Sunday in November: the morning rush at reception.
T0 = datetime(2026, 11, 22, 0, 0, tzinfo=timezone.utc)
PG_URL = os.environ.get("DVC_TEST_DATABASE_URL")


def reset_database(url: str) -> None:
    """Drop everything in a PostgreSQL test database (SQLite test files start empty)."""
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """Create the schema once from the models; test_migrations proves the migrations agree."""
    url = PG_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    reset_database(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "t"})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return url


def _empty_tables():
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def make_app(database_url, tmp_path):
    """Return a factory of apps on the test database; tables are emptied after the test."""
    apps = []

    def make(**config):
        settings = {"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True,
                    "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                    "SERVER_NAME": "dvc.test",
                    # Off unless a test turns them on (test_rate_limits.py): many tests sign in
                    # and post from one address.
                    "RATELIMIT_ENABLED": False,
                    # Scenario tests move the clock by hours or days after signing in; the
                    # session timeouts are test_sessions.py's business (it sets the real ones).
                    "SESSION_IDLE_MINUTES": 60 * 24 * 365, "SESSION_MAX_HOURS": 24 * 365,
                    # Fast hashing: tests create many accounts; production keeps scrypt.
                    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "UPLOAD_DIR": str(tmp_path / "uploads")}
        settings.update(config)
        app = create_app(settings)
        app.extensions["dvc.clock"] = VirtualClock(T0)
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            _empty_tables()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def clock(app) -> VirtualClock:
    return app.extensions["dvc.clock"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def create_user(app):
    """create_user(role) -> username (password is 'password-<role>')."""
    from dvc.auth.operations import create_user as _create

    def make(role: str, username: str | None = None) -> str:
        username = username or f"{role}-user"
        with app.app_context():
            _create(username, role, f"password-{role}", actor="test")
            db.session.commit()
        return username
    return make


@pytest.fixture
def login(client, create_user):
    """login(role) signs the test client in as a new user of that role."""
    def do(role: str) -> None:
        username = create_user(role)
        response = client.post("/login", data={"username": username,
                                               "password": f"password-{role}"})
        assert response.status_code == 302, response.text
    return do


@pytest.fixture
def clients(app, create_user):
    """One signed-in client per role, and an anonymous one (None)."""
    from dvc.auth.models import ROLES
    result = {None: app.test_client()}
    for role in ROLES:
        create_user(role)
        c = app.test_client()
        assert c.post("/login", data={"username": f"{role}-user",
                                      "password": f"password-{role}"}).status_code == 302
        result[role] = c
    return result


@pytest.fixture
def token_for(app, create_user):
    """token_for(role) -> a bearer token header for a new user of that role."""
    from dvc.auth.models import User
    from dvc.auth.operations import issue_token

    def make(role: str) -> dict:
        username = f"api-{role}"
        with app.app_context():
            user = db.session.scalar(db.select(User).where(User.username == username))
        if user is None:
            create_user(role, username)
        with app.app_context():
            user = db.session.scalar(db.select(User).where(User.username == username))
            token = issue_token(user, actor="test")
            db.session.commit()
        return {"Authorization": f"Bearer {token}"}
    return make


@pytest.fixture
def operation(app):
    """An open real operation with a main site and a satellite: returns (op_id, main, satellite)."""
    from dvc.operations.operations import create_operation
    from dvc.sites.operations import create_site
    with app.app_context():
        op = create_operation("テスト市 豪雨災害", "real", prefecture="東京都",
                              municipality="テスト市", actor="test")
        main = create_site(op, "本部", "main", lat=35.68, lon=139.56, actor="test")
        sat = create_site(op, "北サテライト", "satellite", lat=35.70, lon=139.55, actor="test")
        db.session.commit()
        return op.id, main.id, sat.id


def registration(**overrides) -> dict:
    """A complete, valid pre-registration body."""
    body = {"name": "山田 太郎", "kana": "やまだ たろう", "phone": "090-1234-5678",
            "prefecture": "東京都", "municipality": "三鷹市", "birth_year": 1985,
            "emergency_name": "山田 花子", "emergency_phone": "080-1111-2222",
            "skills": ["driving"], "vehicle": "light_truck", "insurance": "home",
            "insurance_council": "三鷹市社会福祉協議会", "insurance_date": "2026-05-01",
            "consent": True}
    body.update(overrides)
    return body


@pytest.fixture
def register(client, operation):
    """register(**overrides) -> the API's answer for a new volunteer (with 'code')."""
    def do(**overrides) -> dict:
        response = client.post(f"/api/v1/operations/{operation[0]}/volunteers",
                               json=registration(**overrides))
        assert response.status_code == 201, response.get_json()
        return response.get_json()
    return do
