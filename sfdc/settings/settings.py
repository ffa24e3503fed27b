"""Settings: parsed and validated once, at start-up, from the environment and CF bindings.

The configuration contract is in ``DESIGN.md``: every setting comes from an
environment variable or, for secrets, from the bound credential under its
lowercase key; the environment wins. Anything that cannot work raises
``ConfigError`` naming the setting, the source and the fix, so the process
stops before it takes traffic. Key material never appears in a message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric import rsa

from sfdc.clock import utc_now
from sfdc.errors import ConfigError
from sfdc.settings import keys
from sfdc.settings.cloudfoundry import Credential, find_credential
from sfdc.settings.connection_cache import DEFAULT_CONNECTION_CACHE_SIZE, connection_cache_size
from sfdc.settings.database import DatabaseBinding, find_database
from sfdc.settings.hosts import is_loopback
from sfdc.settings.keepalive import KeepAliveTiming, keepalive_timing
from sfdc.settings.logins import audience, login_url
from sfdc.settings.public import PublicAddress, public_address
from sfdc.settings.redis import RedisBinding, find_redis
from sfdc.settings.webhook import WebhookTarget, find_webhook
from sfdc.telemetry.fingerprints import certificate_fingerprint

DEFAULT_LOGIN_URL = "https://login.salesforce.com"
# Long enough that guessing is hopeless; `secrets.token_urlsafe(32)` gives 43.
MIN_API_KEY_LENGTH = 16
# A call to Salesforce must finish well inside gunicorn's 30 s worker timeout.
MAX_HTTP_TIMEOUT = 25.0
# Salesforce sends no expires_in. Its default session timeout is 2 hours of
# inactivity (research §6) and orgs may set it shorter; without introspection
# we retire a token after 1 hour, and a rejection before that still re-mints.
DEFAULT_TOKEN_MAX_AGE = timedelta(hours=1)
MIN_TOKEN_MAX_AGE = timedelta(minutes=10)  # leaves room for refreshing 5 minutes early
MAX_TOKEN_MAX_AGE = timedelta(hours=24)  # the longest session timeout Salesforce offers
DEFAULT_CACHE_PREFIX = "sfdc"


# Seconds to connect and, separately, to wait for a response. Salesforce's
# token endpoint answers in well under a second; 10 s leaves room for slow
# days while staying far inside gunicorn's 30 s worker timeout.
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Settings:
    """Everything the service needs, already validated."""

    consumer_key: str
    username: str
    login_url: str
    audience: str
    private_key: rsa.RSAPrivateKey = field(repr=False)
    certificate: x509.Certificate = field(repr=False)
    key_source: str = ""
    api_keys: frozenset[str] = field(default=frozenset(), repr=False)
    http_timeout: float = DEFAULT_TIMEOUT
    consumer_secret: str | None = field(default=None, repr=False)
    token_max_age: timedelta = DEFAULT_TOKEN_MAX_AGE
    redis: RedisBinding | None = None
    cache_prefix: str = DEFAULT_CACHE_PREFIX
    # Connected orgs (the web-server flow): on when an encryption key is configured.
    encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    callback_url: str | None = None
    # Other local emulators a connect link may name as its login (SFDC_LOCAL_LOGIN_URLS).
    local_logins: tuple[str, ...] = ()
    database: DatabaseBinding | None = None
    # Connected orgs' upkeep: the keep-alive job, and where alerts about them go.
    keepalive: KeepAliveTiming = field(default_factory=KeepAliveTiming)
    # Token sources each worker keeps, least recently used first out (SFDC_CONNECTION_CACHE_SIZE).
    connection_cache_size: int = DEFAULT_CONNECTION_CACHE_SIZE
    webhook: WebhookTarget | None = None
    public: PublicAddress = field(default_factory=PublicAddress)  # the proxy's own address
    warnings: tuple[str, ...] = ()

    @property
    def certificate_fingerprint(self) -> str:
        return certificate_fingerprint(self.certificate)

    @property
    def login_is_loopback(self) -> bool:
        return is_loopback(urlsplit(self.login_url).hostname or "")

    @property
    def loopback_logins(self) -> tuple[str, ...]:
        """The loopback login URLs a connect link may name: none unless this service runs
        against a local emulator, and then only that one and SFDC_LOCAL_LOGIN_URLS."""
        return (self.login_url, *self.local_logins) if self.login_is_loopback else ()

    @property
    def connections_enabled(self) -> bool:
        return bool(self.encryption_keys and self.consumer_secret) and self.database is not None


class _Source:
    """Reads one setting: environment variable first, then the bound credential."""

    def __init__(self, environ: Mapping[str, str], credential: Credential | None) -> None:
        self.environ = environ
        self.credential = credential

    def env(self, name: str) -> str | None:
        value = self.environ.get(name, "").strip()
        return value or None

    def get(self, name: str, key: str) -> str | None:
        value = self.env(name)
        if value is None and self.credential is not None:
            value = self.credential.get(key)
        return value.strip() if value else None

    def require(self, name: str, key: str, meaning: str) -> str:
        value = self.get(name, key)
        if value is None:
            where = f" and {self.credential.source} has no '{key}'" if self.credential else ""
            raise ConfigError(
                f"{name} is not set{where}.",
                hint=f"Set {name} to {meaning} (manifest `env:` or `cf set-env`), "
                f"or add '{key}' to the bound credential.",
            )
        return value

    def pem(self, name: str, key: str, what: str) -> tuple[str, str]:
        """(PEM text, where it came from) for the key or the certificate."""
        if text := self.env(name):
            return text, name
        if path := self.env(f"{name}_FILE"):
            try:
                return Path(path).read_text(), f"{name}_FILE ({path})"
            except OSError as exc:
                raise ConfigError(
                    f"{name}_FILE names {path}, which cannot be read ({exc.strerror}).",
                    hint=f"Point {name}_FILE at a readable PEM file.",
                ) from exc
        if self.credential is not None and (text := self.credential.get(key)):
            return text, self.credential.source
        where = f"{self.credential.source} has no '{key}'" if self.credential else "none is bound"
        raise ConfigError(
            f"No {what}: {name} and {name}_FILE are unset and {where}.",
            hint="Bind a CredHub service holding private_key and certificate (see the README's "
            f"deploy guide), or set {name}_FILE locally.",
        )


def _api_keys(raw: str | None) -> frozenset[str]:
    found = frozenset(k.strip() for k in (raw or "").split(",") if k.strip())
    if short := [k for k in found if len(k) < MIN_API_KEY_LENGTH]:
        raise ConfigError(
            f"SFDC_API_KEYS holds {len(short)} key(s) shorter than {MIN_API_KEY_LENGTH} "
            "characters.",
            hint='Use long random keys: `python -c "import secrets; '
            'print(secrets.token_urlsafe(32))"`.',
        )
    return found


def _seconds(name: str, raw: str | None, default: float, low: float, high: float) -> float:
    """A number of seconds in [low, high], or the default when unset."""
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise ConfigError(
            f"{name} is '{raw}', not a number of seconds from {low:g} to {high:g}.",
            hint=f"Set it to a number of seconds, e.g. {default:g}, or unset it.",
        )
    return value


def _encryption_keys(raw: str | None) -> tuple[str, ...]:
    """Fernet keys for stored refresh tokens: the first encrypts, all decrypt (rotation)."""
    found = tuple(k.strip() for k in (raw or "").split(",") if k.strip())
    fix = (
        'Generate one with `python -m sfdc keygen` (or `python -c "from cryptography.fernet '
        'import Fernet; print(Fernet.generate_key().decode())"`) and keep it in CredHub.'
    )
    for position, key in enumerate(found, 1):
        try:
            Fernet(key)
        except ValueError:
            raise ConfigError(
                f"SFDC_ENCRYPTION_KEY entry {position} is not a Fernet key (32 bytes, "
                "url-safe base64).",
                hint=fix,
            ) from None
    return found


def _callback_url(raw: str | None) -> str | None:
    """Where Salesforce sends the browser back; must match the connected app's Callback URL."""
    if raw is None:
        return None
    parts = urlsplit(raw)
    local = parts.scheme == "http" and is_loopback(parts.hostname or "")
    if not (parts.scheme == "https" or local) or not parts.hostname or parts.query:
        raise ConfigError(
            f"SFDC_CALLBACK_URL '{raw}' is not an https URL without a query.",
            hint="Set it to https://<your app's route>/oauth/callback, the Callback URL "
            "registered in the connected app.",
        )
    return raw


