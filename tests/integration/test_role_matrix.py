"""The role matrix: every route (pages and API), every method, every role and an anonymous
visitor, called for real against the one table in dvc/auth/matrix.py; and a council's staff
kept out of another centre's operation.

One app and one set of records for the module: the walk makes over a thousand requests. CSRF
is on, and every request carries what it needs (a session's token, or a bearer token for the
API), so what answers is the access check, never CSRF. Requests change the records as they go
(a team is disbanded, a code reissued): an allowed role may then get 404, 409 or 422, never
401 or 403, and nobody gets a server error.

The test proves that the app does what the table says; tests/integration/test_access.py
states by hand what the table should say for the routes that matter most.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import pytest
from PIL import Image

from dvc import create_app
from dvc.auth.matrix import ACCESS, PUBLIC, allowed_roles
from dvc.auth.models import ROLES
from dvc.core.clock import VirtualClock
from dvc.extensions import db
from tests.conftest import T0, _empty_tables, registration
from tests.integration.test_needs_api import need_body
from tests.integration.test_sites_shelters_api import shelter_body

ANONYMOUS = None
EVERYONE = (*ROLES, ANONYMOUS)
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
# Endpoints that end the caller's sessions: each call comes from a spare account's own fresh
# session, so that the walk's clients stay signed in.
ENDS_SESSIONS = {"auth.logout", "auth.sign_out_everywhere"}


def _settings(database_url: str, uploads: str) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "SECRET_KEY": "matrix",
            "SERVER_NAME": "dvc.test", "WTF_CSRF_ENABLED": True,
            # A crash is a 500 here, as in production: this test judges access only.
            "PROPAGATE_EXCEPTIONS": False,
            # Hundreds of requests from one address: limits are another test's business.
            "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "UPLOAD_DIR": uploads}


def _routes() -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) for every route of the app, read at collection time."""
    app = create_app(_settings("sqlite://", "/nonexistent"))
    return sorted({(rule.endpoint, method, rule.rule) for rule in app.url_map.iter_rules()
                   for method in rule.methods - SKIPPED_METHODS})


ROUTES = _routes()


# --- the world: an operation with one record of each kind, and a client per role ------------

@dataclass
class World:
    app: object
    clients: dict = field(default_factory=dict)    # role or None -> signed-in test client
    csrf: dict = field(default_factory=dict)       # role or None -> that session's CSRF token
    tokens: dict = field(default_factory=dict)     # role -> bearer header
    values: dict = field(default_factory=dict)     # URL argument -> a real record's value
    leader: dict = field(default_factory=dict)     # the values a team leader's own page uses
    other: dict = field(default_factory=dict)      # another centre's operation and records
    spares: int = 0

    def url(self, endpoint: str, rule: str) -> str:
        """Fill a rule's arguments with real records."""
        values = {**self.values, **(self.leader if endpoint.startswith("volunteers.team_")
                                     else {})}

        def fill(match):
            name = match.group(2)
            if name not in values:
                pytest.fail(f"no value for <{name}> of {endpoint}: add one to the world fixture")
            return str(values[name])
        return re.sub(r"<(?:([a-z_]+)(?:\([^)]*\))?:)?([a-z_]+)>", fill, rule)

    def call(self, who, method: str, url: str, endpoint: str = ""):
        """Send a request as a role (None: anonymous) with what CSRF or the API needs."""
        client, csrf = self.clients[who], self.csrf.get(who)
        if endpoint in ENDS_SESSIONS:
            client, csrf = self.spare(who)
        headers = {}
        if url.startswith("/api/"):
            if who is not ANONYMOUS:
                headers = dict(self.tokens[who])
            body = {"json": {}} if method in UNSAFE else {}
        else:
            if method in UNSAFE:
                headers["X-CSRFToken"] = csrf
            body = {"data": {}} if method in UNSAFE else {}
        return client.open(url, method=method, headers=headers, **body)

    def spare(self, who):
        """A new session of a new account of that role (None: a new anonymous visitor)."""
        if who is ANONYMOUS:
            client = self.app.test_client()
            return client, _csrf_token(client, "/login")
        self.spares += 1
        username = f"spare-{who}-{self.spares}"
        _staff(self.app, username, who)
        return _sign_in(self.app, username, who)


