"""Fingerprints: what an operator compares, and what a log line may say about a secret."""

from __future__ import annotations

import re

from cryptography.hazmat.primitives import hashes

from sfdc.telemetry.fingerprints import (
    certificate_fingerprint,
    public_key_fingerprint,
    secret_fingerprint,
)
from tests.conftest import KeyPair


def test_a_certificate_fingerprint_is_the_sha256_that_other_tools_show(keypair: KeyPair) -> None:
    # What `openssl x509 -fingerprint -sha256` prints, lowercased, without colons.
    full = keypair.cert.fingerprint(hashes.SHA256()).hex()
    assert certificate_fingerprint(keypair.cert) == f"sha256:{full[:16]}"


def test_the_public_key_fingerprint_is_the_same_from_the_key_or_its_certificate(
    keypair: KeyPair, other_keypair: KeyPair
) -> None:
    from_key = public_key_fingerprint(keypair.key.public_key())
    assert from_key == public_key_fingerprint(keypair.cert.public_key())
    assert from_key != public_key_fingerprint(other_keypair.key.public_key())
    assert from_key != certificate_fingerprint(keypair.cert)
    assert re.fullmatch(r"sha256:[0-9a-f]{16}", from_key)


def test_a_secret_fingerprint_names_it_without_revealing_it() -> None:
    token = "00Dxx0000001gPL!AQ4AQFa6secretpart"
    named = secret_fingerprint(token)
    assert re.fullmatch(r"[0-9a-f]{12}", named)
    assert named == secret_fingerprint(token), "the same token, the same name, in every log line"
    assert named != secret_fingerprint(token + "x")
