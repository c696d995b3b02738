"""TLS material for the embedded server's network front door: a self-signed certificate, or the user's own.

Both files live in a folder of the project's state directory (``.segmart/tls``,
mode 700, key mode 600). The user's own files (``SEGMART_TLS_CERT`` and
``SEGMART_TLS_KEY``, PEM) are copied there, so moving or editing the
originals never breaks a running server.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import socket
from pathlib import Path

from segmart.config import SegmartError

log = logging.getLogger(__name__)

CERT_NAME = "server.crt"
KEY_NAME = "server.key"
CERT_VAR = "SEGMART_TLS_CERT"
KEY_VAR = "SEGMART_TLS_KEY"
VALID_DAYS = 3650


def cert_path(folder: Path) -> Path:
    return folder / CERT_NAME


def _names(extra_hosts: list[str]) -> tuple[list[str], list[ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    """DNS names and IP addresses the certificate is valid for."""
    dns, ips = ["localhost"], [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    for host in [socket.gethostname(), *extra_hosts]:
        if not host or host in {"*", "0.0.0.0", "::"}:
            continue
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            if host not in dns:
                dns.append(host)
        else:
            if address not in ips:
                ips.append(address)
    return dns, ips


def write_self_signed(folder: Path, hosts: list[str]) -> None:
    """A new RSA key and a self-signed certificate for ``hosts`` (plus localhost and this machine's name)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    dns, ips = _names(hosts)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns[-1] if len(dns) > 1 else "localhost")])
    now = dt.datetime.now(dt.UTC)
    alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns]
    alt_names += [x509.IPAddress(ip) for ip in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(
        folder / KEY_NAME,
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ),
    )
    (folder / CERT_NAME).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    log.info("generated a self-signed TLS certificate in %s (valid for %s)", folder / CERT_NAME, ", ".join(dns))


def _write_private(path: Path, data: bytes) -> None:
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def install_user_files(folder: Path) -> bool:
    """Copy the user's certificate and key (``SEGMART_TLS_CERT``/``SEGMART_TLS_KEY``); False when none is set."""
    cert, key = os.environ.get(CERT_VAR), os.environ.get(KEY_VAR)
    if not cert and not key:
        return False
    if not cert or not key:
        raise SegmartError(f"Set both {CERT_VAR} and {KEY_VAR} (PEM files) to use your own certificate, or neither.")
    try:
        cert_bytes, key_bytes = Path(cert).read_bytes(), Path(key).read_bytes()
    except OSError as exc:
        raise SegmartError(f"Cannot read the TLS certificate or key ({exc.filename}): {exc.strerror}.") from exc
    if b"BEGIN" not in cert_bytes or b"PRIVATE KEY" not in key_bytes:
        raise SegmartError(f"{CERT_VAR} and {KEY_VAR} must be PEM files (a certificate and its unencrypted key).")
    if (folder / CERT_NAME).is_file() and (folder / CERT_NAME).read_bytes() == cert_bytes:
        return True
    _write_private(folder / KEY_NAME, key_bytes)
    (folder / CERT_NAME).write_bytes(cert_bytes)
    log.info("installed the TLS certificate %s for the embedded server", cert)
    return True


def _covers(cert_file: Path, hosts: list[str]) -> bool:
    """True when the certificate names every one of ``hosts`` (wildcard addresses need no name)."""
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    dns, ips = set(alt.get_values_for_type(x509.DNSName)), set(alt.get_values_for_type(x509.IPAddress))
    for host in hosts:
        if host in {"*", "0.0.0.0", "::"}:
            continue
        try:
            if ipaddress.ip_address(host) not in ips:
                return False
        except ValueError:
            if host not in dns:
                return False
    return True


def ensure(folder: Path, hosts: list[str]) -> Path:
    """The user's certificate when configured, else a self-signed one for ``hosts`` (made again when it
    does not name them, e.g. after ``--listen`` moved to another address). Returns the certificate's path."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if install_user_files(folder):
        return folder / CERT_NAME
    cert, key = folder / CERT_NAME, folder / KEY_NAME
    if not cert.is_file() or not key.is_file() or not _covers(cert, hosts):
        write_self_signed(folder, hosts)
    return cert
