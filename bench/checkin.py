#!/usr/bin/env python3
"""Check-in throughput and latency against the real server, on SQLite and PostgreSQL.

For each database this script
  1. creates a fresh database (SQLite in a temp dir; PostgreSQL database `dvc_bench`, dropped
     and created again, never `test`), builds the schema through the migrations, and seeds an
     operation with a main site, a reception user with an API token and enough pre-registered
     volunteers (insurance "home", so check-in needs no enrolment), each with its own code;
  2. starts gunicorn (sync workers) on 127.0.0.1 on a free port, with DATABASE_URL, a secret
     key and an instance dir in the temp dir: the production server, not the Flask dev server
     (`--nginx` puts nginx in front, as deploy/ does);
  3. for each client count, checks in distinct volunteers (every request a new one) through
     POST /api/v1/operations/<op>/checkins, timing each request on the client;
  4. reconciles: every answer must be 201, and the check-in rows in the database must equal the
     acknowledged 201s (no lost writes, no duplicates), with one event per check-in;
  5. stops the server, also on Ctrl-C and on errors.

Clients are closed-loop ("max": each sends its next check-in as soon as the last one is
answered), which finds the most the server can do. By Little's law N busy clients see a mean
latency of N / throughput, so "p95 < 100 ms at 50 clients" in a closed loop would need well over
500 check-ins/s; the issue's target is therefore judged on 50 clients paced to 200 check-ins/s
in total (open loop, each request timed from when it was due, so a server that falls behind
cannot hide its queue).

The load generator is one asyncio event loop with a minimal HTTP/1.1 client, one connection
per client, kept alive when the server keeps it (sync workers close it after each answer, and
the new connection is part of the next request's time): 50 clients cost one thread and
0.4-0.8 ms of CPU per request (httpx costs ~2 ms; `--client httpx` cross-checks with it),
which matters because the server, PostgreSQL and the client share two cores. CPU per
check-in of each part is printed with the results.

Usage: .venv/bin/python bench/checkin.py [--db sqlite|postgres|both] [--clients 1,10,50]
       [--duration 10 | --requests 2000] [--workers 3 --threads 1] [--target-rate 200]
       [--nginx]
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # seed with the same dvc that gunicorn serves (--chdir ROOT)
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"  # the only host this script sends HTTP traffic to
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "dvc_bench"
FORBIDDEN_DBS = {"test", "postgres", "template0", "template1"}
TARGET_RATE, TARGET_P95_MS, TARGET_CLIENTS = 200.0, 100.0, 50
MIN_RATE, MAX_RATE = 250, 3000  # check-ins/s a --duration level is given volunteers for
WARMUP_PER_THREAD = 20
REQUEST_TIMEOUT = 30.0
READY_TIMEOUT = 60.0
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
NOISY = 0.15  # machine busy share, before a level, above which figures are flagged


# --- results -----------------------------------------------------------------------------

@dataclass
class Level:
    database: str
    clients: int
    mode: str  # "max" (closed loop) or "<rate>/s" (paced)
    latencies: list[float] = field(default_factory=list)  # seconds, 201s only
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    acked: list[int] = field(default_factory=list)  # volunteer ids answered 201
    elapsed: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float | None = None
    db_cpu: float | None = None
    host_busy: float | None = None  # share of all cores busy (any process) during the level
    background: float | None = None  # the same, just before the level, with our server idle
    exhausted: bool = False
    rows_added: int | None = None

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def errors(self) -> int:
        return self.requests - self.statuses.get(201, 0)

    @property
    def throughput(self) -> float:
        return len(self.acked) / self.elapsed if self.elapsed else 0.0

    def pct(self, p: float) -> float:
        """Return the p-th percentile latency in ms (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


# --- databases ---------------------------------------------------------------------------

class Database:
    """A benchmark database: created empty, counted directly with the DBAPI driver."""

    name: str
    url: str  # for SQLAlchemy / DATABASE_URL

    def reset(self) -> None: ...
    def connect(self): ...

    def scalar(self, sql: str, *params):
        with self.connect() as conn:
            cur = conn.execute(sql, params)
            return cur.fetchone()[0]

    def count_checkins(self, op_id: int) -> tuple[int, int, int]:
        """Return (rows, distinct volunteers, checked_in events) for the operation."""
        p = self.param
        rows = self.scalar(f"SELECT count(*) FROM check_in WHERE operation_id = {p}", op_id)
        distinct = self.scalar(
            f"SELECT count(DISTINCT volunteer_id) FROM check_in WHERE operation_id = {p}", op_id)
        events = self.scalar(f"SELECT count(*) FROM event WHERE operation_id = {p} AND kind = "
                             f"'volunteer.checked_in'", op_id)
        return rows, distinct, events

    def cpu_seconds(self) -> float | None:
        """CPU time of the database server's work for this benchmark so far, if separate."""
        return None

    def checked_in_ids(self, op_id: int) -> list[int]:
        with self.connect() as conn:
            cur = conn.execute(f"SELECT volunteer_id FROM check_in WHERE operation_id = "
                               f"{self.param}", (op_id,))
            return [r[0] for r in cur.fetchall()]


class SQLiteDatabase(Database):
    name = "sqlite"
    param = "?"

    def __init__(self, workdir: Path):
        self.path = workdir / "bench.sqlite3"
        self.url = f"sqlite:///{self.path}"

    def reset(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def connect(self):
        conn = sqlite3.connect(self.path, timeout=30)
        return _Closing(conn)

    def version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}"


class PostgresDatabase(Database):
    name = "postgres"
    param = "%s"

    def __init__(self, admin_url: str, dbname: str):
        if dbname in FORBIDDEN_DBS:
            raise SystemExit(f"refusing to use database {dbname!r} for the benchmark")
        self.admin_url = admin_url
        self.dbname = dbname
        base = admin_url.rsplit("/", 1)[0]
        self.dsn = f"{base}/{dbname}"
        self.url = "postgresql+psycopg://" + self.dsn.split("://", 1)[1]

    @staticmethod
    def reachable(admin_url: str) -> bool:
        import psycopg
        try:
            with psycopg.connect(admin_url, connect_timeout=3):
                return True
        except psycopg.Error:
            return False

    def reset(self) -> None:
        import psycopg
        from psycopg import sql
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            ident = sql.Identifier(self.dbname)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))

    def connect(self):
        import psycopg
        return psycopg.connect(self.dsn)

    def version(self) -> str:
        return "PostgreSQL " + str(self.scalar("SHOW server_version"))

    def cpu_seconds(self) -> float | None:
        """CPU time of the PostgreSQL backends serving the benchmark database (Linux /proc)."""
        marker = f" {self.dbname} ".encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    title = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                if title.startswith(b"postgres: ") and marker in title:
                    pids.append(int(entry.name))
        return _cpu_of(pids) if pids else None


