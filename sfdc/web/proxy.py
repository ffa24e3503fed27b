"""The API proxy's routes: Salesforce's own URL space at the root, and ``/api/<path>``.

A Salesforce client given this service's URL as its instance URL, and an API key as its
access token, works unchanged: ``/services/data`` (versions, REST, composite, Bulk API
2.0, tooling), ``/services/async/XX.X/`` (Bulk API 1.0), ``/services/apexrest/``,
``/services/oauth2/userinfo`` and the identity URL ``/id/<orgId>/<userId>`` go to the
same path on the chosen org: the JWT identity, or the connection named in
``X-Sfdc-Connection``. ``/api/<path>`` is ``/services/<path>``, for callers that
prefer one prefix. Each route checks the caller (``_authorize``, the one place that
decides who may use the proxy) and the part of the path the caller chose, then hands
over to the forwarding core, ``sfdc.web.forward``.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from werkzeug.routing import PathConverter

from sfdc.access.caller import Caller
from sfdc.errors import InvalidPath
from sfdc.salesforce.paths import METHODS, check_path
from sfdc.web.auth import target
from sfdc.web.extension import CONNECTION, UPSTREAM
from sfdc.web.forward import Target, relay
from sfdc.web.spec import Param, documented

bp = Blueprint("proxy", __name__)

API = "/api/"
DATA = "/services/data"
ASYNC = "/services/async/"
APEXREST = "/services/apexrest/"
USERINFO = "/services/oauth2/userinfo"
IDENTITY = "/id/"


class AnyPath(PathConverter):
    """Matches any path, even '//host' or one holding CR/LF, so the proxy can refuse it
    with a 400 saying why instead of werkzeug answering 404."""

    regex = r"[\s\S]*"
    part_isolating = False  # werkzeug infers True for a regex without a slash


class SomePath(AnyPath):
    """``AnyPath``, but not empty: ``/services/data/`` itself is the versions route."""

    regex = r"[\s\S]+"
    part_isolating = False


# Segments that are never '.' or '..' and need no encoding: always forwarded. Any other
# path is checked in every decoding (check_path) and forwarded or refused as invalid_path.
_SEGMENT = r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*"
_RULES = (
    "A path with `.`/`..`/`..;` segments in any encoding, a backslash, a scheme, a leading "
    "`//` or a control character is refused with 400 `invalid_path`. The path goes to "
    "Salesforce exactly as sent: send its slashes unencoded."
)


def _path(description: str, first: str = _SEGMENT) -> Param:
    pattern = rf"^{first}(/{_SEGMENT})*$"
    # No example value: whether a path takes a method is Salesforce's to say (405), not ours.
    return Param("path", "path", f"{description} {_RULES}", {"type": "string", "pattern": pattern})


SESSION = Param(
    "X-SFDC-Session",
    "header",
    "The API key, where Bulk API 1.0 clients send their session (instead of `Authorization`); "
    "never passed on: Salesforce gets the service's session here.",
    {"type": "string"},
)
TOKEN = Param(
    "oauth_token",
    "query",
    "The API key, where jsforce's `identity()` sends its token (instead of `Authorization`); "
    "taken out of the query string before it goes to Salesforce.",
    {"type": "string"},
)
_PROXY = {
    "raises": (InvalidPath, *UPSTREAM),
    "opaque_body": True,
    "passthrough": True,
    "head": True,
    "tag": "proxy",
}


def _authorize() -> tuple[Caller, str | None]:
    """The caller, and the connection it may call Salesforce through the proxy as (None:
    the JWT identity); 401/403 if it may not."""
    return target("proxy")


def _raw_target(prefix: str) -> tuple[str, str]:
    """The path from the root and the query string, exactly as the caller encoded them."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    if "://" in raw.split("?", 1)[0][:10]:  # absolute-form request target
        raw = "/" + raw.split("://", 1)[1].split("/", 1)[-1]
    path, _, query = raw.partition("?")
    if not path.startswith(prefix):  # no raw URI from the server: rebuild it
        path, query = request.path, request.query_string.decode("latin-1")
    return path, query


