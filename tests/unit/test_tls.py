"""The laptop's local CA and server certificate: made once, reissued when addresses change."""
from __future__ import annotations

import ipaddress
import stat
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from dvc.deploy import tls

NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)


def subjects(*ips, names=()):
    return tls.default_subjects(names, (), hostname="gym-laptop", addresses=list(ips))


def load(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_defaults_cover_the_lan_addresses_the_hostname_and_loopback():
    found = subjects("192.168.10.5", "10.0.0.7", names=["dvc.example"])
    assert found.dns == ("dvc.example", "gym-laptop", "gym-laptop.local", "localhost")
    assert found.ips == ("10.0.0.7", "127.0.0.1", "192.168.10.5")


def test_lan_addresses_are_ipv4_and_never_loopback():
    for address in tls.lan_addresses():
        parsed = ipaddress.ip_address(address)
        assert parsed.version == 4 and not parsed.is_loopback


def test_first_run_makes_a_ca_and_a_server_certificate_with_private_keys(tmp_path):
    state = tls.ensure_certificates(tmp_path, subjects("192.168.10.5"), NOW)
    assert state.ca_created and state.server_issued and state.reason == "new"
    for key in (tls.CA_KEY, tls.SERVER_KEY):
        assert stat.S_IMODE((tmp_path / key).stat().st_mode) == 0o600
    ca, server = load(tmp_path / tls.CA_CERT), load(tmp_path / tls.SERVER_CERT)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    server.verify_directly_issued_by(ca)
    assert tls.cert_subjects(server) == subjects("192.168.10.5")
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in usage
    # iPad refuses server certificates valid for more than 825 days.
    assert server.not_valid_after_utc - server.not_valid_before_utc < timedelta(days=825)
    assert state.ca_fingerprint == tls.fingerprint(ca) and len(state.ca_fingerprint) == 95


def test_a_new_address_reissues_the_server_certificate_but_keeps_the_ca(tmp_path):
    first = tls.ensure_certificates(tmp_path, subjects("192.168.10.5"), NOW)
    ca_before = (tmp_path / tls.CA_CERT).read_bytes()
    same = tls.ensure_certificates(tmp_path, subjects("192.168.10.5"), NOW + timedelta(days=1))
    assert not same.server_issued and same.reason == "up to date"
    moved = tls.ensure_certificates(tmp_path, subjects("172.16.0.9"), NOW + timedelta(days=2))
    assert moved.server_issued and moved.reason == "addresses changed" and not moved.ca_created
    assert (tmp_path / tls.CA_CERT).read_bytes() == ca_before
    assert moved.ca_fingerprint == first.ca_fingerprint
    assert "172.16.0.9" in tls.cert_subjects(load(tmp_path / tls.SERVER_CERT)).ips


def test_a_certificate_near_its_end_is_renewed(tmp_path):
    tls.ensure_certificates(tmp_path, subjects("192.168.10.5"), NOW)
    later = NOW + timedelta(days=tls.SERVER_DAYS - 10)
    assert tls.ensure_certificates(tmp_path, subjects("192.168.10.5"), later).reason == "expiring"


def test_a_ca_key_that_does_not_match_is_refused(tmp_path):
    tls.ensure_certificates(tmp_path / "a", subjects(), NOW)
    tls.ensure_certificates(tmp_path / "b", subjects(), NOW)
    (tmp_path / "a" / tls.CA_KEY).write_bytes((tmp_path / "b" / tls.CA_KEY).read_bytes())
    with pytest.raises(tls.TlsError, match="not the key"):
        tls.ensure_certificates(tmp_path / "a", subjects(), NOW)


def test_extra_names_are_remembered_for_later_reissues(tmp_path):
    tls.save_extras(tmp_path, ["centre.example"], ["192.0.2.4"])
    assert tls.saved_extras(tmp_path) == (["centre.example"], ["192.0.2.4"])