def _csrf_token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def _password(role: str) -> str:
    return f"matrix-{role}-correct-horse-2026"


def _sign_in(app, username: str, role: str):
    """A test client signed in through the login page, and its session's CSRF token."""
    client = app.test_client()
    token = _csrf_token(client, "/login")
    answer = client.post("/login", data={"username": username, "password": _password(role),
                                         "csrf_token": token})
    assert answer.status_code == 302 and "/login" not in answer.location, answer.text
    return client, _csrf_token(client, "/")


def _staff(app, username: str, role: str, operation_ids=()) -> dict:
    """Create an account (tied to operations when given) and return its bearer header."""
    from dvc.auth.operations import assign_operations, create_user, issue_token
    with app.app_context():
        user = create_user(username, role, _password(role), actor="test")
        if operation_ids:
            assign_operations(user, list(operation_ids), actor="test")
        token = issue_token(user, actor="test")
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _user_id(app, username: str) -> int:
    from dvc.auth.models import User
    with app.app_context():
        return db.session.scalar(db.select(User.id).where(User.username == username))


def _open_operation(app, name: str, lat: float, lon: float) -> tuple[int, int, int]:
    from dvc.operations.operations import create_operation
    from dvc.sites.operations import create_site
    with app.app_context():
        op = create_operation(name, "real", prefecture="東京都", municipality=name[:3],
                              actor="test")
        main = create_site(op, "本部", "main", lat=lat, lon=lon, actor="test")
        sat = create_site(op, "サテライト", "satellite", lat=lat + 0.02, lon=lon, actor="test")
        db.session.commit()
        return op.id, main.id, sat.id


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return buffer.getvalue()


class Desk:
    """Build records through the API as the head of the centre, failing loudly."""

    def __init__(self, client, admin: dict):
        self.client, self.admin = client, admin

    def post(self, url: str, expect: int = 201, **kwargs) -> dict:
        answer = self.client.post(url, headers=self.admin, **kwargs)
        assert answer.status_code == expect, (url, answer.get_json())
        return answer.get_json()

    def volunteer(self, op_id: int, site_id: int, n: int) -> dict:
        """Register a volunteer and check them in today."""
        body = self.client.post(f"/api/v1/operations/{op_id}/volunteers", json=registration(
            name=f"班員 {n}", kana=f"はんいん {n}", phone=f"090-7000-{n:04d}")).get_json()
        self.post(f"/api/v1/operations/{op_id}/checkins",
                  json={"code": body["code"], "site_id": site_id, "health_ok": True})
        return body

    def ready_need(self, op_id: int, **overrides) -> int:
        need = self.post(f"/api/v1/operations/{op_id}/needs",
                         json=need_body(people_min=1, people_max=3, **overrides))
        answer = self.client.patch(f"/api/v1/needs/{need['id']}", headers=self.admin,
                                   json={"status": "ready"})
        assert answer.status_code == 200, answer.get_json()
        return need["id"]

    def team(self, op_id: int, need_id: int, members: list[int]) -> int:
        return self.post(f"/api/v1/operations/{op_id}/teams", json={
            "need_id": need_id, "member_ids": members, "leader_id": members[0]})["id"]


def _records(app, desk: Desk, op_id: int, main: int) -> dict:
    """One record of each kind that a URL names; returns URL argument -> value."""
    from dvc.core.codes import daily_poster_code
    from dvc.core.context import today
    from dvc.fallback.operations import issue_pack
    from dvc.maps.vendor import PACKAGES
    from dvc.operations.models import Operation

    member = desk.volunteer(op_id, main, 1)
    need_id = desk.ready_need(op_id)
    team_id = desk.team(op_id, need_id, [member["id"]])
    photo = desk.post(f"/api/v1/needs/{need_id}/photos",
                      data={"photo": (io.BytesIO(_png()), "a.png")})
    shelter = desk.post(f"/api/v1/operations/{op_id}/shelters", json=shelter_body())
    item = desk.post(f"/api/v1/operations/{op_id}/equipment/items",
                     json={"name": "スコップ", "unit": "本", "low_stock": 2})
    leaflet = PACKAGES["leaflet"]
    with app.app_context():
        pack = issue_pack(db.session.get(Operation, op_id), {"volunteers": 2}, actor="test")
        day_code = daily_poster_code(app.config["SECRET_KEY"], op_id, main, today())
        db.session.commit()
    return {"op_id": op_id, "site_id": main, "need_id": need_id, "team_id": team_id,
            "volunteer_id": member["id"], "photo_id": photo["id"], "shelter_id": shelter["id"],
            "item_type_id": item["id"], "pack_id": pack.id, "day_code": day_code,
            "token": member["code"], "step": "arrive", "number": 1, "z": 0, "x": 0, "y": 0,
            "package": "leaflet", "version": leaflet.version, "filename": "leaflet.js"}


