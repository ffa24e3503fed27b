"""``/openapi.json``: the OpenAPI 3.1 document, derived from the code, public.

Nothing here describes an endpoint by hand. The paths and their methods are
the app's URL map; what each operation takes and answers is its view's
declaration (``sfdc.web.spec``) and pydantic models; the error answers are
the error catalogue's classes the view declares, with their status, code and
retryable read from the classes. A route without a declaration cannot be
documented, and ``tests/web/test_openapi.py`` fails on it. The document is
built once per app, on the first request for it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Flask, current_app
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from werkzeug.routing import Rule

from sfdc import __version__
from sfdc.errors import (
    BadRequest,
    Forbidden,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RequestTimeout,
    SfdcError,
    Unauthorized,
)
from sfdc.web.errors import CHALLENGE
from sfdc.web.spec import (
    Operation,
    Param,
    catalogue,
    declaration,
    documented,
    paragraph,
    refusal,
)

bp = Blueprint("openapi", __name__)

Json = dict[str, Any]
DOCUMENT_KEY = "sfdc.openapi"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_TAGS = {
    "tokens": "Access tokens and the exchange behind them.",
    "proxy": "Salesforce's REST API through the service's token.",
    "keys": "Named API keys: which client may do what (scopes), created, rotated and revoked "
    "without a redeploy.",
    "connections": "Orgs connected by a person's consent (OAuth web-server flow), used with "
    "`X-Sfdc-Connection`. Off (501) without `SFDC_ENCRYPTION_KEY`.",
    "operations": "Health, metrics and this document.",
}
_SECURITY: dict[str, list[Json]] = {
    "api_key": [{"apiKey": []}],
    "api_key_optional": [{}, {"apiKey": []}],
    "public": [],
}
_HTML: Json = {"text/html": {"schema": {"type": "string"}}}
_ANYTHING = "#/components/schemas/SalesforceAnswer"


def _ref(kind: str, name: str) -> Json:
    return {"$ref": f"#/components/{kind}/{name}"}


class _Untitled(GenerateJsonSchema):
    """Pydantic's schemas without a title on every property: the name says it already."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


class OpenApiDocument(BaseModel):
    """The OpenAPI 3.1 description of the service."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


# -- errors ----------------------------------------------------------------------------


def _example_name(kind: type[Exception]) -> str:
    return kind.__name__


def _example(kind: type[Exception]) -> Json:
    found = refusal(kind)
    code = found.code or "Salesforce's own code"
    assert issubclass(kind, SfdcError), kind
    return {
        "summary": f"{found.status} {code}: {found.summary}",
        "value": {
            "error": kind.code,  # for Salesforce's own codes, the class's example of one
            "error_description": found.summary,
            "hint": found.hint,
            "retryable": found.retryable,
        },
    }


def _error_response(kinds: Iterable[type[Exception]], op: Operation | None = None) -> Json:
    """One status's answer: the Error shape, its ``error`` one of the kinds' codes."""
    kinds = list(dict.fromkeys(kinds))
    found = [refusal(kind) for kind in kinds]
    codes = sorted({f.code for f in found if f.code})
    code_schema: Json = {"enum": codes}
    if any(f.code is None for f in found):
        code_schema = {"anyOf": [code_schema, _ref("schemas", "SalesforceCode")]}
    schema: Json = {"allOf": [_ref("schemas", "Error"), {"properties": {"error": code_schema}}]}
    described = [f"`{f.code}`: {f.summary}" if f.code else f.summary for f in found]
    if op is not None and op.passthrough:
        schema = {"anyOf": [schema, {"$ref": _ANYTHING}]}
        described.append("Or Salesforce's own answer with this status, passed through.")
    content: Json = {
        "application/json": {
            "schema": schema,
            "examples": {_example_name(k): _ref("examples", _example_name(k)) for k in kinds},
        }
    }
    if op is not None and op.passthrough:
        content["*/*"] = {"schema": {"$ref": _ANYTHING}}
    if op is not None and op.pages:
        content = {**_HTML, **content}
        described.append("An HTML page for browsers; JSON when `Accept` prefers it.")
    response: Json = {"description": " ".join(described), "content": content}
    status = found[0].status
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {"required": True, "schema": {"const": CHALLENGE}}
        }
    if status == 405:
        response["headers"] = {"Allow": {"required": True, "schema": {"type": "string"}}}
    return response


def _errors(op: Operation) -> Json:
    kinds = [*op.raises, *(kind for param in op.params for kind in param.raises)]
    if op.auth != "public":
        kinds.insert(0, Unauthorized)
    if op.auth == "api_key":
        kinds.insert(1, Forbidden)
    if op.body is not None or op.opaque_body:
        # What reading the body can end in, before the view sees it (request_body.py).
        kinds += [BadRequest, RequestTimeout, PayloadTooLarge]
    by_status: dict[int, list[type[Exception]]] = defaultdict(list)
    for kind in kinds:
        by_status[refusal(kind).status].append(kind)
    return {str(status): _error_response(by_status[status], op) for status in sorted(by_status)}


# -- operations ------------------------------------------------------------------------


def _path(rule: Rule) -> str:
    """Flask's ``/a/<conv:name>`` as OpenAPI's ``/a/{name}``."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)


def _methods(rule: Rule, op: Operation) -> list[str]:
    """The rule's methods, without those Flask answers by itself (OPTIONS, HEAD for GET)."""
    automatic = {"OPTIONS"} | (set() if op.head else {"HEAD"})
    return sorted(set(rule.methods or ()) - automatic)


def _parameter(param: Param) -> Json:
    return {
        "name": param.name,
        "in": param.where,
        "required": param.where == "path",
        "description": param.description,
        "schema": param.schema,
    }


