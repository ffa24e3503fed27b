"""Calling Salesforce with the service's token, re-authenticating once when it is rejected.

Salesforce signals a dead session as HTTP 401 with ``errorCode``
``INVALID_SESSION_ID`` from the REST API, and as HTTP 403 ``Bad_OAuth_Token``
from the identity and userinfo URLs (research §5.3, §6). Other 401s (a bad
header, a permission problem) are not session problems and are returned as
they are. On a session rejection the token is dropped (only if it is still
the current one), a fresh one obtained, and the request replayed once, body
included. Never more than once: if Salesforce also rejects a brand-new
token, asking again would only loop and burn the login quota.

``SalesforceAuth`` is a ``requests`` auth for Python apps that would rather
not take the extra hop through the service; ``SalesforceSession`` adds the
service's timeouts, relative URLs and error types.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.auth import AuthBase

from sfdc.errors import UpstreamProtocolError
from sfdc.salesforce.failures import cause, network_error
from sfdc.salesforce.pools import new_session
from sfdc.salesforce.refusals import is_session_rejection
from sfdc.settings.settings import DEFAULT_TIMEOUT
from sfdc.tokens.exchange import Exchange, TokenSource


class SalesforceAuth(AuthBase):
    """``requests`` auth: the current token as Bearer, one re-authentication on rejection."""

    def __init__(self, tokens: TokenSource) -> None:
        self.tokens = tokens

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        exchange = self.tokens.current()
        request.headers["Authorization"] = f"Bearer {exchange.token.access_token}"
        request.register_hook("response", self._on_response(exchange))  # type: ignore[no-untyped-call]
        return request

    def _on_response(self, exchange: Exchange) -> Any:
        def hook(response: requests.Response, **kwargs: Any) -> requests.Response:
            if response.status_code not in (401, 403) or response.request is None:
                return response
            if not is_session_rejection(response.status_code, response.content):
                return response
            self.tokens.rejected(exchange)
            fresh = self.tokens.current()
            replay = response.request.copy()
            replay.headers["Authorization"] = f"Bearer {fresh.token.access_token}"
            response.close()
            # Sent through the adapter, not the session: response hooks do not
            # run on the replay, so a rejected fresh token is returned, not retried.
            connection = response.connection
            again: requests.Response = connection.send(replay, **kwargs)
            again.history.append(response)
            again.request = replay
            return again

        return hook


class SalesforceSession(requests.Session):
    """A ``requests.Session`` for one org: relative URLs, timeouts, re-authentication.

    ``session.get("/services/data/v60.0/limits")`` goes to the token's
    ``instance_url``. Connection failures and timeouts raise the service's
    ``SalesforceUnavailable`` / ``SalesforceTimeout``; HTTP errors are returned
    as responses, as with plain ``requests``.
    """

    def __init__(self, tokens: TokenSource | None = None, *, timeout: float = DEFAULT_TIMEOUT):
        super().__init__()
        if tokens is None:
            from sfdc.settings.settings import load_settings
            from sfdc.tokens.service import TokenService

            tokens = TokenService(load_settings())
        self.tokens = tokens
        self.timeout = timeout
        self.auth = SalesforceAuth(tokens)
        self.headers.update(new_session().headers)

    def request(  # type: ignore[override]
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if not url.startswith(("https://", "http://")):
            url = urljoin(self.tokens.current().token.instance_url + "/", url.lstrip("/"))
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)
        try:
            return super().request(method, url, *args, **kwargs)
        except requests.RequestException as exc:
            found = cause(exc)
            if found is None:
                raise UpstreamProtocolError(
                    f"{method} {url} failed ({type(exc).__name__}).", hint="Check the request."
                ) from exc
            where = f"{method} {urlsplit(url).path}"  # not the query: it may hold data
            raise network_error(found, where, attempts=1, timeout=self.timeout) from exc
