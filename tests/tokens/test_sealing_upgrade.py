"""An upgrade loses nothing: what the previous release sealed still opens in this one.

That release sealed Redis entries with ``Sealer`` (AES-GCM under a key derived
from the signing key, ``nonce + ciphertext``) and database values with
``Vault`` (Fernet tokens of JSON). This release only reads those formats, so
the writers are kept below as frozen copies, the only place they still exist.
The service side of each test is this release's code, started on the Redis
and the database those writers filled.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
import requests
from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from sfdc.emulator import running_emulator
from sfdc.orgs.reseal import reseal
from sfdc.orgs.store import ConnectionStore
from sfdc.settings.settings import Settings, load_settings
from sfdc.tokens import exchange as codec
from sfdc.tokens.sealing import CacheSealer, ColumnSealer
from sfdc.tokens.service import TokenService
from sfdc.tokens.shared_cache import namespace
from sfdc.web import create_app
from sfdc.web.extension import CONNECTIONS_KEY, KEY
from tests.conftest import (
    API_KEY,
    CONSUMER_KEY,
    CONSUMER_SECRET,
    ENCRYPTION_KEY,
    OLD_ENCRYPTION_KEY,
    FakeClock,
    KeyPair,
)
from tests.emulated import stats
from tests.orgs_support import (
    connect,
    connected_env,
    decide,
    org_config,
    refresh_at,
    stored_refresh_token,
)
from tests.sealing_support import open_column

# == FROZEN: the previous release's writers (commit c14269b) ===========================
# sfdc/tokens/sealing.py ``Sealer`` and sfdc/orgs/vault.py ``Vault``, their constructors
# and ``seal`` verbatim. Never edit them: rows and entries written this way are out there.

_INFO = b"sfdc-token-service/cache-key/v1"
_NONCE_BYTES = 12  # GCM's standard nonce; random per entry


class PreviousReleaseSealer:
    """Encrypts and authenticates cache entries with a key derived from the signing key."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        material = private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material)
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, *, context: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, context)


class PreviousReleaseVault:
    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise ValueError("a vault needs at least one key")
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def seal(self, secret: str, *, name: str, purpose: str) -> str:
        plaintext = json.dumps({"name": name, "purpose": purpose, "secret": secret})
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")


# == end of frozen code ================================================================

SECRET = "5Aep861refresh.token.value"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
ACME = {**AUTH, "X-Sfdc-Connection": "acme"}
QUERY = "/api/data/v60.0/query?q=SELECT+Id+FROM+Account"


def test_a_previous_release_redis_entry_opens(keypair: KeyPair, other_keypair: KeyPair) -> None:
    entry = PreviousReleaseSealer(keypair.key).seal(b"cached", context=b"sfdc:abc:token")
    assert CacheSealer(keypair.key).open(entry, context=b"sfdc:abc:token") == b"cached"
    with_orgs = CacheSealer(keypair.key, (ENCRYPTION_KEY,))
    assert with_orgs.open(entry, context=b"sfdc:abc:token") == b"cached"
    assert with_orgs.open(entry, context=b"sfdc:abc:blocked") is None
    assert CacheSealer(other_keypair.key).open(entry, context=b"sfdc:abc:token") is None


def test_a_previous_release_database_value_opens_and_rotates() -> None:
    sealed = PreviousReleaseVault((OLD_ENCRYPTION_KEY,)).seal(
        SECRET, name="acme", purpose="refresh_token"
    )
    rotated = ColumnSealer((ENCRYPTION_KEY, OLD_ENCRYPTION_KEY))
    assert rotated.open(sealed, name="acme", purpose="refresh_token") == SECRET
    assert rotated.open(sealed, name="other", purpose="refresh_token") is None
    assert rotated.open(sealed, name="acme", purpose="access_token") is None
    assert not rotated.is_current(sealed)  # so `reseal` moves it to the new format
    assert (
        ColumnSealer((ENCRYPTION_KEY,)).open(sealed, name="acme", purpose="refresh_token") is None
    )


# -- a whole deployment: Redis and a connections database -------------------------------


@pytest.fixture
def org(keypair: KeyPair) -> Iterator[Any]:
    with running_emulator(org_config(keypair, rotate=False)) as running:
        yield running


@pytest.fixture
def live_clock() -> FakeClock:
    """Starts at the real now, since the emulator checks exp against real time."""
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def settings(
    org: Any, seed_env: dict[str, str], database_url: str, shared_redis: tuple[str, str]
) -> Settings:
    env = connected_env(seed_env, org.url, database_url)
    return load_settings(
        {**env, "REDIS_URL": shared_redis[0], "SFDC_CACHE_PREFIX": shared_redis[1]}
    )


def _instance(settings: Settings, clock: FakeClock, started: list[Any]) -> FlaskClient:
    app = create_app(settings, clock=clock)
    started.append(app.extensions[CONNECTIONS_KEY].store)
    return app.test_client()


