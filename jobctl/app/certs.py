"""The serving certificate: given files, or a self-signed pair in ``--cert-dir``.

Port of the parts of apiserver ``SecureServingOptions.MaybeDefaultWithSelfSignedCerts``
and client-go ``util/cert.GenerateSelfSignedCertKeyWithFixtures`` that KCM uses when no
``--tls-cert-file`` is given: a self-signed CA and a serving certificate it signs, for
the host name plus ``localhost``, ``127.0.0.1`` and ``::1``, valid one year. KCM keeps
the pair in memory unless ``--cert-dir`` is set; jobctl writes it to ``--cert-dir``
(``jobctl.crt``: serving certificate then CA; ``jobctl.key``) because Python's ``ssl``
loads certificates from files only, and reuses an existing pair there as upstream does.

Keys, certificates and signatures come from the ``cryptography`` package (OpenSSL), with
the extensions Go's ``x509.CreateCertificate`` writes for the upstream templates.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PAIR_NAME = "jobctl"
_VALIDITY = timedelta(days=365)
_KEY_BITS = 2048
_PUBLIC_EXPONENT = 65537
# Go draws serials uniformly from [1, MaxInt64 - 1].
_MAX_SERIAL = 2**63 - 1


def _random_serial() -> int:
    return secrets.randbelow(_MAX_SERIAL - 1) + 1


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _a_label(name: str) -> str:
    """A DNS name as certificates carry it: internationalized labels in ASCII form."""
    return name if name.isascii() else name.encode("idna").decode("ascii")


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def generate_self_signed_cert_key(
    host: str, alternate_ips: list[str], alternate_dns: list[str], now: datetime | None = None
) -> tuple[bytes, bytes]:
    """Port of GenerateSelfSignedCertKeyWithFixtures (client-go util/cert/cert.go), without
    the fixture directory: PEM of the serving certificate followed by its CA, and the
    serving key as PKCS #1 PEM. Both certificates are valid from an hour before ``now``
    for a year; the CA signs the serving certificate with SHA-256 / RSA.

    Raises ValueError when ``host`` or an alternate name cannot go into a certificate."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    stamp = int(now.timestamp())
    valid_from = now - timedelta(hours=1)
    max_age = _VALIDITY

    ca_key = rsa.generate_private_key(public_exponent=_PUBLIC_EXPONENT, key_size=_KEY_BITS)
    ca_name = _name(f"{host}-ca@{stamp}")
    # Go adds a subject key id to CA certificates and, to certificates a different
    # issuer signs, the issuer's id as authority key id; both critical flags as Go sets.
    ca_key_id = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .serial_number(_random_serial())
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .not_valid_before(valid_from)
        .not_valid_after(valid_from + max_age)
        .public_key(ca_key.public_key())
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(ca_key_id, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = rsa.generate_private_key(public_exponent=_PUBLIC_EXPONENT, key_size=_KEY_BITS)
    ips: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    dns: list[str] = []
    try:
        ips.append(ipaddress.ip_address(host))
    except ValueError:
        dns.append(host)
    ips += [ipaddress.ip_address(ip) for ip in alternate_ips]
    dns += alternate_dns
    names: list[x509.GeneralName] = [x509.DNSName(_a_label(name)) for name in dns]
    names += [x509.IPAddress(ip) for ip in ips]
    cert = (
        x509.CertificateBuilder()
        .serial_number(_random_serial())
        .subject_name(_name(f"{host}@{stamp}"))
        .issuer_name(ca_name)
        .not_valid_before(valid_from)
        .not_valid_after(valid_from + max_age)
        .public_key(key.public_key())
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return _pem(cert) + _pem(ca_cert), key_pem


@dataclass(frozen=True)
class CertKeyPaths:
    cert_file: str
    key_file: str
    generated: bool


def maybe_default_with_self_signed_certs(
    cert_file: str, key_file: str, cert_dir: str, host: str | None = None
) -> CertKeyPaths:
    """Port of SecureServingOptions.MaybeDefaultWithSelfSignedCerts: the given pair, else
    the pair already in ``cert_dir``, else a new self-signed pair written there.

    Raises OSError when the directory cannot be written."""
    if cert_file or key_file:
        return CertKeyPaths(cert_file, key_file, generated=False)
    directory = Path(cert_dir)
    cert_path = directory / f"{PAIR_NAME}.crt"
    key_path = directory / f"{PAIR_NAME}.key"
    if cert_path.is_file() and key_path.is_file():
        return CertKeyPaths(str(cert_path), str(key_path), generated=False)
    cert_pem, key_pem = generate_self_signed_cert_key(
        host or "localhost",
        ["127.0.0.1", "::1"],
        sorted({"localhost", socket.gethostname()} - {host or "localhost"}),
    )
    directory.mkdir(parents=True, exist_ok=True, mode=0o755)
    _write_file(key_path, key_pem, 0o600)
    _write_file(cert_path, cert_pem, 0o644)
    return CertKeyPaths(str(cert_path), str(key_path), generated=True)


def _write_file(path: Path, data: bytes, mode: int) -> None:
    """Write atomically with ``mode`` (certutil.WriteCert/WriteKey)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)
