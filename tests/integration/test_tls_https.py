"""HTTPS on the local network: a client that trusts only the laptop's CA gets in; one with the
default trust store is refused. The CA page and downloads, and the README's commands."""
from __future__ import annotations

import os
import shlex
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from dvc.deploy import https, tls

README_TLS = ["flask --app dvc tls init", "flask --app dvc serve --https",
              "flask --app dvc tls init --name centre.example --ip 10.1.2.3"]


@pytest.fixture
def no_probe(monkeypatch):
    """The laptop's Wi-Fi address, without asking the machine (tests stay on loopback)."""
    monkeypatch.setattr(tls, "lan_addresses", lambda: ["192.168.10.5"])


@pytest.fixture
def tls_app(make_app, tmp_path, no_probe):
    return make_app(TLS_DIR=str(tmp_path / "tls"))


@pytest.fixture
def https_server(tls_app, tmp_path):
    """The app served over HTTPS by cheroot from a thread on 127.0.0.1: yields its base URL."""
    result = tls_app.test_cli_runner().invoke(args=shlex.split(README_TLS[0])[3:])
    assert result.exit_code == 0, result.output
    server = https.make_server(tls_app, "127.0.0.1", 0, tmp_path / "tls", threads=2)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.bind_addr[1]}"
    server.stop()
    thread.join(5)


def test_tls_init_says_what_it_made_and_keeps_the_ca_the_second_time(tls_app, tmp_path):
    runner = tls_app.test_cli_runner()
    first = runner.invoke(args=shlex.split(README_TLS[2])[3:])
    assert first.exit_code == 0, first.output
    assert "created a new certificate authority" in first.output
    assert all(w in first.output for w in ("192.168.10.5", "10.1.2.3", "centre.example"))
    again = runner.invoke(args=["tls", "init"])
    assert "kept the certificate authority" in again.output
    assert "up to date" in again.output  # the extra name and address were remembered
    cert = x509.load_pem_x509_certificate((tmp_path / "tls" / tls.SERVER_CERT).read_bytes())
    assert {"centre.example", "localhost"} <= set(tls.cert_subjects(cert).dns)
    bad = runner.invoke(args=["tls", "init", "--ip", "not-an-address"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output


def test_a_client_trusting_only_the_laptop_ca_connects(https_server, tmp_path):
    trusted = ssl.create_default_context(cafile=str(tmp_path / "tls" / tls.CA_CERT))
    # With a cafile, Python loads that CA alone, not the system's trust store.
    with httpx.Client(verify=trusted) as client:
        response = client.get(https_server + "/ca")
    assert response.status_code == 200
    assert "SHA-256" in response.text
    with httpx.Client(verify=trusted) as client:
        der = client.get(https_server + "/ca.crt")
    assert der.headers["content-type"] == "application/x-x509-ca-cert"
    assert x509.load_der_x509_certificate(der.content) == x509.load_pem_x509_certificate(
        (tmp_path / "tls" / tls.CA_CERT).read_bytes())


def test_a_client_with_the_default_trust_store_is_refused(https_server):
    with httpx.Client() as client, pytest.raises(httpx.ConnectError) as err:
        client.get(https_server + "/ca")
    assert "CERTIFICATE_VERIFY_FAILED" in str(err.value)


def test_a_certificate_for_other_names_is_refused(tmp_path, https_server):
    """The server certificate names the laptop: another name on the same address fails."""
    trusted = ssl.create_default_context(cafile=str(tmp_path / "tls" / tls.CA_CERT))
    host, port = https_server.removeprefix("https://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            trusted.wrap_socket(raw, server_hostname="elsewhere.example").close()


def test_ca_page_shows_fingerprint_downloads_steps_and_qr(tls_app, tmp_path):
    client = tls_app.test_client()
    before = client.get("/ca")
    assert before.status_code == 200 and "tls init" in before.text
    assert client.get("/ca.crt").status_code == 404
    tls_app.test_cli_runner().invoke(args=["tls", "init"])
    ca = x509.load_pem_x509_certificate((tmp_path / "tls" / tls.CA_CERT).read_bytes())
    for lang, words in (("ja", ["VPNとデバイス管理", "証明書信頼設定", "CA証明書"]),
                        ("en", ["VPN & Device Management", "Certificate Trust Settings",
                                "Install a certificate"])):
        page = client.get(f"/ca?lang={lang}", base_url="http://127.0.0.1:5000")
        assert tls.fingerprint(ca) in page.text
        assert 'href="/ca.crt"' in page.text and 'href="/ca.pem"' in page.text
        if lang == "ja" and not _catalogue_has("VPNとデバイス管理"):
            continue  # translations are compiled from the catalogue by the lead
        for word in words:
            assert word in page.text, word
    # Opened on the laptop itself, the QR code points tablets at its network address.
    assert "<svg" in page.text and "http://192.168.10.5:5000/ca" in page.text
    # Opened on a tablet, the QR code is the address it used.
    tablet = client.get("/ca", base_url="https://192.168.10.5:5000")
    assert "https://192.168.10.5:5000/ca" in tablet.text
    pem = client.get("/ca.pem")
    assert pem.headers["content-type"] == "application/x-pem-file"
    assert x509.load_pem_x509_certificate(pem.data) == ca
    assert 'filename="dvc-ca.pem"' in pem.headers["content-disposition"]


def _catalogue_has(text: str) -> bool:
    po = Path(__file__).resolve().parents[2] / "translations/ja/LC_MESSAGES/messages.mo"
    return po.exists() and text.encode() in po.read_bytes()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_readme_commands_serve_https_that_only_the_ca_opens(tmp_path):
    """Run the README's commands as a person would: the real `flask` on a fresh instance."""
    flask = str(Path(sys.executable).with_name("flask"))
    port = _free_port()
    env = {**os.environ, "DVC_INSTANCE_PATH": str(tmp_path / "instance"),
           "FLASK_SERVE_HOST": "127.0.0.1", "FLASK_SERVE_PORT": str(port)}
    env.pop("DATABASE_URL", None)
    cwd = Path(__file__).resolve().parents[2]
    subprocess.run([flask, "--app", "dvc", "init-db"], env=env, cwd=cwd, check=True,
                   capture_output=True, timeout=120)
    init = subprocess.run([flask, *shlex.split(README_TLS[0])[1:]], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    assert "CA fingerprint (SHA-256)" in init.stdout
    server = subprocess.Popen([flask, *shlex.split(README_TLS[1])[1:]], env=env, cwd=cwd,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        trusted = ssl.create_default_context(
            cafile=str(tmp_path / "instance" / "tls" / tls.CA_CERT))
        response = _wait_for(f"https://127.0.0.1:{port}/ca", trusted)
        assert response.status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"https://127.0.0.1:{port}/ca")
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
    assert f"dvc is running: https://127.0.0.1:{port}/" in output
    assert "up to date" in output  # serve --https kept what tls init made


def _wait_for(url: str, context: ssl.SSLContext) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(url, verify=context, timeout=5)
        except httpx.ConnectError as err:
            if "CERTIFICATE" in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
