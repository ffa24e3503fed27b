"""Sealing at rest: a reader of Redis or the database gets nothing usable, a value opens
only where it was sealed for, and keys rotate without losing what is stored.

Values written by earlier releases are tested in ``test_sealing_upgrade``.
"""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest

from sfdc.tokens.sealing import (
    CacheSealer,
    ColumnSealer,
    Keyring,
    SealingKey,
    from_text,
    key_id_of,
)
from tests.conftest import ENCRYPTION_KEY, OLD_ENCRYPTION_KEY, KeyPair
from tests.sealing_support import derived_key, documented_key_id, open_binary, open_column

SECRET = "5Aep861refresh.token.value"
# Sealed by the first release of this format, with ENCRYPTION_KEY, for row "acme" and
# purpose "refresh_token". Every later release must open it: rows like it are in databases.
PINNED = "s2.8a5e99a2.KwU0SULZ8z7Sg_9-FAKu-41w7PZyS6UYsdeTLdPGju_URT9WbDe1Q0DTMw6r8VoG5BdnVPJl"
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


# -- database values: the text form -----------------------------------------------------


def test_sealed_value_hides_the_secret_and_opens_for_its_owner() -> None:
    sealer = ColumnSealer((ENCRYPTION_KEY,))
    sealed = sealer.seal(SECRET, name="acme", purpose="refresh_token")
    assert SECRET not in sealed
    assert sealed.startswith(f"s2.{documented_key_id(ENCRYPTION_KEY)}.")
    assert sealer.open(sealed, name="acme", purpose="refresh_token") == SECRET
    # Exactly as documented, read without our module:
    assert open_column(sealed, ENCRYPTION_KEY, name="acme", purpose="refresh_token") == SECRET
    assert sealer.seal(SECRET, name="acme", purpose="refresh_token") != sealed  # fresh nonce


def test_sealed_value_does_not_open_in_another_row_or_column(keypair: KeyPair) -> None:
    sealer = ColumnSealer((ENCRYPTION_KEY,))
    sealed = sealer.seal(SECRET, name="acme", purpose="refresh_token")
    assert sealer.open(sealed, name="other", purpose="refresh_token") is None
    assert sealer.open(sealed, name="acme", purpose="access_token") is None
    assert sealer.open(sealed, name="acme\x00refresh_token", purpose="") is None
    # Nor as a Redis entry under the same key.
    cache = CacheSealer(keypair.key, (ENCRYPTION_KEY,))
    binary = from_text(sealed)
    assert binary is not None
    assert cache.open(binary, context=b"acme") is None
    assert cache.open(binary, context=b"refresh_token\x00acme") is None


def test_another_key_opens_nothing() -> None:
    sealed = ColumnSealer((OLD_ENCRYPTION_KEY,)).seal(SECRET, name="acme", purpose="refresh_token")
    current = ColumnSealer((ENCRYPTION_KEY,))
    assert current.open(sealed, name="acme", purpose="refresh_token") is None
    assert current.open("not sealed", name="acme", purpose="x") is None
    assert current.open("", name="acme", purpose="x") is None


def test_an_unknown_key_id_refuses_and_names_the_key_it_needs() -> None:
    sealed = ColumnSealer((OLD_ENCRYPTION_KEY,)).seal(SECRET, name="acme", purpose="refresh_token")
    assert key_id_of(sealed) == documented_key_id(OLD_ENCRYPTION_KEY)
    current = ColumnSealer((ENCRYPTION_KEY,))
    assert current.open(sealed, name="acme", purpose="refresh_token") is None


def test_rotation_new_key_first_still_opens_old_rows_and_reseals_under_the_new_one() -> None:
    sealed = ColumnSealer((OLD_ENCRYPTION_KEY,)).seal(SECRET, name="acme", purpose="refresh_token")
    rotated = ColumnSealer((ENCRYPTION_KEY, OLD_ENCRYPTION_KEY))
    assert rotated.open(sealed, name="acme", purpose="refresh_token") == SECRET
    assert not rotated.is_current(sealed)
    resealed = rotated.seal(SECRET, name="acme", purpose="refresh_token")
    assert rotated.is_current(resealed)
    new_only = ColumnSealer((ENCRYPTION_KEY,))
    assert new_only.open(resealed, name="acme", purpose="refresh_token") == SECRET
    assert new_only.open(sealed, name="acme", purpose="refresh_token") is None


# -- tampering --------------------------------------------------------------------------


def _other(char: str) -> str:
    alphabet = "0123456789abcdef" if char in "0123456789abcdef" else _B64
    return alphabet[(alphabet.index(char) + 1) % len(alphabet)] if char in alphabet else "x"


def test_changing_any_character_of_a_database_value_refuses() -> None:
    sealer = ColumnSealer((ENCRYPTION_KEY, OLD_ENCRYPTION_KEY))
    sealed = sealer.seal(SECRET, name="acme", purpose="refresh_token")
    for index, char in enumerate(sealed):
        altered = sealed[:index] + _other(char) + sealed[index + 1 :]
        assert sealer.open(altered, name="acme", purpose="refresh_token") is None, index
    for cut in (1, 16, len(sealed) - 12, len(sealed) - 1):
        assert sealer.open(sealed[:cut], name="acme", purpose="refresh_token") is None
    padded = sealed + "=" * (-len(sealed) % 4 or 4)
    assert sealer.open(padded, name="acme", purpose="refresh_token") is None


