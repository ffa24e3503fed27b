"""``/api/<path>``: Salesforce's REST API through the service's token, streamed.

The caller's request (method, query string, body, content type) goes to
``{instance_url}/services/<path>`` with our token instead of their API key.
The body is read once so it can be replayed: on 401 ``INVALID_SESSION_ID``
the token is dropped (only if still current), a fresh one obtained (one
exchange however many callers fail together), and the request sent once more.
Salesforce's answer streams back in 64 KiB pieces, undecoded, so a large
download never sits whole in memory. The rules on paths and headers are in
``sfdc.salesforce.paths``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import urllib3
from flask import Blueprint, Response, current_app, request
from werkzeug.routing import PathConverter

from sfdc.errors import InvalidPath, PayloadTooLarge
from sfdc.salesforce.paths import METHODS, check_path, request_headers, response_headers, target_url
from sfdc.salesforce.pools import USER_AGENT
from sfdc.salesforce.refusals import is_session_rejection
from sfdc.salesforce.transport import Transport
from sfdc.telemetry import audit
from sfdc.tokens.exchange import Exchange
from sfdc.web.auth import target
from sfdc.web.extension import CONNECTION, UPSTREAM, token_source
from sfdc.web.spec import Param, documented

bp = Blueprint("proxy", __name__)

CHUNK = 64 * 1024
PREFIX = "/api/"


class AnyPath(PathConverter):
    """Matches any path, even '//host' or one holding CR/LF, so the proxy can refuse it
    with a 400 saying why instead of werkzeug answering 404."""

    regex = r"[\s\S]*"
    part_isolating = False  # werkzeug infers True for a regex without a slash


# Segments that are never '.' or '..' and need no encoding: always forwarded. Any other
# path is checked in every decoding (check_path) and forwarded or refused as invalid_path.
_SEGMENT = r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*"
PATH = Param(
    "path",
    "path",
    "The Salesforce REST path after `/services/`, e.g. `data/v60.0/limits`; it may hold "
    "slashes. A path with `.`/`..` segments in any encoding, a backslash, a scheme, a leading "
    "`//` or a control character is refused with 400 `invalid_path`. The path goes to "
    "Salesforce exactly as sent: send its slashes unencoded.",
    # No example value: whether a path takes a method is Salesforce's to say (405), not ours.
    {"type": "string", "pattern": rf"^{_SEGMENT}(/{_SEGMENT})*$"},
)


def _raw_target() -> tuple[str, str]:
    """The path after /api/ and the query string, exactly as the caller encoded them."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    if "://" in raw.split("?", 1)[0][:10]:  # absolute-form request target
        raw = "/" + raw.split("://", 1)[1].split("/", 1)[-1]
    path, _, query = raw.partition("?")
    if not path.startswith(PREFIX):  # no raw URI from the server: rebuild it
        path, query = request.path, request.query_string.decode("latin-1")
    return path[len(PREFIX) :], query


def _send(
    transport: Transport, exchange: Exchange, url: str, body: bytes | None
) -> urllib3.BaseHTTPResponse:
    headers = request_headers(request.headers.items())
    headers.setdefault("Accept-Encoding", "identity")  # relay bytes as the caller asked for them
    headers["Authorization"] = f"Bearer {exchange.token.access_token}"
    headers["User-Agent"] = USER_AGENT
    return transport.open(request.method, url, headers=headers, data=body)


def _small_body(upstream: urllib3.BaseHTTPResponse) -> tuple[bytes, bytes]:
    """(bytes as sent, bytes decoded) of an error answer, to inspect and still relay."""
    raw = upstream.read(decode_content=False)
    encoding = upstream.headers.get("Content-Encoding", "").lower()
    try:
        if encoding in ("gzip", "deflate"):
            return raw, zlib.decompress(raw, zlib.MAX_WBITS | 32)
    except zlib.error:
        pass
    return raw, raw


def _stream(upstream: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
    yield from upstream.stream(CHUNK, decode_content=False)


def _finish(upstream: urllib3.BaseHTTPResponse) -> None:
    """Give a fully read connection back to the pool; drop one abandoned midway."""
    if upstream.isclosed():  # type: ignore[attr-defined]  # urllib3's HTTPResponse has it
        upstream.release_conn()
    else:
        upstream.close()


def _body() -> bytes | None:
    """The whole request body, or 413. With ``Content-Length`` Flask refuses one over the
    limit before reading it; a chunked body's size shows only while it is read, and Flask
    would hand over its first ``MAX_CONTENT_LENGTH`` bytes as if they were all of it."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        return request.get_data() or None  # none, or one with a Content-Length
    stream, parts, size = request.environ["wsgi.input"], [], 0
    while size <= limit and (part := stream.read(min(1 << 20, limit + 1 - size))):
        parts.append(part)  # a stream may return less than asked: read to its end
        size += len(part)
    body = b"".join(parts)
    if size > limit:
        raise PayloadTooLarge(
            f"The chunked request body is over the {limit // (1 << 20)} MiB limit; nothing "
            "was sent to Salesforce."
        )
    return body or None


@bp.route("/api/<anypath:path>", methods=METHODS, provide_automatic_options=False)
@documented(
    None,
    raises=(InvalidPath, *UPSTREAM),
    params=(PATH, CONNECTION),
    opaque_body=True,
    passthrough=True,
    head=True,
    tag="proxy",
)
def forward(path: str) -> Response:
    """Salesforce's REST API at `{instance_url}/services/{path}`, with the service's token

    Query string, body and content type pass through untouched; Salesforce's status, headers
    (minus hop-by-hop headers and cookies) and body come back, streamed. On 401
    `INVALID_SESSION_ID` the token is replaced once and the request replayed. Needs the scope
    `proxy:<connection>` (or `token:<connection>`, which implies it).
    """
    caller, name = target("proxy")
    service = token_source(name)
    raw_path, raw_query = _raw_target()
    check_path(path)  # as the server decoded it, too
    body = _body()  # before any exchange: a 413 costs no login
    exchange = service.current()
    url = target_url(
        exchange.token.instance_url,
        raw_path,
        raw_query,
        allow_loopback=service.allow_loopback,
    )
    audit.record("proxy", client=caller.client, connection=name, key_id=caller.key_id)
    upstream = _send(service.transport, exchange, url, body)
    content: bytes | None = None
    if upstream.status == 401:
        content, decoded = _small_body(upstream)
        if is_session_rejection(401, decoded):
            _finish(upstream)
            service.rejected(exchange)
            # Once: if Salesforce refuses a brand-new token too, that answer is final.
            upstream = _send(service.transport, service.current(), url, body)
            content = None
    headers = response_headers(upstream.headers)
    if content is not None or request.method == "HEAD":
        _finish(upstream)
        relayed = Response(content or b"", status=upstream.status, headers=headers)
        if request.method == "HEAD" and "Content-Length" in upstream.headers:
            relayed.headers["Content-Length"] = upstream.headers["Content-Length"]
        return relayed
    relayed = Response(
        _stream(upstream), status=upstream.status, headers=headers, direct_passthrough=True
    )
    relayed.call_on_close(lambda: _finish(upstream))
    return relayed
