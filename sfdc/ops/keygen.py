"""A signing key and self-signed certificate for a Salesforce connected app.

What the original README did with ``credhub generate``: Salesforce needs only
the certificate's public key ("Use digital signatures" on the connected app),
so a self-signed certificate is the norm. The CredHub service JSON puts the
pair where the service looks by default: an entry whose ``value`` holds
``ca``, ``certificate`` and ``private_key``, as a CredHub certificate credential does.
Next to it goes a new Fernet ``encryption_key``: what seals connected orgs'
refresh tokens (``SFDC_ENCRYPTION_KEY``). It turns connected orgs on, which
also needs the connected app's ``consumer_secret`` in the same JSON. That one
is not ours to generate: Salesforce shows it once the connected app is saved
(with the certificate made here), so it can also be added to a JSON written
earlier, read from stdin rather than the command line, where shell history and
``ps`` would keep it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

# Salesforce accepts 2048-bit RSA and up; 2048 keeps signing fast.
KEY_SIZE = 2048
# Salesforce ignores certificate expiry, but a date gives rotation a reminder.
CERTIFICATE_LIFETIME = timedelta(days=730)


@dataclass(frozen=True)
class KeyPair:
    private_key_pem: str = field(repr=False)
    certificate_pem: str


def generate(
    common_name: str, now: datetime, lifetime: timedelta = CERTIFICATE_LIFETIME
) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + lifetime)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
    )


def new_encryption_key() -> str:
    """A new Fernet key (url-safe base64 of 32 random bytes) for ``SFDC_ENCRYPTION_KEY``."""
    return Fernet.generate_key().decode("ascii")


def credhub_json(
    pair: KeyPair,
    *,
    credential: str,
    consumer_key: str | None = None,
    username: str | None = None,
    api_key: str | None = None,
    encryption_key: str | None = None,
    consumer_secret: str | None = None,
) -> str:
    """The ``cf create-service credhub default NAME -c FILE`` document.

    It always holds an ``encryption_key``: ``encryption_key`` if given, else a new one.
    """
    document: dict[str, object] = {
        credential: {
            "type": "certificate",
            "value": {
                "ca": pair.certificate_pem,
                "certificate": pair.certificate_pem,
                "private_key": pair.private_key_pem,
            },
        }
    }
    if consumer_key:
        document["consumer_key"] = consumer_key
    if username:
        document["username"] = username
    if api_key:
        document["api_keys"] = api_key
    document["encryption_key"] = encryption_key or new_encryption_key()
    if consumer_secret:
        document["consumer_secret"] = consumer_secret
    return _dump(document)


def with_consumer_secret(document: str, consumer_secret: str) -> str:
    """A ``credhub_json`` document with ``consumer_secret`` set; all else unchanged."""
    parsed = json.loads(document)
    if not isinstance(parsed, dict):
        raise ValueError("not a CredHub service JSON object")
    parsed["consumer_secret"] = consumer_secret
    return _dump(parsed)


def consumer_secret_from(text: str) -> str:
    """The one line an operator pasted or piped, or ``ValueError`` (never quoting it)."""
    lines = text.strip().splitlines()
    if not lines:
        raise ValueError("no consumer secret was given on stdin")
    if len(lines) > 1 or any(char.isspace() for char in lines[0]):
        raise ValueError(
            "stdin held more than one word; give only the Consumer Secret, on one line"
        )
    return lines[0]


def _dump(document: dict[str, object]) -> str:
    return json.dumps(document, indent=2) + "\n"
