#!/usr/bin/env python3
"""The coordinator's map with thousands of needs: our page against the plain folium page.

For each size (5,000 and 20,000 needs by default) this script
  1. bulk-inserts that many needs into a temporary SQLite database (one operation per size,
     spread over a few flooded neighbourhoods, every status but cancelled, so all are shown);
  2. writes the plain folium page a user would write first: every need a folium.Marker (with a
     tooltip; folium's popups need jQuery, which is not served here) in a
     folium.plugins.MarkerCluster, saved to HTML, its Leaflet files pointed at the same local
     copies our page uses (folium's CDN defaults would not load offline);
  3. serves both from one server process on 127.0.0.1 (waitress; the app, plus the saved HTML
     under /bench/ as plain files, uncompressed, as `python -m http.server` would);
  4. opens each page in headless Chromium (Debian's, via Playwright) in a fresh context (cold
     cache), every request to another host aborted, and measures
       - bytes: the encoded bytes of every response (headers and body, as on the wire; from the
         DevTools protocol) until the page is complete (network idle after the markers);
       - time: from navigation start until every need is on the map, and a frame has been
         painted since. "On the map" means, for our page: every shown need has been drawn on
         the needs' canvas, on its own or counted in a cluster bubble drawn there
         (window.dvcMapStats.drawn, the sum of the drawn points and cluster counts, must equal
         the N needs: the first load fits the map to all of them); for the plain folium page:
         every need's folium.Marker is in its marker-cluster layer (the layer holds N markers
         and has finished clustering them). Both pages set window.dvcMapStats.readyAt =
         performance.now() in a task after the next animation frame that follows: ours in
         static/js/coordmap.js, the folium page in a script appended after folium's own;
     Our page is measured right after a change (an event is logged before each run, so the
     server encodes every need again: the worst case, on which the goals are checked) and
     unchanged (the server hands out the answer it kept, as to every screen that polls).
     For scale, the same is measured for an empty map: folium's page with the same local
     Leaflet and no needs (same hook, 0 markers). Nothing that shows a Leaflet map is on
     screen sooner in this harness (a fresh browser context, cold cache, every time), so
     folium / empty map is the most any map page could be faster than folium here;
  5. prints a table with the ratios (folium / ours, changed) and the goals: 20,000 needs on
     screen in under 2 s and under 2 MB, at least 10x better than plain folium.

Traffic goes to 127.0.0.1 only; every wait is bounded. Each page is opened once to warm the
server up (a centre's server runs for weeks), then --runs rounds open every page once each
(so that a busy moment of a shared machine falls on all of them alike), and the median of
each page's runs is shown.

Usage: .venv/bin/python bench/map.py [--sizes 5000,20000] [--runs 3] [--tiles none|gsi]
"""
from __future__ import annotations

import argparse
import gzip
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOST = "127.0.0.1"  # the only host this script sends traffic to
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
USER, PASSWORD = "bench-coordinator", "bench-password-123"
GSI = "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png"
READY_TIMEOUT_MS = 240_000
SERVER_START_TIMEOUT = 60.0
GOAL_SECONDS, GOAL_BYTES, GOAL_RATIO, GOAL_SIZE = 2.0, 2_000_000, 10.0, 20_000
# Flooded neighbourhoods (Kurashiki, Mabi: the 2018 floods) the needs cluster around.
CENTRES = [(34.6246, 133.6838, "箭田"), (34.6305, 133.6935, "川辺"), (34.6186, 133.6989, "有井"),
           (34.6117, 133.6727, "岡田"), (34.6392, 133.6752, "服部"), (34.6063, 133.6893, "辻田"),
           (34.6325, 133.7121, "二万"), (34.6212, 133.6620, "尾崎")]
# Every status but cancelled (hidden by default), weighted as a busy week looks.
STATUSES = {"received": 15, "survey": 8, "ready": 22, "assigned": 5, "in_progress": 10,
            "continuing": 10, "completed": 25, "on_hold": 3, "referred": 2}
CATEGORIES = ("mud_removal", "furniture_removal", "tidying", "cleaning", "debris", "transport",
              "companionship", "other")
PRIORITIES = {"urgent": 5, "high": 20, "normal": 65, "low": 10}
T0 = datetime(2026, 11, 22, 0, 0, tzinfo=timezone.utc)


