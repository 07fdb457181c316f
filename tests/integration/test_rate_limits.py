"""Rate limits and lockout, through HTTP: sign-in per address and per user name (an account
locks itself, and a name with no account answers the same), public pages and posts, and
volunteer codes that cannot be guessed or enumerated."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dvc.auth.models import User
from dvc.config import Defaults
from dvc.core import codes
from dvc.core.events import Event
from dvc.extensions import db
from tests.conftest import registration

ELSEWHERE = {"REMOTE_ADDR": "203.0.113.7"}
LOCKED = "Too many failed sign-ins for this user name"
WRONG = "Wrong user name or password."


@pytest.fixture
def app(make_app, request):
    """An app with its limits on (the others' are off), the shipped ones unless a test
    parametrizes `app` with its own."""
    return make_app(RATELIMIT_ENABLED=True, **getattr(request, "param", {}))


@pytest.fixture
def client(app):
    client = app.test_client()
    client.get("/login?lang=en")
    return client


def attempt(client, username: str, password: str, **kwargs):
    return client.post("/login", data={"username": username, "password": password}, **kwargs)


def refusal(response) -> str:
    """The alert a refused sign-in shows."""
    text = response.text
    start = text.index('role="alert">') + len('role="alert">')
    return text[start:text.index("</p>", start)]


def person(i: int) -> dict:
    """A registration of someone else each time."""
    given, kana = [("太郎", "たろう"), ("次郎", "じろう"), ("三郎", "さぶろう"), ("四郎", "しろう"),
                   ("五郎", "ごろう"), ("六郎", "ろくろう"), ("七郎", "しちろう"), ("八郎", "はちろう"),
                   ("九郎", "くろう"), ("十郎", "じゅうろう")][i]
    return registration(name=f"山田 {given}", kana=f"やまだ {kana}", phone=f"090-0000-000{i}")


def heading(response) -> str:
    text = response.text
    return text[text.index("<h1>"):text.index("</h1>")]


def events(app, kind: str) -> list[Event]:
    with app.app_context():
        return list(db.session.scalars(select(Event).where(Event.kind == kind)
                                       .order_by(Event.id)))


# --- sign-in: lockout on the account, the same answer for a name with none -----------------------

def test_an_account_locks_after_ten_wrong_passwords_and_opens_again_later(app, client, clock,
                                                                           create_user):
    create_user("reception")
    for _ in range(Defaults.LOGIN_MAX_FAILURES):
        response = attempt(client, "reception-user", "guess")
        assert response.status_code == 200 and WRONG in response.text
    locked = attempt(client, "reception-user", "password-reception")   # even the right one
    assert locked.status_code == 429 and LOCKED in refusal(locked)
    assert len(events(app, "user.login_failed")) == Defaults.LOGIN_MAX_FAILURES
    [lock] = events(app, "user.locked")
    assert lock.payload["ip"] == "127.0.0.1" and lock.subject_type == "user"
    clock.advance(timedelta(minutes=Defaults.LOGIN_LOCK_MINUTES))
    assert attempt(client, "reception-user", "password-reception").status_code == 302
    [login] = events(app, "user.login")
    assert login.actor == "user:reception-user"
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "reception-user"))
        assert user.failed_logins == 0 and user.locked_until_dt is None


def test_a_name_with_no_account_gets_the_same_answers(app, client, create_user):
    """Nothing tells whether a user name exists: the same pages, the same lock."""
    create_user("reception")
    answers = {}
    for name in ("reception-user", "nobody-here"):
        for _ in range(Defaults.LOGIN_MAX_FAILURES):
            response = attempt(client, name, "guess")
            assert response.status_code == 200 and WRONG in response.text
        answers[name] = attempt(client, name, "guess")
    known, unknown = answers["reception-user"], answers["nobody-here"]
    assert known.status_code == unknown.status_code == 429
    assert refusal(known) == refusal(unknown)
    assert LOCKED in refusal(unknown) and "unlock" in refusal(unknown)
    unknown_events = [e for e in events(app, "user.login_failed") if e.subject_id is None]
    assert len(unknown_events) == Defaults.LOGIN_MAX_FAILURES
    assert unknown_events[0].payload == {"ip": "127.0.0.1", "reason": "unknown_user"}


def test_the_head_of_the_centre_unlocks_an_account(app, client, create_user):
    create_user("reception")
    create_user("admin")
    for _ in range(Defaults.LOGIN_MAX_FAILURES):
        attempt(client, "reception-user", "guess")
    head = app.test_client()
    assert attempt(head, "admin-user", "password-admin").status_code == 302
    page = head.get("/users?lang=en").text
    assert "Locked until" in page
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "reception-user"))
    assert head.post(f"/users/{user_id}/unlock").status_code == 302
    assert attempt(client, "reception-user", "password-reception").status_code == 302
    [unlocked] = events(app, "user.unlocked")
    assert unlocked.actor == "user:admin-user"


def test_the_cli_unlocks_an_account(app, client, create_user):
    create_user("reception")
    for _ in range(Defaults.LOGIN_MAX_FAILURES):
        attempt(client, "reception-user", "guess")
    result = app.test_cli_runner().invoke(args=["user", "unlock", "reception-user"])
    assert result.exit_code == 0, result.output
    assert attempt(client, "reception-user", "password-reception").status_code == 302


def test_one_address_may_fail_thirty_times_in_ten_minutes(app, client, create_user):
    """Guessing across many names from one address stops; other addresses sign in."""
    create_user("reception")
    for i in range(30):
        assert attempt(client, f"name-{i}", "guess").status_code == 200
    refused = attempt(client, "reception-user", "password-reception")
    assert refused.status_code == 429
    assert "from this device" in refusal(refused) and refused.headers["Retry-After"]
    assert attempt(client, "reception-user", "password-reception",
                   environ_base=ELSEWHERE).status_code == 302


def test_successful_sign_ins_do_not_count(app, client, create_user):
    """A shift of staff behind the centre's one address signs in at 08:30."""
    create_user("reception")
    for _ in range(40):
        assert attempt(client, "reception-user", "password-reception").status_code == 302
        client.post("/logout")


def test_a_remote_client_cannot_pose_as_another_address(app, client):
    forged = {**ELSEWHERE}
    for i in range(30):
        attempt(client, f"name-{i}", "guess", environ_base=forged,
                headers={"X-Forwarded-For": f"198.51.100.{i}"})
    assert attempt(client, "x", "guess", environ_base=forged).status_code == 429


def test_a_proxy_on_this_machine_passes_each_clients_address(app, client):
    """nginx (deploy/) connects from 127.0.0.1 and appends the client's address."""
    for i in range(30):
        attempt(client, f"name-{i}", "guess", headers={"X-Forwarded-For": "198.51.100.1"})
    assert attempt(client, "x", "guess",
                   headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 429
    assert attempt(client, "x", "guess", headers={
        "X-Forwarded-For": "198.51.100.1, 198.51.100.2"}).status_code == 200


# --- volunteer codes: not guessable, not enumerable, and limited -------------------------------

def test_guessed_codes_all_fail_alike_and_the_guesser_is_stopped(app, client, register):
    real = register()["code"]
    typo = real[:-1] + ("0" if real[-1] != "0" else "1")      # its check characters fail
    guesses = [codes.new_token(), typo, "not-a-code", real[:-1]]
    answers = [client.get(f"/v/{guess}") for guess in guesses]
    assert {r.status_code for r in answers} == {404}
    assert len({heading(r) for r in answers}) == 1      # nothing tells the guesses apart
    for _ in range(30 - len(guesses)):
        assert client.get(f"/v/{codes.new_token()}").status_code == 404
    stopped = client.get(f"/v/{real}")                  # even the real code, from here
    assert stopped.status_code == 429 and stopped.headers["Retry-After"]
    assert client.get(f"/v/{real}/qr.png").status_code == 429    # one count for every page
    assert client.get(f"/v/{real}", environ_base=ELSEWHERE).status_code == 200


def test_opening_ones_own_page_often_is_not_limited(client, register):
    real = register()["code"]
    for _ in range(40):
        assert client.get(f"/v/{real}").status_code == 200


def test_a_volunteers_page_shows_nothing_about_anyone_else(client, register):
    mine = register(name="山田 太郎", phone="090-1111-0001")
    other = register(name="佐藤 花子", kana="さとう はなこ", phone="090-2222-0002",
                     emergency_name="佐藤 一郎", emergency_phone="080-3333-0003")
    page = client.get(f"/v/{mine['code']}").text
    assert "山田 太郎" in page
    for private in ("佐藤", "さとう", "090-2222-0002", "080-3333-0003", other["code"]):
        assert private not in page
    assert f"/v/{other['code']}" not in page


def test_staff_are_not_limited_on_public_pages(app, client, create_user):
    create_user("reception")
    assert attempt(client, "reception-user", "password-reception").status_code == 302
    for _ in range(35):
        assert client.get(f"/v/{codes.new_token()}").status_code == 404


@pytest.mark.parametrize("app", [{"LIMIT_CODE_MISSES": "3 per 10 minutes"}], indirect=True)
def test_codes_typed_at_the_self_checkin_poster_are_limited_too(app, client, operation):
    from dvc.core.context import today
    op_id, site_id, _ = operation
    with app.app_context():
        poster = codes.daily_poster_code(app.config["SECRET_KEY"], op_id, site_id, today())
    url = f"/o/{op_id}/s/{site_id}/{poster}"
    answers = {f"health_{q}": "yes" for q in app.config["HEALTH_QUESTIONS"]}
    for _ in range(3):
        assert client.post(url, data={"code": codes.new_token(), **answers}).status_code == 422
    assert client.post(url, data={"code": codes.new_token(), **answers}).status_code == 429
    assert client.get(url).status_code == 429          # the same count as /v/<code>


# --- public pages and posts --------------------------------------------------------------------

@pytest.mark.parametrize("app", [{"LIMIT_PUBLIC_POSTS": "3 per minute"}], indirect=True)
def test_public_registration_is_limited_per_address(app, client, operation):
    url = f"/api/v1/operations/{operation[0]}/volunteers"
    for i in range(3):
        assert client.post(url, json=person(i)).status_code == 201
    refused = client.post(url, json=person(9))
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert refused.get_json()["error"] == "too_many_requests"
    assert "Wait a few minutes" in refused.get_json()["message"]
    # The page form counts with the API: one budget for every public post.
    page = client.post(f"/o/{operation[0]}/register", data={})
    assert page.status_code == 429 and "Wait a few minutes" in page.text
    assert client.post(url, json=person(8), environ_base=ELSEWHERE).status_code == 201


@pytest.mark.parametrize("app", [{"LIMIT_PUBLIC_PAGES": "5 per minute"}], indirect=True)
def test_the_recruitment_page_is_limited_for_visitors_not_staff(app, client, operation,
                                                               create_user):
    url = f"/o/{operation[0]}/recruitment"
    for _ in range(5):
        assert client.get(url).status_code == 200
    assert client.get(url).status_code == 429
    assert client.get(f"/api/v1/operations/{operation[0]}/recruitment").status_code == 200
    create_user("coordinator")
    staff = app.test_client()
    assert attempt(staff, "coordinator-user", "password-coordinator").status_code == 302
    for _ in range(7):
        assert staff.get(url).status_code == 200


def test_every_public_endpoint_is_limited(app):
    """A new public page is covered without anyone remembering to: all but versioned files."""
    from dvc.auth.access import PUBLIC, roles_of
    from dvc.auth.limits import OWN_LIMITS, UNLIMITED
    from dvc.extensions import limiter
    public = {e for e in app.view_functions if roles_of(e) is PUBLIC}
    assert {"volunteers.my_page", "volunteers.register", "sites.recruitment",
            "volunteers_api.post_volunteer", "volunteers.self_checkin"} <= public
    for endpoint in public - UNLIMITED:
        view = app.view_functions[endpoint]
        assert getattr(view, "__wrapper-limiter-instance", None) == limiter, endpoint
    assert OWN_LIMITS <= public
