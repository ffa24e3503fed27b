"""The assertion Salesforce receives: claims and a signature its certificate verifies."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from sfdc.tokens.assertion import ASSERTION_LIFETIME, LIVE_AFTER_EXP, Signer, claims
from tests.conftest import KeyPair

NOW = datetime(2026, 11, 23, 12, 0, 0, 750000, tzinfo=UTC)


def _segment(part: str) -> dict[str, object]:
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def test_claims_carry_issuer_subject_audience_and_expiry() -> None:
    claim_set = claims(NOW, issuer="key", subject="user@example.com", audience="https://x")
    assert claim_set == {
        "iss": "key",
        "sub": "user@example.com",
        "aud": "https://x",
        "exp": int((NOW + ASSERTION_LIFETIME).timestamp()),
    }


def test_expiry_is_never_more_than_three_minutes_ahead() -> None:
    exp = claims(NOW, issuer="k", subject="s", audience="a")["exp"]
    assert exp <= (NOW + timedelta(minutes=3)).timestamp()
    # ...and not needlessly short: within a second of the documented limit.
    assert exp > (NOW + timedelta(minutes=3) - timedelta(seconds=1)).timestamp()


def test_signature_verifies_with_the_certificate_public_key(keypair: KeyPair) -> None:
    assertion = Signer(keypair.key).sign(claims(NOW, issuer="k", subject="s", audience="a"))
    header, payload = assertion.claim.split(".")
    signature = base64.urlsafe_b64decode(assertion.signature + "==")
    keypair.cert.public_key().verify(  # type: ignore[call-arg]
        signature, assertion.claim.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    assert _segment(header)["alg"] == "RS256"
    assert _segment(payload)["sub"] == "s"
    assert assertion.token == f"{assertion.claim}.{assertion.signature}"


def test_signature_does_not_verify_with_another_certificate(
    keypair: KeyPair, other_keypair: KeyPair
) -> None:
    assertion = Signer(keypair.key).sign(claims(NOW, issuer="k", subject="s", audience="a"))
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            assertion.token,
            other_keypair.cert.public_key(),
            algorithms=["RS256"],
            audience="a",
            options={"verify_exp": False},
        )
    with pytest.raises(InvalidSignature):
        other_keypair.cert.public_key().verify(  # type: ignore[call-arg]
            base64.urlsafe_b64decode(assertion.signature + "=="),
            assertion.claim.encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )


def test_assertion_stays_live_past_exp_by_the_skew_margin(keypair: KeyPair) -> None:
    assertion = Signer(keypair.key).sign(claims(NOW, issuer="k", subject="s", audience="a"))
    assert assertion.is_live(NOW)
    assert assertion.is_live(assertion.expires_at + LIVE_AFTER_EXP - timedelta(seconds=1))
    assert not assertion.is_live(assertion.expires_at + LIVE_AFTER_EXP)


def test_repr_hides_the_signed_token(keypair: KeyPair) -> None:
    assertion = Signer(keypair.key).sign(claims(NOW, issuer="k", subject="s", audience="a"))
    assert assertion.signature not in repr(assertion)
    assert "BEGIN" not in repr(Signer(keypair.key))