# --- data ------------------------------------------------------------------------------------

def make_app(db_url: str, **config):
    from dvc import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "bench-map",
                       "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", **config})


def seed(db_url: str, sizes: list[int]) -> dict[int, int]:
    """Create the schema, a coordinator and one operation per size: {size: operation id}."""
    from sqlalchemy import insert

    from dvc.auth.operations import create_user
    from dvc.extensions import db
    from dvc.needs.models import Need
    from dvc.operations.operations import create_operation
    from dvc.sites.operations import create_site

    app = make_app(db_url)
    rng = random.Random(2018)
    ops = {}
    with app.app_context():
        db.create_all()
        create_user(USER, "coordinator", PASSWORD, actor="bench")
        for size in sizes:
            op = create_operation(f"倉敷市 豪雨災害 ({size})", "real", prefecture="岡山県",
                                  municipality="倉敷市", actor="bench")
            site = create_site(op, "本部", "main", lat=34.6280, lon=133.6900, actor="bench")
            db.session.flush()
            rows = []
            for i in range(size):
                lat0, lon0, district = rng.choice(CENTRES)
                received = T0 - timedelta(hours=rng.randint(0, 24 * 14))
                rows.append({
                    "operation_id": op.id, "site_id": site.id,
                    "requester_name": f"依頼者 {i}", "requester_kana": f"いらいしゃ {i}",
                    "name_key": f"依頼者{i}|イライシャ{i}", "address": f"倉敷市真備町{district}{i}",
                    "lat": lat0 + rng.gauss(0, 0.004), "lon": lon0 + rng.gauss(0, 0.005),
                    "district": district, "category": rng.choice(CATEGORIES),
                    "description": "", "damage": "above_floor",
                    "people_min": 2, "people_max": rng.choice((4, 6, 10)), "skills": [],
                    "vehicle_needed": rng.random() < 0.2,
                    "priority": rng.choices(list(PRIORITIES), list(PRIORITIES.values()))[0],
                    "elderly": rng.random() < 0.3, "disabled": False,
                    "living_alone": rng.random() < 0.2, "source": "phone",
                    "status": rng.choices(list(STATUSES), list(STATUSES.values()))[0],
                    "received_dt": received, "status_dt": received})
            db.session.execute(insert(Need), rows)
            db.session.commit()
            ops[size] = op.id
        db.session.remove()
        db.engine.dispose()
    return ops


def local(asset: tuple[str, str]) -> str:
    """The URL of the app's own copy of a vendored file (folium's CDN would not load)."""
    from dvc.maps.vendor import PACKAGES
    package, filename = asset
    return f"/static/vendor/{package}/{PACKAGES[package].version}/{filename}"


def plain_folium_page(db_url: str, op_id: int, tiles: str) -> tuple[str, str]:
    """The page a user writes first: folium.Marker per need in a MarkerCluster.

    Return (html, the cluster's JS name)."""
    import folium
    from folium.plugins import MarkerCluster
    from sqlalchemy import select

    from dvc.extensions import db
    from dvc.maps.foliummap import (CLUSTER_CSS, CLUSTER_DEFAULT_CSS, CLUSTER_JS, LEAFLET_CSS,
                                    LEAFLET_JS)
    from dvc.needs.models import Need

    app = make_app(db_url)
    with app.app_context():
        needs = db.session.execute(select(Need.id, Need.lat, Need.lon, Need.status,
                                          Need.category).where(Need.operation_id == op_id)
                                   .order_by(Need.id)).all()
        db.engine.dispose()
    m = folium.Map(location=[34.6246, 133.6838], zoom_start=13,
                   tiles=GSI if tiles == "gsi" else None,
                   attr="地理院タイル" if tiles == "gsi" else None)
    # The same local Leaflet as ours; folium's jQuery/Bootstrap/Font Awesome are not needed
    # for markers with tooltips, and cannot load offline anyway.
    m.default_js = [("leaflet", local(LEAFLET_JS))]
    m.default_css = [("leaflet_css", local(LEAFLET_CSS))]
    cluster = MarkerCluster().add_to(m)
    cluster.default_js = [("markerclusterjs", local(CLUSTER_JS))]
    cluster.default_css = [("markerclustercss", local(CLUSTER_CSS)),
                           ("markerclusterdefaultcss", local(CLUSTER_DEFAULT_CSS))]
    for need_id, lat, lon, status, category in needs:
        folium.Marker([lat, lon], tooltip=f"N{need_id:05d} {status} {category}").add_to(cluster)
    html = m.get_root().render()
    return html, cluster.get_name()


