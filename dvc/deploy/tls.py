"""A local certificate authority and the laptop's server certificate (HTTPS on the centre's Wi-Fi).

Tablets' cameras only work on secure pages, and a gymnasium has no public DNS name, so the
laptop is its own certificate authority: tablets trust the CA once (a profile on iPad, a CA
certificate on Android), and the server certificate is reissued from it whenever the laptop's
addresses change (a new Wi-Fi hands out a new address) without touching the tablets again.

No Flask here: everything takes a directory, the names, and the time.
"""
from __future__ import annotations

import ipaddress
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_CERT, CA_KEY = "ca.crt", "ca.key"
SERVER_CERT, SERVER_KEY = "server.crt", "server.key"
SUBJECTS = "subjects.json"  # the extra --name / --ip given to `tls init`, kept for reissues
CA_DAYS = 3650
# Apple refuses TLS server certificates valid for more than 825 days even from a CA the user
# installed; 397 days is what browsers accept from any CA, so nothing ever objects.
SERVER_DAYS = 397
RENEW_BEFORE = timedelta(days=30)
ORGANISATION = "dvc field laptop"


@dataclass(frozen=True)
class Subjects:
    """The names and addresses the server certificate is valid for."""

    dns: tuple[str, ...]
    ips: tuple[str, ...]

    @classmethod
    def of(cls, dns, ips) -> "Subjects":
        names = sorted({n.strip().lower().rstrip(".") for n in dns if n and n.strip()})
        addresses = sorted({str(ipaddress.ip_address(i.strip())) for i in ips if i and i.strip()},
                           key=lambda a: (ipaddress.ip_address(a).version,
                                          ipaddress.ip_address(a)))
        return cls(tuple(names), tuple(addresses))


@dataclass(frozen=True)
class TlsState:
    """What `ensure_certificates` found or did."""

    ca_created: bool
    server_issued: bool
    reason: str          # why the server certificate was (re)issued, or "up to date"
    subjects: Subjects
    ca_fingerprint: str
    server_not_after: datetime


class TlsError(RuntimeError):
    """The TLS files are unusable (unreadable, or the CA key does not match the CA)."""