def _cpu_of(pids) -> float | None:
    """Total CPU seconds (user + system) of these processes, from /proc; None off Linux."""
    total = 0
    try:
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue  # ended meanwhile
            total += int(fields[11]) + int(fields[12])
    except (OSError, ValueError):
        return None
    return total / os.sysconf("SC_CLK_TCK")


class _Closing:
    """sqlite3's context manager commits but does not close; this one closes."""

    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        return self.conn

    def __exit__(self, *exc):
        self.conn.close()


# --- seeding -----------------------------------------------------------------------------

class Seeder:
    """Builds the benchmark data through dvc's own operations, in this process.

    Volunteers are registered in batches with one commit each (a commit per volunteer would
    fsync thousands of times), and topped up between levels, so no more are made than used."""

    def __init__(self, db_url: str, instance: Path):
        os.environ["DVC_INSTANCE_PATH"] = str(instance)
        from dvc import create_app
        from dvc.extensions import db
        self.db = db
        self.app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "bench-seed"})
        self.registered = 0
        self.seconds = 0.0

    def setup(self, schema: str = "migrations") -> None:
        """Build the schema (with the migrations, or from the models: `schema="models"`), the
        operation with its main site, and a reception API token."""
        from flask_migrate import upgrade

        from dvc.auth.operations import create_user, issue_token
        from dvc.operations.operations import create_operation
        from dvc.sites.operations import create_site
        with self.app.app_context():
            if schema == "migrations":
                upgrade()
            else:  # a working tree whose migrations are not written yet
                self.db.create_all()
            user = create_user("bench-reception", "reception", "bench-password", actor="bench")
            self.token = issue_token(user, actor="bench")
            operation = create_operation("ベンチ市 受付負荷試験（架空）", "real",
                                         prefecture="東京都", municipality="ベンチ市",
                                         actor="bench")
            site = create_site(operation, "ベンチ市総合福祉センター（本部）", "main", lat=35.68,
                               lon=139.56, actor="bench")
            self.db.session.commit()
            self.op_id, self.site_id = operation.id, site.id
            self._close()

    def volunteers(self, count: int, batch: int = 1000) -> list[str]:
        """Pre-register `count` more volunteers (insurance at home) and return their codes."""
        from dvc.operations.models import Operation
        from dvc.volunteers.operations import Registration, register_volunteer
        codes = []
        started = time.perf_counter()
        with self.app.app_context():
            operation = self.db.session.get(Operation, self.op_id)
            for i in range(self.registered, self.registered + count):
                reg = Registration(
                    name=f"受付 試験{i}", kana=f"ウケツケ シケン{i}", phone=f"090{i:08d}",
                    prefecture="東京都", municipality="三鷹市", birth_year=1950 + i % 50,
                    emergency_name="受付 家族", emergency_phone="08011112222", consent=True,
                    insurance="home", insurance_council="三鷹市社会福祉協議会")
                codes.append(register_volunteer(operation, reg, via="pre", actor="bench")[1])
                if len(codes) % batch == 0:
                    self.db.session.commit()
            self.db.session.commit()
            self._close()
        self.registered += count
        self.seconds += time.perf_counter() - started
        gc.collect()
        return codes

    def _close(self) -> None:
        self.db.session.remove()
        self.db.engine.dispose()  # no idle connection of ours stays open during the run


