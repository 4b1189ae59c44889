"""Tests for jobctl.app.certs: the generated pair is accepted and verified by OpenSSL."""

from __future__ import annotations

import socket
import ssl
import stat
import threading
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from jobctl.app.certs import (
    PAIR_NAME,
    generate_self_signed_cert_key,
    maybe_default_with_self_signed_certs,
)


def _handshake(cert_file: str, key_file: str, ca_pem: str, server_hostname: str) -> str:
    """Serve one TLS handshake with the pair; a verifying client connects; return the
    server certificate's subject common name as the client saw it."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert_file, key_file)
    client_ctx = ssl.create_default_context(cadata=ca_pem)
    listener = socket.create_server(("127.0.0.1", 0))
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            conn, _ = listener.accept()
            conn.settimeout(10)
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except BaseException as err:  # reported by the assertion below
            errors.append(err)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        port = listener.getsockname()[1]
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            client_ctx.wrap_socket(raw, server_hostname=server_hostname) as tls,
        ):
            peer = tls.getpeercert()
            tls.sendall(b"x")
        thread.join(10)
    finally:
        listener.close()
    assert not errors
    assert peer is not None
    for rdn in peer["subject"]:
        for attribute in rdn:
            if attribute[0] == "commonName":
                return str(attribute[1])
    raise AssertionError(f"no common name in {peer['subject']}")


def _split(pem: str) -> list[str]:
    marker = "-----END CERTIFICATE-----\n"
    return [part + marker for part in pem.split(marker) if part.strip()]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, bool]:
    directory = tmp_path_factory.mktemp("certs")
    paths = maybe_default_with_self_signed_certs("", "", str(directory / "sub"))
    return Path(paths.cert_file), Path(paths.key_file), paths.generated


@pytest.mark.parametrize("hostname", ["localhost", "127.0.0.1", "::1", socket.gethostname()])
def test_generated_pair_verifies_with_openssl(pair: tuple[Path, Path, bool], hostname: str) -> None:
    cert, key, generated = pair
    assert generated
    _serving, ca = _split(cert.read_text())
    common_name = _handshake(str(cert), str(key), ca, hostname)
    assert common_name.startswith("localhost@")


def test_wrong_name_is_rejected(pair: tuple[Path, Path, bool]) -> None:
    cert, key, _ = pair
    _, ca = _split(cert.read_text())
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(str(cert), str(key), ca, "not-this-host.example")


def test_key_file_is_private_and_pair_reused(pair: tuple[Path, Path, bool]) -> None:
    cert, key, _ = pair
    assert (cert.name, key.name) == (f"{PAIR_NAME}.crt", f"{PAIR_NAME}.key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    again = maybe_default_with_self_signed_certs("", "", str(cert.parent))
    assert (again.cert_file, again.generated) == (str(cert), False)


def test_given_files_are_used_as_is(tmp_path: Path) -> None:
    paths = maybe_default_with_self_signed_certs("a.crt", "a.key", str(tmp_path))
    assert (paths.cert_file, paths.key_file, paths.generated) == ("a.crt", "a.key", False)
    assert list(tmp_path.iterdir()) == []


def test_ip_host_goes_into_ip_sans(tmp_path: Path) -> None:
    cert_pem, key_pem = generate_self_signed_cert_key("10.1.2.3", [], [])
    (tmp_path / "c").write_bytes(cert_pem)
    (tmp_path / "k").write_bytes(key_pem)
    _, ca = _split(cert_pem.decode())
    assert _handshake(str(tmp_path / "c"), str(tmp_path / "k"), ca, "10.1.2.3").startswith(
        "10.1.2.3@"
    )


def _usage(cert: x509.Certificate) -> tuple[bool, bool, bool, bool]:
    ext = cert.extensions.get_extension_for_class(x509.KeyUsage)
    usage = ext.value
    return ext.critical, usage.digital_signature, usage.key_encipherment, usage.key_cert_sign


def test_certificates_follow_the_upstream_templates() -> None:
    now = datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=UTC)
    cert_pem, key_pem = generate_self_signed_cert_key(
        "my-host", ["10.0.0.1", "::1"], ["localhost"], now=now
    )
    serving, ca = (x509.load_pem_x509_certificate(p.encode()) for p in _split(cert_pem.decode()))
    stamp = int(now.timestamp())
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"my-host-ca@{stamp}"
    assert ca.issuer == ca.subject == serving.issuer
    assert serving.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        f"my-host@{stamp}"
    )
    for cert in (ca, serving):
        assert cert.version == x509.Version.v3
        assert cert.not_valid_before_utc == datetime(2026, 3, 4, 4, 6, 7, tzinfo=UTC)
        assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=365)
        assert 1 <= cert.serial_number < 2**63 - 1
        assert cert.signature_hash_algorithm is not None
        assert cert.signature_hash_algorithm.name == "sha256"
        public = cert.public_key()
        assert isinstance(public, rsa.RSAPublicKey)
        assert (public.key_size, public.public_numbers().e) == (2048, 65537)

    assert _usage(ca) == (True, True, True, True)
    ca_constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert (ca_constraints.critical, ca_constraints.value.ca) == (True, True)
    ca_key_id = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    with pytest.raises(x509.ExtensionNotFound):
        ca.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    # The CA signed both certificates.
    serving.verify_directly_issued_by(ca)
    ca.verify_directly_issued_by(ca)

    assert _usage(serving) == (True, True, True, False)
    constraints = serving.extensions.get_extension_for_class(x509.BasicConstraints)
    assert (constraints.critical, constraints.value.ca) == (True, False)
    eku = serving.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    authority = serving.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert authority.key_identifier == ca_key_id.digest
    sans = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["my-host", "localhost"]
    assert sans.get_values_for_type(x509.IPAddress) == [ip_address("10.0.0.1"), ip_address("::1")]

    assert key_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    serving_public, ca_public = serving.public_key(), ca.public_key()
    assert isinstance(serving_public, rsa.RSAPublicKey)
    assert isinstance(ca_public, rsa.RSAPublicKey)
    assert key.public_key().public_numbers() == serving_public.public_numbers()
    assert key.public_key().public_numbers() != ca_public.public_numbers()


def test_internationalized_dns_name_is_an_a_label() -> None:
    cert_pem, _ = generate_self_signed_cert_key("bücher.example", [], [])
    serving = x509.load_pem_x509_certificate(_split(cert_pem.decode())[0].encode())
    sans = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["xn--bcher-kva.example"]