def empty_map_page(tiles: str) -> str:
    """The floor: a folium map with the same local Leaflet and no needs at all. No page that
    shows a Leaflet map is on screen sooner here, so folium's time over this one is the most
    any map page can be faster than folium in this harness."""
    import folium

    from dvc.maps.foliummap import LEAFLET_CSS, LEAFLET_JS
    m = folium.Map(location=[34.6246, 133.6838], zoom_start=13,
                   tiles=GSI if tiles == "gsi" else None,
                   attr="地理院タイル" if tiles == "gsi" else None)
    m.default_js = [("leaflet", local(LEAFLET_JS))]
    m.default_css = [("leaflet_css", local(LEAFLET_CSS))]
    return add_ready_hook(m.get_root().render(), None)


def add_ready_hook(html: str, cluster_name: str | None) -> str:
    """Append the same "every marker is on the map" hook our page has, after folium's script
    (no cluster: the empty map, with no markers)."""
    markers = f"{cluster_name}.getLayers().length" if cluster_name else "0"
    hook = f"""<script>
requestAnimationFrame(function () {{ setTimeout(function () {{
  window.dvcMapStats = {{ ready: true, readyAt: performance.now(), markers: {markers} }};
}}, 0); }});
</script>
"""
    head, tail = html.rsplit("</html>", 1)
    return head + hook + "</html>" + tail


# --- the server ------------------------------------------------------------------------------

def serve(db_url: str, html_dir: str, port: int, tiles: str) -> None:
    """Server mode (a child process): the app plus the saved folium pages under /bench/."""
    from werkzeug.middleware.shared_data import SharedDataMiddleware
    app = make_app(db_url, MAP_TILE_URL=GSI if tiles == "gsi" else "")
    wsgi = SharedDataMiddleware(app.wsgi_app, {"/bench": html_dir}, cache=False)
    try:
        from waitress import serve as waitress_serve
        waitress_serve(wsgi, host=HOST, port=port, threads=4, _quiet=True)
    except ImportError:  # pragma: no cover - waitress is a dependency
        from werkzeug.serving import run_simple
        run_simple(HOST, port, wsgi, threaded=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db_url: str, html_dir: Path, workdir: Path, tiles: str):
        self.port = free_port()
        self.log = open(workdir / "server.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", db_url, str(html_dir), str(self.port), tiles],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "DVC_INSTANCE_PATH": str(workdir / "instance")})
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(self.url("/login"), timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"the server did not start; see {workdir / 'server.log'}")
            time.sleep(0.2)

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group we started
                self.proc.wait(timeout=10)
        self.log.close()


def touch(db_path: Path, op_id: int) -> None:
    """Log an event for the operation, as every change does: the server's cached answer for the
    map is then stale, so the next page load pays for encoding all the needs again."""
    import sqlite3
    stamp = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO event (operation_id, scenario_dt, wall_dt, actor, kind, payload)"
                     " VALUES (?, ?, ?, 'bench', 'bench.touched', '{}')", (op_id, stamp, stamp))
    conn.close()


# --- measuring -------------------------------------------------------------------------------

@dataclass
class Run:
    seconds: float
    bytes: int
    markers: int
    requests: int
    blocked: int
    by_kind: dict = field(default_factory=dict)


def sign_in(context, server: Server) -> None:
    """Sign in through the real form (CSRF token and all), outside the browser's cache."""
    page = context.request.get(server.url("/login"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text()) or \
        re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text())
    answer = context.request.post(server.url("/login"), form={
        "csrf_token": token.group(1), "username": USER, "password": PASSWORD},
        max_redirects=0)
    if answer.status != 302:
        raise SystemExit(f"sign-in failed: {answer.status}")


