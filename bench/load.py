#!/usr/bin/env python3
"""A busy morning at the centre against the real server, on SQLite and PostgreSQL: throughput,
p95 latency per kind of request, errors, and every acknowledged write reconciled with the
database.

For each database this script
  1. creates a fresh database (as bench/checkin.py does: SQLite in a temp dir, or the
     PostgreSQL database `dvc_load`, dropped and created again, never `test`), seeds an
     operation with a main site, one API token per role (reception, needs intake,
     coordinator, viewer), pre-registered volunteers and some needs already received;
  2. starts gunicorn (gthread workers, 4 threads each by default) on 127.0.0.1, as
     bench/checkin.py does;
  3. runs `--clients` concurrent clients (default 50) for `--duration` seconds (default 180),
     each in a role, as at a centre in the morning rush:
       kiosk        check a volunteer in (POST checkins), each time a new one     (30 of 50)
       intake       record a need from a phone call (POST needs)                  (6)
       map          refresh the coordinator's map: needs (with If-None-Match, as
                    the page does) and teams                                      (8)
       coordinator  mark a received need ready (PATCH), find free volunteers, form
                    a team for it (POST teams) and dispatch it                    (3)
       report       the daily figures (public API), the daily report page and
                    the dashboard panels                                          (3)
     Each client waits a random think time (0 to 2 x `--think`, default 0.5 s) between
     actions. Every write carries a fresh Idempotency-Key, as the tablets send; a request on
     a keep-alive connection that the server had just closed is sent again once on a new
     connection (a browser does the same), with the same key;
  4. reconciles: every acknowledged write has its row and nothing else was written: check-ins,
     needs, teams and their status equal what was acknowledged, one event each (status
     changes: one per PATCH, team formed and dispatch), one stored idempotency key per write;
  5. stops the server, also on Ctrl-C and errors. Exit status 1 on any error or mismatch.

Coordinators split needs and volunteers between them (by id), as desks split districts, so
that they never pick the same volunteer: a 409 here is an error, not a lost race.

Usage: .venv/bin/python bench/load.py [--db sqlite|postgres|both] [--clients 50]
       [--duration 180] [--think 0.5] [--workers 3 --threads 4] [--schema models]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkin import (RawHTTP, Seeder, Server, _interrupt, _pct,  # noqa: E402
                     add_database_args, background_busy, database_names, host_cpu,
                     open_database, remove_workdir)

PG_DB = "dvc_load"
REQUEST_TIMEOUT = 60.0
# Clients per role out of 50; other counts keep the proportions (at least one each).
ROLES = {"kiosk": 30, "intake": 6, "map": 8, "coordinator": 3, "report": 3}
KINDS = ("checkin", "need_intake", "map_needs", "map_teams", "need_ready", "available",
         "team_form", "team_dispatch", "report_stats", "report_page", "dashboard")
WRITES = {"checkin": 201, "need_intake": 201, "need_ready": 200, "team_form": 201,
          "team_dispatch": 200}
SEEDED_NEEDS = 200
CENTRE = (35.68, 139.56)  # a fictional city around Mitaka


# --- results -----------------------------------------------------------------------------

@dataclass
class Kind:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    resent: int = 0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


@dataclass
class Run:
    """One database's morning: what was asked, answered and acknowledged."""

    database: str
    kinds: dict[str, Kind] = field(default_factory=lambda: {k: Kind() for k in KINDS})
    acked: dict[str, list[int]] = field(default_factory=lambda: {k: [] for k in WRITES})
    elapsed: float = 0.0
    server_cpu: float | None = None
    host_busy: float | None = None
    background: float | None = None
    exhausted: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(k.requests for k in self.kinds.values())

    @property
    def errors(self) -> int:
        return sum(k.statuses.get("error", 0) for k in self.kinds.values())


@dataclass
class Seed:
    op_id: int
    site_id: int
    tokens: dict[str, str]
    need_ids: list[int]


