"""The JWT bearer flow end to end: sign an assertion, exchange it, keep the result.

``JwtBearerFlow.exchange`` is what the token cache calls to mint. It returns an
``Exchange``: the token plus the assertion and response behind it, which the
demo page shows. Each exchange is logged with fingerprints only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import requests

from sfdc.assertion import Assertion, Signer, claims
from sfdc.config import Settings
from sfdc.errors import SfdcError
from sfdc.http import Transport, new_session
from sfdc.oauth import OAuthClient, TokenResponse
from sfdc.tokens import Token, TokenCache, token_from_response

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Exchange:
    """One successful JWT bearer exchange."""

    token: Token
    assertion: Assertion
    response: TokenResponse


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
            token = token_from_response(response.body, received_at=self.clock())
        except SfdcError as exc:
            log.warning(
                "token exchange failed: %s (%s) after %.0f ms",
                exc.code,
                exc.description,
                (time.perf_counter() - started) * 1000,
            )
            raise
        log.info(
            "token exchange ok: token %s for %s at %s in %.0f ms",
            token.fingerprint,
            self.settings.username,
            token.instance_url,
            (time.perf_counter() - started) * 1000,
        )
        return Exchange(token=token, assertion=assertion, response=response)


class TokenService:
    """What the web layer and the CLI use: the flow behind one shared cache."""

    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        clock: Clock = utc_now,
        transport: Transport | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.transport = transport or Transport(
            session or new_session(), timeout=settings.http_timeout
        )
        self.flow = JwtBearerFlow(
            settings, OAuthClient(settings.login_url, self.transport), clock=clock
        )
        self.cache: TokenCache[Exchange] = TokenCache(self.flow.exchange)

    def current(self) -> Exchange:
        """The cached exchange, minting one if there is none."""
        return self.cache.get()

    def rejected(self, exchange: Exchange) -> bool:
        """Salesforce rejected this exchange's token: drop it if still current."""
        dropped = self.cache.invalidate(exchange)
        if dropped:
            log.info("token %s rejected by Salesforce; dropped", exchange.token.fingerprint)
        return dropped
