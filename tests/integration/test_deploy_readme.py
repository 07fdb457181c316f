"""Every command in deploy/README.md's server, backup, upgrade and power/network sections runs.

`flask --app dvc ...` lines run as shown (in this process; the USB stick is a temp folder);
`sudo -u dvc .../dvc-admin ...` lines run through deploy/dvc-admin pointed at this checkout and
a temp /etc/dvc/env (PostgreSQL in a scratch database when DVC_TEST_DATABASE_URL is set);
`systemctl start dvc-backup.service` runs that unit's ExecStart lines. What only root on a real
server can do (apt-get, useradd, systemctl ...) is listed below with what tests it instead; a new
command in those sections that is in neither group fails this test."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import cli as flask_cli

from dvc.config import ROOT
from tests.integration.scratch import PG_URL, create_pg_database, drop_pg_database

README = ROOT / "deploy" / "README.md"
SECTIONS = ("The server", "Backups", "Upgrades", "When the power or the network goes")
BIN = Path(sys.executable).parent
ADMIN = "sudo -u dvc /opt/dvc/app/deploy/dvc-admin "
EXAMPLE_BACKUP = re.compile(r"dvc-20261122-180000\.(sqlite3|dump)")
# Root's commands on a real server, and what checks them here.
SERVER_ONLY = {
    "apt-get install -y git python3-venv postgresql nginx-light": "make server-tools, CI",
    "useradd --system --home-dir /var/lib/dvc --shell /usr/sbin/nologin dvc": "the units' User",
    "git clone https://git.example.jp/dvc.git /opt/dvc/app": "placeholder address",
    "python3 -m venv /opt/dvc/venv": "the Makefile's install (make test)",
    "/opt/dvc/venv/bin/pip install -e /opt/dvc/app": "the Makefile's install (make test)",
    "sudo -u postgres createuser dvc": "env.example's DATABASE_URL (peer authentication)",
    "sudo -u postgres createdb --owner dvc dvc": "env.example's DATABASE_URL",
    "install -d -m 750 -g dvc /etc/dvc": "",
    "install -m 640 -g dvc /opt/dvc/app/deploy/env.example /etc/dvc/env": "the file exists",
    "install -d -m 700 -o dvc -g dvc /var/lib/dvc /var/backups/dvc": "the units' paths",
    "cp /opt/dvc/app/deploy/systemd/dvc.service /opt/dvc/app/deploy/systemd/dvc-backup.service "
    "/opt/dvc/app/deploy/systemd/dvc-backup.timer /etc/systemd/system/": "the files exist",
    "systemctl daemon-reload": "systemd-analyze verify (test_deploy_server)",
    "systemctl enable --now dvc.service dvc-backup.timer": "the units' [Install] sections",
    "cp /opt/dvc/app/deploy/nginx/dvc.conf /etc/nginx/sites-available/dvc": "the file exists",
    "ln -s /etc/nginx/sites-available/dvc /etc/nginx/sites-enabled/dvc": "",
    "nginx -t": "test_deploy_server.test_nginx_accepts_the_site",
    "systemctl reload nginx": "test_deploy_server.test_nginx_in_front_of_gunicorn",
    "git -C /opt/dvc/app pull": "",
    "systemctl restart dvc": "test_deploy_server (the unit's gunicorn)",
    "systemctl start dvc": "test_deploy_server (the unit's gunicorn)",
}


def commands() -> list[str]:
    """The shell commands of our sections, in order."""
    found, ours, block, shell = [], False, None, False
    for line in README.read_text().splitlines():
        fence = line.strip()
        if block is None and line.startswith("## "):
            ours = line[3:].strip() in SECTIONS
        elif fence.startswith("```") and block is None:
            block, shell = [], fence == "```sh"
        elif fence == "```":
            if ours and shell:
                found += [c for c in textwrap.dedent("\n".join(block)).splitlines()
                          if c.strip() and not c.lstrip().startswith("#")]
            block = None
        elif block is not None:
            block.append(line)
    return found


def test_our_sections_are_there_and_have_commands():
    headings = re.findall(r"^## (.+)$", README.read_text(), re.M)
    assert set(SECTIONS) <= set(headings)
    assert len(commands()) > 25


class Sandbox:
    """The laptop (flask in this checkout) and the server (dvc-admin) in temp folders."""

    def __init__(self, tmp: Path, server_url: str):
        self.tmp = tmp
        self.usb = tmp / "usb"
        self.server_backups = tmp / "var-backups-dvc"
        self.laptop_env = {"DVC_INSTANCE_PATH": str(tmp / "laptop"),
                           "DATABASE_URL": f"sqlite:///{tmp / 'laptop' / 'dvc.sqlite3'}"}
        # /opt/dvc as dvc-admin expects it: app/ is this checkout, venv/ this virtualenv.
        home = tmp / "opt-dvc"
        home.mkdir()
        (home / "app").symlink_to(ROOT)
        (home / "venv").symlink_to(BIN.parent)
        env_file = tmp / "etc-dvc-env"
        env_file.write_text((ROOT / "deploy" / "env.example").read_text().replace(
            "postgresql://dvc@/dvc?host=/var/run/postgresql", server_url)
            + f"DVC_INSTANCE_PATH={tmp / 'var-lib-dvc'}\n")
        self.server_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        self.server_env.update(DVC_HOME=str(home), DVC_ENV_FILE=str(env_file))

    def newest(self, folder: Path) -> str:
        from dvc.backup.files import ours
        return str(ours(folder)[-1])

    def run(self, command: str) -> subprocess.CompletedProcess:
        if command.startswith(ADMIN):
            command = command.replace("/var/backups/dvc", str(self.server_backups))
            argv = [str(ROOT / "deploy" / "dvc-admin"), *self._args(command[len(ADMIN):],
                                                                     self.server_backups)]
            env = self.server_env
        elif command.startswith("flask --app dvc "):
            command = command.replace("/media/usb/dvc-backups", str(self.usb))
            return self.flask(self._args(command[16:], self.usb))
        elif command == "systemctl start dvc-backup.service":
            return self._backup_service()
        else:
            raise AssertionError(f"no way to run {command!r}")
        stdin = "a-long-password\na-long-password\n" if "user create" in command else None
        return subprocess.run(argv, cwd=ROOT, env=env, input=stdin, capture_output=True,
                              text=True, timeout=300)

    def flask(self, args: list[str]) -> subprocess.CompletedProcess:
        """`flask --app dvc ARGS` on the laptop, in this process (a process each is slow)."""
        result = CliRunner().invoke(flask_cli, ["--app", "dvc", *args], env=self.laptop_env)
        error = "" if result.exception is None or isinstance(result.exception, SystemExit) \
            else repr(result.exception)
        return subprocess.CompletedProcess(args, result.exit_code, result.output, error)

    def _args(self, rest: str, backups: Path) -> list[str]:
        return [EXAMPLE_BACKUP.sub(lambda _: Path(self.newest(backups)).name, a)
                for a in shlex.split(rest)]

    def _backup_service(self) -> subprocess.CompletedProcess:
        from tests.integration.test_deploy_server import unit
        done = None
        for line in unit("dvc-backup.service")["Service"]["ExecStart"]:
            argv = shlex.split(line.replace("/var/backups/dvc", str(self.server_backups)))
            assert argv[0] == "/opt/dvc/venv/bin/flask"
            done = subprocess.run([str(ROOT / "deploy" / "dvc-admin"), *argv[3:]], cwd=ROOT,
                                  env=self.server_env, capture_output=True, text=True,
                                  timeout=300)
            if done.returncode:
                break
        return done


@pytest.fixture
def sandbox(tmp_path):
    if PG_URL:
        url = create_pg_database("dvc_readme_test").replace("postgresql+psycopg", "postgresql")
    else:
        url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    box = Sandbox(tmp_path, url)
    # The laptop has been set up as in the sections above ours (make run does the same).
    for setup in (["init-db"], ["demo-data"]):
        assert box.flask(setup).returncode == 0
    yield box
    if PG_URL:
        drop_pg_database("dvc_readme_test")


def _expect_refusal(command: str) -> bool:
    """restore and close-operation without --yes only say what they would do."""
    return re.search(r"\b(restore|close-operation)\b", command) is not None and \
        "--yes" not in command


def test_every_command_runs(sandbox):
    ran, listed = [], []
    for command in commands():
        plain = command.strip()
        if plain in SERVER_ONLY:
            assert subprocess.run(["bash", "-n", "-c", plain]).returncode == 0
            for path in re.findall(r"/opt/dvc/app/(\S+)", plain):
                assert (ROOT / path).exists(), path
            listed.append(plain)
            continue
        done = sandbox.run(plain)
        output = done.stdout + done.stderr
        if _expect_refusal(plain):
            assert done.returncode == 1 and "--yes" in output, (plain, output)
        else:
            assert done.returncode == 0, (plain, output)
        ran.append(plain)
    assert any("restore" in c and "--yes" in c for c in ran)
    assert any(c.startswith(ADMIN + "restore") for c in ran)
    assert len(ran) >= 20
    assert set(listed) == set(SERVER_ONLY), set(SERVER_ONLY) - set(listed)
