"""Staff sessions: a new session at sign-in, idle and absolute timeouts on the app's clock,
sign out everywhere, and the first-run setup of the admin account (no default passwords)."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from dvc.auth.models import User
from dvc.auth.sessions import EPOCH, SEEN, STARTED, expiry
from dvc.config import Defaults
from dvc.core.events import Event
from dvc.extensions import db

PASSWORD = "password-reception"


@pytest.fixture
def app(make_app):
    """The shipped timeouts (the other tests' apps never time out: they move the clock)."""
    return make_app(SESSION_IDLE_MINUTES=Defaults.SESSION_IDLE_MINUTES,
                    SESSION_MAX_HOURS=Defaults.SESSION_MAX_HOURS)


def sign_in(client, username="reception-user", password=PASSWORD, **kwargs):
    response = client.post("/login", data={"username": username, "password": password},
                           **kwargs)
    assert response.status_code == 302, response.text
    return response


def signed_in(client, **kwargs) -> bool:
    """Tell whether the client's session still opens a staff page."""
    response = client.get("/account", **kwargs)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def events(app, kind: str) -> list[Event]:
    with app.app_context():
        return list(db.session.scalars(select(Event).where(Event.kind == kind)))


# --- a new session at sign-in ------------------------------------------------------------------

def test_sign_in_starts_a_new_session_keeping_only_the_language(client, create_user):
    create_user("reception")
    client.get("/login?lang=en")
    with client.session_transaction() as session:
        session["planted"] = "by someone who handed the victim this cookie"
        before = dict(session)
    sign_in(client)
    with client.session_transaction() as session:
        assert "planted" not in session and session["lang"] == "en"
        assert session["_user_id"] and session[STARTED] == session[SEEN]
        assert session[EPOCH] == 0 and session != before
    assert signed_in(client)


def test_a_session_moved_to_another_browser_is_refused(client, create_user):
    """Flask-Login's strong session protection: the cookie is bound to its browser."""
    create_user("reception")
    sign_in(client)
    assert signed_in(client)
    assert not signed_in(client, headers={"User-Agent": "a copied cookie elsewhere"})


def test_a_bearer_token_works_beside_a_visitors_language_cookie(app, client, token_for,
                                                                operation):
    """The session protection guards signed-in sessions only, not a visitor's language."""
    headers = token_for("reception")
    client.get("/login?lang=en")
    response = client.get("/api/v1/operations", headers={**headers, "User-Agent": "kiosk/2"})
    assert response.status_code == 200


def test_sign_out_ends_the_session(client, create_user):
    create_user("reception")
    sign_in(client)
    assert client.post("/logout").status_code == 302
    assert not signed_in(client)


# --- timeouts, on the app's clock ---------------------------------------------------------------

def test_idle_timeout_signs_out_after_two_quiet_hours(client, clock, create_user):
    create_user("reception")
    client.get("/login?lang=en")
    sign_in(client)
    for _ in range(3):                      # in use all morning: each request counts
        clock.advance(timedelta(minutes=110))
        assert signed_in(client)
    clock.advance(timedelta(minutes=Defaults.SESSION_IDLE_MINUTES))
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.location
    page = client.get("/login?lang=en").text
    assert "signed out after 120 minutes without activity" in page
    sign_in(client)
    assert signed_in(client)


def test_absolute_timeout_ends_even_a_busy_session_after_twelve_hours(client, clock,
                                                                      create_user):
    create_user("reception")
    client.get("/login?lang=en")
    sign_in(client)
    for _ in range(7):                       # 11 h 40 min of steady use
        clock.advance(timedelta(minutes=100))
        assert signed_in(client)
    clock.advance(timedelta(minutes=25))
    assert not signed_in(client)
    assert "signed in for 12 hours" in client.get("/login?lang=en").text


def test_the_json_api_answers_401_when_the_session_ran_out(client, clock, create_user,
                                                           operation):
    create_user("reception")
    sign_in(client)
    assert client.get("/api/v1/operations").status_code == 200
    clock.advance(timedelta(hours=3))
    response = client.get("/api/v1/operations")
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"


@pytest.mark.parametrize("started, seen, epoch, active, moment, expected", [
    (0, 0, 1, True, 7199, None),
    (0, 0, 1, True, 7200, "idle"),                 # two quiet hours
    (0, 7100, 1, True, 7200, None),
    (0, 43000, 1, True, 43200, "absolute"),        # twelve hours since sign-in, busy
    (0, 7100, 0, True, 7200, "elsewhere"),         # begun before "sign out everywhere"
    (0, 7100, 1, False, 7200, "ended"),            # the account was disabled
    (None, None, 1, True, 0, "ended"),             # from before sessions carried times
])
def test_expiry_reasons(started, seen, epoch, active, moment, expected):
    user = User(username="u", role="viewer", password_hash="x", active=active, session_epoch=1)
    data = {STARTED: started, SEEN: seen, EPOCH: epoch}
    config = {"SESSION_IDLE_MINUTES": 120, "SESSION_MAX_HOURS": 12}
    assert expiry(user, data, moment, config) == expected


# --- sign out everywhere ----------------------------------------------------------------------

def test_sign_out_everywhere_ends_every_session_but_not_api_tokens(app, create_user,
                                                                    token_for, operation):
    create_user("reception")
    desk, tablet = app.test_client(), app.test_client()
    tablet.get("/login?lang=en")
    sign_in(desk)
    sign_in(tablet)
    headers = token_for("reception")
    assert desk.post("/account/sign-out-everywhere").status_code == 302
    assert not signed_in(tablet) and not signed_in(desk)
    assert "signed out on every device" in tablet.get("/login?lang=en").text
    assert app.test_client().get("/api/v1/operations", headers=headers).status_code == 200
    [event] = events(app, "user.sessions_ended")
    assert event.actor == "user:reception-user" and event.payload == {"epoch": 1}
    sign_in(tablet)                             # a new session carries the new epoch
    assert signed_in(tablet)


def test_an_admin_signs_another_user_out_everywhere(app, create_user):
    create_user("reception")
    create_user("admin")
    lost_tablet, head = app.test_client(), app.test_client()
    sign_in(lost_tablet)
    sign_in(head, "admin-user", "password-admin")
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "reception-user"))
    assert "reception-user" in head.get("/users").text
    assert head.post(f"/users/{user_id}/sign-out-everywhere").status_code == 302
    assert not signed_in(lost_tablet) and signed_in(head)
    # Only the head of the centre manages accounts.
    other = app.test_client()
    create_user("coordinator")
    sign_in(other, "coordinator-user", "password-coordinator")
    assert other.get("/users").status_code == 403
    assert other.post(f"/users/{user_id}/sign-out-everywhere").status_code == 403


