"""Rules for the Salesforce API proxy: which URL a request may reach, which headers cross.

``/api/<path>`` maps to ``{instance_url}/services/<path>`` and nowhere else.
The path arrives percent-encoded and may be encoded more than once, so it is
decoded until stable and refused if any decoding holds a ``.``/``..`` segment,
a backslash, a scheme, a leading ``//`` or a control character (CR/LF would
let a caller write headers into our request). The path and query string are
then sent exactly as the caller encoded them. The host is the token's
``instance_url``, itself checked against the Salesforce domains in
``sfdc.settings.hosts``. Headers cross by allowlist: what Salesforce's REST API reads
going in; what callers need coming back, without hop-by-hop headers or
cookies. Pure functions: the web layer does the I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import unquote

from sfdc.errors import InvalidPath
from sfdc.settings.hosts import check_salesforce_url

METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE", "HEAD")

# Request headers Salesforce's REST API reads; the caller's Authorization (our
# API key), cookies and forwarding headers never leave.
_FORWARD = re.compile(
    r"^(accept|accept-encoding|accept-language|content-type|content-encoding|if-match|"
    r"if-none-match|if-modified-since|if-unmodified-since|x-prettyprint|sforce-.*|x-sfdc-.*)$",
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


def check_path(raw_path: str) -> None:
    """Refuse a path that could leave ``/services/`` or smuggle a header, in any encoding."""
    if not raw_path:
        raise InvalidPath("The path after /api/ is empty.")
    for text in _decodings(raw_path):
        if _CONTROL.search(text) or "\\" in text:
            raise InvalidPath("The path holds a control character or a backslash.")
        if "://" in text or text.startswith("/"):
            raise InvalidPath("The path is an absolute URL; the proxy only reaches your org.")
        if any(segment in (".", "..") for segment in text.split("/")):
            raise InvalidPath("The path holds a '.' or '..' segment.")


def target_url(instance_url: str, raw_path: str, raw_query: str, *, allow_loopback: bool) -> str:
    """The Salesforce URL for ``/api/<raw_path>?<raw_query>``, or a 400 ``InvalidPath``."""
    check_path(raw_path)
    # The query goes upstream still encoded, so an encoded newline is data (a
    # multi-line SOQL query); only a raw control character could break the request.
    if _CONTROL.search(raw_query):
        raise InvalidPath("The query string holds a raw control character.")
    base = check_salesforce_url(instance_url, what="instance_url", allow_loopback=allow_loopback)
    url = f"{base.rstrip('/')}/services/{raw_path}"
    return f"{url}?{raw_query}" if raw_query else url


# Where a caller may put its API key besides Authorization (the Bulk API 1.0's session
# header): it is this service's key, never Salesforce's, so it is never forwarded.
_CALLER_KEY_HEADERS = frozenset({"x-sfdc-session"})


def request_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The caller's headers that Salesforce should see (never their API key)."""
    return {
        name: value
        for name, value in headers
        if _FORWARD.match(name) and name.lower() not in _CALLER_KEY_HEADERS
    }


def response_headers(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """Salesforce's headers for the caller: everything but hop-by-hop and cookies."""
    return [(name, value) for name, value in headers.items() if name.lower() not in _HOP_BY_HOP]
