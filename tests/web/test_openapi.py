"""``/openapi.json``: it describes exactly the routes there are, it is valid OpenAPI 3.1,
and the service keeps to it (schemathesis, against the app and the emulator)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import hypothesis
import jsonschema_rs
import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from schemathesis.specs.openapi.definitions import OPENAPI_31

from sfdc.salesforce.paths import METHODS
from sfdc.settings.settings import Settings
from sfdc.web import create_app, openapi
from sfdc.web.extension import KEY
from tests.emulated import fail_next
from tests.web.conftest import AUTH

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# Methods Flask adds to rules by itself: OPTIONS to every rule, HEAD to every GET rule.
AUTOMATIC = {"HEAD", "OPTIONS"}
PROXY = "/api/{path}"


def _routes(app: Flask) -> set[tuple[str, str]]:
    """(OpenAPI path, method) for every rule, without the methods Flask adds itself."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
        found |= {(path, method) for method in (rule.methods or set()) - AUTOMATIC}
    return found


def _head_routes(app: Flask) -> set[str]:
    """OpenAPI paths whose rule answers HEAD (explicitly, or because it serves GET)."""
    return {
        re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if "HEAD" in (rule.methods or set())
    }


def _documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def _mismatches(app: Flask, document: dict[str, Any]) -> tuple[set[Any], set[Any]]:
    """(routes without documentation, documented operations without a route)."""
    documented = _documented(document)
    routed = _routes(app)
    heads = {path for path, method in documented if method == "HEAD"}
    undocumented = routed - documented
    unrouted = {(path, method) for path, method in documented - routed if method != "HEAD"}
    unrouted |= {(path, "HEAD") for path in heads - _head_routes(app)}
    return undocumented, unrouted


def test_every_route_is_documented_and_nothing_else(app: Flask) -> None:
    undocumented, unrouted = _mismatches(app, openapi.DOCUMENT)
    assert not undocumented, f"routes missing from sfdc/web/openapi.py: {sorted(undocumented)}"
    assert not unrouted, f"documented, but no such route: {sorted(unrouted)}"


def test_the_proxy_documents_every_method_it_forwards() -> None:
    # HEAD is the one method Flask would answer anyway; the proxy forwards it on purpose.
    documented = {method for path, method in _documented(openapi.DOCUMENT) if path == PROXY}
    assert documented == set(METHODS)


def test_the_comparison_notices_a_new_or_a_vanished_route(app: Flask) -> None:
    app.add_url_rule("/extra/<int:number>", "extra", lambda number: "", methods=["PUT"])
    document = {**openapi.DOCUMENT, "paths": {**openapi.DOCUMENT["paths"], "/gone": {"get": {}}}}
    document["paths"]["/healthz"] = {"get": {}, "head": {}}  # GET serves HEAD: fine
    document["paths"]["/connection"] = {"get": {}, "delete": {}}
    undocumented, unrouted = _mismatches(app, document)
    assert undocumented == {("/extra/{number}", "PUT")}
    assert unrouted == {("/gone", "GET"), ("/connection", "DELETE")}
    document["paths"]["/extra/{number}"] = {"put": {}, "head": {}}  # PUT only: no HEAD
    assert _mismatches(app, document)[1] >= {("/extra/{number}", "HEAD")}


def test_the_document_is_served_publicly(client: FlaskClient) -> None:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    assert answer.get_json() == openapi.DOCUMENT


def _schema_objects(node: Any) -> Iterator[Any]:
    """Every Schema Object in the document: the values of its ``schema`` fields."""
    if isinstance(node, dict):
        for name, value in node.items():
            if name == "schema":
                yield value
            else:
                yield from _schema_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from _schema_objects(item)


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for name, value in node.items():
            if name == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi.DOCUMENT
    assert document["openapi"] == "3.1.0"
    # The OpenAPI Initiative's 3.1 meta-schema, as schemathesis ships it.
    jsonschema_rs.Draft202012Validator(OPENAPI_31).validate(document)
    # That meta-schema leaves Schema Objects alone: each must be JSON Schema 2020-12.
    schemas = [*_schema_objects(document["paths"]), *document["components"]["schemas"].values()]
    for schema in schemas:
        jsonschema_rs.meta.validate(schema)
    for reference in set(_references(document)):
        assert reference.startswith("#/"), reference
        node: Any = document
        for part in reference[2:].split("/"):
            assert part in node, f"{reference} points nowhere"
            node = node[part]
    # And schemathesis reads it as such.
    schemathesis.openapi.from_dict(document).validate()


