"""Who may do what, written out by hand for the routes that matter most: a second statement
of intent beside the table in dvc/auth/matrix.py (test_role_matrix proves that the app does
what the table says; this proves that the table says what we mean)."""
from __future__ import annotations

import pytest

from dvc.auth.models import ROLES

STAFF = set(ROLES)
DESK = {"admin", "reception", "coordinator"}
NEEDS = {"admin", "coordinator", "needs_intake"}    # survivors' data: never reception
ADMIN = {"admin"}
ANYONE = STAFF | {None}

# (method, path, who may) -- {op} and {site} are filled in from the fixture.
PAGES = [
    ("GET", "/", STAFF),
    ("POST", "/operations", ADMIN),
    ("GET", "/o/{op}", STAFF),
    ("POST", "/o/{op}/sites", ADMIN),
    ("POST", "/o/{op}/notice", ADMIN),
    ("GET", "/o/{op}/reception", DESK),
    ("GET", "/o/{op}/roster", DESK),
    ("GET", "/o/{op}/nametags", DESK),
    ("GET", "/o/{op}/posters/register", DESK),
    ("GET", "/o/{op}/sites/{site}/poster", DESK),
    ("GET", "/o/{op}/register", ANYONE),
    ("GET", "/login", ANYONE),
    ("GET", "/o/{op}/needs", NEEDS),
    ("GET", "/o/{op}/export", ADMIN),
    ("GET", "/o/{op}/audit", ADMIN),
    ("GET", "/o/{op}/audit.csv", ADMIN),
]
API = [
    ("GET", "/api/v1/operations", STAFF),
    ("POST", "/api/v1/operations", ADMIN),
    ("GET", "/api/v1/operations/{op}/sites", STAFF),
    ("POST", "/api/v1/operations/{op}/sites", ADMIN),
    ("POST", "/api/v1/operations/{op}/volunteers", ANYONE),
    ("GET", "/api/v1/operations/{op}/volunteers?q=yamada", DESK),
    ("POST", "/api/v1/operations/{op}/lookup", DESK),
    ("GET", "/api/v1/operations/{op}/volunteers/1/card", DESK),
    ("POST", "/api/v1/operations/{op}/volunteers/1/code", DESK),
    ("POST", "/api/v1/operations/{op}/checkins", DESK),
    ("GET", "/api/v1/operations/{op}/checkins", DESK),
    ("POST", "/api/v1/decode", DESK),
    ("GET", "/api/openapi.json", ANYONE),
    ("GET", "/api/v1/operations/{op}/needs", NEEDS),
    ("GET", "/api/v1/operations/{op}/map/needs", NEEDS),
]


def _call(client, method, path, operation):
    path = path.format(op=operation[0], site=operation[1])
    response = client.open(path, method=method, json={} if method == "POST" else None)
    response.close()  # a file or a streamed CSV holds a handle or a context until closed
    return response


@pytest.mark.parametrize("method, path, allowed", PAGES + API)
def test_each_role_is_allowed_or_denied(clients, operation, method, path, allowed):
    for role, client in clients.items():
        response = _call(client, method, path, operation)
        denied = response.status_code in (401, 403) or (
            response.status_code == 302 and "/login" in response.location
            and path != "/login")
        assert denied == (role not in allowed), (role, method, path, response.status_code)
        if denied and path.startswith("/api/"):
            body = response.get_json()
            assert body["error"] in ("unauthorized", "forbidden") and body["message"]


def test_an_undeclared_endpoint_is_denied_even_to_admin(make_app, create_user):
    app = make_app()
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    client = app.test_client()
    create_user("admin")
    client.post("/login", data={"username": "admin-user", "password": "password-admin"})
    assert client.get("/forgotten").status_code == 403


def test_bad_bearer_token_is_401_json(client):
    response = client.get("/api/v1/operations", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_volunteer_lookup_shows_no_phone_or_address(client, operation, register, token_for):
    body = register()
    card = client.post(f"/api/v1/operations/{operation[0]}/lookup", json={"code": body["code"]},
                       headers=token_for("reception")).get_data(as_text=True)
    for secret in ("090-1234-5678", "09012345678", "080-1111-2222", "山田 花子"):
        assert secret not in card
