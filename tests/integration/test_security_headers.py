"""Security headers and the Content Security Policy on every page (issue 9).

Every GET route of the url_map is walked as the demo's admin, with its arguments filled from
fixture records (the demo operation, a team, a fallback pack, a photo, ...): each answer
carries the CSP and the other headers, and each HTML page runs no script and no style the
policy would block (an inline one needs this request's nonce; no inline handlers or style
attributes at all, as the policy has no 'unsafe-inline').
"""
from __future__ import annotations

import io
import json
from html.parser import HTMLParser

import pytest

from dvc.extensions import db

ADMIN, ADMIN_PASSWORD = "admin", "admin-demo"  # the demo's accounts (dvc/demo.py)
HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}
# A page may be stricter than the default (a volunteer's page: its code is in the URL).
REFERRER_POLICIES = {"strict-origin-when-cross-origin", "same-origin", "no-referrer"}
# Script types a browser runs; any other type (application/json) is data it never runs.
SCRIPT_TYPES = {"", "text/javascript", "application/javascript", "module"}


# --- fixture records: a value for every URL argument ----------------------------------------

def _photo() -> bytes:
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, "PNG")
    return out.getvalue()


def fixture_records(app) -> dict:
    """Load the demo, then form a team, print a fallback pack and add a photo; return a value
    for each URL argument of the app's routes."""
    from flask import current_app

    from dvc.auth.models import User
    from dvc.core import codes
    from dvc.core.context import today
    from dvc.demo import load_demo
    from dvc.fallback.operations import issue_pack
    from dvc.maps.vendor import PACKAGES
    from dvc.needs.models import Need
    from dvc.needs.operations import add_photo
    from dvc.shelters.models import Shelter
    from dvc.sites.models import Site
    from dvc.teams.operations import checked_in_today, form_team
    from dvc.volunteers.models import CheckIn
    from dvc.volunteers.operations import reissue_code

    with app.app_context():
        load_demo()
        site = db.session.scalar(db.select(Site).where(Site.kind == "main"))
        operation = site.operation
        need = db.session.scalars(db.select(Need).where(Need.status == "ready")
                                  .order_by(Need.id)).first()
        here = db.session.scalars(db.select(CheckIn).where(
            CheckIn.operation_id == operation.id, CheckIn.day == today())
            .order_by(CheckIn.id)).all()
        leader = next(c.volunteer for c in here if c.headcount == 1)
        assert checked_in_today(operation, [leader.id])
        team, _warnings = form_team(operation, need, [leader.id], leader.id, actor="test")
        token = reissue_code(leader, actor="test")
        pack = issue_pack(operation, {"volunteers": 1, "needs": 1, "dispatch": 1}, actor="test")
        photo = add_photo(need, _photo(), actor="test")
        shelter = db.session.scalars(db.select(Shelter).order_by(Shelter.id)).first()
        viewer = db.session.scalar(db.select(User).where(User.username == "viewer"))
        day_code = codes.daily_poster_code(current_app.config["SECRET_KEY"], operation.id,
                                           site.id, today())
        values = {"op_id": operation.id, "site_id": site.id, "need_id": need.id,
                  "team_id": team.id, "shelter_id": shelter.id, "volunteer_id": leader.id,
                  "token": token, "pack_id": pack.id, "photo_id": photo.id,
                  "day_code": day_code, "step": "arrive", "number": 1, "user_id": viewer.id,
                  "z": 0, "x": 0, "y": 0, "package": "leaflet",
                  "version": PACKAGES["leaflet"].version, "filename": "leaflet.js"}
        db.session.commit()
    return values


def route_urls(app, values: dict, methods: set[str]) -> list[tuple[str, str, str]]:
    """[(method, url, endpoint)] for every route answering one of `methods`, its arguments
    filled from `values`; a route with an argument nobody gave a value for fails the test."""
    urls = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            missing = rule.arguments - values.keys()
            assert not missing, f"{rule.rule}: give fixture_records() a value for {missing}"
            args = {a: values[a] for a in rule.arguments}
            if rule.endpoint == "static":
                args["filename"] = "css/dvc.css"
            path = app.url_map.bind("localhost").build(rule.endpoint, args)
            for method in sorted(rule.methods & methods):
                urls.append((method, path, rule.endpoint))
    return urls


# --- reading pages ----------------------------------------------------------------------------

