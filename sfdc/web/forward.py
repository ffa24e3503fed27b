"""The API proxy's one forwarding core: a caller's request to Salesforce and back, streamed.

The routes in ``sfdc.web.proxy`` say which Salesforce path a request names and check
the caller; this module does the rest, the same for every API. The caller's request
(method, query string, body, allowed headers) goes to the path on the token's
``instance_url`` (the identity URL: on the host of the token's ``id``), with the access
token where that API reads it and none of the caller's credentials. The body is spooled
first (``sfdc.web.spool``: in memory when small, else in a temporary file; 413 over the
limit before any login), sent from there with its ``Content-Length``, and kept until
the answer shows it need not be replayed: when Salesforce says the session is dead (REST and Bulk
2.0 ``INVALID_SESSION_ID``, Bulk 1.0 ``InvalidSessionId``, identity
``Bad_OAuth_Token``), the token is dropped (only if still current), a fresh one
obtained (one exchange however many callers fail together), and the request sent
once more. Salesforce's answer streams back in 64 KiB pieces, undecoded, so a large
download never sits whole in memory; only a small JSON answer is read whole, to point
its links at this service (``sfdc.salesforce.addresses``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

import urllib3
from flask import Response, current_app, request

from sfdc.access.caller import Caller
from sfdc.orgs.sources import ConnectionTokens
from sfdc.salesforce.addresses import REWRITE_LIMIT, Addresses, decoded, origin, rewritable
from sfdc.salesforce.paths import credentials, request_headers, response_headers, target_url
from sfdc.salesforce.pools import USER_AGENT
from sfdc.salesforce.refusals import SESSION_REJECTION_STATUSES, is_session_rejection
from sfdc.telemetry import audit
from sfdc.tokens.exchange import Exchange
from sfdc.tokens.service import TokenService
from sfdc.tokens.token import Token
from sfdc.web.extension import token_service, token_source
from sfdc.web.spool import SPOOL_DIR, Body, spooled

CHUNK = 64 * 1024
# A refusal that says the session is dead is a few hundred bytes; one larger is
# relayed without being read whole.
INSPECT_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Target:
    """What the caller asked for: a path from the host's root and a query string, both as
    the caller encoded them (already checked), and whether the identity URL's host serves it."""

    path: str
    query: str
    identity: bool = False


def public_url() -> str:
    """This service's address as its callers reach it: SFDC_PUBLIC_URL, else the request's
    scheme and host (as the trusted router reported them: ``X-Forwarded-Proto``/``-Host``)."""
    configured = token_service().settings.public.url
    return configured or request.host_url.rstrip("/")


def _url(target: Target, token: Token, allow_loopback: bool) -> str:
    if target.identity:
        return target_url(
            origin(token.id), target.path, target.query, allow_loopback=allow_loopback, what="id"
        )
    return target_url(token.instance_url, target.path, target.query, allow_loopback=allow_loopback)


def _send(
    source: TokenService | ConnectionTokens, exchange: Exchange, target: Target, body: Body | None
) -> urllib3.BaseHTTPResponse:
    headers = request_headers(request.headers.items())
    headers.setdefault("Accept-Encoding", "identity")  # relay bytes as the caller asked for them
    headers.update(credentials(target.path, exchange.token.access_token))
    headers["User-Agent"] = USER_AGENT
    if body is not None:  # urllib3 would send a file chunked; Salesforce gets its size
        headers["Content-Length"] = str(body.size)
    url = _url(target, exchange.token, source.allow_loopback)
    data = body.rewound() if body is not None else None
    return source.transport.open(request.method, url, headers=headers, data=data)


def _read(upstream: urllib3.BaseHTTPResponse, limit: int) -> tuple[bytes, bool]:
    """Up to ``limit`` bytes of the answer as sent, and whether that was all of it."""
    raw = upstream.read(limit + 1, decode_content=False)
    return raw, len(raw) <= limit


def _stream(upstream: urllib3.BaseHTTPResponse, first: bytes) -> Iterator[bytes]:
    if first:
        yield first
    yield from upstream.stream(CHUNK, decode_content=False)


