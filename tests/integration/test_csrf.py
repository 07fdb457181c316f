"""CSRF on every state change (issue 9): every POST/PUT/PATCH/DELETE route of the url_map,
pages and API, refuses a request signed in by the session cookie that has no valid CSRF token,
with a clear message (JSON for /api/). Only a valid API bearer token excuses the token: a
browser never adds one by itself, so a forged cross-site request cannot carry it."""
from __future__ import annotations

import re

import pytest

from tests.integration.test_security_headers import (ADMIN, ADMIN_PASSWORD, fixture_records,
                                                     route_urls)

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_MESSAGES = ("This form has expired. Reload the page and send it again.",
                 "フォームの有効期限が切れました")


def csrf_token(client, path: str = "/login", **kwargs) -> str:
    """The token a page hands its forms (the csrf-token <meta> of base.html)."""
    html = client.get(path, **kwargs).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def sign_in(client, **kwargs):
    response = client.post("/login", data={"username": ADMIN, "password": ADMIN_PASSWORD,
                                           "csrf_token": csrf_token(client, **kwargs)}, **kwargs)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def send(client, method: str, url: str, **kwargs):
    if url.startswith("/api/"):
        return client.open(url, method=method, json={}, **kwargs)
    return client.open(url, method=method, data={"note": "x"}, **kwargs)


def assert_refused(response, url: str):
    """400 with the CSRF message: JSON for the API, a page for people."""
    assert response.status_code == 400, (url, response.status_code,
                                         response.get_data(as_text=True)[:300])
    if url.startswith("/api/"):
        body = response.get_json()
        assert body["error"] == "csrf_failed" and body["message"], (url, body)
    else:
        assert response.mimetype == "text/html", url
        text = response.get_data(as_text=True)
        assert any(m in text for m in CSRF_MESSAGES), (url, text[:500])


@pytest.fixture
def app(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


@pytest.fixture
def site(app):
    return fixture_records(app)


@pytest.fixture
def admin(client, site):
    sign_in(client)
    return client


def test_every_state_change_without_a_token_is_refused(app, admin, site):
    routes = route_urls(app, site, UNSAFE)
    assert len(routes) > 50
    for method, url, _endpoint in routes:
        assert_refused(send(admin, method, url), url)
        # A bearer header that names no token does not excuse it either.
        assert_refused(send(admin, method, url, headers={"Authorization": "Bearer nonsense"}),
                       url)
        # Nor does a token from another session.
        assert_refused(send(admin, method, url, headers={"X-CSRFToken": "forged"}), url)


def test_anonymous_forms_are_refused_without_a_token(app, site):
    """Pages (the public registration and a volunteer's buttons too); an anonymous call to
    the API has no session to ride on, and is answered by the access check instead."""
    client = app.test_client()
    for method, url, _endpoint in route_urls(app, site, UNSAFE):
        response = send(client, method, url)
        if url.startswith("/api/"):
            assert response.status_code != 400 or \
                response.get_json()["error"] != "csrf_failed", url
        else:
            assert_refused(response, url)


def test_a_valid_bearer_token_needs_no_csrf_token(app, site, token_for):
    headers = token_for("admin")
    for method, url, _endpoint in route_urls(app, site, UNSAFE):
        if not url.startswith("/api/"):
            continue
        response = app.test_client().open(url, method=method, json={}, headers=headers)
        body = response.get_json(silent=True) or {}
        assert body.get("error") != "csrf_failed", (url, body)


def test_the_pages_token_is_accepted(admin, site):
    url = f"/o/{site['op_id']}/notice"
    token = csrf_token(admin, f"/o/{site['op_id']}")
    assert admin.post(url, data={"notice": "水分補給を", "csrf_token": token}).status_code == 302
    response = admin.post(f"/api/v1/operations/{site['op_id']}/lookup", json={"code": "X"},
                          headers={"X-CSRFToken": token})
    assert response.status_code != 400 or response.get_json()["error"] != "csrf_failed"


def test_over_https_a_form_from_another_site_is_refused(app, site):
    """Over HTTPS the Referer must be this site too (why a volunteer's page, whose code is in
    its URL, uses Referrer-Policy same-origin and not no-referrer)."""
    client = app.test_client()
    https = {"base_url": "https://dvc.test"}
    sign_in(client, headers={"Referer": "https://dvc.test/login"}, **https)
    token = csrf_token(client, f"/o/{site['op_id']}", **https)
    url = f"/o/{site['op_id']}/notice"
    for referer in (None, "https://evil.example/"):
        headers = {"Referer": referer} if referer else {}
        response = client.post(url, data={"notice": "x", "csrf_token": token}, headers=headers,
                               **https)
        assert_refused(response, url)
    good = client.post(url, data={"notice": "x", "csrf_token": token}, **https,
                       headers={"Referer": f"https://dvc.test/o/{site['op_id']}"})
    assert good.status_code == 302
