"""The one error catalogue: every error the service answers with, one class each.

Every error carries what a person needs to act on it: a stable ``code`` (the
JSON ``error``), the HTTP ``status``, ``retryable`` (whether trying the same
thing later can help) and a ``hint`` saying what to change, all set on its
class; an instance adds its ``description`` and may sharpen the hint. The web
layer turns any of them into the contract's JSON error; the CLI into one line
on stderr. None of them ever holds a secret. No raise site names a code: a new
kind of error is a new class here, with a row in the README's error table
(``tests/test_errors.py`` holds the two to each other).

    class                             code                       status
    SfdcError
    ├── ConfigError                   configuration_error        start-up and CLI only
    ├── RequestError                  (a caller's request we refuse)
    │   ├── InvalidRequest            invalid_request            400
    │   ├── BadRequest                bad_request                400
    │   ├── InvalidPath               invalid_path               400
    │   ├── Unauthorized              unauthorized               401
    │   ├── Forbidden                 forbidden                  403
    │   ├── UnknownKey                unknown_key                404
    │   ├── AccessDenied              access_denied              403
    │   ├── NotFound                  not_found                  404
    │   ├── UnknownConnection         unknown_connection         404
    │   ├── MethodNotAllowed          method_not_allowed         405
    │   ├── RequestTimeout            request_timeout            408
    │   ├── ConnectionConflict        connection_conflict        409
    │   ├── UserMismatch              user_mismatch              409
    │   ├── OrgMismatch               org_mismatch               409
    │   ├── PayloadTooLarge           request_entity_too_large   413
    │   └── ConnectLinkError          (a connect link that cannot be redeemed)
    │       ├── InvalidState          invalid_state              400
    │       ├── StateUsed             state_used                 400
    │       ├── StateExpired          state_expired              400
    │       └── StateUnreadable       state_unreadable           400
    ├── ServiceError                  (this service failed, not the caller or Salesforce)
    │   ├── InternalError             internal_error             500
    │   ├── ConnectionsNotEnabled     connections_not_enabled    501
    │   ├── DatabaseUnavailable       database_unavailable       503
    │   └── RefreshInProgress         refresh_in_progress        503
    └── UpstreamError                 (talking to Salesforce went wrong)
        ├── SalesforceRefusal         invalid_grant*             502
        │   └── IdentityRefusal       Bad_OAuth_Token*           502
        ├── ConsentRequired           invalid_grant              502
        ├── NoRefreshToken            no_refresh_token           502
        ├── UpstreamProtocolError     invalid_upstream_response  502
        ├── SalesforceUnavailable     salesforce_unavailable     503
        └── SalesforceTimeout         salesforce_timeout         504

    * Salesforce's own code, relayed as Salesforce sent it; the one shown is an example.

The groups in parentheses set no code and are never raised, only caught.
"""

from __future__ import annotations

from sfdc.errors.base import RequestError, ServiceError, SfdcError, UpstreamError
from sfdc.errors.caller import (
    AccessDenied,
    BadRequest,
    ConnectionConflict,
    ConnectLinkError,
    Forbidden,
    InvalidPath,
    InvalidRequest,
    InvalidState,
    MethodNotAllowed,
    NotFound,
    OrgMismatch,
    PayloadTooLarge,
    RequestTimeout,
    StateExpired,
    StateUnreadable,
    StateUsed,
    Unauthorized,
    UnknownConnection,
    UnknownKey,
    UserMismatch,
)
from sfdc.errors.service import (
    ConfigError,
    ConnectionsNotEnabled,
    DatabaseUnavailable,
    InternalError,
    RefreshInProgress,
)
from sfdc.errors.upstream import (
    ConsentRequired,
    IdentityRefusal,
    NoRefreshToken,
    SalesforceRefusal,
    SalesforceTimeout,
    SalesforceUnavailable,
    UpstreamProtocolError,
)

__all__ = [
    "AccessDenied",
    "BadRequest",
    "ConfigError",
    "ConnectLinkError",
    "ConnectionConflict",
    "ConnectionsNotEnabled",
    "ConsentRequired",
    "DatabaseUnavailable",
    "Forbidden",
    "IdentityRefusal",
    "InternalError",
    "InvalidPath",
    "InvalidRequest",
    "InvalidState",
    "MethodNotAllowed",
    "NoRefreshToken",
    "NotFound",
    "OrgMismatch",
    "PayloadTooLarge",
    "RefreshInProgress",
    "RequestError",
    "RequestTimeout",
    "SalesforceRefusal",
    "SalesforceTimeout",
    "SalesforceUnavailable",
    "ServiceError",
    "SfdcError",
    "StateExpired",
    "StateUnreadable",
    "StateUsed",
    "Unauthorized",
    "UnknownConnection",
    "UnknownKey",
    "UpstreamError",
    "UpstreamProtocolError",
    "UserMismatch",
    "catalogue",
    "restore",
]


def _tree(root: type[SfdcError]) -> list[type[SfdcError]]:
    found = [root]
    for child in root.__subclasses__():
        if child.__module__.startswith(__name__):
            found.extend(_tree(child))
    return found


def catalogue() -> tuple[type[SfdcError], ...]:
    """Every error the service can answer an HTTP request with, in the tree's order.

    Each class has ``code``, ``status``, ``retryable`` and ``hint``; where
    ``salesforce_code`` is set, instances carry Salesforce's code and the class's is
    an example. ``ConfigError`` is left out: it stops the process before it serves.
    """
    return tuple(
        kind for kind in _tree(SfdcError) if "code" in vars(kind) and kind is not ConfigError
    )


def restore(code: str, description: str, *, hint: str, retryable: bool) -> UpstreamError:
    """An upstream error recorded as its code (the cool-down's shared record), made again.

    A code of this service's comes back as its class; any other is Salesforce's, so
    it comes back as a ``SalesforceRefusal`` carrying it.
    """
    ours = {
        kind.code: kind
        for kind in catalogue()
        if issubclass(kind, UpstreamError) and not kind.salesforce_code
    }
    kind = ours.get(code)
    if kind is None:
        return SalesforceRefusal(
            code, description, hint=hint, retryable=retryable, upstream_status=None
        )
    error = kind(description, hint=hint)
    error.retryable = retryable
    return error
