"""Sealed secrets: a database reader gets nothing usable, and rows cannot swap secrets."""

from __future__ import annotations

from sfdc.orgs.vault import Vault
from tests.conftest import ENCRYPTION_KEY, OLD_ENCRYPTION_KEY

SECRET = "5Aep861refresh.token.value"


def test_sealed_value_hides_the_secret_and_opens_for_its_owner() -> None:
    vault = Vault((ENCRYPTION_KEY,))
    sealed = vault.seal(SECRET, name="acme", purpose="refresh_token")
    assert SECRET not in sealed
    assert vault.open(sealed, name="acme", purpose="refresh_token") == SECRET


def test_sealed_value_does_not_open_in_another_row_or_column() -> None:
    vault = Vault((ENCRYPTION_KEY,))
    sealed = vault.seal(SECRET, name="acme", purpose="refresh_token")
    assert vault.open(sealed, name="other", purpose="refresh_token") is None
    assert vault.open(sealed, name="acme", purpose="access_token") is None


def test_another_key_opens_nothing() -> None:
    sealed = Vault((OLD_ENCRYPTION_KEY,)).seal(SECRET, name="acme", purpose="refresh_token")
    assert Vault((ENCRYPTION_KEY,)).open(sealed, name="acme", purpose="refresh_token") is None
    assert Vault((ENCRYPTION_KEY,)).open("not sealed", name="acme", purpose="x") is None


def test_rotation_new_key_first_still_opens_old_rows() -> None:
    sealed = Vault((OLD_ENCRYPTION_KEY,)).seal(SECRET, name="acme", purpose="refresh_token")
    rotated = Vault((ENCRYPTION_KEY, OLD_ENCRYPTION_KEY))
    assert rotated.open(sealed, name="acme", purpose="refresh_token") == SECRET
    resealed = rotated.seal(SECRET, name="acme", purpose="refresh_token")
    assert Vault((ENCRYPTION_KEY,)).open(resealed, name="acme", purpose="refresh_token") == SECRET
