"""The serving certificate: given files, or a self-signed pair in ``--cert-dir``.

Port of the parts of apiserver ``SecureServingOptions.MaybeDefaultWithSelfSignedCerts``
and client-go ``util/cert.GenerateSelfSignedCertKeyWithFixtures`` that KCM uses when no
``--tls-cert-file`` is given: a self-signed CA and a serving certificate it signs, for
the host name plus ``localhost``, ``127.0.0.1`` and ``::1``, valid one year. KCM keeps
the pair in memory unless ``--cert-dir`` is set; jobctl writes it to ``--cert-dir``
(``jobctl.crt``: serving certificate then CA; ``jobctl.key``) because Python's ``ssl``
loads certificates from files only, and reuses an existing pair there as upstream does.

Neither the ``cryptography`` package nor the ``openssl`` command is a dependency of
jobctl, and the ``ssl`` module cannot make keys, so the RSA key and the DER encoding are
made here: 2048-bit RSA from ``secrets`` (primes by trial division and Miller-Rabin), the
certificates signed with SHA-256 / PKCS #1 v1.5. Only generation happens here; every TLS
operation is OpenSSL's (through ``ssl``), and the tests check the result with it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import secrets
import socket
import textwrap
from base64 import b64encode
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

PAIR_NAME = "jobctl"
_VALIDITY = timedelta(days=365)
_KEY_BITS = 2048
_PUBLIC_EXPONENT = 65537
# FIPS 186-5 table B.1 asks 5 rounds for random 1024-bit candidates (error < 2^-100).
_MILLER_RABIN_ROUNDS = 8

# ---------------------------------------------------------------------------------
# DER (X.690) encoding, the handful of types X.509 needs


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(content)) + content


def _seq(*items: bytes) -> bytes:
    return _tlv(0x30, b"".join(items))


def _set(*items: bytes) -> bytes:
    return _tlv(0x31, b"".join(sorted(items)))


def _int(value: int) -> bytes:
    raw = value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True)
    return _tlv(0x02, raw)


def _oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    body = bytearray([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        body.extend(reversed(chunk))
    return _tlv(0x06, bytes(body))


def _utf8(text: str) -> bytes:
    return _tlv(0x0C, text.encode())


def _bitstring(data: bytes) -> bytes:
    return _tlv(0x03, b"\x00" + data)


def _octets(data: bytes) -> bytes:
    return _tlv(0x04, data)


def _bool_true() -> bytes:
    return _tlv(0x01, b"\xff")


def _null() -> bytes:
    return _tlv(0x05, b"")


def _time(when: datetime) -> bytes:
    if when.year < 2050:
        return _tlv(0x17, when.strftime("%y%m%d%H%M%SZ").encode())
    return _tlv(0x18, when.strftime("%Y%m%d%H%M%SZ").encode())


def _explicit(number: int, content: bytes) -> bytes:
    return _tlv(0xA0 | number, content)


_OID_RSA = "1.2.840.113549.1.1.1"
_OID_SHA256_RSA = "1.2.840.113549.1.1.11"
_OID_CN = "2.5.4.3"
_OID_BASIC_CONSTRAINTS = "2.5.29.19"
_OID_KEY_USAGE = "2.5.29.15"
_OID_EXT_KEY_USAGE = "2.5.29.37"
_OID_SUBJECT_KEY_ID = "2.5.29.14"
_OID_AUTHORITY_KEY_ID = "2.5.29.35"
_OID_SUBJECT_ALT_NAME = "2.5.29.17"
_OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1"

# DigestInfo prefix for SHA-256 (RFC 8017 section 9.2, note 1).
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")

# ---------------------------------------------------------------------------------
# RSA

_SMALL_PRIMES = [p for p in range(3, 2000) if all(p % d for d in range(2, int(p**0.5) + 1))]


def _probably_prime(n: int) -> bool:
    for p in _SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, r = n - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    for _ in range(_MILLER_RABIN_ROUNDS):
        a = secrets.randbelow(n - 3) + 2
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _random_prime(bits: int) -> int:
    while True:
        # Top two bits set so that p*q has exactly 2*bits bits; odd.
        candidate = secrets.randbits(bits) | (0b11 << (bits - 2)) | 1
        if candidate % _PUBLIC_EXPONENT != 1 and _probably_prime(candidate):
            return candidate


@dataclass(frozen=True)
class RSAKey:
    """An RSA private key (RFC 8017 RSAPrivateKey fields)."""

    n: int
    e: int
    d: int
    p: int
    q: int

    @classmethod
    def generate(cls, bits: int = _KEY_BITS) -> RSAKey:
        while True:
            p = _random_prime(bits // 2)
            q = _random_prime(bits // 2)
            if p == q:
                continue
            n = p * q
            lam = (p - 1) * (q - 1)
            try:
                d = pow(_PUBLIC_EXPONENT, -1, lam)
            except ValueError:
                continue
            if n.bit_length() == bits:
                return cls(n=n, e=_PUBLIC_EXPONENT, d=d, p=max(p, q), q=min(p, q))

    def public_key_der(self) -> bytes:
        """RSAPublicKey."""
        return _seq(_int(self.n), _int(self.e))

    def subject_public_key_info(self) -> bytes:
        return _seq(_seq(_oid(_OID_RSA), _null()), _bitstring(self.public_key_der()))

    def private_key_der(self) -> bytes:
        """RSAPrivateKey (PKCS #1), with the CRT values."""
        return _seq(
            _int(0),
            _int(self.n),
            _int(self.e),
            _int(self.d),
            _int(self.p),
            _int(self.q),
            _int(self.d % (self.p - 1)),
            _int(self.d % (self.q - 1)),
            _int(pow(self.q, -1, self.p)),
        )

    def sign_sha256(self, data: bytes) -> bytes:
        """RSASSA-PKCS1-v1_5 with SHA-256."""
        size = (self.n.bit_length() + 7) // 8
        digest_info = _SHA256_DIGEST_INFO + hashlib.sha256(data).digest()
        padded = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
        return pow(int.from_bytes(padded, "big"), self.d, self.n).to_bytes(size, "big")

    def key_id(self) -> bytes:
        """Subject key identifier: SHA-1 of the public key (RFC 5280 4.2.1.2 method 1)."""
        return hashlib.sha1(self.public_key_der(), usedforsecurity=False).digest()


# ---------------------------------------------------------------------------------
# certificates


def _name(common_name: str) -> bytes:
    return _seq(_set(_seq(_oid(_OID_CN), _utf8(common_name))))


def _extension(oid: str, value: bytes, critical: bool = False) -> bytes:
    return _seq(_oid(oid), *([_bool_true()] if critical else []), _octets(value))


def _key_usage(digital_signature: bool, key_encipherment: bool, cert_sign: bool) -> bytes:
    bits = (0x80 if digital_signature else 0) | (0x20 if key_encipherment else 0)
    bits |= 0x04 if cert_sign else 0
    return _tlv(0x03, bytes([0x02 if cert_sign else 0x05, bits]))


def _certificate(
    subject: str,
    issuer: str,
    subject_key: RSAKey,
    issuer_key: RSAKey,
    not_before: datetime,
    not_after: datetime,
    extensions: list[bytes],
) -> bytes:
    algorithm = _seq(_oid(_OID_SHA256_RSA), _null())
    tbs = _seq(
        _explicit(0, _int(2)),
        _int(secrets.randbits(127) | 1),
        algorithm,
        _name(issuer),
        _seq(_time(not_before), _time(not_after)),
        _name(subject),
        subject_key.subject_public_key_info(),
        _explicit(3, _seq(*extensions)),
    )
    return _seq(tbs, algorithm, _bitstring(issuer_key.sign_sha256(tbs)))


def _pem(kind: str, der: bytes) -> bytes:
    body = "\n".join(textwrap.wrap(b64encode(der).decode(), 64))
    return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n".encode()


def generate_self_signed_cert_key(
    host: str, alternate_ips: list[str], alternate_dns: list[str], now: datetime | None = None
) -> tuple[bytes, bytes]:
    """Port of GenerateSelfSignedCertKeyWithFixtures (without fixtures): PEM of the
    serving certificate followed by its CA, and PEM of the serving key."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    stamp = int(now.timestamp())
    not_before = now - timedelta(hours=1)
    not_after = now + _VALIDITY
    ca_key = RSAKey.generate()
    ca_name = f"{host}-ca@{stamp}"
    ca_cert = _certificate(
        ca_name,
        ca_name,
        ca_key,
        ca_key,
        not_before,
        not_after,
        [
            _extension(_OID_KEY_USAGE, _key_usage(True, True, True), critical=True),
            _extension(_OID_BASIC_CONSTRAINTS, _seq(_bool_true()), critical=True),
            _extension(_OID_SUBJECT_KEY_ID, _octets(ca_key.key_id())),
        ],
    )

    ips: list[str] = []
    dns: list[str] = []
    try:
        ipaddress.ip_address(host)
        ips.append(host)
    except ValueError:
        dns.append(host)
    ips += [ip for ip in alternate_ips if ip not in ips]
    dns += [name for name in alternate_dns if name not in dns]
    names = [_tlv(0x82, name.encode("idna")) for name in dns]
    names += [_tlv(0x87, ipaddress.ip_address(ip).packed) for ip in ips]

    key = RSAKey.generate()
    cert = _certificate(
        f"{host}@{stamp}",
        ca_name,
        key,
        ca_key,
        not_before,
        not_after,
        [
            _extension(_OID_KEY_USAGE, _key_usage(True, True, False), critical=True),
            _extension(_OID_EXT_KEY_USAGE, _seq(_oid(_OID_SERVER_AUTH))),
            _extension(_OID_BASIC_CONSTRAINTS, _seq(), critical=True),
            _extension(_OID_AUTHORITY_KEY_ID, _seq(_tlv(0x80, ca_key.key_id()))),
            _extension(_OID_SUBJECT_ALT_NAME, _seq(*names)),
        ],
    )
    return (
        _pem("CERTIFICATE", cert) + _pem("CERTIFICATE", ca_cert),
        _pem("RSA PRIVATE KEY", key.private_key_der()),
    )


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