def _local_logins(raw: str | None) -> tuple[str, ...]:
    """More local emulators (each its own org) for connect links, in development only."""
    found = []
    for item in (raw or "").split(","):
        if not item.strip():
            continue
        url = item.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme != "http" or not is_loopback(parts.hostname or "") or parts.path:
            raise ConfigError(
                f"SFDC_LOCAL_LOGIN_URLS holds '{url}', not a loopback http://host:port.",
                hint="List the local emulators' URLs, e.g. http://127.0.0.1:8082, or unset it; "
                "it is for local development only.",
            )
        found.append(url)
    return tuple(found)


def _prefix(raw: str | None) -> str:
    prefix = raw or DEFAULT_CACHE_PREFIX
    if not prefix.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ConfigError(
            f"SFDC_CACHE_PREFIX '{prefix}' may hold only letters, digits, '-', '_' and '.'.",
            hint="Pick a plain name, e.g. sfdc-prod; it separates services sharing one Redis.",
        )
    return prefix


def load_settings(
    environ: Mapping[str, str] | None = None, *, now: datetime | None = None
) -> Settings:
    """Settings from ``environ`` (default: the process environment), or ``ConfigError``."""
    environ = os.environ if environ is None else environ
    now = now or utc_now()
    peek = _Source(environ, None)
    service_name = peek.env("SFDC_CREDHUB_SERVICE")
    pem_from_env = all(
        peek.env(name) or peek.env(f"{name}_FILE")
        for name in ("SFDC_PRIVATE_KEY", "SFDC_CERTIFICATE")
    )
    credential = None
    if service_name or not pem_from_env:
        credential = find_credential(
            environ, service_name=service_name, entry_name=peek.env("SFDC_CREDENTIAL")
        )
    source = _Source(environ, credential)

    key_text, key_source = source.pem("SFDC_PRIVATE_KEY", "private_key", "private key")
    cert_text, cert_source = source.pem("SFDC_CERTIFICATE", "certificate", "certificate")
    private_key = keys.load_private_key(key_text, source=key_source)
    certificate = keys.load_certificate(cert_text, source=cert_source)
    pair = key_source if key_source == cert_source else f"{key_source} and {cert_source}"
    keys.check_pair(private_key, certificate, source=pair)

    login = login_url(source.get("SFDC_LOGIN_URL", "login_url") or DEFAULT_LOGIN_URL)
    aud, aud_warning = audience(source.get("SFDC_AUDIENCE", "audience"), login)
    consumer_secret = source.get("SFDC_CONSUMER_SECRET", "consumer_secret")
    encryption_keys = _encryption_keys(source.get("SFDC_ENCRYPTION_KEY", "encryption_key"))
    orgs_off_warning = None
    if encryption_keys and not consumer_secret:
        # keygen writes an encryption key for every deployment; a JWT-only one still starts.
        orgs_off_warning = (
            "connected orgs are off: an encryption key is set but SFDC_CONSUMER_SECRET is not, "
            "and the authorization code and refresh token grants need it; add consumer_secret "
            "(the connected app's Consumer Secret) to the bound credential to turn them on"
        )
        encryption_keys = ()
    database = None
    if encryption_keys:
        database = find_database(environ, service_name=peek.env("SFDC_DATABASE_SERVICE"))
    on_cf = bool(peek.env("VCAP_APPLICATION"))
    db_warning = None
    if database is not None and database.is_sqlite and on_cf:
        db_warning = (
            "connected orgs are stored in an SQLite file inside the container and are lost "
            "when it restarts; bind a PostgreSQL service (see the README's deploy guide)"
        )
    warnings = tuple(
        w
        for w in (keys.expiry_warning(certificate, now), aud_warning, orgs_off_warning, db_warning)
        if w
    )
    return Settings(
        consumer_key=source.require(
            "SFDC_CONSUMER_KEY", "consumer_key", "the connected app's Consumer Key"
        ),
        username=source.require(
            "SFDC_USERNAME", "username", "the Salesforce username of the integration user"
        ),
        login_url=login,
        audience=aud,
        private_key=private_key,
        certificate=certificate,
        key_source=pair,
        api_keys=_api_keys(source.get("SFDC_API_KEYS", "api_keys")),
        http_timeout=_seconds(
            "SFDC_HTTP_TIMEOUT",
            peek.env("SFDC_HTTP_TIMEOUT"),
            DEFAULT_TIMEOUT,
            0.1,
            MAX_HTTP_TIMEOUT,
        ),
        consumer_secret=consumer_secret,
        token_max_age=timedelta(
            seconds=_seconds(
                "SFDC_TOKEN_MAX_AGE",
                peek.env("SFDC_TOKEN_MAX_AGE"),
                DEFAULT_TOKEN_MAX_AGE.total_seconds(),
                MIN_TOKEN_MAX_AGE.total_seconds(),
                MAX_TOKEN_MAX_AGE.total_seconds(),
            )
        ),
        redis=find_redis(environ, service_name=peek.env("SFDC_REDIS_SERVICE")),
        cache_prefix=_prefix(peek.env("SFDC_CACHE_PREFIX")),
        encryption_keys=encryption_keys,
        callback_url=_callback_url(peek.env("SFDC_CALLBACK_URL")),
        local_logins=_local_logins(peek.env("SFDC_LOCAL_LOGIN_URLS")),
        database=database,
        keepalive=keepalive_timing(
            peek.env("SFDC_KEEPALIVE_AFTER"), peek.env("SFDC_KEEPALIVE_INTERVAL")
        ),
        connection_cache_size=connection_cache_size(peek.env("SFDC_CONNECTION_CACHE_SIZE")),
        webhook=find_webhook(
            source.get("SFDC_WEBHOOK_URL", "webhook_url"),
            source.get("SFDC_WEBHOOK_SECRET", "webhook_secret"),
        ),
        public=public_address(peek.env("SFDC_PUBLIC_URL"), peek.env("SFDC_FORWARDED_HOPS")),
        warnings=warnings,
    )