def _parameters(rule: Rule, op: Operation) -> list[Json]:
    declared = {param.name: param for param in op.params if param.where == "path"}
    missing = set(rule.arguments) - set(declared)
    if missing:
        raise LookupError(f"{rule.endpoint} does not declare its path parameters {missing}")
    return [_parameter(param) for param in op.params]


def _operation(rule: Rule, method: str, op: Operation, models: dict[Any, Json]) -> Json:
    responses: Json = {}
    if op.answer is not None:
        content: Json = {op.media.split(";")[0]: {"schema": models[op.answer, "serialization"]}}
        responses[str(op.status)] = {
            "description": paragraph(op.answer.__doc__),
            "content": {**_HTML, **content} if op.pages else content,
            **({"headers": dict(op.answer_headers)} if op.answer_headers else {}),
        }
    responses.update(_errors(op))
    if op.passthrough:
        responses["default"] = {
            "description": "Salesforce's answer, passed through: any status, any content type, "
            "Salesforce's headers (`Sforce-Limit-Info` and the rest).",
            "content": {"*/*": {"schema": {"$ref": _ANYTHING}}},
        }
    operation: Json = {
        "operationId": rule.endpoint.replace(".", "_") + f"_{method.lower()}",
        "tags": [op.tag],
        "summary": op.summary,
        **({"description": op.description} if op.description else {}),
        "security": _SECURITY[op.auth],
        "parameters": _parameters(rule, op),
        "responses": responses,
    }
    if op.body is not None:
        body = models[op.body, "validation"]
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": body},
                "application/x-www-form-urlencoded": {"schema": {"$ref": body["$ref"] + "Form"}},
            },
        }
    elif op.opaque_body and method in _BODY_METHODS:
        operation["requestBody"] = {
            "required": False,
            "description": "Sent to Salesforce untouched, with its Content-Type.",
            "content": {"*/*": {"schema": {"$ref": _ANYTHING}}},
        }
    return operation


def _without_null(schema: Any) -> Any:
    """A body schema as a form can send it: a form field is text, never null."""
    if isinstance(schema, list):
        return [_without_null(item) for item in schema if item != {"type": "null"}]
    if isinstance(schema, dict):
        return {
            key: _without_null(value)
            for key, value in schema.items()
            if not (key == "default" and value is None)
        }
    return schema


def _declared(app: Flask) -> list[tuple[Rule, Operation]]:
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint == "static":
            continue
        op = declaration(app.view_functions[rule.endpoint])
        if op is None:
            raise LookupError(f"{rule.endpoint} ({rule.rule}) has no @documented declaration")
        found.append((rule, op))
    return found


def build(app: Flask) -> Json:
    """The document for ``app``'s routes, as declared by their views."""
    declared = _declared(app)
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for _, op in declared:
        if op.answer is not None:
            wanted.append((op.answer, "serialization"))
        if op.body is not None:
            wanted.append((op.body, "validation"))
    models, schemas = models_json_schema(
        list(dict.fromkeys(wanted)),
        ref_template="#/components/schemas/{model}",
        schema_generator=_Untitled,
    )
    bodies = [models[op.body, "validation"]["$ref"] for _, op in declared if op.body is not None]
    forms = {
        f"{name}Form": _without_null(schemas["$defs"][name])
        for name in (ref.rsplit("/", 1)[1] for ref in bodies)
    }
    paths: Json = defaultdict(dict)
    for rule, op in declared:
        for method in _methods(rule, op):
            paths[_path(rule)][method.lower()] = _operation(rule, method, op, dict(models))
    kinds = list(catalogue())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Salesforce token service",
            "version": __version__,
            "description": "Salesforce access tokens through the JWT bearer flow, and a proxy "
            "to Salesforce's REST API, for apps on Cloud Foundry. Every error is JSON in the "
            "`Error` shape; a path or method not listed here is 404 `not_found` or 405 "
            "`method_not_allowed`, and a bug on any path is 500 `internal_error`.",
        },
        "tags": [{"name": name, "description": text} for name, text in _TAGS.items()],
        "paths": dict(paths),
        "components": {
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "`Authorization: Bearer <key>`, one of `SFDC_API_KEYS`.",
                }
            },
            "schemas": {**schemas.get("$defs", {}), **forms, **_ERROR_SCHEMAS},
            "responses": {
                "NotFound": _error_response([NotFound]),
                "MethodNotAllowed": _error_response([MethodNotAllowed]),
                "InternalError": _error_response([InternalError]),
            },
            "examples": {_example_name(kind): _example(kind) for kind in kinds},
        },
    }


_ERROR_SCHEMAS: Json = {
    "Error": {
        "type": "object",
        "description": "Every error, from every endpoint, has this shape.",
        "properties": {
            "error": {
                "type": "string",
                "description": "A stable code: the service's own, or for a refusal "
                "Salesforce's own (`SalesforceCode`). Each answer lists its possible codes.",
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
                "description": "Only when a stored connection needs consent again: a fresh, "
                "single-use connect link for a person to open in a browser.",
            },
        },
        "required": ["error", "error_description", "hint", "retryable"],
        "additionalProperties": False,
    },
    "SalesforceCode": {
        "type": "string",
        "description": "Salesforce's own error code, e.g. `invalid_grant`, `invalid_client_id`.",
    },
    "SalesforceAnswer": {"description": "Salesforce's own answer, passed through unchanged."},
}


@bp.get("/openapi.json")
@documented(OpenApiDocument, auth="public", tag="operations")
def document() -> Json:
    """This document"""
    built: Json | None = current_app.extensions.get(DOCUMENT_KEY)
    if built is None:
        built = current_app.extensions[DOCUMENT_KEY] = build(current_app)
    return built
