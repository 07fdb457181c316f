"""The server kit in deploy/: the systemd units parse and their gunicorn command serves the app;
the nginx site passes `nginx -t` and, in front of that gunicorn, serves TLS, our static files,
the vendor assets with long caching, and lets photos (not more) through.

The nginx tests run where nginx is installed (make test installs it when we are root) and are
skipped otherwise; `systemd-analyze verify` runs where it exists, the INI checks always."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from ipaddress import ip_address
from pathlib import Path

import httpx
import pytest

from dvc.config import ROOT
from tests.conftest import registration

DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
NGINX = shutil.which("nginx")
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed here")


# --- systemd ----------------------------------------------------------------------------------

def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """Parse a unit file as systemd does for our purposes: sections, keys, repeated keys."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in (DEPLOY / "systemd" / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            assert line.endswith("]"), line
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"{name}: not a key=value line: {line}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_app_unit_runs_gunicorn_as_a_user_with_the_environment_file():
    service = unit("dvc.service")["Service"]
    argv = shlex.split(service["ExecStart"][0])
    assert argv[0].endswith("/gunicorn") and argv[-1] == "dvc:create_app()"
    assert "127.0.0.1:8000" in argv  # only nginx talks to it
    assert service["EnvironmentFile"] == ["/etc/dvc/env"]
    assert service["Restart"] == ["on-failure"]
    assert service["User"] != ["root"] and service["User"] and service["Group"]
    assert service["Type"] == ["notify"]  # gunicorn tells systemd when it is ready
    assert unit("dvc.service")["Install"]["WantedBy"] == ["multi-user.target"]


def test_backup_timer_starts_the_backup_service():
    service = unit("dvc-backup.service")["Service"]
    assert service["Type"] == ["oneshot"]
    assert service["User"] == unit("dvc.service")["Service"]["User"]
    commands = [shlex.split(c) for c in service["ExecStart"]]
    assert commands[0][1:5] == ["--app", "dvc", "backup", "/var/backups/dvc"]
    assert commands[1][1:] == ["--app", "dvc", "purge"]  # after a fresh backup
    assert service["EnvironmentFile"] == ["/etc/dvc/env"]
    timer = unit("dvc-backup.timer")
    assert timer["Timer"]["OnCalendar"] and timer["Timer"]["Persistent"] == ["true"]
    assert timer["Install"]["WantedBy"] == ["timers.target"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_units_pass_systemd_analyze_verify(tmp_path):
    for path in (DEPLOY / "systemd").iterdir():
        # Our paths point at this checkout, whose programs exist, instead of /opt/dvc.
        text = path.read_text().replace("/opt/dvc/venv/bin", str(BIN)).replace("/opt/dvc/app",
                                                                                str(ROOT))
        (tmp_path / path.name).write_text(text)
    units = sorted(str(p) for p in tmp_path.iterdir())
    done = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True,
                          env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"})
    # verify exits 0 even when it ignores a line it cannot parse: any word about our units fails.
    ours = [line for line in (done.stdout + done.stderr).splitlines()
            if str(tmp_path) in line or re.match(r"dvc(-backup)?\.(service|timer)", line)]
    assert done.returncode == 0 and ours == [], done.stdout + done.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """The unit's own ExecStart (one worker, a free port) on a fresh SQLite with demo data.

    Waits for gunicorn's READY=1 on a NOTIFY_SOCKET, as systemd does for Type=notify."""
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    instance = tmp_path / "instance"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{instance / 'dvc.sqlite3'}",
           "DVC_INSTANCE_PATH": str(instance)}
    for command in (["init-db"], ["demo-data"]):
        subprocess.run([str(BIN / "flask"), "--app", "dvc", *command], cwd=ROOT, env=env,
                       check=True, capture_output=True)
    port = _free_port()
    argv = shlex.split(unit("dvc.service")["Service"]["ExecStart"][0])
    argv[0] = str(BIN / "gunicorn")
    argv[argv.index("127.0.0.1:8000")] = f"127.0.0.1:{port}"
    argv[argv.index("--workers") + 1] = "1"
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(60)
    log = open(tmp_path / "gunicorn.log", "w")
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**env, "NOTIFY_SOCKET": str(tmp_path / "notify.sock")})
    try:
        assert b"READY=1" in notify.recv(4096), (tmp_path / "gunicorn.log").read_text()
        yield port, instance
    finally:
        proc.terminate()
        proc.wait(30)
        notify.close()
        log.close()


def test_the_units_gunicorn_command_serves_the_app(gunicorn):
    port, _ = gunicorn
    response = httpx.get(f"http://127.0.0.1:{port}/login", timeout=60)
    assert response.status_code == 200
    assert 'name="password"' in response.text


# --- nginx -------------------------------------------------------------------------------------

