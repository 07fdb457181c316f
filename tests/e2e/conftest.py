"""End-to-end fixtures: the app served from a thread on 127.0.0.1, and Debian's Chromium driven
by Playwright with every request to another host aborted (the offline promise is tested too).

- `browser` (session): one headless Chromium for the whole run; the tests are skipped when
  /usr/bin/chromium (or Playwright) is missing.
- `live_server`: a fresh app on its own SQLite file, schema made by the migrations, a reception
  user and an open operation with a main site; served by werkzeug on a free port.
- `open_tab(**context_options)`: a new browser context (its own cookies: a phone, a tablet)
  with the guard installed; `tab` is one desktop-sized tab.
- `fill_registration(page, **overrides)`: fill the public registration form.
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
# 09:00 in Tokyo on a Sunday in November (the morning rush); the app's clock stands still.
T0 = datetime(2026, 11, 22, 0, 0, tzinfo=timezone.utc)
TIMEOUT_MS = 10_000
STAFF_USER = "reception-e2e"
STAFF_PASSWORD = "password-reception"
# Where screenshots go: $DVC_E2E_SHOTS when set (e.g. /tmp/e2e-shots), else the test's tmp_path.
SHOTS_ENV = "DVC_E2E_SHOTS"
# What the page's stylesheet (static/css/dvc.css) sets, read back from computed styles.
BODY_BACKGROUND = "rgb(245, 246, 248)"  # --bg: #f5f6f8
BODY_FONT_SIZE = "17px"
# Text that must never reach a page: template syntax, unformatted placeholders, Python reprs.
JUNK = re.compile(r"\{\{|\}\}|\{%|%\(\w+\)s|\bNone\b|\bundefined\b|\bNaN\b|<lazy|_l\(")


# --- the browser -------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    """One headless Chromium per session (Debian's; Playwright cannot download one here)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"end-to-end tests need Chromium at {CHROMIUM} (apt-get install chromium, "
                    "or `make browser`)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="end-to-end tests need the playwright package")
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
    except Exception:
        playwright.stop()
        raise
    yield browser
    browser.close()
    playwright.stop()


# --- the app, served from a thread -------------------------------------------------------

class _QuietHandler(WSGIRequestHandler):
    """Keep werkzeug's access log out of the test output (errors are still logged)."""

    def log_request(self, code="-", size="-"):
        pass


@dataclass
class LiveServer:
    app: object
    host: str
    port: int
    op_id: int
    site_id: int
    username: str = STAFF_USER
    password: str = STAFF_PASSWORD

    @property
    def netloc(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.netloc}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def is_local(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and parts.netloc == self.netloc

    def count_checkins(self) -> int:
        """Count every check-in row of the operation, straight from the database."""
        from dvc.extensions import db
        from dvc.volunteers.models import CheckIn
        with self.app.app_context():
            return db.session.scalar(db.select(db.func.count(CheckIn.id))
                                     .where(CheckIn.operation_id == self.op_id))

    def register_volunteer(self, **overrides) -> tuple[str, str]:
        """Register a volunteer through the domain (no browser): return (name, code)."""
        from dvc.extensions import db
        from dvc.operations.operations import get_operation
        from dvc.volunteers.operations import Registration, register_volunteer
        answers = dict(name="佐藤 花子", kana="さとう はなこ", phone="090-2222-3333",
                       prefecture="神奈川県", municipality="横浜市", birth_year=1990,
                       emergency_name="佐藤 一郎", emergency_phone="080-4444-5555",
                       consent=True, insurance="home", insurance_council="横浜市社会福祉協議会")
        answers.update(overrides)
        with self.app.app_context():
            _volunteer, code = register_volunteer(get_operation(self.op_id),
                                                  Registration(**answers), via="pre",
                                                  actor="e2e")
            db.session.commit()
        return answers["name"], code


@pytest.fixture
def live_server(tmp_path):
    """Serve a fresh app (its own SQLite file, CSRF on) on a free port of 127.0.0.1."""
    from flask_migrate import upgrade

    from dvc import create_app
    from dvc.auth.operations import create_user
    from dvc.core.clock import VirtualClock
    from dvc.extensions import db
    from dvc.operations.operations import create_operation
    from dvc.sites.operations import create_site

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
        "TESTING": True, "SECRET_KEY": "e2e-secret", "WTF_CSRF_ENABLED": True,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
    })
    app.extensions["dvc.clock"] = VirtualClock(T0)
    with app.app_context():
        upgrade()
        create_user(STAFF_USER, "reception", STAFF_PASSWORD, display_name="受付 一郎",
                    actor="e2e")
        op = create_operation("テスト市 豪雨災害", "real", prefecture="東京都",
                              municipality="テスト市", actor="e2e")
        site = create_site(op, "本部", "main", lat=35.68, lon=139.56, actor="e2e")
        db.session.commit()
        op_id, site_id = op.id, site.id
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="dvc-e2e-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, host="127.0.0.1", port=server.server_port, op_id=op_id,
                         site_id=site_id)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        # Handler threads end when the browser closes its keep-alive connections (the contexts
        # are closed before this runs); wait for them with a limit instead of hanging.
        handlers = list(getattr(server, "_threads", None) or [])
        for handler in handlers:
            handler.join(timeout=10)
        stuck = [t.name for t in handlers if t.is_alive()]
        if not stuck:
            server.server_close()
        else:
            server.socket.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        assert not thread.is_alive(), "the e2e server thread did not stop"
        assert not stuck, f"request threads still running after the browser closed: {stuck}"


