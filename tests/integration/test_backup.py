"""flask backup / restore: a consistent copy while reception keeps checking volunteers in.

On SQLite always; on PostgreSQL (pg_dump / pg_restore) when DVC_TEST_DATABASE_URL is set, in
scratch databases of their own (dvc_backup_src, dvc_backup_test)."""
from __future__ import annotations

import re
import sqlite3
import threading
from datetime import datetime, timedelta, timezone

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from dvc.backup import files
from dvc.extensions import db
from tests.integration.scratch import (BACKENDS, broken_references, migration_head, scratch,
                                       scratch_app)

__all__ = ["scratch"]  # the fixture, imported for pytest


def _reception(app, volunteers: int):
    """An operation with a main site, a reception token and registered volunteers' codes."""
    from dvc.auth.models import User
    from dvc.auth.operations import create_user, issue_token
    from dvc.operations.operations import create_operation
    from dvc.sites.operations import create_site
    from dvc.volunteers.operations import Registration, register_volunteer
    with app.app_context():
        op = create_operation("バックアップ市 豪雨", "real", prefecture="東京都",
                              municipality="バックアップ市", actor="test")
        site = create_site(op, "本部", "main", lat=35.68, lon=139.56, actor="test")
        create_user("desk", "reception", "password-desk", actor="test")
        token = issue_token(db.session.scalar(select(User).where(User.username == "desk")),
                            actor="test")
        codes = []
        for i in range(volunteers):
            volunteer, code = register_volunteer(op, Registration(
                name=f"控 {i}", kana=f"ひかえ {i}", phone=f"090-4000-{i:04d}",
                prefecture="東京都", municipality="三鷹市", birth_year=1980,
                emergency_name="家族", emergency_phone="080-0000-0000", consent=True,
                insurance="home", insurance_council="三鷹市社会福祉協議会"),
                via="pre", actor="test")
            codes.append((volunteer.id, code))
        db.session.commit()
        return op.id, site.id, codes, {"Authorization": f"Bearer {token}"}


class Reception(threading.Thread):
    """Checks volunteers in one after another through the API until told to stop."""

    def __init__(self, app, op_id, site_id, codes, headers):
        super().__init__(daemon=True)
        self.app, self.op_id, self.site_id = app, op_id, site_id
        self.codes, self.headers = codes, headers
        self.acked: list[int] = []  # volunteers whose check-in was answered 201, in order
        self.errors: list = []
        self.stop = threading.Event()
        self.changed = threading.Condition()

    def run(self):
        client = self.app.test_client()
        for volunteer_id, code in self.codes:
            if self.stop.is_set():
                break
            response = client.post(f"/api/v1/operations/{self.op_id}/checkins",
                                   headers=self.headers,
                                   json={"code": code, "site_id": self.site_id, "health_ok": True})
            with self.changed:
                if response.status_code == 201:
                    self.acked.append(volunteer_id)
                else:
                    self.errors.append(response.get_json())
                self.changed.notify_all()
            if self.errors:
                break
        with self.changed:
            self.stop.set()
            self.changed.notify_all()

    def wait_for(self, n: int) -> list[int]:
        """Wait until `n` check-ins are acknowledged; return those acknowledged so far."""
        with self.changed:
            assert self.changed.wait_for(
                lambda: len(self.acked) >= n or self.stop.is_set(), timeout=120)
            assert not self.errors, self.errors
            assert len(self.acked) >= n, "the reception thread ran out of volunteers"
            return list(self.acked)


@pytest.mark.parametrize("backend", BACKENDS)
def test_backup_during_check_ins_restores_every_acknowledged_one(backend, scratch, tmp_path,
                                                                  monkeypatch):
    source = scratch_app(scratch, scratch(backend, "dvc_backup_src"), tmp_path)
    with source.app_context():
        upgrade()
    op_id, site_id, codes, headers = _reception(source, volunteers=200)
    reception = Reception(source, op_id, site_id, codes, headers)
    during = {}
    if backend == "sqlite":
        def snapshot_taken():
            # The copy's moment is fixed: reception goes on writing (WAL) while it is made.
            during["at_snapshot"] = reception.wait_for(0)
            during["after"] = reception.wait_for(len(during["at_snapshot"]) + 3)
        monkeypatch.setattr(files, "_snapshot_taken", snapshot_taken)

    reception.start()
    try:
        acknowledged_before = reception.wait_for(10)
        result = source.test_cli_runner().invoke(args=["backup", str(tmp_path / "backups")])
        assert result.exit_code == 0, result.output
        reception.wait_for(len(reception.acked) + 3)  # still writing after the backup
    finally:
        reception.stop.set()
        reception.join(60)
    assert not reception.errors, reception.errors

    made = re.fullmatch(r"(\S+/dvc-\d{8}-\d{6}\.(sqlite3|dump)) \([\d.]+ (B|KB|MB)\)\n",
                        result.output)
    assert made, result.output
    backup = made.group(1)
    with source.app_context():
        from dvc.volunteers.models import CheckIn
        in_source = set(db.session.scalars(select(CheckIn.volunteer_id)))

    target = scratch_app(scratch, scratch(backend, "dvc_backup_test"), tmp_path)
    result = target.test_cli_runner().invoke(args=["restore", backup, "--yes"])
    assert result.exit_code == 0, result.output
    assert "restored" in result.output and "db upgrade" not in result.output

    with target.app_context():
        from dvc.core.events import Event
        from dvc.volunteers.models import CheckIn
        restored = set(db.session.scalars(select(CheckIn.volunteer_id)))
        events = db.session.scalar(select(func.count()).select_from(Event).where(
            Event.kind == "volunteer.checked_in"))
        revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert set(acknowledged_before) <= restored
    assert restored <= in_source
    assert events == len(restored)  # each check-in came with its event, or neither did
    assert revision == migration_head(target)
    assert broken_references(target) == []
    if backend == "sqlite":
        # The copy is the database at one moment: what was written after it is not in it.
        assert set(during["at_snapshot"]) <= restored
        assert not set(during["after"][len(during["at_snapshot"]):]) & restored
        assert len(reception.acked) > len(during["after"])

    # The restored database works: the same desk checks in someone who had not come yet.
    volunteer_id, code = next((v, c) for v, c in codes if v not in in_source)
    response = target.test_client().post(f"/api/v1/operations/{op_id}/checkins",
                                         headers=headers,
                                         json={"code": code, "site_id": site_id, "health_ok": True})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["volunteer_id"] == volunteer_id