def test_the_cli_signs_a_user_out_everywhere(app, client, create_user):
    create_user("reception")
    sign_in(client)
    result = app.test_cli_runner().invoke(args=["user", "sign-out-everywhere", "reception-user"])
    assert result.exit_code == 0, result.output
    assert not signed_in(client)


# --- first run: the admin account, no default password ----------------------------------------

def _setup_link(app) -> str:
    result = app.test_cli_runner().invoke(args=["user", "setup-link"])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1].strip().removeprefix("http://127.0.0.1:5000")


def test_first_run_creates_the_admin_account_once_with_the_printed_link(app, client, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))   # the token file goes there
    assert "flask --app dvc user setup-link" in client.get("/login?lang=en").text
    assert client.get("/setup").status_code == 403                   # no token, no form
    assert client.get("/setup?token=guess").status_code == 403
    link = _setup_link(app)
    assert client.get(link).status_code == 200
    short = client.post(link, data={"username": "head", "password": "short",
                                    "confirm": "short"})
    assert short.status_code == 422 and "at least 8" in short.text
    response = client.post(link, data={"username": "head", "display_name": "山田 センター長",
                                       "password": "a long password",
                                       "confirm": "a long password"})
    assert response.status_code == 302 and signed_in(client)
    with app.app_context():
        head = db.session.scalar(select(User).where(User.username == "head"))
        assert head.role == "admin"
    assert not (Path(app.instance_path) / "setup_token").exists()
    assert app.test_client().get(link).status_code == 404            # done once
    assert app.test_client().post(link, data={"username": "intruder", "password": "x" * 12,
                                              "confirm": "x" * 12}).status_code == 404
    refused = app.test_cli_runner().invoke(args=["user", "setup-link"])
    assert refused.exit_code != 0 and "accounts exist already" in refused.output


def test_demo_data_stays_out_of_a_database_with_accounts_of_its_own(app, create_user):
    create_user("reception", "sato")              # a real centre's account
    result = app.test_cli_runner().invoke(args=["demo-data"])
    # Not an error: `make run` goes on to serve the centre's own database.
    assert result.exit_code == 0 and "demo data not loaded" in result.output
    with app.app_context():
        assert db.session.scalar(select(User.id).where(User.username == "admin")) is None


def test_a_demo_server_says_so_on_the_sign_in_page(app, client):
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0 and "published" in result.output
    page = client.get("/login?lang=en").text
    assert "demo accounts' passwords are published" in page
    assert "setup-link" not in page