def _proxy(
    prefix: str,
    path: str,
    *,
    upstream: str = "",
    identity: bool = False,
    may_be_empty: bool = False,
) -> Response:
    """Check the caller and the path after ``prefix``, then relay. ``upstream`` replaces
    ``prefix`` in the path sent to Salesforce (``/api/`` becomes ``/services/``)."""
    caller, connection = _authorize()
    raw_path, raw_query = _raw_target(prefix)
    tail = raw_path[len(prefix) :]
    check_path(tail, may_be_empty=may_be_empty)
    check_path(path, may_be_empty=may_be_empty)  # as the server decoded it, too
    return relay(Target((upstream or prefix) + tail, raw_query, identity), connection, caller)


@bp.route("/api/<anypath:path>", methods=METHODS, provide_automatic_options=False)
@documented(
    None,
    params=(
        _path("The Salesforce path after `/services/`, e.g. `data/v60.0/limits`."),
        CONNECTION,
    ),
    **_PROXY,
)
def forward(path: str) -> Response:
    """Salesforce's APIs at `{instance_url}/services/{path}`, with the service's token

    The same as `/services/{path}` at this service's root. Query string, body and the
    headers Salesforce reads pass through; Salesforce's status, headers (minus hop-by-hop
    headers and cookies) and body come back, streamed, its links pointing at this service.
    When Salesforce says the session is dead, the token is replaced once and the request
    replayed.
    """
    return _proxy(API, path, upstream="/services/")


@bp.route(DATA, methods=("GET", "HEAD"), provide_automatic_options=False)
@bp.route(f"{DATA}/", methods=("GET", "HEAD"), provide_automatic_options=False)
@documented(None, params=(CONNECTION,), **_PROXY)
def versions() -> Response:
    """Salesforce's API versions (`/services/data`, with or without a slash), from the org"""
    return _proxy(request.path, "", may_be_empty=True)  # either spelling, as sent


@bp.route(f"{DATA}/<somepath:path>", methods=METHODS, provide_automatic_options=False)
@documented(
    None,
    params=(
        _path(
            "The REST API path, e.g. `v60.0/query` or `v60.0/jobs/ingest` (the version "
            "resource `v60.0` itself is served too).",
            rf"v[0-9]+\.[0-9]+/{_SEGMENT}",
        ),
        CONNECTION,
    ),
    **_PROXY,
)
def data(path: str) -> Response:
    """Salesforce's REST API, Bulk API 2.0 and Tooling API, with the service's token

    For a Salesforce client given this service's URL as its instance URL and an API key as
    its access token (`Authorization: Bearer` or `OAuth`).
    """
    return _proxy(f"{DATA}/", path)


@bp.route(f"{ASYNC}<anypath:path>", methods=METHODS, provide_automatic_options=False)
@documented(
    None,
    params=(_path("The Bulk API 1.0 path, e.g. `60.0/job`."), CONNECTION, SESSION),
    **_PROXY,
)
def bulk(path: str) -> Response:
    """Salesforce's Bulk API 1.0, with the service's session

    The caller's API key may come in `X-SFDC-Session`, as Bulk API 1.0 clients send it; the
    service's session goes to Salesforce in its place.
    """
    return _proxy(ASYNC, path)


@bp.route(f"{APEXREST}<anypath:path>", methods=METHODS, provide_automatic_options=False)
@documented(
    None,
    params=(_path("The Apex REST service's path, as its class maps it."), CONNECTION),
    **_PROXY,
)
def apexrest(path: str) -> Response:
    """The org's Apex REST services, with the service's token"""
    return _proxy(APEXREST, path)


@bp.route(USERINFO, methods=("GET", "POST", "HEAD"), provide_automatic_options=False)
@documented(None, params=(CONNECTION,), **_PROXY)
def userinfo() -> Response:
    """The OpenID Connect UserInfo of the chosen org's user"""
    return _proxy(USERINFO, "", may_be_empty=True)


@bp.route(
    f"{IDENTITY}<anypath:path>", methods=("GET", "POST", "HEAD"), provide_automatic_options=False
)
@documented(
    None,
    params=(_path("The identity URL's `orgId/userId`."), CONNECTION, TOKEN),
    **_PROXY,
)
def identity(path: str) -> Response:
    """The identity URL of the chosen org's user (the token's `id`), on its login host

    The caller's API key may also come as the `oauth_token` query parameter, as jsforce's
    `identity()` sends it; it is never passed on.
    """
    return _proxy(IDENTITY, path, identity=True)
