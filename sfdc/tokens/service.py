"""The JWT bearer flow end to end: sign an assertion, exchange it, learn its expiry.

``JwtBearerFlow.exchange`` is what the token cache calls to mint. It returns an
``Exchange``: the token plus the assertion and response behind it, which the
demo page shows. Salesforce's response has no ``expires_in``, so the expiry
comes from introspection when a consumer secret is configured, else from the
configured maximum age. Each exchange is logged with fingerprints only.
``TokenService`` puts the flow behind the layered cache the web layer uses.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import requests

from sfdc.clock import Clock, utc_now
from sfdc.errors import SfdcError
from sfdc.salesforce.oauth import OAuthClient
from sfdc.salesforce.pools import new_session
from sfdc.salesforce.transport import Transport
from sfdc.settings.settings import Settings
from sfdc.tokens.assertion import Assertion, Signer, claims
from sfdc.tokens.exchange import Exchange
from sfdc.tokens.provider import TokenProvider
from sfdc.tokens.sealing import CacheSealer
from sfdc.tokens.shared_cache import RedisStore, connect, namespace
from sfdc.tokens.shared_cache import lock_ttl as default_lock_ttl
from sfdc.tokens.token import REFRESH_AHEAD, Token, token_from_response

log = logging.getLogger(__name__)


# A token must outlive its refresh window, or every use would start another
# exchange. Salesforce never issues a session this short; an expiry that close
# means a clock is wrong, so we trust the token longer and let a rejection,
# if it comes, replace it.
MIN_TOKEN_LIFETIME = 2 * REFRESH_AHEAD


class JwtBearerFlow:
    """Mints tokens for one integration user with one signing key."""

    def __init__(
        self,
        settings: Settings,
        client: OAuthClient,
        *,
        signer: Signer | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self.client = client
        self.signer = signer or Signer(settings.private_key)
        self.clock = clock

    def assertion(self) -> Assertion:
        """A fresh signed assertion for the configured user."""
        return self.signer.sign(
            claims(
                self.clock(),
                issuer=self.settings.consumer_key,
                subject=self.settings.username,
                audience=self.settings.audience,
            )
        )

    def exchange(self) -> Exchange:
        assertion = self.assertion()
        started = time.perf_counter()
        try:
            response = self.client.jwt_bearer(assertion.token)
            token = token_from_response(
                response.body,
                received_at=self.clock(),
                allow_loopback=self.settings.login_is_loopback,
            )
        except SfdcError as exc:
            log.warning(
                "token exchange failed: %s (%s) after %.0f ms",
                exc.code,
                exc.description,
                (time.perf_counter() - started) * 1000,
            )
            raise
        token = replace(token, expires_at=self.expiry(token, received=self.clock()))
        log.info(
            "token exchange ok: token %s for %s at %s in %.0f ms, good until %s",
            token.fingerprint,
            self.settings.username,
            token.instance_url,
            (time.perf_counter() - started) * 1000,
            token.expires_at.isoformat() if token.expires_at else "rejected",
        )
        return Exchange(token=token, assertion=assertion, response=response)

    def expiry(self, token: Token, *, received: datetime) -> datetime:
        """When to stop using ``token``: introspection's ``exp``, else the maximum age."""
        return learn_expiry(token, received=received, client=self.client, settings=self.settings)


def learn_expiry(
    token: Token, *, received: datetime, client: OAuthClient, settings: Settings
) -> datetime:
    """When to stop using ``token``: introspection's ``exp``, else ``SFDC_TOKEN_MAX_AGE``.

    Salesforce's token responses carry no ``expires_in`` (research §1.5, §2);
    introspection needs the consumer secret. Shared by every grant.
    """
    found = _introspected_expiry(token, received, client, settings)
    if found - received < MIN_TOKEN_LIFETIME:
        log.warning(
            "token %s was said to expire at %s, under %s after it arrived; check the "
            "clocks. Using it for %s.",
            token.fingerprint,
            found.isoformat(),
            MIN_TOKEN_LIFETIME,
            MIN_TOKEN_LIFETIME,
        )
        return received + MIN_TOKEN_LIFETIME
    return found


def _introspected_expiry(
    token: Token, received: datetime, client: OAuthClient, settings: Settings
) -> datetime:
    fallback = received + settings.token_max_age
    secret = settings.consumer_secret
    if not secret:
        return fallback
    try:
        info = client.introspect(
            token.access_token, client_id=settings.consumer_key, client_secret=secret
        )
    except SfdcError as exc:
        log.warning("introspection failed: %s; using SFDC_TOKEN_MAX_AGE", exc.one_line())
        return fallback
    exp = info.get("exp")
    if info.get("active") is not True or not isinstance(exp, int):
        log.warning(
            "introspection did not describe the token (active=%s); is the connected app "
            "allowed to introspect its own tokens? Using SFDC_TOKEN_MAX_AGE",
            info.get("active"),
        )
        return fallback
    return datetime.fromtimestamp(exp, UTC)


class TokenService:
    """What the web layer and the CLI use: the flow behind the layered token cache."""

    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        clock: Clock = utc_now,
        transport: Transport | None = None,
        lock_ttl: timedelta | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.transport = transport or Transport(
            session or new_session(), timeout=settings.http_timeout
        )
        self.flow = JwtBearerFlow(
            settings, OAuthClient(settings.login_url, self.transport), clock=clock
        )
        store = None
        if settings.redis is not None:
            store = RedisStore(
                connect(settings.redis.url),
                CacheSealer(settings.private_key, settings.encryption_keys),
                namespace(settings),
                lock_ttl=lock_ttl
                or default_lock_ttl(settings.http_timeout, self.transport.retry.budget),
            )
        self.provider = TokenProvider(self.flow.exchange, clock=clock, store=store)

    def current(self) -> Exchange:
        """The current exchange, minting one if there is none."""
        return self.provider.get()

    @property
    def allow_loopback(self) -> bool:
        """Whether tokens may point at loopback hosts: only against the local emulator."""
        return self.settings.login_is_loopback

    def rejected(self, exchange: Exchange) -> bool:
        """Salesforce rejected this exchange's token: drop it if it is still current."""
        return self.provider.invalidate(exchange)