def measure(browser, server: Server, path: str, expected: int, *, login: bool) -> Run:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP",
                                  timezone_id="Asia/Tokyo", service_workers="block")
    blocked: list[str] = []

    def guard(route):
        blocked.append(route.request.url)
        route.abort("blockedbyclient")

    try:
        # Only requests to other hosts are intercepted (and aborted): the pattern is matched in
        # the browser, so our own requests are not held up on their way through Python.
        context.route(re.compile(rf"^(?!http://{re.escape(HOST)}:{server.port}/)"), guard)
        if login:
            sign_in(context, server)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        urls, sizes = {}, {}
        cdp.on("Network.responseReceived",
               lambda e: urls.__setitem__(e["requestId"], e["response"]["url"]))
        cdp.on("Network.loadingFinished",
               lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
        page.goto(server.url(path), wait_until="commit", timeout=READY_TIMEOUT_MS)
        page.wait_for_function("() => window.dvcMapStats && window.dvcMapStats.ready",
                               timeout=READY_TIMEOUT_MS, polling=50)
        stats = page.evaluate("() => window.dvcMapStats")
        page.wait_for_load_state("networkidle", timeout=READY_TIMEOUT_MS)
        by_kind: dict[str, int] = {}
        for request_id, size in sizes.items():
            url = urlsplit(urls.get(request_id, "")).path
            kind = ("vendor" if url.startswith("/static/vendor/") else
                    "data" if url.startswith("/api/") else
                    "ours" if url.startswith("/static/") or url.endswith("/map.js") else "page")
            by_kind[kind] = by_kind.get(kind, 0) + int(size)
        if stats["markers"] != expected:
            raise SystemExit(f"{path}: {stats['markers']} markers on the map, wanted {expected}")
        if "drawn" in stats and stats["drawn"] != expected:  # ours: drawn points + cluster counts
            raise SystemExit(f"{path}: {stats['drawn']} needs drawn, wanted {expected}")
        return Run(stats["readyAt"] / 1000, int(sum(sizes.values())), stats["markers"],
                   len(sizes), len(blocked), by_kind)
    finally:
        context.close()


def median_run(runs: list[Run]) -> Run:
    ordered = sorted(runs, key=lambda r: r.seconds)
    best = ordered[len(ordered) // 2]
    return Run(statistics.median(r.seconds for r in runs), best.bytes, best.markers,
               best.requests, best.blocked, best.by_kind)


# --- report ----------------------------------------------------------------------------------

def mb(n: int) -> str:
    return f"{n / 1_000_000:.2f} MB"


def print_table(results: dict, folium_gz: dict, runs: int, tiles: str) -> bool:
    print()
    print(f"Coordinator's map: time until every need is on the map, and bytes on the wire "
          f"(median of {runs}; headless Chromium; basemap: {tiles}, other hosts aborted)")
    print()
    header = (f"{'needs':>7}  {'approach':<14} {'time':>8} {'bytes':>10} {'requests':>8}  "
              f"{'markers':>7}  notes")
    print(header)
    print("-" * len(header))
    ok = True
    for size in sorted(results):
        ours, plain = results[size]["dvc map"], results[size]["plain folium"]
        same = results[size]["dvc map, same"]
        kinds = ", ".join(f"{k} {mb(v)}" for k, v in sorted(ours.by_kind.items()))
        print(f"{size:>7,}  {'dvc map':<14} {ours.seconds:>7.2f}s {mb(ours.bytes):>10} "
              f"{ours.requests:>8}  {ours.markers:>7,}  {kinds}")
        print(f"{size:>7,}  {'  unchanged':<14} {same.seconds:>7.2f}s {mb(same.bytes):>10} "
              f"{same.requests:>8}  {same.markers:>7,}  the server's answer kept since the "
              f"last load")
        print(f"{size:>7,}  {'plain folium':<14} {plain.seconds:>7.2f}s {mb(plain.bytes):>10} "
              f"{plain.requests:>8}  {plain.markers:>7,}  HTML {mb(folium_gz[size][0])}, "
              f"{mb(folium_gz[size][1])} if gzipped")
        t_ratio, b_ratio = plain.seconds / ours.seconds, plain.bytes / ours.bytes
        print(f"{'':>7}  {'folium / ours':<14} {t_ratio:>7.1f}x {b_ratio:>9.1f}x")
        floor = results[size]["empty map"]
        print(f"{size:>7,}  {'empty map':<14} {floor.seconds:>7.2f}s {mb(floor.bytes):>10} "
              f"{floor.requests:>8}  {floor.markers:>7,}  Leaflet alone, no needs: no map "
              f"page is on screen sooner")
        print(f"{'':>7}  {'folium / empty':<14} {plain.seconds / floor.seconds:>7.1f}x  "
              f"the most any map page could be faster than folium here")
        if size == GOAL_SIZE:
            checks = [(ours.seconds < GOAL_SECONDS, f"on the map in {ours.seconds:.2f} s "
                       f"(goal < {GOAL_SECONDS:.0f} s)"),
                      (ours.bytes < GOAL_BYTES, f"{mb(ours.bytes)} (goal < {mb(GOAL_BYTES)})"),
                      (t_ratio >= GOAL_RATIO, f"{t_ratio:.1f}x faster than folium "
                       f"(goal >= {GOAL_RATIO:.0f}x)"),
                      (b_ratio >= GOAL_RATIO, f"{b_ratio:.1f}x fewer bytes than folium "
                       f"(goal >= {GOAL_RATIO:.0f}x)")]
            print()
            for passed, text in checks:
                print(f"  {'PASS' if passed else 'MISS'}  {size:,} needs: {text}")
                ok = ok and passed
        print()
    return ok


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5000,20000",
                        help="comma-separated numbers of needs (default 5000,20000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per page (median shown)")
    parser.add_argument("--tiles", choices=("none", "gsi"), default="none",
                        help="basemap for both pages: none, or the GSI URL (aborted: offline)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        db_url, html_dir, port, tiles = sys.argv[2:6]
        serve(db_url, html_dir, int(port), tiles)
        return 0
    args = parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="dvc-bench-map-"))
    os.environ["DVC_INSTANCE_PATH"] = str(workdir / "instance")
    db_path = workdir / "bench.sqlite3"
    db_url = f"sqlite:///{db_path}"
    html_dir = workdir / "html"
    html_dir.mkdir()
    server = None
    try:
        started = time.monotonic()
        ops = seed(db_url, sizes)
        print(f"seeded {', '.join(f'{s:,}' for s in sizes)} needs in "
              f"{time.monotonic() - started:.1f} s ({workdir})", flush=True)
        folium_gz = {}
        for size, op_id in ops.items():
            started = time.monotonic()
            html, cluster = plain_folium_page(db_url, op_id, args.tiles)
            html = add_ready_hook(html, cluster)
            (html_dir / f"folium-{size}.html").write_text(html)
            raw = html.encode()
            folium_gz[size] = (len(raw), len(gzip.compress(raw, 6)))
            print(f"wrote the plain folium page for {size:,} needs ({mb(len(raw))}) in "
                  f"{time.monotonic() - started:.1f} s", flush=True)
        (html_dir / "empty.html").write_text(empty_map_page(args.tiles))
        server = Server(db_url, html_dir, workdir, args.tiles)
        results: dict[int, dict[str, Run]] = {}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGS)
            try:
                for size, op_id in ops.items():
                    pages = (("dvc map", f"/o/{op_id}/map", size, True, True),
                             ("dvc map, same", f"/o/{op_id}/map", size, True, False),
                             ("plain folium", f"/bench/folium-{size}.html", size, False, False),
                             ("empty map", "/bench/empty.html", 0, False, False))
                    for _name, path, expected, login, _changed in pages:
                        measure(browser, server, path, expected, login=login)  # warm-up
                    # Round after round, each page once, so that a busy moment of the shared
                    # machine falls on all of them alike.
                    runs: dict[str, list[Run]] = {name: [] for name, *_rest in pages}
                    for _ in range(max(1, args.runs)):
                        for name, path, expected, login, changed in pages:
                            if changed:
                                touch(db_path, op_id)
                            runs[name].append(measure(browser, server, path, expected,
                                                      login=login))
                            print(f"  {size:,} {name}: {runs[name][-1].seconds:.2f} s, "
                                  f"{mb(runs[name][-1].bytes)}", flush=True)
                    results[size] = {name: median_run(r) for name, r in runs.items()}
            finally:
                browser.close()
        # Figures, not a test: goals missed are printed (MISS), not turned into a failure.
        print_table(results, folium_gz, args.runs, args.tiles)
        return 0
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
