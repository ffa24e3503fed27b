"""A TLS front that behaves like Cloud Foundry's router, in front of a plain-HTTP backend.

CF's Gorouter terminates TLS for the app's route and forwards plain HTTP to the app
instance, adding ``X-Forwarded-Proto``, ``X-Forwarded-For`` and ``X-Vcap-Request-Id``
and passing the client's ``Host`` on (Cloud Foundry docs, "HTTP Headers" in "HTTP
Routing"). Debian's nginx does the same here, streaming bodies both ways (no request or
response buffering), with a throwaway CA and a certificate for ``localhost`` and
``127.0.0.1`` made with ``cryptography``. Clients trust the CA through
``REQUESTS_CA_BUNDLE`` (Python requests) and ``NODE_EXTRA_CA_CERTS`` (Node).
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.deploy import free_port

NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx")
START_WITHIN = 15  # seconds for nginx to accept connections, on a loaded machine


@dataclass(frozen=True)
class Front:
    """A running front: its https URL (no trailing slash) and the CA file clients trust."""

    url: str
    ca_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def write_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate it signed, for localhost and 127.0.0.1.

    Returns (CA certificate, server certificate chain, server key) as PEM files."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("sfdc client tests CA"))
        .issuer_name(_name("sfdc client tests CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_file, chain_file, key_file = (
        directory / "ca.crt",
        directory / "server.crt",
        directory / "server.key",
    )
    ca_file.write_bytes(ca.public_bytes(pem))
    chain_file.write_bytes(server.public_bytes(pem) + ca.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_file, chain_file, key_file


def nginx_binary() -> str:
    for candidate in NGINX_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    raise AssertionError("nginx is not installed: run `make nginx` (Debian's nginx-light)")


def _config(directory: Path, port: int, backend: str, chain: Path, key: Path) -> str:
    # As root, nginx's workers would drop to `nobody` and could not use this private
    # directory; run them as the user running the tests instead.
    user = "user root;" if os.getuid() == 0 else ""
    return f"""
{user}
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    client_max_body_size 0;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {chain};
        ssl_certificate_key {key};
        location / {{
            proxy_pass {backend};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Vcap-Request-Id $request_id;
            proxy_request_buffering off;
            proxy_buffering off;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


def _wait_listening(port: int, process: subprocess.Popen[bytes], directory: Path) -> None:
    deadline = time.monotonic() + START_WITHIN
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (directory / "error.log").read_text(errors="replace")
            raise AssertionError(f"nginx exited ({process.returncode}):\n{log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nginx did not listen on {port} within {START_WITHIN} s")


@contextmanager
def running_front(backend: str, directory: Path) -> Iterator[Front]:
    """nginx on a free loopback port, forwarding to ``backend`` (``http://host:port``)."""
    ca_file, chain, key = write_certificates(directory)
    port = free_port()
    config = directory / "nginx.conf"
    config.write_text(_config(directory, port, backend, chain, key))
    with (directory / "error.log").open("ab") as early_errors:
        process = subprocess.Popen(
            [nginx_binary(), "-p", str(directory), "-c", str(config), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=early_errors,
        )
    try:
        _wait_listening(port, process, directory)
        yield Front(url=f"https://localhost:{port}", ca_file=ca_file)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
