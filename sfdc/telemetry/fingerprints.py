"""Short names for secrets and keys: what logs and operators see instead of the thing.

A log line, error or repr never holds a token or a key (STYLE.md §10), yet an
operator must tell the token Salesforce refused from the one held now, and the
certificate uploaded to the connected app from the one bound in CredHub. A
truncated SHA-256 names each without revealing it, as google-auth hashes
sensitive fields before logging. Every such name is made here, so the two
forms below stay the only ones:

- ``secret_fingerprint``: 12 hex digits, for a secret (an access token) in
  log lines; only ever compared with another fingerprint from this service.
- ``certificate_fingerprint``, ``public_key_fingerprint``: ``sha256:`` and 16
  hex digits of the DER encoding, for public material an operator compares
  with what Salesforce and ``python -m sfdc check`` show.
"""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def secret_fingerprint(secret: str) -> str:
    """A short digest naming a secret in logs without revealing it."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def certificate_fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate, shortened: enough to compare with the connected app."""
    return _public(cert.public_bytes(serialization.Encoding.DER))


def public_key_fingerprint(key: rsa.RSAPublicKey) -> str:
    """SHA-256 of the public key (SubjectPublicKeyInfo): the same from a key or its certificate."""
    return _public(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _public(der: bytes) -> str:
    return "sha256:" + hashlib.sha256(der).hexdigest()[:16]