@pytest.fixture(scope="module")
def world(database_url, tmp_path_factory):
    app = create_app(_settings(database_url, str(tmp_path_factory.mktemp("uploads"))))
    app.extensions["dvc.clock"] = VirtualClock(T0)
    world = World(app)
    for role in ROLES:
        world.tokens[role] = _staff(app, f"{role}-user", role)
    _staff(app, "someone-else", "reception")
    op_id, main, _sat = _open_operation(app, "テスト市 豪雨災害", 35.68, 139.56)
    desk = Desk(app.test_client(), world.tokens["admin"])
    world.values = _records(app, desk, op_id, main)
    # The account an admin signs out or unlocks: not one the walk signs in with.
    world.values["user_id"] = _user_id(app, "someone-else")
    # A second team whose leader's own page sends the leader's buttons and report: the code in
    # the URL is the credential, so it must be the leader's and the team theirs.
    leader = desk.volunteer(op_id, main, 2)
    world.leader = {"token": leader["code"],
                    "team_id": desk.team(op_id, desk.ready_need(op_id), [leader["id"]])}
    other_op, other_main, _ = _open_operation(app, "別町 豪雨災害", 35.60, 139.40)
    world.other = {"op_id": other_op, "site_id": other_main,
                   "need_id": desk.ready_need(other_op, lat=35.60, lon=139.40)}
    world.clients[ANONYMOUS] = app.test_client()
    world.csrf[ANONYMOUS] = _csrf_token(world.clients[ANONYMOUS], "/login")
    for role in ROLES:
        world.clients[role], world.csrf[role] = _sign_in(app, f"{role}-user", role)
    yield world
    with app.app_context():
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


# --- the table and the routes agree --------------------------------------------------------

def test_every_endpoint_is_in_the_table():
    endpoints = {endpoint for endpoint, _method, _rule in ROUTES}
    assert sorted(endpoints - set(ACCESS)) == [], "add these to dvc/auth/matrix.py"


def test_every_table_entry_is_a_real_endpoint():
    endpoints = {endpoint for endpoint, _method, _rule in ROUTES}
    assert sorted(set(ACCESS) - endpoints) == []


def test_no_endpoint_is_in_the_table_twice():
    """A dict literal keeps the last of two equal keys without a word: read the source."""
    import ast
    from pathlib import Path

    from dvc.auth import matrix
    tree = ast.parse(Path(matrix.__file__).read_text())
    table = next(node.value for node in ast.walk(tree) if isinstance(node, ast.AnnAssign)
                 and getattr(node.target, "id", "") == "ACCESS")
    keys = [key.value for key in table.keys]
    assert sorted({k for k in keys if keys.count(k) > 1}) == []


def test_the_table_names_only_real_roles():
    for endpoint, who in ACCESS.items():
        assert who is PUBLIC or who <= set(ROLES), endpoint


# --- every route, every role ---------------------------------------------------------------

def _denied(response, who, url: str) -> bool:
    if response.status_code in (401, 403):
        return True
    to_login = response.status_code == 302 and "/login?next=" in response.location
    return who is ANONYMOUS and to_login