class Page(HTMLParser):
    """What a CSP cares about in an HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts = []      # [attrs, inline text]
        self.styles = []       # attrs of each <style>
        self.handlers = []     # (tag, on... attribute)
        self.style_attrs = []  # tags with a style="" attribute
        self.js_urls = []      # (tag, "javascript:..." in href/src/action)
        self._in_script = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on"):
                self.handlers.append((tag, name))
            if name in ("href", "src", "action", "formaction") and \
                    (value or "").strip().lower().startswith("javascript:"):
                self.js_urls.append((tag, value))
        if "style" in attrs:
            self.style_attrs.append(tag)
        if tag == "script":
            self._in_script = attrs
            self.scripts.append([attrs, ""])
        elif tag == "style":
            self.styles.append(attrs)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script is not None:
            self.scripts[-1][1] += data


def read_page(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def csp_of(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = (part.split() for part in header.split(";") if part.strip())
    return {d[0]: d[1:] for d in directives}


def nonce_of(response) -> str:
    sources = csp_of(response)["script-src"]
    nonces = [s[len("'nonce-"):-1] for s in sources if s.startswith("'nonce-")]
    assert len(nonces) == 1, sources
    return nonces[0]


def csp_problems(response) -> list[str]:
    """What in this page the browser would refuse under the response's CSP."""
    nonce = nonce_of(response)
    page = read_page(response.get_data(as_text=True))
    problems = []
    for attrs, text in page.scripts:
        kind = (attrs.get("type") or "").strip().lower()
        if attrs.get("src"):
            if not attrs["src"].startswith("/"):
                problems.append(f"script from elsewhere: {attrs['src']}")
        elif kind not in SCRIPT_TYPES:
            json.loads(text)  # a data block: JSON the page's script reads, never run
        elif attrs.get("nonce") != nonce:
            problems.append(f"inline script without this request's nonce: {text[:80]!r}")
    problems += [f"<style> without the nonce: {a}" for a in page.styles
                 if a.get("nonce") != nonce]
    problems += [f"inline handler {name} on <{tag}>" for tag, name in page.handlers]
    problems += [f"style attribute on <{tag}>" for tag in page.style_attrs]
    problems += [f"javascript: URL on <{tag}>" for tag, _ in page.js_urls]
    return problems


def assert_headers(response, where: str):
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (where, name, response.headers.get(name))
    assert response.headers.get("Referrer-Policy") in REFERRER_POLICIES, where
    csp = csp_of(response)
    assert csp.get("default-src") == ["'self'"], (where, csp)
    assert csp["script-src"][0] == "'self'" and csp["style-src"][0] == "'self'", (where, csp)
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in csp[directive], (where, directive)
        assert "'unsafe-eval'" not in csp[directive], (where, directive)
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"], where
    assert csp["form-action"] == ["'self'"] and csp["base-uri"] == ["'self'"], where
    assert csp["connect-src"] == ["'self'"], where
    assert "camera=(self)" in response.headers["Permissions-Policy"], where
    assert "Strict-Transport-Security" not in response.headers, where  # plain HTTP


# --- fixtures ----------------------------------------------------------------------------------

def sign_in(client, username: str = ADMIN, password: str = ADMIN_PASSWORD):
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


@pytest.fixture
def site(app):
    """The demo operation with a record of every kind: (app, URL argument values)."""
    return fixture_records(app)


@pytest.fixture
def admin(client, site):
    sign_in(client)
    return client


# --- tests -------------------------------------------------------------------------------------

def test_every_page_carries_the_policy_and_runs_nothing_it_would_block(app, admin, site):
    walked, pages = [], []
    for method, url, endpoint in route_urls(app, site, {"GET"}):
        with admin.get(url) as response:  # a static file is streamed: close it
            assert response.status_code < 500, (url, response.status_code)
            assert_headers(response, url)
            walked.append(endpoint)
            if response.mimetype == "text/html":
                pages.append((url, response.status_code))
                assert csp_problems(response) == [], url
    # The walk reached the pages that matter, and they rendered.
    rendered = {url for url, status in pages if status == 200}
    op = site["op_id"]
    for url in (f"/o/{op}", f"/o/{op}/map", f"/o/{op}/reception", f"/o/{op}/dashboard",
                f"/o/{op}/needs", f"/o/{op}/needs/{site['need_id']}", f"/o/{op}/needs/new",
                f"/o/{op}/register", f"/v/{site['token']}", "/login"):
        assert url in rendered, (url, pages)
    assert len(walked) > 60