@dataclass
class Seed:
    op_id: int
    site_id: int
    token: str


# --- server ------------------------------------------------------------------------------

def worker_class(threads: int) -> str:
    """gunicorn's sync worker for one thread, gthread for more."""
    return "sync" if threads == 1 else "gthread"


class Server:
    """gunicorn on 127.0.0.1, on a socket we bind (no port race)."""

    def __init__(self, db_url: str, instance: Path, workers: int, threads: int, log: Path,
                 profile_dir: Path | None = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, 0))
        self.sock.listen(1024)
        self.port = self.sock.getsockname()[1]
        self.base = f"http://{HOST}:{self.port}"
        # Nothing from the caller's environment may point the server at another database.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("DVC_") and k != "DATABASE_URL"}
        env.update(DATABASE_URL=db_url, DVC_SECRET_KEY="bench-" + os.urandom(8).hex(),
                   DVC_INSTANCE_PATH=str(instance), PYTHONUNBUFFERED="1")
        self.worker_class = worker_class(threads)
        cmd = [str(VENV_BIN / "gunicorn"), "--worker-class", self.worker_class,
               "--workers", str(workers), "--threads", str(threads),
               "--bind", f"fd://{self.sock.fileno()}", "--chdir", str(ROOT),
               "--backlog", "1024", "--keep-alive", "5", "--graceful-timeout", "10",
               "--log-level", "warning", "--error-logfile", "-"]
        if profile_dir:
            env["DVC_BENCH_PROFILE_DIR"] = str(profile_dir)
            cmd += ["--config", str(Path(__file__).with_name("gunicorn_profile.py"))]
        cmd.append("dvc:create_app()")
        self.log = open(log, "wb")
        self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=self.log,
                                     stderr=subprocess.STDOUT, pass_fds=(self.sock.fileno(),),
                                     start_new_session=True)
        self.sock.close()  # the server holds its own copy of the listening socket

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx.Client(base_url=self.base, trust_env=False, timeout=5) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; "
                                       f"see {self.log.name}")
                try:
                    client.get("/api/openapi.json")
                    return
                except httpx.TransportError:
                    time.sleep(0.1)
        raise RuntimeError(f"gunicorn not answering after {READY_TIMEOUT:.0f} s")

    def cpu_seconds(self) -> float | None:
        """CPU time of the master and its workers so far (Linux /proc), or None."""
        return _cpu_of_tree(self.proc.pid)

    def stop(self) -> None:
        _stop(self.proc)
        self.log.close()


