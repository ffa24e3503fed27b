"""``/openapi.json``: the OpenAPI 3.1 description of every endpoint, public.

The document is written here by hand, as a Python dict, next to the code it
describes; ``tests/web/test_openapi.py`` fails when a route is added without
documentation or documented without existing, and a property-based test
(schemathesis) checks the answers against it. Errors, from every endpoint,
have the contract's shape (``Error``); 404 and 405 can come from any path.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from sfdc.proxy import METHODS

bp = Blueprint("openapi", __name__)

Json = dict[str, Any]

VERSION = "0.1.0"  # as in pyproject.toml


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


def _error(description: str, code: str) -> Json:
    """A response in the contract's error shape, with an example whose ``error`` is ``code``."""
    error_description, hint, retryable = _EXAMPLES[code]
    example = {
        "error": code,
        "error_description": error_description,
        "hint": hint,
        "retryable": retryable,
    }
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("schemas", "Error"), "example": example}},
    }


_ERROR_SCHEMA: Json = {
    "type": "object",
    "description": "Every error, from every endpoint, has this shape.",
    "properties": {
        "error": {
            "type": "string",
            "description": "A stable code: the service's own (`unauthorized`, `invalid_request`, "
            "`invalid_path`, `not_found`, `method_not_allowed`, `request_entity_too_large`, "
            "`invalid_upstream_response`, `salesforce_unavailable`, `salesforce_timeout`) or, "
            "for a refusal, Salesforce's own (`invalid_grant`, `invalid_client_id`, ...).",
        },
        "error_description": {"type": "string", "description": "What happened."},
        "hint": {"type": "string", "description": "What to change or do about it."},
        "retryable": {
            "type": "boolean",
            "description": "Whether asking again later, unchanged, can help.",
        },
    },
    "required": ["error", "error_description", "hint", "retryable"],
    "additionalProperties": False,
}

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
                "`invalid_path`: the path could leave `/services/` or smuggle a header."
                + _PASSTHROUGH_NOTE,
                "invalid_path",
            ),
            "401": {
                **_UNAUTHORIZED,
                "description": _UNAUTHORIZED["description"] + _PASSTHROUGH_NOTE,
            },
            "413": _error(
                "`request_entity_too_large`: a request body over 64 MiB.",
                "request_entity_too_large",
            ),
            **{
                status: {**response, "description": response["description"] + _PASSTHROUGH_NOTE}
                for status, response in _UPSTREAM.items()
            },
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
            "get": {
                "operationId": "getToken",
                "tags": ["tokens"],
                "summary": "The current access token",
                "security": _API_KEY,
                "responses": {
                    "200": _ok("The current access token.", "Token"),
                    "401": _ref("responses", "Unauthorized"),
                    **_UPSTREAM_REFS,
                },
            },
            "post": {
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
            },
        },
        "/connection": {
            "get": {
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
        },
        "responses": {
            "Unauthorized": _UNAUTHORIZED,
            **{f"Upstream{status}": response for status, response in _UPSTREAM.items()},
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
