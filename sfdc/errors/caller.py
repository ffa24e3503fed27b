"""Requests this service refuses (4xx): the caller, or the person at the browser, must change them.

The HTTP-level ones (``BadRequest``, ``NotFound``, ``MethodNotAllowed``,
``PayloadTooLarge``) are what werkzeug raises before a view runs; their codes
are werkzeug's names for the status, which callers already match on.
"""

from __future__ import annotations

from sfdc.errors.base import RequestError

_ENDPOINTS = "See the README's endpoint table for what this service serves."
CONNECT_HINT = "Ask for a connect link with POST /connections and open it in a browser."


class InvalidRequest(RequestError):
    """A request missing something or holding something malformed: body, name, header."""

    code = "invalid_request"
    hint = "See GET /openapi.json for what each endpoint accepts."


class BadRequest(RequestError):
    """HTTP could not read the request, e.g. its body ended before its Content-Length."""

    code = "bad_request"
    hint = "Send the request again, whole; see GET /openapi.json for what each endpoint accepts."


class InvalidPath(RequestError):
    """A proxied path that could leave Salesforce's API (``..``, ``..;``, absolute URLs,
    controls)."""

    code = "invalid_path"
    hint = (
        "Send a Salesforce path with no '.', '..' or '..;' segments, e.g. "
        "/services/data/v60.0/limits, or /api/data/v60.0/limits, which is sent to "
        "{instance_url}/services/data/v60.0/limits."
    )


class Unauthorized(RequestError):
    """No API key where one is needed, a wrong one, or a malformed Authorization header."""

    code = "unauthorized"
    status = 401
    hint = "Send `Authorization: Bearer <key>` with a key from SFDC_API_KEYS or a named key."


class Forbidden(RequestError):
    """A valid API key whose scopes do not cover what the request asks for."""

    code = "forbidden"
    status = 403
    hint = (
        "Ask whoever manages keys for a key with the missing scope (python -m sfdc keys "
        "create), or call with the key meant for this connection."
    )


class UnknownKey(RequestError):
    """No named API key has the id the caller gave (``/keys/<id>``)."""

    code = "unknown_key"
    status = 404
    hint = "List the keys with GET /keys or `python -m sfdc keys list`."

    def __init__(self, key_id: str) -> None:
        super().__init__(f"There is no API key with id '{key_id[:40]}'.")


class AccessDenied(RequestError):
    """The person chose Deny on Salesforce's consent page."""

    code = "access_denied"
    status = 403
    hint = "If that was a mistake, ask for a new connect link and choose Allow."


class NotFound(RequestError):
    """No route for the path."""

    code = "not_found"
    status = 404
    hint = _ENDPOINTS


class UnknownConnection(RequestError):
    """No stored connection has the name the caller gave."""

    code = "unknown_connection"
    status = 404
    hint = "List them with GET /connections (names are case-sensitive). " + CONNECT_HINT

    def __init__(self, name: str) -> None:
        super().__init__(f"There is no connection named '{name}'.")


class MethodNotAllowed(RequestError):
    """A route that exists, called with a method it does not take (``Allow`` says which)."""

    code = "method_not_allowed"
    status = 405
    hint = _ENDPOINTS


class ConnectionConflict(RequestError):
    """Two changes to one connection committed at the same moment; this one lost."""

    code = "connection_conflict"
    status = 409
    hint = "Look at GET /connections; if it is not as you want it, try again."


class UserMismatch(RequestError):
    """A reconnect approved as another Salesforce user than the connection acts as."""

    code = "user_mismatch"
    status = 409
    hint = (
        "Approve as the user the connection acts as (GET /connections/<name> shows it), or "
        'ask for a link with "replace": true to bind the name to the new user.'
    )

    def __init__(self, name: str, was: str, now: str) -> None:
        super().__init__(
            f"Connection '{name}' acts as {was}, but the link was approved as {now}; "
            "nothing was changed."
        )


class OrgMismatch(RequestError):
    """A reconnect approved in another org than the connection's, without ``replace``."""

    code = "org_mismatch"
    status = 409
    hint = 'Log in to the connection\'s own org, or ask for a link with "replace": true.'

    def __init__(self, name: str, stored_org: str, approved_org: str) -> None:
        super().__init__(
            f"Connection '{name}' belongs to org {stored_org}, but the person approved in org "
            f"{approved_org}; nothing was stored.",
            hint=f"Log in to org {stored_org} to reconnect it. To point '{name}' at another "
            'org, ask for a link with "replace": true, or use another name.',
        )


class RequestTimeout(RequestError):
    """A request body that fell behind the minimum rate; it was dropped, not forwarded."""

    code = "request_timeout"
    status = 408
    retryable = True  # a body that came too slowly may come in time next
    hint = (
        "Send the body as one stream without pauses; the service drops an upload that falls "
        "behind instead of holding a worker for it. Retry the request."
    )


class PayloadTooLarge(RequestError):
    """A request body over the limit, refused before it is buffered."""

    code = "request_entity_too_large"
    status = 413
    hint = (
        "Proxied request bodies are limited to 64 MiB; for larger files use Salesforce's "
        "Bulk API or multipart uploads in smaller parts."
    )


class ConnectLinkError(RequestError):
    """A callback whose connect link cannot be redeemed; nothing was stored."""

    hint = "Ask for a new connect link (POST /connections) and open it within 15 minutes."


class InvalidState(ConnectLinkError):
    """No ``state``, or one this service did not sign, or one altered since."""

    code = "invalid_state"


class StateUsed(ConnectLinkError):
    """The link's ``state`` was redeemed already: each link works once."""

    code = "state_used"


class StateExpired(ConnectLinkError):
    """The link is older than its 15 minutes."""

    code = "state_expired"


class StateUnreadable(ConnectLinkError):
    """The link's PKCE verifier was sealed with a key this service no longer holds."""

    code = "state_unreadable"