# --- seeding -----------------------------------------------------------------------------

def seed(seeder: Seeder, schema: str) -> Seed:
    """The operation, one API token per role, and needs already received before 9:00."""
    from dvc.auth.operations import create_user, issue_token
    from dvc.needs.operations import NeedInput, create_need
    from dvc.operations.models import Operation
    seeder.setup(schema)
    tokens = {"kiosk": seeder.token}
    rng = random.Random(2026)
    with seeder.app.app_context():
        for role, account in (("intake", "needs_intake"), ("coordinator", "coordinator"),
                              ("report", "viewer")):
            user = create_user(f"load-{account}", account, "load-password", actor="bench")
            tokens[role] = issue_token(user, actor="bench")
        tokens["map"] = tokens["coordinator"]
        operation = seeder.db.session.get(Operation, seeder.op_id)
        needs = [create_need(operation, NeedInput(**_need_answers(rng, i)), actor="bench")
                 for i in range(SEEDED_NEEDS)]
        seeder.db.session.commit()
        need_ids = [n.id for n in needs]
        seeder._close()
    return Seed(seeder.op_id, seeder.site_id, tokens, need_ids)


def _need_answers(rng: random.Random, n: int) -> dict:
    return {"requester_name": f"依頼 {n}", "requester_kana": f"いらい {n}",
            "phone": f"0422-{n // 10000:02d}-{n % 10000:04d}", "address": f"架空市北町{n}",
            "lat": CENTRE[0] + rng.uniform(-0.03, 0.03),
            "lon": CENTRE[1] + rng.uniform(-0.04, 0.04), "category": "mud_removal",
            "people_min": 2, "people_max": 5, "source": "phone"}


def clients_per_role(total: int) -> dict[str, int]:
    """Share `total` clients among the roles in ROLES' proportions, at least one each."""
    scale = total / sum(ROLES.values())
    counts = {role: max(1, math.floor(n * scale)) for role, n in ROLES.items()}
    by_remainder = sorted(ROLES, key=lambda r: ROLES[r] * scale - counts[r], reverse=True)
    while sum(counts.values()) < total:
        counts[by_remainder.pop(0)] += 1
    while sum(counts.values()) > total and counts["kiosk"] > 1:
        counts["kiosk"] -= 1
    return counts


# --- the morning -------------------------------------------------------------------------