def test_a_header_naming_another_configured_key_does_not_open() -> None:
    sealer = ColumnSealer((ENCRYPTION_KEY, OLD_ENCRYPTION_KEY))
    sealed = sealer.seal(SECRET, name="acme", purpose="refresh_token")
    renamed = sealed.replace(
        documented_key_id(ENCRYPTION_KEY), documented_key_id(OLD_ENCRYPTION_KEY), 1
    )
    assert key_id_of(renamed) == documented_key_id(OLD_ENCRYPTION_KEY)
    assert sealer.open(renamed, name="acme", purpose="refresh_token") is None


def test_flipping_any_bit_of_a_cache_entry_refuses(keypair: KeyPair) -> None:
    sealer = CacheSealer(keypair.key, (ENCRYPTION_KEY,))
    entry = sealer.seal(b'{"access_token": "00D"}', context=b"sfdc:abc:token")
    for index in range(len(entry)):
        for bit in (0x01, 0x80):
            altered = entry[:index] + bytes([entry[index] ^ bit]) + entry[index + 1 :]
            assert sealer.open(altered, context=b"sfdc:abc:token") is None, (index, bit)
    assert sealer.open(entry[:-1], context=b"sfdc:abc:token") is None
    assert sealer.open(entry[:12], context=b"sfdc:abc:token") is None


# -- Redis entries: the binary form -----------------------------------------------------


def test_cache_entries_open_only_under_their_key_name(
    keypair: KeyPair, other_keypair: KeyPair
) -> None:
    sealer = CacheSealer(keypair.key)
    entry = sealer.seal(b"plain", context=b"sfdc:abc:token")
    assert b"plain" not in entry
    assert sealer.open(entry, context=b"sfdc:abc:token") == b"plain"
    assert sealer.open(entry, context=b"sfdc:abc:blocked") is None
    assert CacheSealer(other_keypair.key).open(entry, context=b"sfdc:abc:token") is None


def test_cache_entries_are_sealed_with_the_encryption_key_when_there_is_one(
    keypair: KeyPair, other_keypair: KeyPair
) -> None:
    both = CacheSealer(keypair.key, (ENCRYPTION_KEY,))
    entry = both.seal(b"plain", context=b"k")
    assert key_id_of(entry) == documented_key_id(ENCRYPTION_KEY)
    assert open_binary(entry, derived_key(ENCRYPTION_KEY), b"redis\x00k") == b"plain"
    jwt_only = CacheSealer(keypair.key)
    assert jwt_only.open(entry, context=b"k") is None
    # Entries sealed before an encryption key was configured keep opening after.
    before = jwt_only.seal(b"earlier", context=b"k")
    assert both.open(before, context=b"k") == b"earlier"
    assert CacheSealer(other_keypair.key, (ENCRYPTION_KEY,)).open(before, context=b"k") is None


# -- keys -------------------------------------------------------------------------------


def test_values_sealed_by_this_release_open_in_later_ones() -> None:
    assert SealingKey.from_encryption_key(ENCRYPTION_KEY).key_id == "8a5e99a2"
    assert SealingKey.from_encryption_key(OLD_ENCRYPTION_KEY).key_id == "02ba129f"
    sealer = ColumnSealer((OLD_ENCRYPTION_KEY, ENCRYPTION_KEY))
    assert sealer.open(PINNED, name="acme", purpose="refresh_token") == SECRET


_SIGNING_KEY_ID = """
import sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from sfdc.tokens.sealing import SealingKey
print(SealingKey.from_signing_key(load_pem_private_key(sys.stdin.buffer.read(), None)).key_id)
"""


def test_key_ids_are_the_same_after_a_restart(keypair: KeyPair) -> None:
    fresh = subprocess.run(
        [sys.executable, "-c", _SIGNING_KEY_ID],
        input=keypair.pkcs1,  # the same key, written another way
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert fresh.stdout.strip() == SealingKey.from_signing_key(keypair.key).key_id
    assert CacheSealer(keypair.key).keyring.ids == (fresh.stdout.strip(),)


def test_a_keyring_seals_with_its_first_key_and_counts_a_repeated_key_once() -> None:
    new, old = (SealingKey.from_encryption_key(k) for k in (ENCRYPTION_KEY, OLD_ENCRYPTION_KEY))
    ring = Keyring([new, old, SealingKey.from_encryption_key(ENCRYPTION_KEY)])
    assert ring.ids == (new.key_id, old.key_id)
    assert key_id_of(ring.seal(b"x", place=b"p")) == new.key_id
    with pytest.raises(ValueError, match="at least one key"):
        Keyring([])
    with pytest.raises(ValueError, match="encryption key"):
        ColumnSealer(())


def test_no_key_material_in_any_repr(keypair: KeyPair) -> None:
    shown = " ".join(
        repr(thing)
        for thing in (
            SealingKey.from_encryption_key(ENCRYPTION_KEY),
            Keyring([SealingKey.from_signing_key(keypair.key)]),
            CacheSealer(keypair.key, (ENCRYPTION_KEY, OLD_ENCRYPTION_KEY)),
            ColumnSealer((ENCRYPTION_KEY, OLD_ENCRYPTION_KEY)),
        )
    )
    assert documented_key_id(ENCRYPTION_KEY) in shown  # ids, which tell nothing about keys
    for key in (ENCRYPTION_KEY, OLD_ENCRYPTION_KEY):
        derived = derived_key(key)
        for secret in (key, key[:12], derived.hex()[:12], base64.b64encode(derived).decode()[:12]):
            assert secret not in shown
    assert keypair.key_body[:40] not in shown
    assert "-----BEGIN" not in shown
