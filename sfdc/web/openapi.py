"""``/openapi.json``: the OpenAPI 3.1 description of every endpoint, public.

The document is written here by hand, as a Python dict, next to the code it
describes; ``tests/web/test_openapi.py`` fails when a route is added without
documentation or documented without existing, and a property-based test
(schemathesis) checks the answers against it. Errors, from every endpoint,
have the contract's shape (``Error``); 404 and 405 can come from any path.
The OAuth callback alone also answers HTML, for the person's browser.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from sfdc import __version__
from sfdc.salesforce.paths import METHODS

bp = Blueprint("openapi", __name__)

Json = dict[str, Any]

VERSION = __version__


def _ref(kind: str, name: str) -> Json:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema: Json) -> Json:
    return {"application/json": {"schema": schema}}


def _ok(description: str, schema_name: str) -> Json:
    return {"description": description, "content": _json(_ref("schemas", schema_name))}


# One example per error code, as the service words it.
_EXAMPLES: dict[str, tuple[str, str, bool]] = {
    "unauthorized": (
        "This endpoint returns live credentials and needs an API key.",
        "Send `Authorization: Bearer <one of SFDC_API_KEYS>`.",
        False,
    ),
    "invalid_request": (
        "POST /token reports a token Salesforce refused, but no 'rejected' token was sent.",
        'Send the refused access token as rejected=<token> (form) or {"rejected": '
        '"<token>"} (JSON); use GET /token to just read the token.',
        False,
    ),
    "invalid_path": (
        "The path holds a '.' or '..' segment.",
        "Call /api/<path> with a Salesforce REST path, e.g. /api/data/v60.0/limits; it is "
        "sent to {instance_url}/services/<path>.",
        False,
    ),
    "request_entity_too_large": (
        "The data value transmitted exceeds the capacity limit.",
        "See the README's endpoint table for what this service serves.",
        False,
    ),
    "invalid_grant": (
        "user hasn't approved this consumer",
        "In Setup > App Manager > (your connected app) > Manage > Edit Policies, set "
        "Permitted Users to 'Admin approved users are pre-authorized'.",
        False,
    ),
    "salesforce_unavailable": (
        "Salesforce could not be reached at login.salesforce.com.",
        "Check egress (security groups, proxy) to the login host; Salesforce status.",
        True,
    ),
    "salesforce_timeout": (
        "Salesforce did not answer POST /services/oauth2/token within 10 s.",
        "Retry later, or raise SFDC_HTTP_TIMEOUT if calls are merely slow.",
        True,
    ),
    "invalid_connection_name": (
        "'acme prod' is not a connection name.",
        "Use 1-64 letters, digits, '.', '-' or '_', starting with a letter or digit, e.g. "
        "acme-prod.",
        False,
    ),
    "invalid_connect_request": (
        "A connect link needs the connection's name.",
        'Send {"name": "acme"}; add "login": "sandbox" or a My Domain URL if needed.',
        False,
    ),
    "unknown_connection": (
        "There is no connection named 'acme'.",
        "List them with GET /connections; ask for a connect link with POST /connections and "
        "open it in a browser.",
        False,
    ),
    "connections_not_enabled": (
        "Connected orgs are not enabled on this service.",
        "Set SFDC_ENCRYPTION_KEY (generate it with `python -m sfdc keygen`) and "
        "SFDC_CONSUMER_SECRET in the bound credential, then restart; see the README's "
        "'Connecting an org'.",
        False,
    ),
    "database_unavailable": (
        "The connections database (PostgreSQL) failed: OperationalError.",
        "Check the bound PostgreSQL service (`cf service`), or DATABASE_URL; retry in a moment.",
        True,
    ),
    "consent_required": (
        "Connection 'acme' needs consent again: Salesforce refused its refresh token "
        "(expired access/refresh token).",
        "Connect 'acme' again: open https://login.salesforce.com/services/oauth2/authorize?... "
        "in a browser and choose Allow (the link works once, until 14:05 UTC).",
        False,
    ),
    "invalid_state": (
        "This callback's state was not issued by this service, or was altered; nothing was stored.",
        "Ask for a new connect link (POST /connections) and open it within 15 minutes.",
        False,
    ),
    "org_mismatch": (
        "This link reconnects 'acme', which belongs to org 00Dxx0000001gPLEAY, but the person "
        "approved in org 00Dxx0000002hQMEAY; nothing was stored.",
        "Log in to org 00Dxx0000001gPLEAY to reconnect it. To point 'acme' at another org, "
        'ask for a link with "replace": true, or use another name.',
        False,
    ),
    "access_denied": (
        "Connecting 'acme' was declined at Salesforce (end-user denied authorization); "
        "nothing was stored.",
        "If that was a mistake, ask for a new connect link and choose Allow.",
        False,
    ),
    "no_refresh_token": (
        "Salesforce granted 'acme' no refresh token; nothing was stored.",
        "Add 'Perform requests at any time (refresh_token, offline_access)' to the connected "
        "app's OAuth scopes, and keep refresh_token in the requested scopes.",
        False,
    ),
    "not_found": (
        "The requested URL was not found on the server.",
        "See the README's endpoint table for what this service serves.",
        False,
    ),
    "method_not_allowed": (
        "The method is not allowed for the requested URL.",
        "See the README's endpoint table for what this service serves.",
        False,
    ),
}


def _error(description: str, code: str, example: str | None = None, **extra: str) -> Json:
    """A response in the contract's error shape, with an example whose ``error`` is ``code``.

    ``example`` names the wording in ``_EXAMPLES`` when it is not ``code``'s own; ``extra``
    adds properties to the example (``connect_url``).
    """
    error_description, hint, retryable = _EXAMPLES[example or code]
    body = {
        "error": code,
        "error_description": error_description,
        "hint": hint,
        "retryable": retryable,
        **extra,
    }
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("schemas", "Error"), "example": body}},
    }


def _page_or_error(response: Json) -> Json:
    """``response`` for the OAuth callback: the same error as an HTML page, or as JSON."""
    return {
        **response,
        "description": response["description"] + " An HTML page for browsers; the JSON error "
        "when `Accept` prefers `application/json`.",
        "content": {**_HTML, **response["content"]},
    }


_ERROR_SCHEMA: Json = {
    "type": "object",
    "description": "Every error, from every endpoint, has this shape.",
    "properties": {
        "error": {
            "type": "string",
            "description": "A stable code: the service's own (`unauthorized`, `invalid_request`, "
            "`invalid_path`, `not_found`, `method_not_allowed`, `request_entity_too_large`, "
            "`invalid_upstream_response`, `salesforce_unavailable`, `salesforce_timeout`, "
            "`unknown_connection`, `connections_not_enabled`, `database_unavailable`, "
            "`invalid_state`, `state_used`, `state_expired`, `state_unreadable`, "
            "`access_denied`, `no_refresh_token`, `org_mismatch`, `connection_conflict`) or, "
            "for a refusal, Salesforce's own "
            "(`invalid_grant`, `invalid_client_id`, `redirect_uri_mismatch`, ...).",
        },
        "error_description": {"type": "string", "description": "What happened."},
        "hint": {"type": "string", "description": "What to change or do about it."},
        "retryable": {
            "type": "boolean",
            "description": "Whether asking again later, unchanged, can help.",
        },
        "connect_url": {
            "type": "string",
            "format": "uri",
            "description": "Only on `invalid_grant` for a stored connection that needs consent "
            "again: a fresh, single-use connect link for a person to open in a browser.",
        },
    },
    "required": ["error", "error_description", "hint", "retryable"],
    "additionalProperties": False,
}

_HTML: Json = {"text/html": {"schema": {"type": "string"}}}

_TIMESTAMP: Json = {"type": "string", "format": "date-time"}
_NULLABLE_TIMESTAMP: Json = {"type": ["string", "null"], "format": "date-time"}
_NULLABLE_STRING: Json = {"type": ["string", "null"]}

_TOKEN_SCHEMA: Json = {
    "type": "object",
    "description": "The current access token.",
    "properties": {
        "access_token": {"type": "string", "description": "Send as `Authorization: Bearer`."},
        "instance_url": {
            "type": "string",
            "format": "uri",
            "description": "The org's instance: REST calls go to `{instance_url}/services/...`.",
        },
        "id": {"type": "string", "format": "uri", "description": "The identity URL."},
        "token_type": {"type": "string", "examples": ["Bearer"]},
        "issued_at": _TIMESTAMP,
        "expires_at": {
            **_NULLABLE_TIMESTAMP,
            "description": "When the service stops handing this token out (from introspection, "
            "or `SFDC_TOKEN_MAX_AGE` after `issued_at`).",
        },
    },
    "required": ["access_token", "instance_url", "id", "token_type", "issued_at", "expires_at"],
    "additionalProperties": False,
}

_REPORTED_TOKEN_SCHEMA: Json = {
    **_TOKEN_SCHEMA,
    "description": "The current access token, after a reported rejection.",
    "properties": {
        **_TOKEN_SCHEMA["properties"],
        "replaced": {
            "type": "boolean",
            "description": "Whether this is a different token from the one reported. False when "
            "the reported token is no longer current, or is under 30 s old (see Retry-After).",
        },
    },
    "required": [*_TOKEN_SCHEMA["required"], "replaced"],
}

_DEMO_SCHEMA: Json = {
    "type": "object",
    "description": "The exchange behind the current token. Without an API key, live "
    "credentials read `REDACTED` and are named in `redacted`.",
    "properties": {
        "claim": {
            "type": "string",
            "description": "The assertion's base64url header and payload (`header.payload`).",
        },
        "signed_claim": {
            "type": "string",
            "description": "The base64url RS256 signature, or `REDACTED`.",
        },
        "target_payload": {
            "type": "string",
            "description": "The whole assertion that was posted, or `REDACTED`.",
        },
        "response_headers": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Salesforce's token response headers.",
        },
        "response_text": {
            "type": "object",
            "description": "Salesforce's token response, parsed; `access_token` (and any "
            "`refresh_token` or `id_token`) read `REDACTED` without an API key.",
            "properties": {
                "access_token": {"type": "string"},
                "instance_url": {"type": "string"},
                "id": {"type": "string"},
                "token_type": {"type": "string"},
                "issued_at": {"type": "string"},
                "scope": {"type": "string"},
                "signature": {"type": "string"},
            },
            "required": ["access_token", "instance_url", "id"],
        },
        "assertion_expires_at": _TIMESTAMP,
        "redacted": {
            "type": "array",
            "description": "The fields hidden from this caller.",
            "items": {
                "type": "string",
                "enum": [
                    "response_text.access_token",
                    "response_text.refresh_token",
                    "response_text.id_token",
                    "signed_claim",
                    "target_payload",
                ],
            },
            "uniqueItems": True,
        },
    },
    "required": [
        "claim",
        "signed_claim",
        "target_payload",
        "response_headers",
        "response_text",
        "assertion_expires_at",
        "redacted",
    ],
    "additionalProperties": False,
}

_CONNECTION_SCHEMA: Json = {
    "type": "object",
    "description": "The connection test through the identity URL. A failed test is an error "
    "response, never `status: false`.",
    "properties": {
        "status": {"type": "boolean", "const": True},
        "message": {"type": "string"},
        "user": {
            "type": "object",
            "properties": {
                "id": _NULLABLE_STRING,
                "username": _NULLABLE_STRING,
                "display_name": _NULLABLE_STRING,
                "email": _NULLABLE_STRING,
            },
            "required": ["id", "username", "display_name", "email"],
            "additionalProperties": False,
        },
        "org": {
            "type": "object",
            "properties": {"id": _NULLABLE_STRING},
            "required": ["id"],
            "additionalProperties": False,
        },
        "instance_url": {"type": "string", "format": "uri"},
        "identity_url": {"type": "string", "format": "uri"},
        "token": {
            "type": "object",
            "properties": {
                "issued_at": _TIMESTAMP,
                "expires_at": _NULLABLE_TIMESTAMP,
                "age_seconds": {"type": "number"},
            },
            "required": ["issued_at", "expires_at", "age_seconds"],
            "additionalProperties": False,
        },
    },
    "required": ["status", "message", "user", "org", "instance_url", "identity_url", "token"],
    "additionalProperties": False,
}

_REJECTED_SCHEMA: Json = {
    "type": "object",
    "properties": {
        "rejected": {
            "type": "string",
            "minLength": 1,
            "description": "The access token Salesforce refused.",
        }
    },
    "required": ["rejected"],
}

_STORED_CONNECTION_SCHEMA: Json = {
    "type": "object",
    "description": "A connected org, as stored: who it acts as and its state. Never a token.",
    "properties": {
        "name": {"type": "string", "examples": ["acme-prod"]},
        "status": {
            "type": "string",
            "enum": ["connected", "needs_consent"],
            "description": "`needs_consent`: Salesforce refused the refresh token; a person "
            "must connect it again.",
        },
        "status_reason": {
            **_NULLABLE_STRING,
            "description": "Why it needs consent (Salesforce's words), else null.",
        },
        "login_url": {"type": "string", "format": "uri"},
        "instance_url": {"type": "string", "format": "uri"},
        "identity_url": {"type": "string", "format": "uri"},
        "username": {"type": "string"},
        "user_id": {"type": "string"},
        "org_id": {"type": "string"},
        "scopes": {"type": "string", "examples": ["api refresh_token"]},
        "connected_at": _TIMESTAMP,
        "refreshed_at": _NULLABLE_TIMESTAMP,
        "access_token_expires_at": _NULLABLE_TIMESTAMP,
    },
    "required": [
        "name",
        "status",
        "status_reason",
        "login_url",
        "instance_url",
        "identity_url",
        "username",
        "user_id",
        "org_id",
        "scopes",
        "connected_at",
        "refreshed_at",
        "access_token_expires_at",
    ],
    "additionalProperties": False,
}

_CONNECT_REQUEST_SCHEMA: Json = {
    "type": "object",
    "properties": {
        "name": {
            "type": "string",
            "minLength": 1,
            "description": "The connection's name: 1-64 letters, digits, `.`, `-` or `_`, "
            "starting with a letter or digit, case-sensitive. Connecting an existing name "
            "reconnects it, in the same org unless `replace` is true.",
            "examples": ["acme-prod"],
        },
        "login": {
            "type": "string",
            "description": "`production`, `sandbox` or a My Domain URL; default: the "
            "connection's current login host, else `SFDC_LOGIN_URL`.",
            "examples": ["sandbox"],
        },
        "scopes": {
            "type": "string",
            "description": "Space-separated OAuth scopes; default `api refresh_token`.",
        },
        "replace": {
            "type": "boolean",
            "description": "Let the link point an existing connection at another org; "
            "default false, so a reconnect approved in another org is refused.",
        },
    },
    "required": ["name"],
}

_CONNECT_LINK_SCHEMA: Json = {
    "type": "object",
    "description": "A single-use link for a person to open in a browser and choose Allow.",
    "properties": {
        "name": {"type": "string"},
        "connect_url": {
            "type": "string",
            "format": "uri",
            "description": "Salesforce's authorize URL, with a signed `state` and a PKCE "
            "challenge.",
        },
        "login_url": {"type": "string", "format": "uri"},
        "scopes": {"type": "string"},
        "callback_url": {
            "type": "string",
            "format": "uri",
            "description": "Where Salesforce sends the browser back (`/oauth/callback`); must "
            "be the connected app's Callback URL.",
        },
        "expires_at": {**_TIMESTAMP, "description": "The link works once, until then."},
    },
    "required": ["name", "connect_url", "login_url", "scopes", "callback_url", "expires_at"],
    "additionalProperties": False,
}

_DELETED_SCHEMA: Json = {
    "type": "object",
    "properties": {
        "deleted": {"type": "string", "description": "The connection's name."},
        "revoked": {
            "type": ["boolean", "null"],
            "description": "true: the refresh token was revoked at Salesforce; false: "
            "Salesforce no longer knew it; null: it could not be opened with "
            "`SFDC_ENCRYPTION_KEY`, so revoke it in Salesforce.",
        },
        "message": {"type": "string"},
    },
    "required": ["deleted", "revoked", "message"],
    "additionalProperties": False,
}

_UNAUTHORIZED: Json = {
    **_error(
        "`unauthorized`: no API key where one is needed, a wrong one, or an Authorization "
        "header that is not `Bearer <key>`.",
        "unauthorized",
    ),
    "headers": {
        "WWW-Authenticate": {
            "required": True,
            "schema": {"type": "string", "examples": ['Bearer realm="sfdc-token-service"']},
        }
    },
}

_UPSTREAM: Json = {
    "502": _error(
        "Salesforce refused (`error` is Salesforce's own code, e.g. `invalid_grant`), or its "
        "answer was unreadable (`invalid_upstream_response`).",
        "invalid_grant",
    ),
    "503": _error(
        "Salesforce unreachable, or 5xx/408/429 after retries.", "salesforce_unavailable"
    ),
    "504": _error(
        "No answer in time (`SFDC_HTTP_TIMEOUT` per attempt, 3 attempts within 25 s).",
        "salesforce_timeout",
    ),
}

_UPSTREAM_REFS: Json = {status: _ref("responses", f"Upstream{status}") for status in _UPSTREAM}

_API_KEY: list[Json] = [{"apiKey": []}]

_NAME_PARAMETER: Json = {
    "name": "name",
    "in": "path",
    "required": True,
    "description": "The connection's name: 1-64 letters, digits, `.`, `-` or `_`, starting "
    "with a letter or digit; any other is refused with 400 `invalid_request`.",
    "schema": {"type": "string"},
    "examples": {"name": {"value": "acme-prod"}},
}

_CONNECTION_HEADER: Json = {
    "name": "X-Sfdc-Connection",
    "in": "header",
    "required": False,
    "description": "The stored connection (see `/connections`) to act as; without it, the "
    "service's own JWT connection. An empty header, or a name that is not a connection name, "
    "is refused with 400 `invalid_request`.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"},
    "examples": {"connection": {"value": "acme-prod"}},
}

_NOT_ENABLED: Json = _error(
    "`connections_not_enabled`: connected orgs are off (no `SFDC_ENCRYPTION_KEY`).",
    "connections_not_enabled",
)

_DATABASE_UNAVAILABLE: Json = _error(
    "`database_unavailable`: the connections database failed.", "database_unavailable"
)

_UNKNOWN_CONNECTION: Json = _error(
    "`unknown_connection`: no stored connection has this name.", "unknown_connection"
)

_BAD_NAME: Json = _error(
    "`invalid_request`: not a connection name.", "invalid_request", "invalid_connection_name"
)

_CONSENT_REQUIRED: Json = _error(
    "`invalid_grant`, for a stored connection: Salesforce refused its refresh token. The "
    "error's `connect_url` is a fresh link for a person to connect it again.",
    "invalid_grant",
    "consent_required",
    connect_url="https://login.salesforce.com/services/oauth2/authorize?response_type=code&...",
)


def _example(response: Json) -> Json:
    example: Json = response["content"]["application/json"]["example"]
    return example


def _either(description: str, **responses: Json) -> Json:
    """One status, several errors: an example of each, named."""
    return {
        **next(iter(responses.values())),
        "description": description,
        "content": {
            "application/json": {
                "schema": _ref("schemas", "Error"),
                "examples": {
                    name: {"value": _example(response)} for name, response in responses.items()
                },
            }
        },
    }


_HEADER_400 = "With `X-Sfdc-Connection`: `invalid_request`, not a connection name."


def _with_connection(operation: Json) -> Json:
    """``operation``, taking X-Sfdc-Connection and answering the errors it can bring."""
    responses: Json = dict(operation["responses"])
    given = responses.get("400")
    responses["400"] = (
        _either(f"{given['description']} {_HEADER_400}", request=given, connection=_BAD_NAME)
        if given
        else {**_BAD_NAME, "description": _HEADER_400}
    )
    responses["404"] = {
        **_UNKNOWN_CONNECTION,
        "description": "With `X-Sfdc-Connection`: " + _UNKNOWN_CONNECTION["description"],
    }
    responses["501"] = {
        **_NOT_ENABLED,
        "description": "With `X-Sfdc-Connection`: " + _NOT_ENABLED["description"],
    }
    responses["502"] = _either(
        _UPSTREAM["502"]["description"] + " With `X-Sfdc-Connection`, `invalid_grant` may "
        "mean the connection needs consent again: then the error carries a `connect_url`.",
        refused=_UPSTREAM["502"],
        consent_required=_CONSENT_REQUIRED,
    )
    responses["503"] = _either(
        _UPSTREAM["503"]["description"] + " With `X-Sfdc-Connection`, also `database_unavailable`.",
        salesforce_unavailable=_UPSTREAM["503"],
        database_unavailable=_DATABASE_UNAVAILABLE,
    )
    return {
        **operation,
        "parameters": [*operation.get("parameters", []), _CONNECTION_HEADER],
        "responses": dict(sorted(responses.items())),
    }


_PATH_PARAMETER: Json = {
    "name": "path",
    "in": "path",
    "required": True,
    "description": "The Salesforce REST path after `/services/`, e.g. `data/v60.0/limits`; "
    "it may hold slashes. A path with `.`/`..` segments in any encoding, a backslash, a "
    "scheme, a leading `//` or a control character is refused with 400 `invalid_path`. The "
    "path goes to Salesforce exactly as sent: send its slashes unencoded (a client that "
    "writes `%2F` has `%2F` forwarded).",
    "schema": {"type": "string"},
    "examples": {"limits": {"value": "data/v60.0/limits"}},
}

_PASSTHROUGH_NOTE = " Salesforce's own answer with this status passes through unchanged instead."


def _proxy_operation(method: str) -> Json:
    operation: Json = {
        "operationId": f"proxy{method.capitalize()}",
        "tags": ["proxy"],
        "summary": f"{method} {{instance_url}}/services/{{path}} with the service's token",
        "description": "Query string, body and content type pass through untouched; "
        "Salesforce's status, headers (minus hop-by-hop headers and cookies) and body come "
        "back, streamed. On 401 `INVALID_SESSION_ID` the token is replaced once and the "
        "request replayed.",
        "security": _API_KEY,
        "responses": {
            "400": _error(
                "`invalid_path`: the path could leave `/services/` or smuggle a header.",
                "invalid_path",
            ),
            "401": _UNAUTHORIZED,
            "413": _error(
                "`request_entity_too_large`: a request body over 64 MiB.",
                "request_entity_too_large",
            ),
            **_UPSTREAM,
            "default": {
                "description": "Salesforce's answer, passed through: any status, any content "
                "type, Salesforce's headers (`Sforce-Limit-Info` and the rest).",
                "headers": {
                    "Sforce-Limit-Info": {
                        "schema": {"type": "string", "examples": ["api-usage=18/15000"]}
                    }
                },
                "content": {"*/*": {"schema": {}}},
            },
        },
    }
    if method in ("POST", "PATCH", "PUT"):
        operation["requestBody"] = {
            "required": False,
            "description": "Sent to Salesforce untouched, with its Content-Type; at most 64 MiB.",
            "content": {"*/*": {"schema": {}}},
        }
    operation = _with_connection(operation)
    for status in ("404", "501"):  # Salesforce's own, e.g. NOT_FOUND, are common here
        response = operation["responses"][status]
        operation["responses"][status] = {
            **response,
            "content": {**response["content"], "*/*": {"schema": {}}},
        }
    operation["responses"] = {
        status: response
        if status in ("413", "default")
        else {**response, "description": response["description"] + _PASSTHROUGH_NOTE}
        for status, response in operation["responses"].items()
    }
    return operation


DOCUMENT: Json = {
    "openapi": "3.1.0",
    "info": {
        "title": "Salesforce token service",
        "version": VERSION,
        "description": "Salesforce access tokens through the JWT bearer flow, and a proxy to "
        "Salesforce's REST API, for apps on Cloud Foundry. Every error is JSON in the `Error` "
        "shape; any path or method not listed here is 404 `not_found` or 405 "
        "`method_not_allowed`.",
    },
    "tags": [
        {"name": "tokens", "description": "Access tokens and the exchange behind them."},
        {"name": "proxy", "description": "Salesforce's REST API through the service's token."},
        {
            "name": "connections",
            "description": "Orgs connected by a person's consent (OAuth web-server flow), used "
            "with `X-Sfdc-Connection`. Off (501) without `SFDC_ENCRYPTION_KEY`.",
        },
        {"name": "operations", "description": "Health, metrics and this document."},
    ],
    "paths": {
        "/": {
            "get": {
                "operationId": "getDemo",
                "tags": ["tokens"],
                "summary": "The exchange behind the current token",
                "description": "Never logs in again per view. Live credentials go only to "
                "callers with an API key; without one they read `REDACTED`. A wrong key is "
                "a 401.",
                "security": [{}, *_API_KEY],
                "responses": {
                    "200": _ok("The exchange behind the current token.", "Demo"),
                    "401": _ref("responses", "Unauthorized"),
                    **_UPSTREAM_REFS,
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "getHealth",
                "tags": ["operations"],
                "summary": "Liveness: never calls Salesforce",
                "security": [],
                "responses": {
                    "200": {
                        "description": "Configured and serving.",
                        "content": _json(
                            {
                                "type": "object",
                                "properties": {"status": {"const": "ok"}},
                                "required": ["status"],
                                "additionalProperties": False,
                            }
                        ),
                    }
                },
            }
        },
        "/token": {
            "get": _with_connection(
                {
                    "operationId": "getToken",
                    "tags": ["tokens"],
                    "summary": "The current access token",
                    "security": _API_KEY,
                    "responses": {
                        "200": _ok("The current access token.", "Token"),
                        "401": _ref("responses", "Unauthorized"),
                        **_UPSTREAM_REFS,
                    },
                }
            ),
            "post": _with_connection(
                {
                    "operationId": "reportRejectedToken",
                    "tags": ["tokens"],
                    "summary": "Report a token Salesforce refused; answers with a fresh one",
                    "description": "If `rejected` is still the current token and it is over 30 s "
                    "old, it is dropped everywhere and a new one obtained; otherwise the current "
                    "token is returned.",
                    "security": _API_KEY,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": _ref("schemas", "RejectedToken")
                            },
                            "application/json": {"schema": _ref("schemas", "RejectedToken")},
                        },
                    },
                    "responses": {
                        "200": {
                            **_ok("The current (possibly fresh) access token.", "ReportedToken"),
                            "headers": {
                                "Retry-After": {
                                    "description": "Present when the reported token is under 30 s "
                                    "old and was not replaced: seconds until a report is taken.",
                                    "schema": {"type": "string", "pattern": "^[0-9]+$"},
                                }
                            },
                        },
                        "400": _error(
                            "`invalid_request`: no `rejected` token sent.", "invalid_request"
                        ),
                        "401": _ref("responses", "Unauthorized"),
                        "413": _error(
                            "`request_entity_too_large`: a request body over 64 MiB.",
                            "request_entity_too_large",
                        ),
                        **_UPSTREAM_REFS,
                    },
                }
            ),
        },
        "/connection": {
            "get": _with_connection(
                {
                    "operationId": "testConnection",
                    "tags": ["tokens"],
                    "summary": "Connection test through the identity URL",
                    "description": "A dead token is replaced once.",
                    "security": _API_KEY,
                    "responses": {
                        "200": _ok("Connected: the user and org behind the token.", "Connection"),
                        "401": _ref("responses", "Unauthorized"),
                        **_UPSTREAM_REFS,
                    },
                }
            )
        },
        "/connections": {
            "post": {
                "operationId": "connectOrg",
                "tags": ["connections"],
                "summary": "A connect link: a person opens it and chooses Allow",
                "description": "The link is single-use and lasts 15 minutes. When the person "
                "allows, Salesforce sends the browser to `/oauth/callback`, which stores the "
                "connection (replacing one of the same name).",
                "security": _API_KEY,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": _ref("schemas", "ConnectRequest")},
                        "application/x-www-form-urlencoded": {
                            "schema": _ref("schemas", "ConnectRequest")
                        },
                    },
                },
                "responses": {
                    "201": _ok("The connect link.", "ConnectLink"),
                    "400": _error(
                        "`invalid_request`: no `name`, not a connection name, a non-string "
                        "field, or a `login` that is not a Salesforce login host.",
                        "invalid_request",
                        "invalid_connect_request",
                    ),
                    "401": _ref("responses", "Unauthorized"),
                    "413": _error(
                        "`request_entity_too_large`: a request body over 64 MiB.",
                        "request_entity_too_large",
                    ),
                    "501": _ref("responses", "ConnectionsNotEnabled"),
                    "503": _ref("responses", "DatabaseUnavailable"),
                },
            },
            "get": {
                "operationId": "listConnections",
                "tags": ["connections"],
                "summary": "Every stored connection",
                "security": _API_KEY,
                "responses": {
                    "200": {
                        "description": "The stored connections, without tokens.",
                        "content": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "connections": {
                                        "type": "array",
                                        "items": _ref("schemas", "StoredConnection"),
                                    }
                                },
                                "required": ["connections"],
                                "additionalProperties": False,
                            }
                        ),
                    },
                    "401": _ref("responses", "Unauthorized"),
                    "501": _ref("responses", "ConnectionsNotEnabled"),
                    "503": _ref("responses", "DatabaseUnavailable"),
                },
            },
        },
        "/connections/{name}": {
            "parameters": [_NAME_PARAMETER],
            "get": {
                "operationId": "getConnection",
                "tags": ["connections"],
                "summary": "One stored connection",
                "security": _API_KEY,
                "responses": {
                    "200": _ok("The stored connection, without tokens.", "StoredConnection"),
                    "400": _BAD_NAME,
                    "401": _ref("responses", "Unauthorized"),
                    "404": _UNKNOWN_CONNECTION,
                    "501": _ref("responses", "ConnectionsNotEnabled"),
                    "503": _ref("responses", "DatabaseUnavailable"),
                },
            },
            "delete": {
                "operationId": "deleteConnection",
                "tags": ["connections"],
                "summary": "Revoke the connection's refresh token at Salesforce, then delete it",
                "description": "When Salesforce cannot be asked to revoke (502/503/504), "
                "nothing is deleted: retry.",
                "security": _API_KEY,
                "responses": {
                    "200": _ok("Deleted.", "DeletedConnection"),
                    "400": _BAD_NAME,
                    "401": _ref("responses", "Unauthorized"),
                    "404": _UNKNOWN_CONNECTION,
                    "501": _ref("responses", "ConnectionsNotEnabled"),
                    "502": _ref("responses", "Upstream502"),
                    "503": _either(
                        _UPSTREAM["503"]["description"] + " Or `database_unavailable`.",
                        salesforce_unavailable=_UPSTREAM["503"],
                        database_unavailable=_DATABASE_UNAVAILABLE,
                    ),
                    "504": _ref("responses", "Upstream504"),
                },
            },
        },
        "/oauth/callback": {
            "get": {
                "operationId": "connectCallback",
                "tags": ["connections"],
                "summary": "Where Salesforce sends the person's browser back",
                "description": "Public: the signed, single-use `state` is what lets the "
                "browser in. Redeems the code (with the PKCE verifier), tests the new token "
                "and stores the connection. Answers an HTML page, or JSON when `Accept` "
                "prefers `application/json`.",
                "security": [],
                "parameters": [
                    {
                        "name": name,
                        "in": "query",
                        "required": False,
                        "description": description,
                        "schema": {"type": "string"},
                    }
                    for name, description in (
                        ("state", "The connect link's signed state."),
                        ("code", "The authorization code, when the person allowed."),
                        ("error", "Salesforce's error, e.g. `access_denied`."),
                        ("error_description", "Salesforce's words for it."),
                    )
                ],
                "responses": {
                    "200": {
                        "description": 'Connected: an HTML page, or `{"connected": '
                        "StoredConnection}`.",
                        "content": {
                            **_HTML,
                            **_json(
                                {
                                    "type": "object",
                                    "properties": {
                                        "connected": _ref("schemas", "StoredConnection")
                                    },
                                    "required": ["connected"],
                                    "additionalProperties": False,
                                }
                            ),
                        },
                    },
                    "400": _page_or_error(
                        _error(
                            "`invalid_state` (no state, or not this service's), `state_used`, "
                            "`state_expired`, `state_unreadable` (sealed with a retired key), "
                            "or `invalid_request` (no code). Nothing was stored.",
                            "invalid_state",
                        )
                    ),
                    "403": _page_or_error(
                        _error(
                            "`access_denied`: the person chose Deny. Nothing was stored.",
                            "access_denied",
                        )
                    ),
                    "409": _page_or_error(
                        _error(
                            "`org_mismatch`: a reconnect approved in another org than the "
                            "connection's; or `connection_conflict`: another connect under the "
                            "same name was stored at the same moment. Nothing was stored, and "
                            "what Salesforce granted was revoked.",
                            "org_mismatch",
                        )
                    ),
                    "501": _page_or_error(_NOT_ENABLED),
                    "502": _page_or_error(
                        _error(
                            "Salesforce refused the consent or the code (Salesforce's code, "
                            "e.g. `invalid_grant`, `redirect_uri_mismatch`), granted no "
                            "refresh token (`no_refresh_token`), or answered unreadably. "
                            "Nothing was stored.",
                            "no_refresh_token",
                        )
                    ),
                    "503": _page_or_error(
                        _either(
                            _UPSTREAM["503"]["description"] + " Or `database_unavailable`.",
                            salesforce_unavailable=_UPSTREAM["503"],
                            database_unavailable=_DATABASE_UNAVAILABLE,
                        )
                    ),
                    "504": _page_or_error(_UPSTREAM["504"]),
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "getMetrics",
                "tags": ["operations"],
                "summary": "Prometheus metrics, summed over workers",
                "security": [],
                "responses": {
                    "200": {
                        "description": "Prometheus text exposition format; no secrets.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "tags": ["operations"],
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.1 description of the service.",
                        "content": _json(
                            {
                                "type": "object",
                                "properties": {"openapi": {"type": "string"}},
                                "required": ["openapi", "info", "paths"],
                            }
                        ),
                    }
                },
            }
        },
        "/api/{path}": {
            "parameters": [_PATH_PARAMETER],
            **{method.lower(): _proxy_operation(method) for method in METHODS},
        },
    },
    "components": {
        "securitySchemes": {
            "apiKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "`Authorization: Bearer <key>`, one of `SFDC_API_KEYS`.",
            }
        },
        "schemas": {
            "Error": _ERROR_SCHEMA,
            "Token": _TOKEN_SCHEMA,
            "ReportedToken": _REPORTED_TOKEN_SCHEMA,
            "Demo": _DEMO_SCHEMA,
            "Connection": _CONNECTION_SCHEMA,
            "RejectedToken": _REJECTED_SCHEMA,
            "StoredConnection": _STORED_CONNECTION_SCHEMA,
            "ConnectRequest": _CONNECT_REQUEST_SCHEMA,
            "ConnectLink": _CONNECT_LINK_SCHEMA,
            "DeletedConnection": _DELETED_SCHEMA,
        },
        "responses": {
            "Unauthorized": _UNAUTHORIZED,
            **{f"Upstream{status}": response for status, response in _UPSTREAM.items()},
            "ConnectionsNotEnabled": _NOT_ENABLED,
            "DatabaseUnavailable": _DATABASE_UNAVAILABLE,
            "NotFound": _error("`not_found`: no such path (any path).", "not_found"),
            "MethodNotAllowed": {
                **_error(
                    "`method_not_allowed`: the path exists, the method does not (any path).",
                    "method_not_allowed",
                ),
                "headers": {"Allow": {"required": True, "schema": {"type": "string"}}},
            },
        },
    },
}


@bp.get("/openapi.json")
def document() -> Json:
    return DOCUMENT
