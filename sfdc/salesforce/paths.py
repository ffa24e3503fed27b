"""Rules for the Salesforce API proxy: which URL a request may reach, which headers cross.

A proxied request names a path in Salesforce's own URL space (``/services/data/...``,
``/services/async/...``, ``/id/...``); ``/api/<path>`` is ``/services/<path>``. The path
arrives percent-encoded and may be encoded more than once, so the part the caller
chose is decoded until stable and refused if any decoding holds a ``.``/``..``
segment (also ``..;``, which Java servers read as ``..``), a backslash, a scheme, a
leading ``//`` or a control character (CR/LF would let a caller write headers into
our request). The path and query string are then sent exactly as the caller encoded
them, to the token's ``instance_url`` (or the origin of its identity URL), itself
checked against the Salesforce domains in ``sfdc.settings.hosts``.

Headers cross by allow-list. Going in: what Salesforce's REST, Bulk and identity APIs
read (content negotiation, conditional requests, ranges, ``Sforce-*`` call options,
``X-PrettyPrint``); never the caller's credentials (``Authorization``,
``X-SFDC-Session``), this service's own ``X-Sfdc-*`` headers, cookies or forwarding
headers. Coming back: everything but hop-by-hop headers and cookies. Pure functions:
the web layer does the I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import unquote, unquote_plus

from sfdc.errors import InvalidPath
from sfdc.settings.hosts import check_salesforce_url

METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE", "HEAD")

# Request headers Salesforce's APIs read (REST API Developer Guide, "Standard HTTP
# headers" and "Salesforce REST API headers"; Bulk API 2.0 and Bulk API guides). The
# Sforce-* family holds the call options: Sforce-Call-Options, Sforce-Query-Options,
# Sforce-Auto-Assign, Sforce-Enable-PKChunking, Sforce-Line-Ending, Sforce-Mru, ...
_FORWARD = re.compile(
    r"^(accept|accept-charset|accept-encoding|accept-language|content-type|content-encoding|"
    r"content-md5|if-match|if-none-match|if-modified-since|if-unmodified-since|range|"
    r"x-prettyprint|sforce-[a-z0-9-]+)$",
    re.IGNORECASE,
)
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "set-cookie",
    }
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The query parameter the identity URL reads a token from: the caller's, never sent on.
TOKEN_PARAMETER = "oauth_token"  # noqa: S105 - a parameter name
BULK1_PREFIX = "/services/async/"


def _decodings(raw: str) -> Iterable[str]:
    """``raw`` and each further percent-decoding of it, until it stops changing."""
    seen = raw
    yield seen
    for _ in range(5):
        decoded = unquote(seen)
        if decoded == seen:
            return
        seen = decoded
        yield seen


def _dot_segment(segment: str) -> bool:
    """'.', '..', or one of them with ';parameters' (Tomcat and Jetty drop those)."""
    return segment.partition(";")[0] in (".", "..")


def check_path(raw_path: str, *, may_be_empty: bool = False) -> None:
    """Refuse a path that could leave its API or smuggle a header, in any encoding."""
    if not raw_path and not may_be_empty:
        raise InvalidPath("The path after /api/ is empty.")
    for text in _decodings(raw_path):
        if _CONTROL.search(text) or "\\" in text:
            raise InvalidPath("The path holds a control character or a backslash.")
        if "://" in text or text.startswith("/"):
            raise InvalidPath("The path is an absolute URL; the proxy only reaches your org.")
        if any(_dot_segment(segment) for segment in text.split("/")):
            raise InvalidPath("The path holds a '.', '..' or '..;' segment.")


def without_token(raw_query: str) -> str:
    """The query string minus any ``oauth_token`` parameter (a caller's key)."""
    if "%" not in raw_query and TOKEN_PARAMETER not in raw_query.lower():
        return raw_query
    kept = [
        pair
        for pair in raw_query.split("&")
        if unquote_plus(pair.partition("=")[0]).strip().lower() != TOKEN_PARAMETER
    ]
    return "&".join(kept)


def target_url(
    base_url: str,
    raw_path: str,
    raw_query: str,
    *,
    allow_loopback: bool,
    what: str = "instance_url",
) -> str:
    """``base_url`` + ``raw_path`` (from the host's root, already checked) + the query.

    ``base_url`` is the token's instance URL or the origin of its identity URL; a 400
    ``InvalidPath`` for a query string holding a raw control character."""
    # The query goes upstream still encoded, so an encoded newline is data (a
    # multi-line SOQL query); only a raw control character could break the request.
    if _CONTROL.search(raw_query):
        raise InvalidPath("The query string holds a raw control character.")
    base = check_salesforce_url(base_url, what=what, allow_loopback=allow_loopback)
    url = f"{base.rstrip('/')}{raw_path}"
    query = without_token(raw_query)
    return f"{url}?{query}" if query else url


def credentials(raw_path: str, access_token: str) -> dict[str, str]:
    """Where Salesforce reads the access token for the API at ``raw_path``: Bulk API 1.0
    (``/services/async/``) takes the session in ``X-SFDC-Session``, the rest a Bearer token."""
    if raw_path.startswith(BULK1_PREFIX):
        return {"X-SFDC-Session": access_token}
    return {"Authorization": f"Bearer {access_token}"}


def request_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The caller's headers that Salesforce should see (never a credential)."""
    return {name: value for name, value in headers if _FORWARD.match(name)}


def response_headers(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """Salesforce's headers for the caller: everything but hop-by-hop and cookies."""
    return [(name, value) for name, value in headers.items() if name.lower() not in _HOP_BY_HOP]
