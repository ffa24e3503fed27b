"""Loading the signing key and certificate, tolerantly, and checking they belong together.

PEM text reaches us through JSON bindings, ``cf set-env`` and copy-paste, so its
newlines are often escaped (``\\n``) or lost altogether. We rebuild each PEM
block from its BEGIN/END lines and base64 body instead of trusting the layout.
Salesforce only ever says "invalid assertion" when key and certificate do not
match, so that is checked here, at start-up, where the message can be precise.
Error messages describe what was found, never the material itself.
"""

from __future__ import annotations

import re
import textwrap
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sfdc.errors import ConfigError
from sfdc.telemetry.fingerprints import certificate_fingerprint

_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_KEY_LABELS = ("PRIVATE KEY", "RSA PRIVATE KEY")


def _blocks(text: str) -> list[tuple[str, str]]:
    """(label, base64 body) for each PEM block, whatever happened to the newlines."""
    text = text.replace("\\r", "").replace("\\n", "\n").replace("\r", "")
    return [(label, re.sub(r"\s+", "", body)) for label, body in _BLOCK.findall(text)]


def _pem(label: str, body: str) -> bytes:
    lines = "\n".join(textwrap.wrap(body, 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n".encode()


def _found(text: str, blocks: list[tuple[str, str]]) -> str:
    """What the text holds, in words that reveal nothing secret."""
    if blocks:
        return "found " + ", ".join(f"a '{label}' block" for label, _ in blocks)
    if not text.strip():
        return "found an empty value"
    if "-----BEGIN" in text:
        return "found a '-----BEGIN' line without its '-----END' line: truncated?"
    return f"found {len(text)} characters with no '-----BEGIN' line"


def load_private_key(text: str, *, source: str) -> rsa.RSAPrivateKey:
    """An unencrypted RSA key from PKCS#1 or PKCS#8 PEM text."""
    blocks = _blocks(text)
    if "ENCRYPTED" in text or any("ENCRYPTED" in label for label, _ in blocks):
        raise ConfigError(
            f"The private key from {source} is encrypted.",
            hint="Store it unencrypted in CredHub (which encrypts at rest): "
            "`openssl pkey -in key.pem -out plain.pem`.",
        )
    keys = [(label, body) for label, body in blocks if label in _KEY_LABELS]
    if not keys:
        raise ConfigError(
            f"{source} holds no PEM private key ({_found(text, blocks)}).",
            hint="Provide the key as PEM text starting with '-----BEGIN PRIVATE KEY-----' "
            "or '-----BEGIN RSA PRIVATE KEY-----' (`python -m sfdc keygen` makes one).",
        )
    label, body = keys[0]
    try:
        key = serialization.load_pem_private_key(_pem(label, body), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"The private key from {source} does not parse as {label} PEM.",
            hint="Copy the key again, whole; check it was not truncated or altered.",
        ) from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(
            f"The private key from {source} is not an RSA key; Salesforce's JWT flow "
            "signs with RS256 only.",
            hint="Generate an RSA key (2048 bits or more) with `python -m sfdc keygen`.",
        )
    return key


def load_certificate(text: str, *, source: str) -> x509.Certificate:
    """The first X.509 certificate in PEM text."""
    blocks = _blocks(text)
    certs = [body for label, body in blocks if label == "CERTIFICATE"]
    if not certs:
        raise ConfigError(
            f"{source} holds no PEM certificate ({_found(text, blocks)}).",
            hint="Provide the certificate uploaded to the connected app, as PEM text "
            "starting with '-----BEGIN CERTIFICATE-----'.",
        )
    try:
        return x509.load_pem_x509_certificate(_pem("CERTIFICATE", certs[0]))
    except ValueError as exc:
        raise ConfigError(
            f"The certificate from {source} does not parse as X.509 PEM.",
            hint="Copy the certificate again, whole; check it was not truncated or altered.",
        ) from exc


def check_pair(key: rsa.RSAPrivateKey, cert: x509.Certificate, *, source: str) -> None:
    """Refuse a key that cannot be verified with the certificate's public key."""
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise ConfigError(
            f"The private key and the certificate from {source} do not belong together "
            f"(certificate {certificate_fingerprint(cert)}); "
            "Salesforce would answer 'invalid assertion'.",
            hint="Bind the key that was generated with this certificate, or generate a new "
            "pair with `python -m sfdc keygen` and upload its certificate to the connected app.",
        )


def expiry_warning(cert: x509.Certificate, now: datetime) -> str | None:
    """A warning when the certificate has expired; Salesforce does not enforce it."""
    not_after = cert.not_valid_after_utc
    if not_after > now:
        return None
    return (
        f"The signing certificate {certificate_fingerprint(cert)} expired on {not_after:%Y-%m-%d}. "
        "Salesforce does not enforce certificate expiry, so tokens still work, but plan a "
        "rotation: `python -m sfdc keygen`, upload, rebind."
    )
