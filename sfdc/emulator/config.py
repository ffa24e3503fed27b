"""What an admin sets up in Salesforce for the connected app's OAuth flows.

Emulates the org-side setup described in Salesforce Help, "OAuth 2.0 JWT Bearer Flow for
Server-to-Server Integration": a connected app with a consumer key and an uploaded X.509
certificate, users pre-authorized for that app ("Admin approved users are pre-authorized"),
the org's login host (production or sandbox) and the session timeout from Session Settings.
For the web-server and refresh-token flows (research notes, sections 2 and 3) the app also
has registered Callback URLs, selected OAuth scopes, "Require Secret for Web Server Flow"
and the refresh-token rotation setting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

LOGIN_AUDIENCE = "https://login.salesforce.com"
SANDBOX_AUDIENCE = "https://test.salesforce.com"

# Salesforce's exact tolerance for an `exp` just in the past is undocumented. It accepts
# exp == now (CumulusCI sends no margin), so some allowance exists; 30 seconds absorbs
# whole-second truncation and request latency, yet still rejects a client whose clock or
# arithmetic is off by a minute or more.
EXP_SKEW = timedelta(seconds=30)

# The org default session timeout: 2 hours of inactivity (REST API Developer Guide,
# "Session expiration"). Access tokens live exactly as long as that session.
SESSION_TIMEOUT = timedelta(hours=2)

# The scope string in Salesforce's example JWT-bearer token response.
DEFAULT_SCOPE = "web openid api id"

# An authorization code is single-use and expires after 15 minutes: the better-attested
# figure (research notes, section 3; one blog says 2 minutes).
CODE_LIFETIME = timedelta(minutes=15)

# Scopes selected on the connected app; each is in Salesforce's discovery document.
DEFAULT_OAUTH_SCOPES = ("api", "refresh_token", "offline_access", "id", "web", "openid")


def utc_now() -> datetime:
    """The real clock, aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class EmulatorConfig:
    """One emulated org with one connected app.

    `certificate_pem` is the certificate "uploaded to the connected app"; its public key
    verifies assertion signatures and, as in Salesforce, its validity dates are ignored.
    `consumer_secret` enables token introspection and the `signature` field of token
    responses. `clock` must return aware UTC datetimes; tests pass a fake one.

    Web-server and refresh-token flows: `callback_urls` are the registered Callback URLs
    (a `redirect_uri` must equal one exactly); `oauth_scopes` are the scopes selected on
    the app (granted when a request names none); `require_secret` is "Require Secret for
    Web Server Flow / Refresh Token Flow" and only matters with a `consumer_secret`;
    `rotate_refresh_tokens` makes every refresh return a new refresh token and retire
    the old one; `code_lifetime` is how long an authorization code can be redeemed.

    `behind_front` makes the emulator name itself (instance URL, identity URLs, links) by
    the `X-Forwarded-Proto` / `X-Forwarded-Host` a TLS front adds, as Salesforce names
    itself by its public https address. Off by default, so that a caller forwarding such
    headers cannot make the emulator's links look already rewritten.
    """

    consumer_key: str
    certificate_pem: bytes = field(repr=False)
    usernames: tuple[str, ...]
    audience: str = LOGIN_AUDIENCE
    consumer_secret: str | None = field(default=None, repr=False)
    exp_skew: timedelta = EXP_SKEW
    session_timeout: timedelta = SESSION_TIMEOUT
    scope: str = DEFAULT_SCOPE
    clock: Callable[[], datetime] = utc_now
    callback_urls: tuple[str, ...] = ()
    oauth_scopes: tuple[str, ...] = DEFAULT_OAUTH_SCOPES
    require_secret: bool = True
    rotate_refresh_tokens: bool = False
    code_lifetime: timedelta = CODE_LIFETIME
    behind_front: bool = False
    public_key: RSAPublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.consumer_key:
            raise ValueError("consumer_key must not be empty")
        if self.exp_skew < timedelta(0):
            raise ValueError("exp_skew must not be negative")
        if self.session_timeout <= timedelta(0):
            raise ValueError("session_timeout must be positive")
        if self.clock().utcoffset() != timedelta(0):
            raise ValueError("clock must return aware UTC datetimes")
        # A list is an easy mistake; freeze it so the config stays hashable and immutable.
        object.__setattr__(self, "usernames", tuple(self.usernames))
        object.__setattr__(self, "callback_urls", tuple(self.callback_urls))
        object.__setattr__(self, "oauth_scopes", tuple(self.oauth_scopes))
        self._check_web_server_settings()
        try:
            certificate = x509.load_pem_x509_certificate(self.certificate_pem)
        except ValueError as error:
            raise ValueError("certificate_pem is not a PEM X.509 certificate") from error
        key = certificate.public_key()
        if not isinstance(key, RSAPublicKey):
            raise ValueError("the connected app certificate must hold an RSA public key")
        object.__setattr__(self, "public_key", key)

    def _check_web_server_settings(self) -> None:
        if self.code_lifetime <= timedelta(0):
            raise ValueError("code_lifetime must be positive")
        for url in self.callback_urls:
            # Custom schemes (myapp://callback) are allowed, as for mobile apps; a fragment
            # is not (RFC 6749 section 3.1.2), since the code is appended as a query.
            if not isinstance(url, str) or not urlsplit(url).scheme or "#" in url:
                raise ValueError(
                    f"callback_urls must hold absolute URLs without a fragment: {url!r}"
                )
        if not self.oauth_scopes:
            raise ValueError("oauth_scopes must name at least one scope")
        for scope in self.oauth_scopes:
            if not isinstance(scope, str) or not scope or scope.split() != [scope]:
                raise ValueError(f"oauth_scopes must hold single words: {scope!r}")

    @property
    def secret_required(self) -> bool:
        """Whether the web-server and refresh-token grants must present the secret.

        Without a configured secret there is nothing to check it against."""
        return self.require_secret and self.consumer_secret is not None