def _certificate(folder: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 where the site expects the real one."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dvc.example.jp")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("dvc.example.jp"), x509.IPAddress(ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return folder / "fullchain.pem"


def _nginx_conf(tmp: Path, app_port: int, http_port: int, https_port: int) -> Path:
    """deploy/nginx/dvc.conf with its paths and ports moved into `tmp`, inside a minimal
    nginx.conf (as /etc/nginx/nginx.conf includes sites-enabled/ inside http {})."""
    site = (DEPLOY / "nginx" / "dvc.conf").read_text()
    moves = {"/etc/dvc/tls/": f"{tmp}/tls/", "/var/cache/nginx/dvc": f"{tmp}/cache",
             "/var/www/letsencrypt": f"{tmp}/www", "/opt/dvc/app/static/": f"{ROOT}/static/",
             "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
             "listen 80;": f"listen 127.0.0.1:{http_port};",
             "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;"}
    for old, new in moves.items():
        assert old in site, f"the site no longer has {old!r}: update this test"
        site = site.replace(old, new)
    site = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", site)  # no IPv6 needed here
    (tmp / "sites").mkdir(parents=True, exist_ok=True)
    (tmp / "sites" / "dvc.conf").write_text(site)
    _certificate(tmp / "tls")
    mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else \
        "types { text/css css; application/javascript js; }"
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read tmp (0700) when root
    temp = " ".join(f"{kind}_temp_path {tmp}/{kind};" for kind in
                    ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = tmp / "nginx.conf"
    conf.write_text(f"""{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
    {mime}
    access_log {tmp}/access.log;
    {temp}
    include {tmp}/sites/dvc.conf;
}}
""")
    return conf


def _nginx(conf: Path, *args: str) -> list[str]:
    return [NGINX, "-p", str(conf.parent), "-c", str(conf), "-e", str(conf.parent / "error.log"),
            *args]


@needs_nginx
def test_nginx_accepts_the_site(tmp_path):
    conf = _nginx_conf(tmp_path / "nginx", 8000, _free_port(), _free_port())
    done = subprocess.run(_nginx(conf, "-t"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def _wait_for(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text() if log.exists() else "nginx stopped"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("nginx did not start listening")


@needs_nginx
def test_nginx_in_front_of_gunicorn(tmp_path, gunicorn):
    app_port, instance = gunicorn
    http_port, https_port = _free_port(), _free_port()
    conf = _nginx_conf(tmp_path / "nginx", app_port, http_port, https_port)
    proc = subprocess.Popen(_nginx(conf, "-g", "daemon off;"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_for(https_port, proc, tmp_path / "nginx" / "error.log")
        trust = ssl.create_default_context(cafile=str(tmp_path / "nginx" / "tls" / "fullchain.pem"))
        base = f"https://127.0.0.1:{https_port}"
        with httpx.Client(verify=trust, timeout=60) as client:
            plain = httpx.get(f"http://127.0.0.1:{http_port}/login", timeout=10)
            assert plain.status_code == 301
            assert plain.headers["location"] == "https://127.0.0.1/login"

            page = client.get(f"{base}/login")
            assert page.status_code == 200 and 'name="password"' in page.text
            assert page.headers["strict-transport-security"].startswith("max-age=")

            css = client.get(f"{base}/static/css/dvc.css")  # from the folder, by nginx
            assert css.content == (ROOT / "static" / "css" / "dvc.css").read_bytes()
            assert css.headers["cache-control"] == "max-age=3600"

            from dvc.maps.vendor import PACKAGES
            leaflet = f"{base}/static/vendor/leaflet/{PACKAGES['leaflet'].version}/leaflet.js"
            for _ in range(2):  # the second one comes from nginx's cache
                js = client.get(leaflet)
                assert js.status_code == 200 and "max-age=31536000" in js.headers["cache-control"]
                assert "immutable" in js.headers["cache-control"]

            # gunicorn believes nginx's X-Forwarded-Proto: the links the app writes are https.
            op_id = sqlite3.connect(instance / "dvc.sqlite3").execute(
                "SELECT id FROM operation WHERE status = 'open' ORDER BY id").fetchone()[0]
            registered = client.post(f"{base}/api/v1/operations/{op_id}/volunteers",
                                     json=registration(phone="090-7777-0001"))
            assert registered.status_code == 201, registered.text
            assert registered.json()["page_url"].startswith("https://127.0.0.1/")

            # A photo up to the app's 8 MB reaches the app (which answers for itself)...
            photo = client.post(f"{base}/login", content=b"x" * (9 * 1024 * 1024),
                                headers={"Content-Type": "application/octet-stream"})
            assert photo.status_code == 413 and "<center>nginx" not in photo.text
            # ...anything much larger stops at nginx.
            huge = client.post(f"{base}/login", content=b"x" * (11 * 1024 * 1024),
                               headers={"Content-Type": "application/octet-stream"})
            assert huge.status_code == 413 and "<center>nginx" in huge.text
    finally:
        proc.terminate()
        proc.wait(30)
