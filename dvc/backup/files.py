"""Consistent copies of the database while the app runs, their rotation, and restoring one.

SQLite: the sqlite3 backup API, from one read transaction, so the copy is the database as it
was at one moment while reception keeps writing (WAL lets readers and a writer run together).
PostgreSQL: `pg_dump --format=custom`, which reads from one snapshot too, and `pg_restore`.
Flask-free: the CLI (dvc/backup/cli.py) passes the database URL, the folder and the time.
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import URL, make_url

# Our files, and only ours, are rotated: dvc-YYYYmmdd-HHMMSS[-n].sqlite3|dump.
NAME = re.compile(r"^dvc-(\d{8}-\d{6})(?:-(\d+))?\.(sqlite3|dump)$")


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Made:
    path: Path
    size: int


def kind_of(url: str | URL) -> str:
    """Return 'sqlite' or 'postgresql' for a database URL, or refuse any other database."""
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"cannot back up a {backend} database (only SQLite and PostgreSQL)")
    return backend


def shown(url: str | URL) -> str:
    """Return the URL as it may be printed: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str | URL) -> Path:
    """Return the file of an SQLite URL (in-memory databases have none to copy)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"{shown(url)} is not an SQLite file")
    return Path(database)


def _libpq(url: str | URL) -> tuple[str, dict]:
    """Return a libpq URI without the password, and the environment that carries it.

    The password goes in PGPASSWORD so that it never shows in `ps` or in an error message."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    uri = parsed.set(drivername="postgresql", password=None)
    return uri.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed: install PostgreSQL's client programs "
                          f"(Debian: apt-get install postgresql-client)")
    return path


# --- making a backup ------------------------------------------------------------------------

def file_name(moment: datetime, tz: str, suffix: str, taken: set[str] = frozenset()) -> str:
    """Return dvc-YYYYmmdd-HHMMSS.<suffix> in the centre's time zone, numbered if taken."""
    stamp = moment.astimezone(ZoneInfo(tz)).strftime("%Y%m%d-%H%M%S")
    name, n = f"dvc-{stamp}.{suffix}", 1
    while name in taken:
        n += 1
        name = f"dvc-{stamp}-{n}.{suffix}"
    return name


def make_backup(url: str | URL, dest: Path, moment: datetime, tz: str) -> Made:
    """Copy the database into `dest` under a timestamped name and return the new file."""
    kind = kind_of(url)
    dest = Path(dest)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise BackupError(f"cannot create {dest}: {err.strerror}") from None
    suffix = "sqlite3" if kind == "sqlite" else "dump"
    final = dest / file_name(moment, tz, suffix, {p.name for p in dest.iterdir()})
    # Written beside its final name and renamed only once complete: a power cut never leaves a
    # half-written file that looks like a backup.
    part = final.with_name(f".{final.name}.part")
    try:
        if kind == "sqlite":
            _sqlite_backup(sqlite_path(url), part)
        else:
            _pg_dump(url, part)
        _fsync(part)
        os.replace(part, final)
    finally:
        part.unlink(missing_ok=True)
    return Made(final, final.stat().st_size)


def _snapshot_taken() -> None:
    """Called once the copy's moment is fixed (tests write more rows here)."""


def _sqlite_backup(source: Path, out: Path) -> None:
    if not source.exists():
        raise BackupError(f"there is no database at {source}")
    src = _read_only(source, timeout=30, isolation_level=None)
    try:
        # One read transaction: the backup reads this snapshot however many commits follow.
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        _snapshot_taken()
        dst = sqlite3.connect(out, isolation_level=None)
        try:
            src.backup(dst)
            # One self-contained file: no -wal beside it to forget when copying it elsewhere.
            dst.execute("PRAGMA journal_mode=DELETE")
            verdict = dst.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            dst.close()
        src.execute("COMMIT")
    except sqlite3.Error as err:
        raise BackupError(f"the SQLite backup of {source} failed: {err}") from None
    finally:
        src.close()
    if verdict != "ok":
        raise BackupError(f"the copy of {source} does not pass SQLite's check: {verdict}")


