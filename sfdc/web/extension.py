"""Where the shared services live: ``app.extensions``, not module globals.

``token_source(name)`` is what ``/token``, ``/connection`` and the proxy use:
the JWT connection, or a stored connection; which one a request acts as is
``sfdc.web.auth.target``'s to say (the ``X-Sfdc-Connection`` header, read by
``requested_connection``, else the key's default connection).
"""

from __future__ import annotations

from flask import current_app, request

from sfdc.access.scopes import JWT
from sfdc.errors import (
    ConnectionsNotEnabled,
    ConsentRequired,
    DatabaseUnavailable,
    InvalidRequest,
    RefreshInProgress,
    SalesforceRefusal,
    SalesforceTimeout,
    SalesforceUnavailable,
    UnknownConnection,
    UpstreamProtocolError,
)
from sfdc.orgs.connections import Connections
from sfdc.orgs.records import NAME_PATTERN, check_name
from sfdc.orgs.sources import ConnectionTokens
from sfdc.tokens.service import TokenService
from sfdc.web.spec import Param

KEY = "sfdc"
CONNECTIONS_KEY = "sfdc.orgs"
CONNECTION_HEADER = "X-Sfdc-Connection"


# What getting a token from Salesforce can end in (the cooldown repeats these, too).
UPSTREAM = (SalesforceRefusal, UpstreamProtocolError, SalesforceUnavailable, SalesforceTimeout)

CONNECTION = Param(
    CONNECTION_HEADER,
    "header",
    "The stored connection (see `/connections`) to act as; without it (or with `jwt`), the "
    "service's own JWT connection. An empty header, or one that is not a connection name, is "
    "refused.",
    {"type": "string", "pattern": NAME_PATTERN, "examples": ["acme-prod"]},
    raises=(
        InvalidRequest,
        UnknownConnection,
        ConnectionsNotEnabled,
        ConsentRequired,
        DatabaseUnavailable,
        RefreshInProgress,
        *UPSTREAM,
    ),
)


def token_service() -> TokenService:
    service: TokenService = current_app.extensions[KEY]
    return service


def connections() -> Connections:
    found: Connections | None = current_app.extensions.get(CONNECTIONS_KEY)
    if found is None:
        raise ConnectionsNotEnabled("Connected orgs are not enabled on this service.")
    return found


def requested_connection() -> str | None:
    """The connection named in ``X-Sfdc-Connection``, or None without the header or with
    ``jwt`` (the JWT identity, as in scopes: no connection may take that name); a header
    that is not a connection name is a 400 before any scope is weighed (else a scoped
    key's 403 would ask for a scope that cannot exist, such as ``proxy:*``)."""
    name = request.headers.get(CONNECTION_HEADER)
    if name is None:
        return None
    if not name.strip():
        # An empty variable in a caller's script must not silently mean another identity.
        raise InvalidRequest(
            f"The {CONNECTION_HEADER} header is empty.",
            hint="Name a stored connection (GET /connections lists them), or leave the header "
            "out to use the JWT connection.",
        )
    name = check_name(name.strip())
    return None if name == JWT else name


def token_source(name: str | None) -> TokenService | ConnectionTokens:
    """The JWT connection (``name`` None), or the stored connection ``name``."""
    if name is None:
        return token_service()
    return connections().source(name)
