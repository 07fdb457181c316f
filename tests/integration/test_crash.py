"""The server dies (SIGKILL to gunicorn's master and workers, as in a power cut or the OOM
killer) in the middle of a stream of check-ins, and comes back: every check-in that had been
acknowledged is in the database, and the one whose answer was lost, sent again with its
Idempotency-Key, is applied once.

The production server (gunicorn, gthread workers, as bench/checkin.py and deploy/ run it) serves
the test database: SQLite, or PostgreSQL with DVC_TEST_DATABASE_URL."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from dvc.config import ROOT

GUNICORN = Path(sys.executable).parent / "gunicorn"
CLIENTS = 4
PER_CLIENT = 40
KILL_AFTER = 30  # acknowledged check-ins before the server is killed

pytestmark = pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn is not installed")


class Server:
    """gunicorn on a socket we bind ourselves: requests queue in its backlog until a worker
    takes them, so nobody waits for the server to be "up"."""

    def __init__(self, database_url: str, instance: Path, log: Path):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        self.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("DVC_") and k != "DATABASE_URL"}
        env.update(DATABASE_URL=database_url, DVC_SECRET_KEY="crash-test",
                   DVC_INSTANCE_PATH=str(instance))
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                # deploy/systemd/dvc.service's server, smaller: 2 workers of 4 threads
                [str(GUNICORN), "--worker-class", "gthread", "--workers", "2", "--threads", "4",
                 "--bind", f"fd://{sock.fileno()}", "--chdir", str(ROOT), "--log-level",
                 "warning", "dvc:create_app()"],
                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                pass_fds=(sock.fileno(),), start_new_session=True)
        sock.close()  # gunicorn holds the listening socket now

    def kill(self) -> None:
        """SIGKILL the whole process group we started: master and workers die mid-request."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@dataclass
class Stream:
    """What the kiosks sent, and which answers came back."""

    acked: list = field(default_factory=list)     # (volunteer_id, checkin id, key, body, answer)
    unacked: list = field(default_factory=list)   # (volunteer_id, key, body): answer lost
    refused: list = field(default_factory=list)   # any other answer: must stay empty
    lock: threading.Lock = field(default_factory=threading.Lock)
    enough: threading.Event = field(default_factory=threading.Event)


def kiosk(server: Server, path: str, headers: dict, volunteers, site_id: int, stream: Stream):
    """Check volunteers in one after another, each with its own key, until the line drops."""
    with httpx.Client(base_url=server.base, trust_env=False, timeout=60) as http:
        for volunteer_id, code in volunteers:
            key = str(uuid.uuid4())
            body = {"code": code, "site_id": site_id, "health_ok": True,
                    "insurance_enrolled_now": True}
            try:
                response = http.post(path, json=body, headers={**headers, "Idempotency-Key": key})
            except httpx.TransportError:
                with stream.lock:
                    stream.unacked.append((volunteer_id, key, body))
                return
            with stream.lock:
                if response.status_code in (200, 201):
                    stream.acked.append((volunteer_id, response.json()["id"], key, body,
                                         response.json()))
                    if len(stream.acked) >= KILL_AFTER:
                        stream.enough.set()
                else:
                    stream.refused.append((response.status_code, response.text[:300]))
                    stream.enough.set()
                    return


@pytest.fixture
def volunteers(app, operation):
    """CLIENTS x PER_CLIENT pre-registered volunteers: [[(id, code), ...] per kiosk]."""
    from dvc.extensions import db
    from dvc.operations.operations import get_operation
    from dvc.volunteers.operations import Registration, register_volunteer
    people = []
    with app.app_context():
        op = get_operation(operation[0])
        for i in range(CLIENTS * PER_CLIENT):
            volunteer, code = register_volunteer(op, Registration(
                name=f"停電 {i}", kana=f"ていでん {i}", phone=f"090-9{i:03d}-0000",
                prefecture="東京都", municipality="三鷹市", birth_year=1980,
                emergency_name="停電 家族", emergency_phone="080-0000-0000", consent=True,
                insurance="home", insurance_council="三鷹市社会福祉協議会"), via="pre", actor="test")
            people.append((volunteer.id, code))
        db.session.commit()
    return [people[i::CLIENTS] for i in range(CLIENTS)]


def checkins_of(app, volunteer_ids) -> dict[int, list[int]]:
    from dvc.extensions import db
    from dvc.volunteers.models import CheckIn
    with app.app_context():
        rows = db.session.execute(select(CheckIn.volunteer_id, CheckIn.id).where(
            CheckIn.volunteer_id.in_(volunteer_ids))).all()
        db.session.remove()
    found: dict[int, list[int]] = {}
    for volunteer_id, checkin_id in rows:
        found.setdefault(volunteer_id, []).append(checkin_id)
    return found


def test_sigkill_mid_stream_loses_no_acknowledged_check_in(app, operation, volunteers,
                                                           token_for, database_url, tmp_path):
    from dvc.core.events import Event
    from dvc.extensions import db
    from dvc.volunteers.models import CheckIn
    op_id, main, _sat = operation
    headers = token_for("reception")
    path = f"/api/v1/operations/{op_id}/checkins"
    instance, log = tmp_path / "instance", tmp_path / "gunicorn.log"
    instance.mkdir()

    server = Server(database_url, instance, log)
    stream = Stream()
    kiosks = [threading.Thread(target=kiosk, args=(server, path, headers, mine, main, stream))
              for mine in volunteers]
    try:
        for thread in kiosks:
            thread.start()
        assert stream.enough.wait(timeout=300), server.tail()
        server.kill()
        for thread in kiosks:
            thread.join(timeout=120)
        assert not any(t.is_alive() for t in kiosks)
    finally:
        server.stop()
    assert stream.refused == [], (stream.refused, server.tail())
    assert len(stream.acked) >= KILL_AFTER
    attempted = len(stream.acked) + len(stream.unacked)
    assert attempted < CLIENTS * PER_CLIENT, "the server was killed after the stream ended"

    # Every acknowledged check-in survived the crash, with the id the kiosk was given.
    acked_ids = {v: c for v, c, *_ in stream.acked}
    found = checkins_of(app, list(acked_ids))
    assert found == {v: [c] for v, c in acked_ids.items()}

    # Back up: each kiosk sends its unanswered check-in again, with the same key.
    server = Server(database_url, instance, log)
    try:
        with httpx.Client(base_url=server.base, trust_env=False, timeout=60) as http:
            for volunteer_id, key, body in stream.unacked:
                again = http.post(path, json=body, headers={**headers, "Idempotency-Key": key})
                # 201 either way: the first copy's stored answer if it had been applied
                # (Idempotent-Replayed), or this copy's if the crash came before its commit.
                assert again.status_code == 201, (again.status_code, again.text, server.tail())
                assert again.json()["volunteer_id"] == volunteer_id
            # An acknowledged one sent again changes nothing and answers the same.
            volunteer_id, checkin_id, key, body, answer = stream.acked[0]
            replay = http.post(path, json=body, headers={**headers, "Idempotency-Key": key})
            assert replay.status_code == 201 and replay.json() == answer
            assert replay.headers["Idempotent-Replayed"] == "true"
    finally:
        server.stop()

    retried = [v for v, *_ in stream.unacked]
    found = checkins_of(app, retried)
    assert sorted(found) == sorted(retried) and all(len(ids) == 1 for ids in found.values())
    with app.app_context():
        rows = db.session.scalar(select(func.count()).select_from(CheckIn))
        events = db.session.scalar(select(func.count()).select_from(Event).where(
            Event.kind == "volunteer.checked_in"))
    assert rows == events == attempted