def test_error_pages_and_anonymous_pages_carry_it_too(client, site):
    for url, status in (("/login", 200), (f"/o/{site['op_id']}/register", 200),
                        ("/no/such/page", 404), ("/api/v1/no-such-thing", 404),
                        (f"/o/{site['op_id']}/map", 302), ("/api/v1/operations", 401)):
        response = client.get(url)
        assert response.status_code == status, url
        assert_headers(response, url)
        if response.mimetype == "text/html":
            assert csp_problems(response) == [], url


def test_each_request_gets_its_own_nonce_and_the_page_uses_it(admin, site):
    first = admin.get(f"/o/{site['op_id']}/reception")
    second = admin.get(f"/o/{site['op_id']}/reception")
    assert nonce_of(first) != nonce_of(second)
    assert len(nonce_of(first)) >= 22  # 128 bits or more
    assert csp_of(first)["style-src"] == ["'self'", f"'nonce-{nonce_of(first)}'"]


def test_the_coordinator_map_obeys_the_policy(admin, site):
    """folium's map: its script is served from here (map.js), every tag it puts in the page
    has the request's nonce, and only local assets load."""
    response = admin.get(f"/o/{site['op_id']}/map")
    assert response.status_code == 200
    nonce = nonce_of(response)
    page = read_page(response.get_data(as_text=True))
    assert csp_problems(response) == []
    sources = [attrs["src"] for attrs, _ in page.scripts if attrs.get("src")]
    assert f"/o/{site['op_id']}/map/map.js" in sources
    assert any("/static/vendor/leaflet/" in s for s in sources)
    folium_tags = [attrs for attrs, _ in page.scripts if "/static/vendor/" in attrs.get("src", "")]
    assert folium_tags and all(attrs.get("nonce") == nonce for attrs in folium_tags)
    script = admin.get(f"/o/{site['op_id']}/map/map.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert "L.map(" in script.get_data(as_text=True)


def test_every_tag_folium_writes_into_a_page_gets_the_nonce():
    """A plain folium map writes inline <script> and <style> into the page: all get the nonce."""
    import folium

    from dvc.maps.foliummap import render_parts
    m = folium.Map(location=[35.68, 139.56], tiles=None)
    folium.Marker([35.68, 139.56], tooltip="N00001").add_to(m)
    parts = render_parts(m, nonce="n0nce")
    page = read_page(str(parts.head) + str(parts.html))
    assert page.scripts and page.styles
    assert all(attrs.get("nonce") == "n0nce" for attrs, _ in page.scripts)
    assert all(attrs.get("nonce") == "n0nce" for attrs in page.styles)
    assert render_parts(m).head.count("nonce=") == 0  # outside a request: left as it was


def test_tiles_of_the_configured_basemap_may_load(make_app):
    from dvc.web import tile_hosts
    assert tile_hosts("https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png") == [
        "https://cyberjapandata.gsi.go.jp"]
    assert tile_hosts("https://{s}.tile.example.org/{z}/{x}/{y}.png") == [
        "https://*.tile.example.org"]
    assert tile_hosts("/maps/tiles/{z}/{x}/{y}.png") == tile_hosts("") == []
    app = make_app(MAP_TILE_URL="https://{s}.tile.example.org/{z}/{x}/{y}.png")
    img = csp_of(app.test_client().get("/login"))["img-src"]
    assert img == ["'self'", "data:", "blob:", "https://*.tile.example.org"]
    default = csp_of(make_app().test_client().get("/login"))["img-src"]
    assert "https://cyberjapandata.gsi.go.jp" in default


def test_no_redirect_to_https_and_hsts_only_over_https(client):
    plain = client.get("/login")
    assert plain.status_code == 200 and "Strict-Transport-Security" not in plain.headers
    secure = client.get("/login", base_url="https://dvc.test")
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_session_cookie_is_httponly_lax_and_secure_over_https(app, site):
    form = {"username": ADMIN, "password": ADMIN_PASSWORD}
    plain = app.test_client().post("/login", data=form)
    assert plain.status_code == 302
    flags = plain.headers["Set-Cookie"].split("; ")
    assert "HttpOnly" in flags and "SameSite=Lax" in flags and "Secure" not in flags
    secure = app.test_client().post("/login", base_url="https://dvc.test", data=form)
    assert secure.status_code == 302
    flags = secure.headers["Set-Cookie"].split("; ")
    assert "HttpOnly" in flags and "SameSite=Lax" in flags and "Secure" in flags


def test_a_volunteers_page_keeps_its_code_from_other_sites(client, site):
    """The code is in the URL: its page sends no Referer to another site (and still one to
    itself, which CSRF checks over HTTPS need)."""
    response = client.get(f"/v/{site['token']}")
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "same-origin"