class Morning:
    """The clients of one run: one connection each, sharing a pool of codes and the tallies."""

    def __init__(self, server: Server, data: Seed, run: Run, codes: list[str], think: float,
                 seed_value: int):
        self.server, self.data, self.run, self.think = server, data, run, think
        self.codes = iter(codes)
        self.rng = random.Random(seed_value)
        self.deadline = 0.0
        self.intake_count = 0

    def over(self) -> bool:
        return time.perf_counter() >= self.deadline

    async def pause(self, rng: random.Random, factor: float = 1.0) -> None:
        await asyncio.sleep(rng.uniform(0, 2 * self.think * factor))

    async def send(self, conn: RawHTTP, kind: str, method: str, path: str, *, role: str,
                   body: dict | None = None, expect=(200,), headers: dict | None = None):
        """Send one request, timed; return (status, headers, JSON or None) or None on error."""
        tally = self.run.kinds[kind]
        headers = {"Authorization": f"Bearer {self.data.tokens[role]}", **(headers or {})}
        if method != "GET":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        payload = json.dumps(body).encode() if body is not None else (
            b"{}" if method != "GET" else None)
        t0 = time.perf_counter()
        for attempt in (1, 2):
            fresh = conn.writer is None
            try:
                status, fields, raw = await asyncio.wait_for(
                    conn.request(method, path, payload, headers), REQUEST_TIMEOUT)
                break
            except (OSError, asyncio.IncompleteReadError) as err:
                # A keep-alive connection the server closed just as we sent: once more, anew.
                if attempt == 1 and not fresh:
                    tally.resent += 1
                    continue
                return self._failed(tally, f"{type(err).__name__}: {err}")
            except (asyncio.TimeoutError, ValueError) as err:
                await conn.close()
                return self._failed(tally, f"{type(err).__name__}: {err}")
        tally.latencies.append(time.perf_counter() - t0)
        if status not in expect:
            text = raw[:200].decode(errors="replace")
            return self._failed(tally, f"{method} {path} -> {status}: {text}")
        tally.statuses[status] += 1
        is_json = fields.get("content-type", "").startswith("application/json") and raw
        return status, fields, (json.loads(raw) if is_json else None)

    def _failed(self, tally: Kind, what: str):
        tally.statuses["error"] += 1
        if len(tally.failures) < 5:
            tally.failures.append(what)
        return None

    # roles ------------------------------------------------------------------------------
    async def kiosk(self, conn: RawHTTP, index: int, rng: random.Random) -> None:
        path = f"/api/v1/operations/{self.data.op_id}/checkins"
        while not self.over():
            code = next(self.codes, None)
            if code is None:
                self.run.exhausted = True
                return
            answer = await self.send(conn, "checkin", "POST", path, role="kiosk", expect=(201,),
                                     body={"code": code, "site_id": self.data.site_id,
                                           "health_ok": True, "insurance_enrolled_now": False})
            if answer:
                self.run.acked["checkin"].append(answer[2]["id"])
            await self.pause(rng)

    async def intake(self, conn: RawHTTP, index: int, rng: random.Random) -> None:
        path = f"/api/v1/operations/{self.data.op_id}/needs"
        while not self.over():
            self.intake_count += 1
            body = _need_answers(rng, 100_000 + index * 10_000 + self.intake_count)
            answer = await self.send(conn, "need_intake", "POST", path, role="intake",
                                     expect=(201,), body=body)
            if answer:
                self.run.acked["need_intake"].append(answer[2]["id"])
            await self.pause(rng)

    async def map(self, conn: RawHTTP, index: int, rng: random.Random) -> None:
        op, etag = self.data.op_id, None
        while not self.over():
            answer = await self.send(conn, "map_needs", "GET", f"/api/v1/operations/{op}/map/needs",
                                     role="map", expect=(200, 304),
                                     headers={"If-None-Match": etag} if etag else None)
            if answer:
                etag = answer[1].get("etag", etag)
            await self.send(conn, "map_teams", "GET", f"/api/v1/operations/{op}/teams",
                            role="map")
            await self.pause(rng)

    async def coordinator(self, conn: RawHTTP, index: int, rng: random.Random,
                          desks: int) -> None:
        """Ready a need of this desk's share, then form a team of free volunteers of its
        share for the oldest ready need, and send it out."""
        op, ready, done = self.data.op_id, [], set()
        while not self.over():
            received = await self.send(conn, "map_needs", "GET",
                                       f"/api/v1/operations/{op}/map/needs?status=received",
                                       role="coordinator", expect=(200,))
            mine = [row[0] for row in (received[2]["rows"] if received else [])
                    if row[0] % desks == index and row[0] not in done]
            if mine:
                need_id = min(mine)
                done.add(need_id)
                if await self.send(conn, "need_ready", "PATCH", f"/api/v1/needs/{need_id}",
                                   role="coordinator", body={"status": "ready"}):
                    self.run.acked["need_ready"].append(need_id)
                    ready.append(need_id)
            free = await self.send(conn, "available", "GET",
                                   f"/api/v1/operations/{op}/volunteers/available",
                                   role="coordinator")
            people = [v["volunteer_id"] for v in (free[2] if free else [])
                      if v["volunteer_id"] % desks == index]
            size = rng.randint(2, 4)
            if ready and len(people) >= size:
                formed = await self.send(
                    conn, "team_form", "POST", f"/api/v1/operations/{op}/teams",
                    role="coordinator", expect=(201,),
                    body={"need_id": ready.pop(0), "member_ids": people[:size],
                          "leader_id": people[0]})
                if formed:
                    team_id = formed[2]["id"]
                    self.run.acked["team_form"].append(team_id)
                    if await self.send(conn, "team_dispatch", "POST",
                                       f"/api/v1/teams/{team_id}/dispatch", role="coordinator",
                                       body={"transport": rng.choice(("walk", "shuttle"))}):
                        self.run.acked["team_dispatch"].append(team_id)
            await self.pause(rng)

    async def report(self, conn: RawHTTP, index: int, rng: random.Random) -> None:
        op = self.data.op_id
        pages = [("report_stats", f"/api/v1/operations/{op}/stats/daily"),
                 ("report_page", f"/o/{op}/reports/daily"),
                 ("dashboard", f"/o/{op}/dashboard/panels")]
        turn = index
        while not self.over():
            kind, path = pages[turn % len(pages)]
            turn += 1
            await self.send(conn, kind, "GET", path, role="report")
            await self.pause(rng, factor=3)

    async def run_all(self, duration: float, total: int) -> None:
        counts = clients_per_role(total)
        plan = [(role, i) for role, n in counts.items() for i in range(n)]
        self.rng.shuffle(plan)  # gthread keeps a connection on its worker: mix roles
        conns = [RawHTTP(self.server.port) for _ in plan]
        # Connect before the clock starts, one at a time (gthread workers race to accept a
        # burst and keep a keep-alive connection on the worker that took it), and warm up.
        for conn in conns:
            await conn.connect()
            await asyncio.sleep(0.002)
        await asyncio.gather(*(self.send(conn, "map_teams", "GET",
                                         f"/api/v1/operations/{self.data.op_id}/teams",
                                         role="map") for conn in conns))
        self.run.kinds["map_teams"] = Kind()  # the warm-up does not count
        server0, host0 = self.server.cpu_seconds(), host_cpu()
        start = time.perf_counter()
        self.deadline = start + duration

        async def client(role: str, index: int, conn: RawHTTP) -> None:
            rng = random.Random(self.rng.random())
            await asyncio.sleep(rng.uniform(0, self.think))  # not all at the same instant
            if role == "coordinator":
                await self.coordinator(conn, index, rng, counts["coordinator"])
            else:
                await getattr(self, role)(conn, index, rng)
            await conn.close()

        await asyncio.gather(*(client(role, i, conn) for (role, i), conn in zip(plan, conns)))
        self.run.elapsed = time.perf_counter() - start
        server1, host1 = self.server.cpu_seconds(), host_cpu()
        if server0 is not None and server1 is not None and server1 >= server0:
            self.run.server_cpu = server1 - server0  # (less: workers died, their CPU went)
        if host0 and host1 and host1[1] > host0[1]:
            self.run.host_busy = (host1[0] - host0[0]) / (host1[1] - host0[1])