def _wrong_denial(response, who, url: str) -> str | None:
    """Say what is wrong with a refusal's form, or None."""
    if url.startswith("/api/"):
        expected = 401 if who is ANONYMOUS else 403
        body = response.get_json(silent=True) or {}
        error = "unauthorized" if who is ANONYMOUS else "forbidden"
        if response.status_code != expected or body.get("error") != error \
                or not body.get("message"):
            return f"expected JSON {expected} {error}, got {response.status_code} {body}"
        return None
    if who is ANONYMOUS:
        if response.status_code == 302 or response.status_code == 401:
            return None
        return f"expected a redirect to sign in, got {response.status_code}"
    return None if response.status_code == 403 else f"expected 403, got {response.status_code}"


@pytest.mark.parametrize("endpoint, method, rule", ROUTES,
                         ids=[f"{m} {r}" for _e, m, r in ROUTES])
def test_each_role_is_allowed_or_denied_as_the_table_says(world, endpoint, method, rule):
    url = world.url(endpoint, rule)
    allowed = allowed_roles(endpoint) or frozenset()     # not in the table: nobody
    wrong = []
    for who in EVERYONE:
        response = world.call(who, method, url, endpoint)
        response.close()  # files are sent from open handles
        may = allowed is PUBLIC or who in allowed
        denied = _denied(response, who, url)
        if response.status_code >= 500:     # a crash would hide what access answered
            wrong.append(f"{who or 'anonymous'} got a server error {response.status_code}")
        elif may and denied:
            wrong.append(f"{who or 'anonymous'} may, but got {response.status_code} "
                         f"{response.location or ''}")
        elif not may and not denied:
            wrong.append(f"{who or 'anonymous'} may not, but got {response.status_code}")
        elif not may:
            problem = _wrong_denial(response, who, url)
            if problem:
                wrong.append(f"{who or 'anonymous'}: {problem}")
    assert not wrong, f"{method} {url} ({endpoint}):\n" + "\n".join(wrong)


# --- a council's staff stay in their own operation -------------------------------------------

@pytest.fixture(scope="module")
def council(world):
    """A coordinator and a head of centre of the other town, tied to its operation only."""
    other = world.other["op_id"]
    return {role: _staff(world.app, f"council-{role}", role, [other])
            for role in ("coordinator", "admin")}


def _scoped_calls(values: dict) -> list[tuple[str, str, dict | None]]:
    op, need, site = values["op_id"], values["need_id"], values["site_id"]
    calls = [("GET", f"/api/v1/operations/{op}/needs", None),
             ("GET", f"/api/v1/needs/{need}", None),
             ("PATCH", f"/api/v1/needs/{need}", {"status": "on_hold"}),
             ("PATCH", f"/api/v1/sites/{site}", {"status": "paused"}),
             ("GET", f"/api/v1/operations/{op}/teams", None)]
    if "team_id" in values:
        calls += [("POST", f"/api/v1/teams/{values['team_id']}/dispatch", {"transport": "walk"}),
                  ("GET", f"/api/v1/teams/{values['team_id']}/equipment", None),
                  ("PATCH", f"/api/v1/shelters/{values['shelter_id']}", {"status": "full"}),
                  ("GET", f"/api/v1/operations/{op}/volunteers/{values['volunteer_id']}/card",
                   None)]
    return calls


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_council_staff_are_refused_another_centres_records(world, council, role):
    client = world.app.test_client()
    for method, url, body in _scoped_calls(world.values):
        answer = client.open(url, method=method, json=body, headers=council[role])
        assert answer.status_code == 403, (method, url, answer.status_code)
        assert answer.get_json()["error"] == "forbidden"
    for method, url, body in _scoped_calls(world.other):
        answer = client.open(url, method=method, json=body, headers=council[role])
        assert answer.status_code not in (401, 403), (method, url, answer.get_json())


def test_council_staff_pages_of_another_centre_are_refused(world, council):
    op, need = world.values["op_id"], world.values["need_id"]
    _staff(world.app, "council-pages", "coordinator", [world.other["op_id"]])
    client, _csrf = _sign_in(world.app, "council-pages", "coordinator")
    for url in (f"/o/{op}", f"/o/{op}/needs", f"/o/{op}/needs/{need}", f"/o/{op}/map"):
        assert client.get(url).status_code == 403, url
    mine = world.other["op_id"]
    for url in (f"/o/{mine}", f"/o/{mine}/needs", f"/o/{mine}/needs/{world.other['need_id']}"):
        assert client.get(url).status_code == 200, url