def _finish(upstream: urllib3.BaseHTTPResponse) -> None:
    """Give a fully read connection back to the pool; drop one abandoned midway."""
    if upstream.isclosed():  # type: ignore[attr-defined]  # urllib3's HTTPResponse has it
        upstream.release_conn()
    else:
        upstream.close()


def _body() -> AbstractContextManager[Body | None]:
    """The caller's body, spooled (``sfdc.web.spool``); a chunked one is read to its end."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    return spooled(
        request.environ["wsgi.input"],
        None if chunked else request.content_length or 0,
        current_app.config["MAX_CONTENT_LENGTH"],
        directory=current_app.config.get(SPOOL_DIR),
    )


def _length(upstream: urllib3.BaseHTTPResponse) -> int | None:
    try:
        return int(upstream.headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def _whole(
    upstream: urllib3.BaseHTTPResponse, raw: bytes, headers: list[tuple[str, str]], links: Addresses
) -> Response:
    """A fully read answer, its links rewritten when it is JSON that holds some."""
    _finish(upstream)
    if rewritable(upstream.headers.get("Content-Type"), len(raw)):
        plain = decoded(raw, upstream.headers.get("Content-Encoding", ""))
        rewritten = links.body(plain) if plain is not None else None
        if rewritten is not None:
            raw = rewritten  # sent unencoded: the caller's client decodes either way
            drop = {"content-encoding", "content-length", "content-md5", "etag"}  # other bytes
            headers = [(name, value) for name, value in headers if name.lower() not in drop]
    relayed = Response(raw, status=upstream.status, headers=headers)
    return relayed  # werkzeug sets Content-Length from the bytes


def _exchange(
    source: TokenService | ConnectionTokens, target: Target, body: Body | None
) -> tuple[Exchange, urllib3.BaseHTTPResponse, bytes, bool]:
    """Send the request, and once more with a new token if Salesforce says the session is
    dead; the exchange used, the answer, and what of it was read (all of it, or not)."""
    exchange = source.current()
    upstream = _send(source, exchange, target, body)
    if upstream.status not in SESSION_REJECTION_STATUSES:
        return exchange, upstream, b"", False
    first, complete = _read(upstream, INSPECT_LIMIT)
    plain = decoded(first, upstream.headers.get("Content-Encoding", "")) if complete else None
    # A HEAD answer has no body to read the reason from; on these APIs a 401 is only
    # ever about the session (the header itself is ours).
    headless = request.method == "HEAD" and upstream.status == 401
    if not headless and (plain is None or not is_session_rejection(upstream.status, plain)):
        return exchange, upstream, first, complete
    _finish(upstream)
    source.rejected(exchange)
    # Once: if Salesforce refuses a brand-new token too, that answer is final.
    exchange = source.current()
    return exchange, _send(source, exchange, target, body), b"", False


def relay(target: Target, connection: str | None, caller: Caller) -> Response:
    """Send ``caller``'s request to ``target`` on ``connection`` (None: the JWT identity);
    Salesforce's answer. The audit trail records the call once Salesforce has seen the
    connection's token: a refused or failed call used no credentials."""
    source = token_source(connection)
    with _body() as body:  # before any exchange: a 413 costs no login
        exchange, upstream, first, complete = _exchange(source, target, body)
    audit.record("proxy", client=caller.client, connection=connection, key_id=caller.key_id)
    # The body was sent whole and will not be sent again: its spool is gone.
    token = exchange.token
    links = Addresses.of((token.instance_url, token.id), public_url())
    headers = [
        (name, links.location(value) if name.lower() == "location" else value)
        for name, value in response_headers(upstream.headers)
    ]
    if request.method == "HEAD":
        _finish(upstream)
        relayed = Response(b"", status=upstream.status, headers=headers)
        if "Content-Length" in upstream.headers:
            relayed.headers["Content-Length"] = upstream.headers["Content-Length"]
        return relayed
    if not first and rewritable(upstream.headers.get("Content-Type"), _length(upstream)):
        first, complete = _read(upstream, REWRITE_LIMIT)
    if complete:
        return _whole(upstream, first, headers, links)
    relayed = Response(
        _stream(upstream, first), status=upstream.status, headers=headers, direct_passthrough=True
    )
    relayed.call_on_close(lambda: _finish(upstream))
    return relayed