def lan_addresses() -> list[str]:
    """Return this machine's IPv4 addresses other than loopback (no packet is sent)."""
    found: set[str] = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(info[4][0])
    except OSError:
        pass
    # The address of the interface that would route to a private address: connect() on a UDP
    # socket only chooses the route and sends nothing. Linux often resolves the hostname to
    # 127.0.1.1 only, and this finds the Wi-Fi address there.
    for probe in ("10.255.255.255", "192.168.255.255"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.connect((probe, 9))
                found.add(sock.getsockname()[0])
        except OSError:
            pass
    return sorted((a for a in found if not ipaddress.ip_address(a).is_loopback
                   and not ipaddress.ip_address(a).is_unspecified),
                  key=ipaddress.ip_address)


def default_subjects(names=(), ips=(), *, hostname: str | None = None,
                     addresses: list[str] | None = None) -> Subjects:
    """Return the laptop's names and addresses plus any given: every non-loopback IPv4, the
    hostname and hostname.local, localhost and 127.0.0.1."""
    host = (hostname if hostname is not None else socket.gethostname()).split(".")[0]
    dns = ["localhost", *([host, f"{host}.local"] if host else []), *names]
    found = lan_addresses() if addresses is None else addresses
    return Subjects.of(dns, ["127.0.0.1", *found, *ips])


def _write(path: Path, data: bytes, *, secret: bool = False) -> None:
    """Write a file whole (a crash leaves the old one), private when it holds a key."""
    tmp = path.with_name(path.name + ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(tmp, flags, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    if secret:
        tmp.chmod(0o600)  # also when the file existed with wider rights
    os.replace(tmp, path)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def fingerprint(cert: x509.Certificate) -> str:
    """Return the SHA-256 fingerprint as tablets show it: AB:CD:..."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def _create_ca(now: datetime, label: str):
    key = ec.generate_private_key(ec.SECP256R1())
    # The name iPad shows for the profile: which laptop, and since when.
    name = _name(f"dvc local CA {label} {now:%Y-%m-%d}".replace("  ", " "))
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _issue_server(ca_key, ca_cert: x509.Certificate, subjects: Subjects, now: datetime):
    key = ec.generate_private_key(ec.SECP256R1())
    alt = [x509.DNSName(n) for n in subjects.dns]
    alt += [x509.IPAddress(ipaddress.ip_address(a)) for a in subjects.ips]
    common = (subjects.dns or subjects.ips or ("dvc",))[0]
    cert = (x509.CertificateBuilder()
            .subject_name(_name(common)).issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=SERVER_DAYS))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_encipherment=False, key_cert_sign=False,
                crl_sign=False, content_commitment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def cert_subjects(cert: x509.Certificate) -> Subjects:
    """Return the names and addresses a certificate is valid for."""
    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return Subjects((), ())
    return Subjects.of(alt.get_values_for_type(x509.DNSName),
                       [str(a) for a in alt.get_values_for_type(x509.IPAddress)])


def common_name(cert: x509.Certificate) -> str:
    """Return the name a tablet shows for a certificate."""
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def load_cert(tls_dir: Path, name: str = CA_CERT) -> x509.Certificate | None:
    """Return a certificate of the folder (the CA's, or SERVER_CERT), or None before `tls init`."""
    path = Path(tls_dir) / name
    return x509.load_pem_x509_certificate(path.read_bytes()) if path.exists() else None


def _load_ca(tls_dir: Path):
    try:
        cert = x509.load_pem_x509_certificate((tls_dir / CA_CERT).read_bytes())
        key = serialization.load_pem_private_key((tls_dir / CA_KEY).read_bytes(), None)
    except (OSError, ValueError) as err:
        raise TlsError(f"cannot read the certificate authority in {tls_dir}: {err}") from None
    if key.public_key() != cert.public_key():
        raise TlsError(f"{tls_dir / CA_KEY} is not the key of {tls_dir / CA_CERT}")
    return key, cert


def _why_reissue(tls_dir: Path, ca_cert: x509.Certificate, subjects: Subjects,
                 now: datetime) -> str | None:
    cert_path, key_path = tls_dir / SERVER_CERT, tls_dir / SERVER_KEY
    if not cert_path.exists() or not key_path.exists():
        return "new"
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except ValueError:
        return "unreadable"
    if cert.issuer != ca_cert.subject:
        return "new CA"
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (InvalidSignature, ValueError, TypeError):
        return "new CA"
    if cert_subjects(cert) != subjects:
        return "addresses changed"
    if cert.not_valid_after_utc - now < RENEW_BEFORE:
        return "expiring"
    return None


def saved_extras(tls_dir: Path) -> tuple[list[str], list[str]]:
    """Return the extra names and addresses given to an earlier `tls init`."""
    path = Path(tls_dir) / SUBJECTS
    if not path.exists():
        return [], []
    data = json.loads(path.read_text())
    return list(data.get("names", [])), list(data.get("ips", []))


def save_extras(tls_dir: Path, names, ips) -> None:
    """Remember the extra names and addresses so that later reissues keep them."""
    Path(tls_dir).mkdir(parents=True, exist_ok=True)
    _write(Path(tls_dir) / SUBJECTS,
           json.dumps({"names": sorted(set(names)), "ips": sorted(set(ips))}).encode())


def ensure_certificates(tls_dir: Path, subjects: Subjects, now: datetime, *,
                        label: str = "") -> TlsState:
    """Create the CA once, and (re)issue the server certificate when it does not match."""
    tls_dir = Path(tls_dir)
    tls_dir.mkdir(parents=True, exist_ok=True)
    tls_dir.chmod(0o700)
    ca_created = not (tls_dir / CA_CERT).exists()
    if ca_created:
        ca_key, ca_cert = _create_ca(now, label)
        _write(tls_dir / CA_KEY, _key_pem(ca_key), secret=True)
        _write(tls_dir / CA_CERT, ca_cert.public_bytes(serialization.Encoding.PEM))
    else:
        ca_key, ca_cert = _load_ca(tls_dir)
    reason = _why_reissue(tls_dir, ca_cert, subjects, now)
    if reason:
        key, cert = _issue_server(ca_key, ca_cert, subjects, now)
        _write(tls_dir / SERVER_KEY, _key_pem(key), secret=True)
        _write(tls_dir / SERVER_CERT, cert.public_bytes(serialization.Encoding.PEM))
    else:
        cert = x509.load_pem_x509_certificate((tls_dir / SERVER_CERT).read_bytes())
    return TlsState(ca_created=ca_created, server_issued=reason is not None,
                    reason=reason or "up to date", subjects=subjects,
                    ca_fingerprint=fingerprint(ca_cert),
                    server_not_after=cert.not_valid_after_utc)