# --- reconciliation ----------------------------------------------------------------------

def reconcile(database, data: Seed, run: Run) -> list[str]:
    """Compare every acknowledged write with the rows and events in the database."""
    p, op = database.param, data.op_id

    def rows(sql: str, *params):
        with database.connect() as conn:
            return conn.execute(sql, params).fetchall()

    acked = run.acked
    problems = []

    def same(what: str, found, expected) -> None:
        found, expected = sorted(found), sorted(expected)
        if found != expected:
            lost, extra = set(expected) - set(found), set(found) - set(expected)
            problems.append(f"{what}: {len(expected)} acknowledged, {len(found)} in the "
                            f"database ({len(lost)} lost, {len(extra)} extra, "
                            f"{len(expected) - len(set(expected))} acknowledged twice)")

    same("check-ins", [r[0] for r in rows(f"SELECT id FROM check_in WHERE operation_id = {p}", op)],
         acked["checkin"])
    same("needs", [r[0] for r in rows(f"SELECT id FROM need WHERE operation_id = {p}", op)],
         data.need_ids + acked["need_intake"])
    teams = dict(rows(f"SELECT id, status FROM team WHERE operation_id = {p}", op))
    same("teams", teams, acked["team_form"])
    dispatched = set(acked["team_dispatch"])
    wrong = [t for t, status in teams.items()
             if status != ("dispatched" if t in dispatched else "formed")]
    if wrong:
        problems.append(f"teams: {len(wrong)} not in the status acknowledged")
    statuses = dict(rows(f"SELECT id, status FROM need WHERE operation_id = {p}", op))
    moved = [n for n in acked["need_ready"]
             if statuses.get(n) not in ("ready", "assigned", "in_progress")]
    if moved:
        problems.append(f"needs: {len(moved)} made ready, now in another status")
    events = Counter(dict(rows(f"SELECT kind, count(*) FROM event WHERE operation_id = {p} "
                               f"GROUP BY kind", op)))
    wanted = {"volunteer.checked_in": len(acked["checkin"]),
              "need.received": len(data.need_ids) + len(acked["need_intake"]),
              "team.formed": len(acked["team_form"]),
              "team.dispatched": len(acked["team_dispatch"]),
              "need.status_changed": len(acked["need_ready"]) + len(acked["team_form"])
              + len(acked["team_dispatch"])}
    for kind, count in wanted.items():
        if events[kind] != count:
            problems.append(f"events {kind}: {events[kind]}, acknowledged {count}")
    keys = rows("SELECT count(*) FROM idempotency_key")[0][0]
    writes = sum(len(ids) for ids in acked.values())
    if keys != writes:
        problems.append(f"idempotency keys: {keys} stored for {writes} acknowledged writes")
    run.problems += problems
    summary = ", ".join(f"{len(ids)} {kind}" for kind, ids in acked.items())
    print(f"  reconcile: {summary} acknowledged; {sum(events.values())} events, {keys} keys "
          f"-> {'OK' if not problems else 'MISMATCH'}")
    return problems