@pytest.fixture
def relayed(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The statuses Salesforce (the emulator) answered the proxy with, during one call.

    The proxy relays those answers as they came: their bodies are Salesforce's, not ours.
    """
    transport = app.extensions[KEY].transport
    statuses: list[int] = []
    original = transport.open

    def recording(*args: Any, **kwargs: Any) -> Any:
        upstream = original(*args, **kwargs)
        statuses.append(upstream.status)
        return upstream

    monkeypatch.setattr(transport, "open", recording)
    return statuses


CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Requests the document calls valid are served, invalid ones refused with a 4xx, and so on.
SEMANTICS = [
    positive_data_acceptance,
    negative_data_rejection,
    missing_required_header,
    unsupported_method,
    allow_header_conformance,
]
# Whether a proxied path is acceptable depends on every percent-decoding of it (see
# sfdc.salesforce.paths.check_path), more than a JSON Schema pattern can say: the document says
# "any string, or 400 invalid_path", and the checks above hold /api to that.
PROXY_CHECKS = [*CONFORMANCE, unsupported_method, allow_header_conformance]
# Salesforce's own answers through /api: body and headers are Salesforce's, opaque to the
# document; only the service's part (no 500, documented status and media type) is checked.
RELAYED_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]


# The app here has connected orgs off: everything about them (the /connections routes,
# the callback, any X-Sfdc-Connection header) is the documented 501 connections_not_enabled,
# whatever the request; only its conformance to the document is checked.
NOT_ENABLED_CHECKS = [check for check in CONFORMANCE if check is not not_a_server_error]


def _not_enabled(case: Any, response: Any) -> bool:
    if response.status_code != 501:
        return False
    # JSON, or the callback's HTML page, names the code; a HEAD answer has no body.
    return case.method.upper() == "HEAD" or b"connections_not_enabled" in response.content


def _checks(case: Any, relayed: list[int], response: Any) -> list[Any]:
    if _not_enabled(case, response):
        return NOT_ENABLED_CHECKS
    if case.operation.path != PROXY:
        return [*CONFORMANCE, *SEMANTICS]
    return RELAYED_CHECKS if relayed else PROXY_CHECKS


# The same document the app serves (test_the_document_is_served_publicly). Loaded here
# rather than with from_wsgi in a fixture: schemathesis.pytest.from_fixture needs
# pytest's Node._nodeid, which pytest 9 no longer has.
schema = schemathesis.openapi.from_dict(openapi.DOCUMENT)


@schema.parametrize()
@hypothesis.settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    # The app and the emulator are shared by an operation's examples on purpose: the
    # token is minted once, as in production.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_the_service_keeps_to_its_document(case: Any, app: Flask, relayed: list[int]) -> None:
    relayed.clear()
    response = case.call(app=app, headers=AUTH)
    case.validate_response(response, checks=_checks(case, relayed, response), headers=AUTH)


def _assert_documented(path: str, method: str, answer: Any) -> None:
    """``answer`` has a status the document lists for the operation, and matches it."""
    responses = openapi.DOCUMENT["paths"][path][method.lower()]["responses"]
    assert str(answer.status_code) in responses, f"{method} {path}: {answer.status_code}"
    schema[path][method].validate_response(answer)


# Every operation that needs a token, and a URL for it.
EXCHANGING = [
    ("GET", "/", "/"),
    ("GET", "/token", "/token"),
    ("POST", "/token", "/token"),
    ("GET", "/connection", "/connection"),
    *((method, PROXY, "/api/data/v60.0/limits") for method in METHODS),
]


@pytest.mark.parametrize(("mode", "status"), [("error", 503), ("garbage", 502)])
@pytest.mark.parametrize(("method", "path", "url"), EXCHANGING)
def test_upstream_trouble_is_answered_as_documented(
    client: FlaskClient, emulator: Any, method: str, path: str, url: str, mode: str, status: int
) -> None:
    fail_next(emulator.url, mode, 3, status=503)
    answer = client.open(url, method=method, headers=AUTH, data={"rejected": "x"})
    assert answer.status_code == status
    _assert_documented(path, method, answer)


@pytest.mark.parametrize(
    ("method", "path", "url"),
    [("GET", "/token", "/token"), ("GET", PROXY, "/api/data/v60.0/limits")],
)
def test_a_timeout_is_answered_as_documented(
    settings: Settings, emulator: Any, method: str, path: str, url: str
) -> None:
    fail_next(emulator.url, "hang", 3, seconds=5)
    client = create_app(replace(settings, http_timeout=0.3)).test_client()
    answer = client.open(url, method=method, headers=AUTH)
    assert answer.status_code == 504
    _assert_documented(path, method, answer)


@pytest.mark.parametrize(("method", "path", "url"), EXCHANGING)
def test_a_wrong_key_is_answered_as_documented(
    client: FlaskClient, method: str, path: str, url: str
) -> None:
    wrong = {"Authorization": "Bearer not-the-key-0123456789"}
    answer = client.open(url, method=method, headers=wrong, data={"rejected": "x"})
    assert answer.status_code == 401
    _assert_documented(path, method, answer)


@pytest.mark.parametrize(
    ("path", "url"), [("/token", "/token"), (PROXY, "/api/data/v60.0/sobjects/Account")]
)
def test_a_body_too_large_is_answered_as_documented(app: Flask, path: str, url: str) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1024
    body = {"rejected": "x" * 2048}
    answer = app.test_client().post(url, headers=AUTH, json=body)
    assert answer.status_code == 413
    _assert_documented(path, "POST", answer)


def test_unknown_paths_and_methods_are_answered_as_documented(client: FlaskClient) -> None:
    responses = openapi.DOCUMENT["components"]["responses"]
    error = jsonschema_rs.Draft202012Validator(openapi.DOCUMENT["components"]["schemas"]["Error"])
    for answer, name in (
        (client.get("/nope"), "NotFound"),
        (client.put("/token"), "MethodNotAllowed"),
    ):
        assert answer.mimetype in responses[name]["content"]
        error.validate(answer.get_json())
        assert (
            answer.get_json()["error"]
            == responses[name]["content"]["application/json"]["example"]["error"]
        )
        for header in responses[name].get("headers", {}):
            assert header in answer.headers
