"""A local certificate authority and server certificate for `segments serve --self-signed`.

The official Customer.io SDKs only build `https://` URLs, so pointing one at
a local server needs TLS. `--self-signed` makes (once, then reuses) a CA and
a certificate for 127.0.0.1, ::1 and localhost under `<data dir>/tls/`;
clients trust the CA file (`REQUESTS_CA_BUNDLE` for the Python SDK,
`NODE_EXTRA_CA_CERTS` for Node.js). With a real certificate, set
`SEGMENTS_TLS_CERT` and `SEGMENTS_TLS_KEY` instead.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

VALID_DAYS = 825  # the longest validity Apple's TLS clients accept for a server certificate
RENEW_BEFORE = datetime.timedelta(days=30)
NAMES = ("localhost",)
ADDRESSES = ("127.0.0.1", "::1")


@dataclass(frozen=True, kw_only=True)
class LocalCertificate:
    ca: Path  # what clients trust
    cert: Path
    key: Path


def local_certificate(data_dir: Path, *, now: datetime.datetime | None = None) -> LocalCertificate:
    """The certificate under `data_dir/tls`, made anew if missing or about to expire."""
    from cryptography import x509

    now = now or datetime.datetime.now(datetime.UTC)
    directory = data_dir / "tls"
    files = LocalCertificate(ca=directory / "ca.pem", cert=directory / "server.pem", key=directory / "server-key.pem")
    if all(path.exists() for path in (files.ca, files.cert, files.key)):
        certificate = x509.load_pem_x509_certificate(files.cert.read_bytes())
        if certificate.not_valid_after_utc - RENEW_BEFORE > now:
            return files
    directory.mkdir(parents=True, exist_ok=True)
    ca_pem, cert_pem, key_pem = _issue(now)
    files.ca.write_bytes(ca_pem)
    files.cert.write_bytes(cert_pem)
    files.key.touch(mode=0o600)
    files.key.write_bytes(key_pem)
    return files


def _issue(now: datetime.datetime) -> tuple[bytes, bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Segments (local)"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    valid_from, valid_to = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=VALID_DAYS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Segments local CA"))
        .issuer_name(name("Segments local CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_to)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    alternative_names = [x509.DNSName(n) for n in NAMES] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ADDRESSES]
    server = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_to)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return ca.public_bytes(pem), server.public_bytes(pem), key_pem