# --- orchestration -----------------------------------------------------------------------

def volunteers_needed(kiosks: int, duration: float, think: float) -> int:
    """Codes enough for every kiosk at a quick pace (a check-in in ~10 ms plus its think)."""
    per_second = kiosks / (think + 0.01)
    return math.ceil(min(per_second, 400) * duration * 1.1) + 50


def bench_database(database, args, workdir: Path) -> Run:
    instance = workdir / f"instance-{database.name}"
    instance.mkdir()
    print(f"\n[{database.name}] preparing a fresh database", flush=True)
    database.reset()
    seeder = Seeder(database.url, instance)
    data = seed(seeder, args.schema)
    kiosks = clients_per_role(args.clients)["kiosk"]
    codes = seeder.volunteers(volunteers_needed(kiosks, args.duration, args.think))
    print(f"  {database.version()}; {len(codes)} volunteers registered in "
          f"{seeder.seconds:.1f} s, {len(data.need_ids)} needs received", flush=True)
    run = Run(database.name)
    server = Server(database.url, instance, args.workers, args.threads,
                    workdir / f"gunicorn-{database.name}.log")
    try:
        server.wait_ready()
        run.background = background_busy()
        print(f"  gunicorn {server.worker_class}, {args.workers} workers x {args.threads} "
              f"threads, on {server.base}; {args.clients} clients "
              f"({', '.join(f'{n} {r}' for r, n in clients_per_role(args.clients).items())}) "
              f"for {args.duration:g} s", flush=True)
        morning = Morning(server, data, run, codes, args.think, args.seed)
        asyncio.run(morning.run_all(args.duration, args.clients))
    finally:
        server.stop()
    if run.exhausted:
        print("  (the kiosks used every registered volunteer before the end)")
    for kind, tally in run.kinds.items():
        if tally.statuses.get("error"):
            run.problems.append(f"{kind}: {tally.statuses['error']} errors, e.g. "
                                f"{tally.failures[:2]}")
    reconcile(database, data, run)
    return run


