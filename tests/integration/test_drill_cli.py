"""flask --app dvc drill check / drill run --headless: problems with line and field, metrics,
the same metrics for the same file and seed in any process, and a run that never writes into
the centre's database."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from dvc.config import ROOT
from dvc.core.events import Event
from dvc.extensions import db
from dvc.operations.models import Operation
from tests.conftest import PG_URL

SHIPPED = sorted((ROOT / "drills").glob("*.yaml"))
SETUP = ROOT / "drills" / "earthquake-setup.yaml"   # the two-hour scenario: quick to play
FLASK = Path(sys.executable).parent / "flask"


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=["drill", *args])


def broken_copy(tmp_path, old: str, new: str) -> tuple[Path, int]:
    """Write the setup scenario with one line changed; return it and that line's number."""
    text = SETUP.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "broken.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path, text[:text.index(old)].count("\n") + 1


def test_check_reports_the_line_and_field_of_an_error_and_fails(app, tmp_path):
    path, line = broken_copy(tmp_path, "      rate: 36\n", "      rate: lots\n")
    result = invoke(app, "check", str(path), str(SETUP))
    assert result.exit_code == 1
    assert f"{path}:{line}:13: error: injects[2].payload.rate:" in result.output
    assert f"{SETUP}: OK" in result.output
    assert "Traceback" not in result.output


def test_check_prints_warnings_but_passes(app, tmp_path):
    path, line = broken_copy(tmp_path, "event: equipment.received,", "event: equipment.recieved,")
    result = invoke(app, "check", str(path))
    assert result.exit_code == 0, result.output
    assert f"{path}:{line}:" in result.output and "warning" in result.output
    assert f"{path}: OK (1 warning(s))" in result.output


def test_the_shipped_scenarios_pass(app):
    result = invoke(app, "check", *map(str, SHIPPED))
    assert result.exit_code == 0, result.output
    assert [line for line in result.output.splitlines() if line.endswith(": OK")] == \
        [f"{path}: OK" for path in SHIPPED]


def test_run_refuses_a_broken_file_without_playing_it(app, tmp_path):
    path, line = broken_copy(tmp_path, "      rate: 36\n", "      rate: lots\n")
    result = invoke(app, "run", str(path), "--headless")
    assert result.exit_code == 1
    assert f":{line}:13:" in result.output and "drill check" in result.output


def counts(*models) -> list[int]:
    return [db.session.scalar(select(func.count()).select_from(m)) for m in models]


def test_a_headless_run_prints_the_metrics_and_leaves_the_centres_database_alone(
        app, operation):
    with app.app_context():
        before = counts(Operation, Event)
    result = invoke(app, "run", "earthquake-setup", "--headless")
    assert result.exit_code == 0, result.output
    for text in ("time to open reception:", "check-in wait p50/p90:",
                 "reception to dispatch p50/p90:", "inject response p50/p90:",
                 "objective open-reception: P", "objective dispatch-time:"):
        assert text in result.output
    with app.app_context():
        assert counts(Operation, Event) == before
        assert db.session.scalar(select(func.count()).select_from(Operation)
                                 .where(Operation.kind == "drill")) == 0


def flask_json(tmp_path, hash_seed: str, *args) -> bytes:
    """Run `drill run --headless --json` in a new Python process (its own hash seed)."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "DVC_INSTANCE_PATH": str(tmp_path),
           "DVC_SECRET_KEY": "determinism", "DATABASE_URL": f"sqlite:///{tmp_path}/centre.db"}
    done = subprocess.run([str(FLASK), "--app", "dvc", "drill", "run", str(SETUP), "--headless",
                           "--json", *args], cwd=ROOT, env=env, capture_output=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


@pytest.fixture(scope="module")
def seeded_json(tmp_path_factory):
    return flask_json(tmp_path_factory.mktemp("first"), "1")


def test_the_same_file_and_seed_give_byte_identical_metrics_in_another_process(
        seeded_json, tmp_path):
    again = flask_json(tmp_path, "2")
    assert again == seeded_json
    result = json.loads(seeded_json)
    assert result["scenario"] == "earthquake-setup-2h" and result["seed"] == 20260901
    assert result["counts"]["arrivals"] > 0 and result["metrics"]["checkin_wait"]["n"] > 0
    assert {r["objective"] for r in result["ratings"]} >= {"open-reception", "checkin-wait"}


def test_another_seed_gives_other_metrics_in_the_database_given(app, seeded_json, tmp_path):
    url = PG_URL or f"sqlite:///{tmp_path}/other.sqlite3"
    result = invoke(app, "run", str(SETUP), "--headless", "--json", "--seed", "7",
                    "--database", url)
    assert result.exit_code == 0, result.output
    other, first = json.loads(result.output), json.loads(seeded_json)
    assert other["seed"] == 7
    assert other["metrics"] != first["metrics"]
    engine = create_engine(url)   # the run's drill stayed in that database
    try:
        with engine.connect() as conn:
            kinds = conn.execute(select(Operation.kind)).scalars().all()
    finally:
        engine.dispose()
    assert kinds == ["drill"]
