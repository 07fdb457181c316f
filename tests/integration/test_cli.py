"""flask --app dvc user create / user token / demo-data."""
from __future__ import annotations


def test_user_create_and_token_work_against_the_api(app, client):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["user", "create", "sato", "--role", "reception",
                                  "--password", "long-enough-pw"])
    assert created.exit_code == 0, created.output
    token = runner.invoke(args=["user", "token", "sato"])
    assert token.exit_code == 0
    bearer = token.output.strip().splitlines()[-1]
    response = client.get("/api/v1/operations", headers={"Authorization": f"Bearer {bearer}"})
    assert response.status_code == 200


def test_user_create_refuses_bad_input_without_a_traceback(app):
    runner = app.test_cli_runner()
    short = runner.invoke(args=["user", "create", "x", "--role", "viewer", "--password", "short"])
    assert short.exit_code != 0 and "at least 8" in short.output
    runner.invoke(args=["user", "create", "x", "--role", "viewer", "--password", "long-enough"])
    again = runner.invoke(args=["user", "create", "x", "--role", "viewer",
                                "--password", "long-enough"])
    assert again.exit_code != 0 and "exists" in again.output
    assert "Traceback" not in short.output + again.output
    missing = runner.invoke(args=["user", "token", "nobody"])
    assert missing.exit_code != 0 and "no user" in missing.output


def test_demo_data_loads_once_with_a_roster(app):
    runner = app.test_cli_runner()
    assert "demo data loaded" in runner.invoke(args=["demo-data"]).output
    assert "already present" in runner.invoke(args=["demo-data"]).output
    from dvc.core.context import today
    from dvc.demo import demo_accounts
    from dvc.extensions import db
    from dvc.operations.models import Operation
    from dvc.volunteers.roster import roster
    with app.app_context():
        op = db.session.scalar(db.select(Operation))
        r = roster(op, today())
        assert len(r.checkins) == 30 and r.new and r.repeat
        assert ("reception", "reception-demo") in demo_accounts()


def test_the_server_log_goes_to_instance(app, tmp_path, monkeypatch):
    """`serve` writes its log, rotated, to instance/logs/dvc.log beside the database."""
    import logging
    from pathlib import Path

    from dvc.cli import log_to_instance
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    path = Path(log_to_instance(app))
    root = logging.getLogger()
    try:
        assert path == Path(app.instance_path) / "logs" / "dvc.log"
        app.logger.error("kiosk 3 lost its connection")
        assert log_to_instance(app) == str(path)          # a second call adds no handler
        assert sum(getattr(h, "baseFilename", None) == str(path) for h in root.handlers) == 1
        for handler in root.handlers:
            handler.flush()
        text = path.read_text(encoding="utf-8")
        assert "dvc server starting" in text and "kiosk 3 lost its connection" in text
    finally:
        for handler in [h for h in root.handlers if getattr(h, "baseFilename", None) == str(path)]:
            root.removeHandler(handler)
            handler.close()