class Nginx:
    """nginx in front of `server`, proxying as deploy/nginx/dvc.conf does (HTTP/1.1 to
    gunicorn, 16 idle upstream connections kept, no TLS): the prefecture server's stack. It
    stands in for the server: clients talk to its port, and its CPU counts as the app's."""

    def __init__(self, server: Server, folder: Path):
        self.server = server
        folder.mkdir()
        probe = socket.socket()
        probe.bind((HOST, 0))  # nginx binds it itself: a free port, barring a race
        self.port = probe.getsockname()[1]
        probe.close()
        self.base = f"http://{HOST}:{self.port}"
        temp = " ".join(f"{kind}_temp_path {folder / kind};"
                        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (folder / "nginx.conf").write_text(f"""
            {"user root;" if os.geteuid() == 0 else ""}
            worker_processes auto; pid {folder / "nginx.pid"}; error_log {folder / "error.log"};
            events {{ worker_connections 4096; }}
            http {{
                access_log off; {temp}
                upstream dvc_app {{ server {HOST}:{server.port}; keepalive 16; }}
                server {{
                    listen {HOST}:{self.port};
                    location / {{
                        proxy_pass http://dvc_app;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_set_header Host $host;
                        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                        proxy_set_header X-Forwarded-Proto $scheme;
                    }}
                }}
            }}""")
        self.proc = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"),
                                      "-g", "daemon off;"], start_new_session=True)
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                socket.create_connection((HOST, self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start; see {folder / 'error.log'}")
                time.sleep(0.05)

    def cpu_seconds(self) -> float | None:
        server, mine = self.server.cpu_seconds(), _cpu_of_tree(self.proc.pid)
        return None if server is None or mine is None else server + mine

    def stop(self) -> None:
        _stop(self.proc)


def _cpu_of_tree(pid: int) -> float | None:
    """CPU seconds of a server's master process and its workers (Linux /proc), or None."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return None
    return _cpu_of([pid] + [int(p) for p in children.split()])


def _stop(proc: subprocess.Popen) -> None:
    """Stop a server we started: TERM (graceful), then KILL its process group if it hangs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the group we started
            proc.wait(timeout=5)


def host_cpu() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat, or None."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return (total - idle) / os.sysconf("SC_CLK_TCK"), total / os.sysconf("SC_CLK_TCK")


def background_busy(seconds: float = 1.0) -> float | None:
    """Share of all cores busy while our server idles: other work that will skew the run."""
    before = host_cpu()
    time.sleep(seconds)
    after = host_cpu()
    if not before or not after or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


# --- load --------------------------------------------------------------------------------

class RawHTTP:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams, for one connection.

    httpx costs about 2 ms of CPU per request on this machine; this costs a tenth of that,
    which leaves the two cores to the server and the database being measured."""

    def __init__(self, port: int):
        self.port = port
        self.reader = self.writer = None

    async def connect(self) -> None:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    async def post(self, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        status, _fields, data = await self.request("POST", path, body, headers)
        return status, data

    async def request(self, method: str, path: str, body: bytes | None = None,
                      headers: dict | None = None) -> tuple[int, dict, bytes]:
        """Send one request; return the status, the headers (names in lower case), the body."""
        await self.connect()
        head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        if body is not None:
            head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body or b""))
        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")
            lines = raw.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            fields = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    fields[name.strip().lower()] = value.strip()
            if fields.get("transfer-encoding", "").lower() == "chunked":
                data = b""
                while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                    data += (await self.reader.readexactly(size + 2))[:-2]
                await self.reader.readuntil(b"\r\n")
            else:
                data = await self.reader.readexactly(int(fields.get("content-length", "0")))
            if fields.get("connection", "").lower() == "close":
                await self.close()
            return status, fields, data
        except BaseException:
            await self.close()  # the connection's state is unknown: start a new one
            raise

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


class HttpxClient:
    """The same requests through httpx (--client httpx), to cross-check RawHTTP."""

    def __init__(self, http):
        self.http = http

    async def post(self, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        response = await self.http.post(path, content=body, headers={
            **headers, "Content-Type": "application/json"})
        return response.status_code, response.content

    async def connect(self) -> None:
        pass

    async def close(self) -> None:
        pass


async def run_level(server: Server | Nginx, seed: Seed, codes: list[str], level: Level, *,
                    duration: float | None, rate: float | None, client_kind: str,
                    db_cpu=lambda: None) -> None:
    """Check in distinct volunteers from `level.clients` clients until time or codes run out."""
    path = f"/api/v1/operations/{seed.op_id}/checkins"
    headers = {"Authorization": f"Bearer {seed.token}"}
    pending = iter(codes)  # one event loop: next() needs no lock
    interval = level.clients / rate if rate else 0.0
    template = json.dumps({"code": "CODE", "site_id": seed.site_id, "health_ok": True,
                           "insurance_enrolled_now": False}).encode()

    async def client(conn, index: int, start: float, deadline: float):
        scheduled = start + index * interval / level.clients
        while (now := time.perf_counter()) < deadline:
            if rate:
                if scheduled > now:
                    await asyncio.sleep(scheduled - now)
                if scheduled >= deadline:
                    break
                t0 = scheduled  # open loop: lateness counts as latency
                scheduled += interval
            else:
                t0 = now
            code = next(pending, None)
            if code is None:
                level.exhausted = True
                break
            try:
                status, data = await asyncio.wait_for(
                    conn.post(path, template.replace(b"CODE", code.encode()), headers),
                    REQUEST_TIMEOUT)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError,
                    httpx.HTTPError) as err:
                level.statuses["exception"] += 1
                if len(level.failures) < 5:
                    level.failures.append(f"{type(err).__name__}: {err}")
                continue
            took = time.perf_counter() - t0
            level.statuses[status] += 1
            if status == 201:
                level.latencies.append(took)
                level.acked.append(json.loads(data)["volunteer_id"])
            elif len(level.failures) < 5:
                level.failures.append(f"{status}: {data[:200].decode(errors='replace')}")
        await conn.close()

    async with httpx.AsyncClient(
            base_url=server.base, trust_env=False, timeout=REQUEST_TIMEOUT,
            limits=httpx.Limits(max_connections=level.clients,
                                max_keepalive_connections=level.clients)) as http:
        conns = [RawHTTP(server.port) if client_kind == "raw" else HttpxClient(http)
                 for _ in range(level.clients)]
        # Connect before the clock starts, one at a time: gthread workers race to accept a
        # burst of connections and the first one awake may take them all, and a keep-alive
        # connection stays with the worker that accepted it. (A sync worker takes one when
        # it is free and closes it after the answer.)
        for conn in conns:
            await conn.connect()
            await asyncio.sleep(0.002)
        cpu0, server0, host0, db0 = (time.process_time(), server.cpu_seconds(), host_cpu(),
                                     db_cpu())
        start = time.perf_counter()
        deadline = start + (duration if duration else 24 * 3600)
        await asyncio.gather(*(client(conn, i, start, deadline)
                               for i, conn in enumerate(conns)))
        level.elapsed = time.perf_counter() - start
        level.client_cpu = time.process_time() - cpu0
        server1, host1, db1 = server.cpu_seconds(), host_cpu(), db_cpu()
        if server0 is not None and server1 is not None:
            level.server_cpu = server1 - server0
        # Only backends alive at both readings count: with more threads than the pool keeps,
        # connections come and go and the figure reads low (or below zero: none shown).
        if db0 is not None and db1 is not None and db1 >= db0:
            level.db_cpu = db1 - db0
        if host0 and host1 and host1[1] > host0[1]:
            level.host_busy = (host1[0] - host0[0]) / (host1[1] - host0[1])


# --- orchestration -----------------------------------------------------------------------

@dataclass
class Plan:
    clients: list[int]
    duration: float | None
    requests: int | None
    target_rate: float
    workers: int
    threads: int
    profile_dir: Path | None
    client_kind: str = "raw"
    nginx: bool = False

    def levels(self) -> list[tuple[int, float | None]]:
        """(clients, paced rate or None) for every level, in order."""
        levels = [(c, None) for c in self.clients]
        if self.target_rate:
            levels.append((TARGET_CLIENTS, self.target_rate))
        return levels

    def budget(self, rate: float | None, best: float | None) -> int:
        """Volunteers a level may use: a count, or its duration at 1.5 x the best rate so far
        (at least MIN_RATE) or at its paced rate; a level that uses them all ends early."""
        if self.requests:
            return self.requests
        per_second = rate * 1.05 if rate else max(MIN_RATE, 1.5 * (best or 0))
        return math.ceil(self.duration * min(per_second, MAX_RATE))


def bench_database(database: Database, plan: Plan, workdir: Path) -> tuple[list[Level], list[str]]:
    """Seed one database, serve it, run every level and reconcile; return levels and problems."""
    instance = workdir / f"instance-{database.name}"
    instance.mkdir()
    print(f"\n[{database.name}] preparing a fresh database", flush=True)
    database.reset()
    seeder = Seeder(database.url, instance)
    seeder.setup()
    warmup = WARMUP_PER_THREAD * plan.workers * plan.threads
    first = plan.budget(plan.levels()[0][1], None)
    stock = seeder.volunteers(warmup + first)
    print(f"  {database.version()}; registered {len(stock)} volunteers in {seeder.seconds:.1f} s",
          flush=True)
    data = Seed(seeder.op_id, seeder.site_id, seeder.token)
    server = Server(database.url, instance, plan.workers, plan.threads,
                    workdir / f"gunicorn-{database.name}.log",
                    plan.profile_dir / database.name if plan.profile_dir else None)
    levels, problems, best = [], [], None
    warm = Level(database.name, min(warmup, plan.workers * plan.threads), "warm-up")
    front = None
    try:
        server.wait_ready()
        print(f"  gunicorn {server.worker_class}, {plan.workers} workers x {plan.threads} "
              f"threads, on {server.base}", flush=True)
        if plan.nginx:
            front = Nginx(server, workdir / f"nginx-{database.name}")
            print(f"  nginx in front, on {front.base}", flush=True)
        target = front or server  # what the clients talk to
        asyncio.run(run_level(target, data, stock[:warmup], warm, duration=None,
                              rate=None, client_kind=plan.client_kind))
        stock = stock[warmup:]
        if warm.errors:
            problems.append(f"warm-up: {warm.errors} errors, e.g. {warm.failures[:1]}")
        for clients, rate in plan.levels():
            need = plan.budget(rate, best)
            if len(stock) < need:  # the server is idle now: top up the unused codes
                stock += seeder.volunteers(need - len(stock))
            level = Level(database.name, clients, f"{rate:g}/s" if rate else "max")
            before = database.count_checkins(data.op_id)[0]
            level.background = background_busy()
            asyncio.run(run_level(target, data, stock[:need], level,
                                  duration=plan.duration, rate=rate,
                                  client_kind=plan.client_kind, db_cpu=database.cpu_seconds))
            stock = stock[level.requests:]
            level.rows_added = database.count_checkins(data.op_id)[0] - before
            levels.append(level)
            best = max(best or 0, level.throughput)
            print(f"  {clients:>3} clients {level.mode:>6}: {level.requests} check-ins, "
                  f"{level.throughput:.0f}/s, p95 {level.pct(95):.1f} ms (machine busy "
                  f"{_pct(level.background)} before, {_pct(level.host_busy)} during)", flush=True)
            if level.errors:
                problems.append(f"{clients} clients {level.mode}: {level.errors} non-201 "
                                f"answers {dict(level.statuses)}, e.g. {level.failures[:2]}")
            if level.rows_added != len(level.acked):
                problems.append(f"{clients} clients {level.mode}: {len(level.acked)} acknowledged"
                                f" but {level.rows_added} rows added")
            if level.exhausted and plan.duration:
                print(f"  (used all {need} volunteers in {level.elapsed:.1f} s, before "
                      f"{plan.duration:g} s: the figures stand for the shorter run)")
    finally:
        if front:
            front.stop()
        server.stop()
    acked = len(warm.acked) + sum(len(lv.acked) for lv in levels)
    rows, distinct, events = database.count_checkins(data.op_id)
    acked_ids = set(warm.acked).union(*(lv.acked for lv in levels))
    same_ids = set(database.checked_in_ids(data.op_id)) == acked_ids
    verdict = rows == acked and distinct == rows and events == rows and same_ids
    print(f"  reconcile: {acked} acknowledged 201s, {rows} check-in rows, {distinct} distinct "
          f"volunteers, {events} check-in events, same volunteers: {same_ids} -> "
          f"{'OK' if verdict else 'MISMATCH'} ({seeder.registered} volunteers registered in "
          f"{seeder.seconds:.1f} s)")
    if not verdict:
        problems.append(f"reconcile mismatch: acked {acked}, rows {rows}, distinct {distinct}, "
                        f"events {events}, same volunteers {same_ids}")
    return levels, problems


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.0f}%"


def print_table(levels: list[Level], plan: Plan) -> None:
    head = (f"{'database':<9} {'clients':>7} {'pace':>6} {'requests':>8} {'errors':>6} "
            f"{'check-ins/s':>11} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} "
            f"{'app CPU':>7} {'db CPU':>7} {'client':>6} {'busy':>5}")
    print("\n" + head)
    print("-" * len(head))
    for lv in levels:
        n = len(lv.acked)
        app = f"{lv.server_cpu / n * 1000:.2f}" if lv.server_cpu is not None and n else "-"
        dbc = f"{lv.db_cpu / n * 1000:.2f}" if lv.db_cpu is not None and n else "-"
        client = f"{lv.client_cpu / n * 1000:.2f}" if n else "-"
        print(f"{lv.database:<9} {lv.clients:>7} {lv.mode:>6} {lv.requests:>8} {lv.errors:>6} "
              f"{lv.throughput:>11.1f} {lv.pct(50):>7.1f} {lv.pct(95):>7.1f} {lv.pct(99):>7.1f} "
              f"{lv.pct(100):>7.1f} {app:>7} {dbc:>7} {client:>6} {_pct(lv.host_busy):>5}")
    print("app CPU: gunicorn (master and workers; and nginx with --nginx), db CPU: PostgreSQL "
          "backends of the\nbenchmark database, client: this load generator, all in CPU ms per "
          "check-in; busy: share of all\ncores busy during the level, any process (100% = the "
          "machine was saturated)")
    noisy = [lv for lv in levels if (lv.background or 0) > NOISY]
    if noisy:
        shares = ", ".join(f"{lv.database}/{lv.clients}/{lv.mode} {_pct(lv.background)}"
                           for lv in noisy)
        print(f"WARNING: other processes were busy before some levels ({shares} of the "
              f"machine):\nthose figures understate the server; run again on a quiet machine.")
    cores = os.cpu_count() or 1
    for database in dict.fromkeys(lv.database for lv in levels):
        mine = [lv for lv in levels if lv.database == database and lv.acked
                and lv.server_cpu is not None]
        if mine:
            worst = max(mine, key=lambda lv: lv.clients)
            per = (worst.server_cpu + (worst.db_cpu or 0) + worst.client_cpu) / len(worst.acked)
            print(f"{database}: {per * 1000:.1f} CPU ms per check-in at {worst.clients} clients "
                  f"(app + db + client): {cores} cores cannot do more than ~{cores / per:.0f}/s")
        for lv in levels:
            if lv.database != database or lv.clients != TARGET_CLIENTS:
                continue
            if lv.mode == "max":
                # The closed loop finds the capacity; its latency is the queue of 50 busy
                # clients (Little's law), so the p95 target is judged on the paced level.
                ok = lv.throughput >= TARGET_RATE and not lv.errors
                print(f"target at {TARGET_CLIENTS} clients, {database}, closed loop: "
                      f"{lv.throughput:.0f}/s (>= {TARGET_RATE:g}/s: {_verdict(ok)})")
            else:
                # The rate is offered, not found: all of it must be served (a run ends with
                # the last answers, hence 95%) within the latency target.
                ok = (lv.throughput >= plan.target_rate * 0.95 and not lv.errors
                      and lv.pct(95) < TARGET_P95_MS)
                print(f"target at {TARGET_CLIENTS} clients, {database}, paced to {lv.mode}: "
                      f"{lv.throughput:.0f}/s served, p95 {lv.pct(95):.0f} ms "
                      f"(< {TARGET_P95_MS:g} ms: {_verdict(ok)})")


def _verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


# --- the command line, shared with bench/load.py -------------------------------------------

def add_database_args(parser: argparse.ArgumentParser, pg_db: str) -> None:
    """Add the options every server benchmark takes: which databases, where, keep the temp dir."""
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default=None,
                        help="default: both when PostgreSQL is reachable, else sqlite")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL,
                        help="PostgreSQL server to create the benchmark database on")
    parser.add_argument("--pg-db", default=pg_db, help="benchmark database (dropped, recreated)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, SQLite)")


def database_names(args: argparse.Namespace) -> list[str]:
    """The databases to run on: those asked for, else both when PostgreSQL is reachable."""
    if args.db is None:
        args.db = "both" if PostgresDatabase.reachable(args.pg_admin_url) else "sqlite"
        if args.db == "sqlite":
            print(f"PostgreSQL not reachable at {args.pg_admin_url}: SQLite only")
    return ["sqlite", "postgres"] if args.db == "both" else [args.db]


def open_database(name: str, args: argparse.Namespace, workdir: Path):
    return (SQLiteDatabase(workdir) if name == "sqlite"
            else PostgresDatabase(args.pg_admin_url, args.pg_db))


def remove_workdir(workdir: Path, keep: bool) -> None:
    """Remove the temp dir, unless it is to be kept (asked for, or something went wrong)."""
    if keep:
        print(f"logs and data kept in {workdir}", file=sys.stderr)
    else:
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)


def parse_args(argv=None) -> argparse.Namespace:
    cores = os.cpu_count() or 2
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_args(parser, PG_DB)
    parser.add_argument("--clients", default="1,10,50", help="comma-separated client counts")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--duration", type=float, help="seconds per level (default 10)")
    how.add_argument("--requests", type=int, help="check-ins per level instead of a duration")
    parser.add_argument("--target-rate", type=float, default=TARGET_RATE,
                        help=f"also run {TARGET_CLIENTS} clients paced to this many check-ins/s "
                             "in total (0: skip)")
    # The work is Python on the CPU: processes use both cores, threads only share one GIL.
    # cores + 1 workers keep the cores busy while one waits on the database or an fsync.
    # One thread is a sync worker, which takes a connection only when it is free: requests
    # spread over the workers one by one. gthread workers keep a kiosk's keep-alive connection
    # on the worker that accepted it; at 50 clients one worker held 24-41 of them and queued
    # while the others idled (paced to 330/s on PostgreSQL: p95 1,323 ms with 3 x 1 gthread,
    # 83-133 ms with 3 x 4, 26-124 ms with 3 sync). Behind nginx (--nginx; deploy/ runs
    # 4 x 8 gthread) the kiosks' connections end at nginx, which spreads requests over its own.
    parser.add_argument("--workers", type=int, default=cores + 1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="cProfile every gunicorn worker into DIR/<database>/ (slower)")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="load generator: minimal asyncio HTTP/1.1 (default) or httpx")
    parser.add_argument("--nginx", action="store_true",
                        help="nginx in front, proxying as deploy/nginx/dvc.conf does (with "
                             "--workers 4 --threads 8: the prefecture server's stack)")
    args = parser.parse_args(argv)
    if args.nginx and not NGINX:
        parser.error("--nginx: nginx is not installed (apt-get install nginx-light)")
    args.clients = [int(c) for c in args.clients.split(",") if c.strip()]
    if not args.clients or min(args.clients) < 1 or max(args.clients) > 1000:
        parser.error("--clients: counts between 1 and 1000")
    if args.duration is None and args.requests is None:
        args.duration = 10.0
    if (args.duration is not None and not 0 < args.duration <= 600) or \
            (args.requests is not None and not 0 < args.requests <= 200_000):
        parser.error("--duration must be in (0, 600] s and --requests in (0, 200000]")
    return args


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    names = database_names(args)
    plan = Plan(args.clients, args.duration, args.requests, args.target_rate, args.workers,
                args.threads, args.profile.resolve() if args.profile else None, args.client,
                args.nginx)
    per_level = f"{plan.duration:g} s" if plan.duration else f"{plan.requests} check-ins"
    print(f"check-in benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"gunicorn {worker_class(plan.threads)} {plan.workers} workers x "
          f"{plan.threads} threads{' behind nginx' if plan.nginx else ''}, "
          f"{per_level} per level, clients {','.join(map(str, plan.clients))}, "
          f"{plan.client_kind} HTTP client"
          + (f" + {TARGET_CLIENTS} paced to {plan.target_rate:g}/s" if plan.target_rate else ""))

    # Ctrl-C or a TERM: unwind through the finally blocks, which stop the server.
    signal.signal(signal.SIGTERM, _interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="dvc-bench-"))
    all_levels, problems, finished = [], [], False
    try:
        for name in names:
            levels, found = bench_database(open_database(name, args, workdir), plan, workdir)
            all_levels += levels
            problems += [f"{name}: {p}" for p in found]
        finished = True
    except KeyboardInterrupt:
        print("\ninterrupted; server stopped", file=sys.stderr)
        return 130
    finally:
        remove_workdir(workdir, keep=bool(args.keep or problems or not finished))
    print_table(all_levels, plan)
    if problems:
        print("\nPROBLEMS:\n  " + "\n  ".join(problems))
        return 1
    print("\nall answers 201; database rows equal acknowledged check-ins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
