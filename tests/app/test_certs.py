"""Tests for jobctl.app.certs: the generated pair is accepted and verified by OpenSSL."""

from __future__ import annotations

import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest

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
