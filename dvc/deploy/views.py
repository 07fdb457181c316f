"""The CA page: tablets download the laptop's certificate authority and trust it once."""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from flask import Blueprint, Response, abort, render_template, request

from dvc.deploy import tls
from dvc.deploy.cli import tls_dir
from dvc.volunteers.reception import inline_qr

bp = Blueprint("deploy", __name__)
CA_FILENAME = "dvc-ca"


def _ca():
    return tls.load_cert(tls_dir())


def _is_loopback(hostname: str | None) -> bool:
    if hostname in (None, "localhost"):
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def page_urls(server_cert) -> list[str]:
    """Return the URLs of this page that a tablet can open: the one in the address bar, or the
    laptop's network addresses when the page was opened on the laptop itself."""
    here = urlsplit(request.host_url)
    if not _is_loopback(here.hostname):
        return [request.base_url]
    hosts = [a for a in tls.cert_subjects(server_cert).ips if ":" not in a
             and not ipaddress.ip_address(a).is_loopback]
    port = f":{here.port}" if here.port else ""
    return [f"{request.scheme}://{h}{port}{request.path}" for h in hosts] or [request.base_url]


@bp.route("/ca")
def ca_page():
    """Download the laptop's CA certificate, check its fingerprint, trust it on iPad/Android."""
    ca, server_cert = _ca(), tls.load_cert(tls_dir(), tls.SERVER_CERT)
    urls = page_urls(server_cert) if server_cert is not None else [request.base_url]
    return render_template(
        "deploy/ca.html", ca=ca, fingerprint=tls.fingerprint(ca) if ca else None,
        ca_name=tls.common_name(ca) if ca else "", secure=request.is_secure,
        codes=[(url, inline_qr(url)) for url in urls])


def _download(encoding, mimetype: str, extension: str) -> Response:
    """Send the CA certificate in one encoding (404 before `tls init`)."""
    ca = _ca()
    if ca is None:
        abort(404)
    return Response(ca.public_bytes(encoding), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{CA_FILENAME}.{extension}"',
        "Cache-Control": "no-cache"})


@bp.route("/ca.crt")
def ca_der():
    """The CA certificate in DER: iPad opens it as a profile, Android installs it."""
    return _download(serialization.Encoding.DER, "application/x-x509-ca-cert", "crt")


@bp.route("/ca.pem")
def ca_pem():
    """The CA certificate in PEM, for computers and Android versions that want text."""
    return _download(serialization.Encoding.PEM, "application/x-pem-file", "pem")