# --- tabs: a browser context with the guard ------------------------------------------------

@dataclass
class Tab:
    """A page in its own browser context that records everything that went wrong on it."""

    server: LiveServer
    context: object
    page: object
    shots_dir: Path
    blocked: list = field(default_factory=list)        # requests to another host (aborted)
    console_errors: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)
    failed: list = field(default_factory=list)         # same-host requests that failed
    bad_responses: list = field(default_factory=list)  # same-host responses >= 400
    loaded: list = field(default_factory=list)         # same-host responses < 400: (status, path)

    # guard ------------------------------------------------------------------------------
    def _route(self, route):
        url = route.request.url
        if self.server.is_local(url):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")

    def _on_console(self, msg):
        if msg.type == "error":
            self.console_errors.append(f"{msg.text} @ {msg.location.get('url', '')}")

    def _on_request_failed(self, request):
        if self.server.is_local(request.url):
            self.failed.append(f"{request.method} {request.url}: {request.failure}")

    def _on_response(self, response):
        if not self.server.is_local(response.url):
            return
        path = urlsplit(response.url).path
        if response.status >= 400:
            self.bad_responses.append((response.status, response.request.method, path))
        else:
            self.loaded.append((response.status, path))

    def install(self):
        self.context.route("**/*", self._route)
        self.context.on("page", self._watch)
        self._watch(self.page)

    def _watch(self, page):
        page.on("console", self._on_console)
        page.on("pageerror", lambda err: self.page_errors.append(str(err)))
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)

    # helpers ----------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.server.url(path)

    def goto(self, path: str, status: int = 200):
        response = self.page.goto(self.url(path), wait_until="load")
        assert response is not None and response.status == status, (path, response and
                                                                    response.status)
        return response

    def sign_in(self, username: str | None = None, password: str | None = None):
        """Sign in on the real /login page (its CSRF token and all)."""
        self.goto("/login")
        self.page.fill("#username", username or self.server.username)
        self.page.fill("#password", password or self.server.password)
        with self.page.expect_navigation():
            self.page.click("main button[type=submit]")
        assert urlsplit(self.page.url).path != "/login", "sign-in failed"

    def assert_styled(self):
        """The stylesheet and the shared script loaded and apply to this page."""
        style = self.page.evaluate("""() => {
            const b = getComputedStyle(document.body);
            const bar = document.querySelector('.topbar');
            return {bg: b.backgroundColor, size: b.fontSize,
                    bar: bar ? getComputedStyle(bar).display : null};
        }""")
        assert style == {"bg": BODY_BACKGROUND, "size": BODY_FONT_SIZE, "bar": "flex"}, style
        # This document's own loads (not an earlier page's): the stylesheet's rules are there
        # and the shared script was fetched with success.
        rules = self.page.evaluate("""() => [...document.styleSheets]
            .filter(s => s.href && s.href.endsWith('/static/css/dvc.css'))
            .map(s => s.cssRules.length)""")
        assert len(rules) == 1 and rules[0] > 50, rules
        assert ("/static/js/dvc.js", 200) in self.scripts(), self.scripts()

    def scripts(self) -> list[tuple[str, int]]:
        """The scripts this document fetched: [(path, status)]."""
        entries = self.page.evaluate("""() => performance.getEntriesByType('resource')
            .filter(e => e.initiatorType === 'script')
            .map(e => [new URL(e.name).pathname, e.responseStatus])""")
        return [tuple(e) for e in entries]

    def assert_no_junk(self):
        """No template syntax, placeholders or Python reprs in what a person reads."""
        text = self.page.inner_text("body")
        found = JUNK.findall(text)
        assert not found, (found, text[:2000])

    def assert_clean(self, expected_status: tuple[int, ...] = ()):
        """Nothing went to another host and nothing failed, except the given document statuses
        (e.g. a form re-shown with 422)."""
        assert self.blocked == [], f"requests to other hosts: {self.blocked}"
        assert self.page_errors == [], self.page_errors
        assert self.failed == [], self.failed
        unexpected = [r for r in self.bad_responses if r[0] not in expected_status]
        assert unexpected == [], unexpected
        noise = [f"status of {s}" for s in expected_status]
        errors = [e for e in self.console_errors
                  if not (e.startswith("Failed to load resource") and any(n in e for n in noise))]
        assert errors == [], errors

    def shot(self, name: str) -> Path:
        """Save a full-page screenshot, to look at what a person sees."""
        path = self.shots_dir / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots_dir(tmp_path) -> Path:
    wanted = os.environ.get(SHOTS_ENV)
    path = Path(wanted) if wanted else tmp_path / "shots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def open_tab(browser, live_server, shots_dir):
    """open_tab(**context_options) -> a Tab in a new context; all are closed after the test."""
    contexts = []

    def open_(**options) -> Tab:
        settings = {"locale": "ja-JP", "timezone_id": "Asia/Tokyo",
                    "viewport": {"width": 1280, "height": 800}, "service_workers": "block"}
        settings.update(options)
        context = browser.new_context(**settings)
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        tab = Tab(server=live_server, context=context, page=None, shots_dir=shots_dir)
        tab.page = context.new_page()
        tab.install()
        return tab

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def tab(open_tab) -> Tab:
    return open_tab()


PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}


@pytest.fixture
def phone_tab(open_tab) -> Tab:
    """A tab the size of a volunteer's phone."""
    return open_tab(**PHONE)


# --- the registration form ---------------------------------------------------------------

VOLUNTEER = {
    "name": "山田 太郎", "kana": "やまだ たろう", "phone": "090-1234-5678",
    "email": "", "prefecture": "東京都", "municipality": "三鷹市", "birth_year": "1985",
    "emergency_name": "山田 花子", "emergency_phone": "080-1111-2222",
    "skills": ["driving", "chainsaw"], "vehicle": "light_truck", "insurance": "home",
    "insurance_council": "三鷹市社会福祉協議会", "insurance_date": "2026-05-01", "consent": True,
}
TEXT_FIELDS = ("name", "kana", "phone", "email", "municipality", "birth_year", "emergency_name",
               "emergency_phone", "insurance_council", "insurance_date")


@pytest.fixture
def fill_registration():
    """fill_registration(page, **overrides) fills the form as a person would; a value of None
    leaves that field untouched. Returns the answers used."""
    def fill(page, **overrides) -> dict:
        answers = {**VOLUNTEER, **overrides}
        for name in TEXT_FIELDS:
            if answers.get(name) is not None:
                page.fill(f"#{name}", str(answers[name]))
        if answers.get("prefecture") is not None:
            page.select_option("#prefecture", answers["prefecture"])
        for skill in answers.get("skills") or ():
            page.check(f"input[name=skills][value={skill}]")
        for radio in ("vehicle", "insurance"):
            if answers.get(radio) is not None:
                page.check(f"input[name={radio}][value={answers[radio]}]")
        if answers.get("consent"):
            page.check("#consent")
        return answers
    return fill