def _pg_dump(url: str | URL, out: Path) -> None:
    uri, env = _libpq(url)
    done = subprocess.run([_tool("pg_dump"), "--format=custom", f"--file={out}", f"--dbname={uri}"],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_dump of {shown(url)} failed: {done.stderr.strip()}")


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


# --- rotation -------------------------------------------------------------------------------

def ours(dest: Path) -> list[Path]:
    """Return our backup files in `dest`, oldest first (other files are never touched)."""
    found = []
    for path in Path(dest).iterdir():
        match = NAME.match(path.name)
        if match and path.is_file():
            found.append(((match.group(1), int(match.group(2) or 1)), path))
    return [path for _, path in sorted(found)]


def rotate(dest: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` of our backups (0 keeps everything); return the deleted."""
    if keep <= 0:
        return []
    old = ours(dest)[:-keep]
    for path in old:
        path.unlink()
    return old


# --- restoring ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Contents:
    """What a backup file or a live database holds, to say what a restore will overwrite."""

    revision: str | None
    operations: int | None
    events: int | None

    def __str__(self) -> str:
        if self.revision is None:
            return "no dvc schema"
        counts = "" if self.operations is None else \
            f", {self.operations} operations, {self.events} events"
        return f"schema {self.revision}{counts}"


def backup_contents(file: Path) -> Contents:
    """Check that `file` is a dvc backup and say what is in it, or refuse."""
    file = Path(file)
    if not file.is_file():
        raise BackupError(f"there is no file {file}")
    if file.name.endswith(".dump") or _is_pg_archive(file):
        return _pg_contents(file)
    try:
        with closing(_read_only(file)) as conn:
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{file} is damaged (SQLite's check fails)")
            return _sqlite_contents(conn, file)
    except sqlite3.DatabaseError as err:
        raise BackupError(f"{file} is not an SQLite database or a dvc dump ({err})") from None


def live_contents(url: str | URL) -> Contents:
    """Say what the live database holds now (nothing, if it does not exist yet)."""
    if kind_of(url) == "sqlite":
        path = sqlite_path(url)
        if not path.exists():
            return Contents(None, None, None)
        with closing(_read_only(path)) as conn:
            return _sqlite_contents(conn, path, strict=False)
    uri, env = _libpq(url)
    query = ("SELECT (SELECT version_num FROM alembic_version LIMIT 1), "
             "(SELECT count(*) FROM operation), (SELECT count(*) FROM event)")
    done = subprocess.run([_tool("psql"), "-XAtq", "-F", "|", f"--dbname={uri}", "-c", query],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        return Contents(None, None, None)
    revision, operations, events = done.stdout.strip().split("|")
    return Contents(revision or None, int(operations), int(events))


def _read_only(path: Path, **options) -> sqlite3.Connection:
    """Open an SQLite file read-only: a missing file is an error, never a new empty database."""
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, **options)


def _sqlite_contents(conn, file: Path, strict: bool = True) -> Contents:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "alembic_version" not in tables:
        if strict:
            raise BackupError(f"{file} is not a dvc database (it has no alembic_version table)")
        return Contents(None, None, None)
    revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    counts = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] if t in tables else None
              for t in ("operation", "event")]
    return Contents(revision[0] if revision else None, *counts)


def _is_pg_archive(file: Path) -> bool:
    with open(file, "rb") as f:
        return f.read(5) == b"PGDMP"


def _pg_contents(file: Path) -> Contents:
    done = subprocess.run([_tool("pg_restore"), "--list", str(file)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise BackupError(f"{file} is not a pg_dump archive: {done.stderr.strip()}")
    if not re.search(r"TABLE DATA \S+ alembic_version ", done.stdout):
        raise BackupError(f"{file} is not a dvc database (it has no alembic_version table)")
    data = subprocess.run([_tool("pg_restore"), "--data-only", "--table=alembic_version",
                           "--file=-", str(file)], capture_output=True, text=True)
    rows = re.search(r"COPY \S*alembic_version \(version_num\) FROM stdin;\n(\w+)\n",
                     data.stdout)
    return Contents(rows.group(1) if rows else "unknown", None, None)


def restore(url: str | URL, file: Path) -> None:
    """Replace the live database's contents with a backup's."""
    file = Path(file)
    backup_contents(file)
    pg_archive = _is_pg_archive(file)
    if kind_of(url) == "sqlite":
        if pg_archive:
            raise BackupError(f"{file} is a PostgreSQL dump; this app uses SQLite ({shown(url)})")
        _sqlite_restore(file, sqlite_path(url))
    else:
        if not pg_archive:
            raise BackupError(f"{file} is an SQLite file; this app uses PostgreSQL ({shown(url)})")
        _pg_restore(url, file)


def _sqlite_restore(file: Path, live: Path) -> None:
    live.parent.mkdir(parents=True, exist_ok=True)
    src = _read_only(file)
    dst = sqlite3.connect(live, timeout=30, isolation_level=None)
    try:
        # The backup API writes the pages under the live file's own lock, so connections still
        # open (an app not stopped) see either the old database or the restored one.
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
        broken = dst.execute("PRAGMA foreign_key_check").fetchall()
    except sqlite3.Error as err:
        raise BackupError(f"restoring {file} into {live} failed: {err}") from None
    finally:
        src.close()
        dst.close()
    if broken:
        raise BackupError(f"the restored database has {len(broken)} broken references")


def _pg_restore(url: str | URL, file: Path) -> None:
    uri, env = _libpq(url)
    # One transaction: a restore that fails half way leaves the database as it was.
    done = subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                           "--no-privileges", "--single-transaction", "--exit-on-error",
                           f"--dbname={uri}", str(file)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_restore into {shown(url)} failed (nothing was changed): "
                          f"{done.stderr.strip()}")