def print_table(runs: list[Run]) -> None:
    head = (f"{'database':<9} {'kind':<14} {'requests':>8} {'per s':>7} {'errors':>6} "
            f"{'resent':>6} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
    print("\n" + head)
    print("-" * len(head))
    for run in runs:
        for kind, tally in run.kinds.items():
            if not tally.requests:
                continue
            print(f"{run.database:<9} {kind:<14} {tally.requests:>8} "
                  f"{tally.requests / run.elapsed:>7.1f} {tally.statuses.get('error', 0):>6} "
                  f"{tally.resent:>6} {tally.pct(50):>7.1f} {tally.pct(95):>7.1f} "
                  f"{tally.pct(100):>7.1f}")
        cpu = (f", app CPU {run.server_cpu / run.requests * 1000:.2f} ms per request"
               if run.server_cpu is not None and run.requests else "")
        writes = sum(len(ids) for ids in run.acked.values())
        print(f"{run.database:<9} {'all':<14} {run.requests:>8} "
              f"{run.requests / run.elapsed:>7.1f} {run.errors:>6}   in {run.elapsed:.0f} s; "
              f"{writes} writes acknowledged{cpu}; machine busy {_pct(run.host_busy)} "
              f"(before: {_pct(run.background)})")
    print("resent: requests sent again once on a new connection after the server closed an "
          "idle keep-alive one")


def parse_args(argv=None) -> argparse.Namespace:
    cores = os.cpu_count() or 2
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_args(parser, PG_DB)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=180.0, help="seconds (default 180)")
    parser.add_argument("--think", type=float, default=0.5,
                        help="mean seconds each client waits between actions (default 0.5)")
    parser.add_argument("--workers", type=int, default=cores + 1)
    # Threads, as deploy/ runs gunicorn: a worker's threads share its core, so a check-in
    # is not stuck behind a slow page (the list of available volunteers) as with one thread.
    # 180 s on PostgreSQL, 3 x 4 gthread against 3 sync workers (--threads 1): 61 against
    # 44 requests/s, check-in p50 57 against 585 ms; the slow list fared worse (p95 17 s
    # against 4 s).
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the clients")
    parser.add_argument("--schema", choices=("migrations", "models"), default="migrations",
                        help="build the schema with the migrations (default) or from the "
                             "models (a working tree whose migrations are not written yet)")
    args = parser.parse_args(argv)
    if not 5 <= args.clients <= 500:
        parser.error("--clients must be between 5 and 500 (one client per role at least)")
    if not 0 < args.duration <= 3600 or not 0 < args.think <= 2:
        parser.error("--duration must be in (0, 3600] s and --think in (0, 2] s")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    names = database_names(args)
    print(f"load benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"{args.clients} clients, {args.duration:g} s, think {args.think:g} s")
    signal.signal(signal.SIGTERM, _interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="dvc-load-"))
    runs, finished = [], False
    try:
        for name in names:
            runs.append(bench_database(open_database(name, args, workdir), args, workdir))
        finished = True
    except KeyboardInterrupt:
        print("\ninterrupted; server stopped", file=sys.stderr)
        return 130
    finally:
        problems = [p for run in runs for p in run.problems]
        remove_workdir(workdir, keep=bool(args.keep or problems or not finished))
    print_table(runs)
    problems = [f"{run.database}: {p}" for run in runs for p in run.problems]
    if problems:
        print("\nPROBLEMS:\n  " + "\n  ".join(problems))
        return 1
    print("\nno errors; every acknowledged write is in the database, and nothing else")
    return 0


if __name__ == "__main__":
    sys.exit(main())
