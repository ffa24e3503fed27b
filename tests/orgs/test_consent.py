"""The connect link's state and PKCE pair: what lets a browser in, and only once."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from sfdc.errors import RequestError
from sfdc.orgs.consent import STATE_LIFETIME, StateSigner, pkce_pair
from tests.conftest import ENCRYPTION_KEY, OLD_ENCRYPTION_KEY

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_state_round_trips_to_its_nonce() -> None:
    signer = StateSigner((ENCRYPTION_KEY,))
    state, nonce, expires_at = signer.issue(NOW)
    assert signer.nonce(state, NOW + timedelta(minutes=5)) == nonce
    assert expires_at == NOW + STATE_LIFETIME
    assert nonce not in state  # the nonce travels signed-and-encoded, but is not the state


def test_forged_state_is_refused() -> None:
    ours = StateSigner((ENCRYPTION_KEY,))
    theirs = StateSigner((OLD_ENCRYPTION_KEY,))
    forged, _, _ = theirs.issue(NOW)
    with pytest.raises(RequestError) as caught:
        ours.nonce(forged, NOW)
    assert caught.value.code == "invalid_state"
    assert "new connect link" in caught.value.hint


@pytest.mark.parametrize("mangle", [lambda s: s[:-2] + "AA", lambda s: "x" + s, lambda s: ""])
def test_altered_state_is_refused(mangle: object) -> None:
    signer = StateSigner((ENCRYPTION_KEY,))
    state, _, _ = signer.issue(NOW)
    with pytest.raises(RequestError) as caught:
        signer.nonce(mangle(state), NOW)  # type: ignore[operator]
    assert caught.value.code == "invalid_state"


def test_expired_state_is_refused() -> None:
    signer = StateSigner((ENCRYPTION_KEY,))
    state, _, _ = signer.issue(NOW)
    with pytest.raises(RequestError) as caught:
        signer.nonce(state, NOW + STATE_LIFETIME)
    assert caught.value.code == "state_expired"


def test_state_survives_key_rotation() -> None:
    state, nonce, _ = StateSigner((OLD_ENCRYPTION_KEY,)).issue(NOW)
    rotated = StateSigner((ENCRYPTION_KEY, OLD_ENCRYPTION_KEY))
    assert rotated.nonce(state, NOW) == nonce


def test_pkce_challenge_is_unpadded_base64url_sha256_of_the_verifier() -> None:
    verifier, challenge = pkce_pair()
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert 43 <= len(verifier) <= 128  # RFC 7636's bounds
    assert pkce_pair()[0] != verifier