@pytest.fixture
def started() -> Iterator[list[Any]]:
    stores: list[Any] = []
    yield stores
    for store in stores:
        store.dispose()


def _engine(database_url: str) -> Any:
    return create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))


def _as_the_previous_release_sealed(value: str, *, name: str, purpose: str) -> str:
    secret = open_column(value, ENCRYPTION_KEY, name=name, purpose=purpose)
    return PreviousReleaseVault((ENCRYPTION_KEY,)).seal(secret, name=name, purpose=purpose)


_CONNECTIONS = "SELECT name, refresh_token, access_token FROM connections"
_SET_CONNECTION = "UPDATE connections SET refresh_token = :r, access_token = :a WHERE name = :n"
_REQUESTS = "SELECT nonce, code_verifier FROM consent_requests"
_SET_REQUEST = "UPDATE consent_requests SET code_verifier = :v WHERE nonce = :n"


def _rewrite_as_the_previous_release(database_url: str, settings: Settings, plain: bytes) -> None:
    """Every sealed value, sealed again exactly as the previous release sealed it."""
    engine = _engine(database_url)
    try:
        with engine.begin() as db:
            for name, refresh, access in db.execute(text(_CONNECTIONS)).all():
                refresh = _as_the_previous_release_sealed(
                    refresh, name=name, purpose="refresh_token"
                )
                access = _as_the_previous_release_sealed(access, name=name, purpose="access_token")
                db.execute(text(_SET_CONNECTION), {"r": refresh, "a": access, "n": name})
            for nonce, verifier in db.execute(text(_REQUESTS)).all():
                verifier = _as_the_previous_release_sealed(
                    verifier, name=nonce, purpose="code_verifier"
                )
                db.execute(text(_SET_REQUEST), {"v": verifier, "n": nonce})
            stored = [*db.execute(text(_CONNECTIONS)).all(), *db.execute(text(_REQUESTS)).all()]
    finally:
        engine.dispose()
    assert len(stored) == 2  # acme, and beta's pending link
    assert all(value.startswith("gAAAAA") for row in stored for value in row[1:])  # Fernet
    assert settings.redis is not None
    token_key = f"{namespace(settings)}:token"
    entry = PreviousReleaseSealer(settings.private_key).seal(plain, context=token_key.encode())
    assert redis.Redis.from_url(settings.redis.url).set(token_key, entry, keepttl=True, xx=True)


def test_an_upgrade_keeps_connections_links_and_the_cached_token(
    settings: Settings,
    org: Any,
    live_clock: FakeClock,
    database_url: str,
    started: list[Any],
) -> None:
    # Yesterday: "acme" connected, a link for "beta" opened and approved but its callback
    # not yet called, the JWT token cached in Redis.
    yesterday = create_app(settings, clock=live_clock)
    web = yesterday.test_client()
    connect(web)
    link = web.post("/connections", json={"name": "beta"}, headers=AUTH).json
    back = decide(link["authorize_url"])  # type: ignore[index]
    jwt_token = web.get("/token", headers=AUTH).json["access_token"]  # type: ignore[index]
    acme_token = web.get("/token", headers=ACME).json["access_token"]  # type: ignore[index]
    service: TokenService = yesterday.extensions[KEY]
    plain = codec.dumps(service.current())
    yesterday.extensions[CONNECTIONS_KEY].store.dispose()
    _rewrite_as_the_previous_release(database_url, settings, plain)
    asked = stats(org.url)["token_requests"]

    # Today: this release, started on the same Redis and database.
    today = _instance(settings, live_clock, started)
    assert today.get("/token", headers=AUTH).json["access_token"] == jwt_token  # type: ignore[index]
    assert today.get("/token", headers=ACME).json["access_token"] == acme_token  # type: ignore[index]
    assert stats(org.url)["token_requests"] == asked, "both adopted, neither minted again"
    assert today.get("/oauth/callback", query_string=back).status_code == 200  # its verifier
    requests.post(f"{org.url}/_emulator/expire", timeout=5).raise_for_status()
    assert today.get(QUERY, headers=ACME).status_code == 200  # the refresh token opened
    assert stats(org.url)["refresh_grants"] == 1
    assert today.get(QUERY, headers=AUTH).status_code == 200

    # Re-sealed, every value is in this release's format and still the live one.
    store = ConnectionStore(settings.database)  # type: ignore[arg-type]
    started.append(store)
    report = reseal(store, ColumnSealer(settings.encryption_keys))
    assert report.unreadable == []
    assert report.resealed == 1  # acme's refresh token; the rest was written by this release
    raw, refresh_token = stored_refresh_token(database_url, "acme")
    assert raw.startswith("s2.")
    assert refresh_at(org.url, refresh_token, CONSUMER_SECRET, CONSUMER_KEY).status_code == 200