def _migrated(scratch, tmp_path, name="dvc_backup_src", **config):
    app = scratch_app(scratch, scratch("sqlite", name), tmp_path, **config)
    with app.app_context():
        upgrade()
    return app


def test_backup_names_files_in_local_time_and_keeps_the_newest(scratch, tmp_path, monkeypatch):
    app = _migrated(scratch, tmp_path, BACKUP_KEEP=2)
    dest = tmp_path / "backups"
    dest.mkdir()
    others = ["notes.txt", "dvc-manual.sqlite3", "dvc-20200101-000000.sqlite3.bak"]
    for name in others:
        (dest / name).write_text("not ours")
    (dest / "dvc-20200101-000000.dump").write_text("an old backup of ours")
    moments = iter([datetime(2026, 11, 22, 0, 0, 0, tzinfo=timezone.utc) + timedelta(hours=h)
                    for h in (0, 0, 1, 2)])
    monkeypatch.setattr("dvc.backup.cli.wall_now", lambda: next(moments))
    runner = app.test_cli_runner()

    outputs = [runner.invoke(args=["backup", str(dest), "--keep", "3"]) for _ in range(3)]
    assert all(r.exit_code == 0 for r in outputs), [r.output for r in outputs]
    # 09:00 in Tokyo; a second backup in the same second gets a number, not an overwrite.
    ours = sorted(p.name for p in files.ours(dest))
    assert ours == ["dvc-20261122-090000-2.sqlite3", "dvc-20261122-090000.sqlite3",
                    "dvc-20261122-100000.sqlite3"]
    assert "deleted old backup dvc-20200101-000000.dump" in outputs[2].output

    result = runner.invoke(args=["backup", str(dest)])  # BACKUP_KEEP=2 from the config
    assert result.exit_code == 0, result.output
    assert [p.name for p in files.ours(dest)] == ["dvc-20261122-100000.sqlite3",
                                                  "dvc-20261122-110000.sqlite3"]
    assert sorted(p.name for p in dest.iterdir() if p.name in others) == sorted(others)
    # Each copy is a self-contained SQLite file (no -wal beside it) that passes its check.
    for path in files.ours(dest):
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
    assert not list(dest.glob("*.part")) and not list(dest.glob("*-wal"))


def test_restore_asks_for_yes_and_says_what_it_overwrites(scratch, tmp_path):
    app = _migrated(scratch, tmp_path)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", str(tmp_path / "b")]).exit_code == 0
    backup = str(files.ours(tmp_path / "b")[0])
    from dvc.operations.operations import create_operation
    with app.app_context():
        create_operation("後から作った作戦", "drill", actor="test")
        db.session.commit()

    result = runner.invoke(args=["restore", backup])
    assert result.exit_code == 1
    assert "dvc_backup_src.sqlite3" in result.output and "1 operations" in result.output
    assert "--yes" in result.output and "Stop the app" in result.output
    with app.app_context():
        from dvc.operations.models import Operation
        assert db.session.scalar(select(func.count()).select_from(Operation)) == 1

    result = runner.invoke(args=["restore", backup, "--yes"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Operation)) == 0


def test_restore_refuses_what_is_not_a_dvc_backup(scratch, tmp_path):
    app = _migrated(scratch, tmp_path)
    runner = app.test_cli_runner()
    stranger = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(stranger)
    conn.execute("CREATE TABLE x (y)")
    conn.close()
    (tmp_path / "text.sqlite3").write_text("hello")
    for path, message in ((stranger, "not a dvc database"),
                          (tmp_path / "text.sqlite3", "not an SQLite database"),
                          (tmp_path / "missing.sqlite3", "there is no file")):
        result = runner.invoke(args=["restore", str(path), "--yes"])
        assert result.exit_code == 1 and message in result.output, result.output


def test_backup_fails_clearly(scratch, tmp_path):
    app = _migrated(scratch, tmp_path)
    (tmp_path / "a-file").write_text("")
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "a-file" / "sub")])
    assert result.exit_code == 1
    assert "cannot create" in result.output
    missing = scratch_app(scratch, f"sqlite:///{tmp_path / 'nothing-here.sqlite3'}", tmp_path)
    result = missing.test_cli_runner().invoke(args=["backup", str(tmp_path / "b")])
    assert result.exit_code == 1 and "there is no database" in result.output
