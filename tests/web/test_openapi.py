"""``/openapi.json``: derived from the code, it describes exactly the routes and errors there
are, it is valid OpenAPI 3.1, and the service keeps to it (schemathesis, every check, against
the app with connected orgs on and the emulator). ``test_openapi_answers`` covers the answers
generated requests cannot reach."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import hypothesis
import jsonschema_rs
import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from pydantic import BaseModel
from schemathesis.specs.openapi.definitions import OPENAPI_31

import sfdc
from sfdc.emulator import running_emulator
from sfdc.errors import ConfigError
from sfdc.orgs.records import NAME_PATTERN
from sfdc.salesforce.paths import METHODS
from sfdc.settings.settings import load_settings
from sfdc.web import create_app
from sfdc.web.connections import CALLBACK_PATH
from sfdc.web.extension import CONNECTIONS_KEY
from sfdc.web.openapi import build
from sfdc.web.spec import Param, catalogue, documented
from tests.conftest import API_KEY, CONSUMER_SECRET, ENCRYPTION_KEY, USERNAME, KeyPair
from tests.emulated import emulator_config
from tests.orgs_support import CALLBACK, PERSON, decide
from tests.web.conftest import AUTH
from tests.web.documented import DOCUMENT, PROXIES, PROXY, SCHEMA

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def _routes(app: Flask) -> set[tuple[str, str]]:
    """(OpenAPI path, method) for every rule, without the methods Flask answers by itself."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
        # The proxy forwards HEAD itself.
        automatic = {"OPTIONS"} if path in PROXIES else {"OPTIONS", "HEAD"}
        found |= {(path, method) for method in (rule.methods or set()) - automatic}
    return found


def test_every_route_is_documented_with_the_methods_it_allows(app: Flask) -> None:
    assert _documented(build(app)) == _routes(app)
    assert build(app) == DOCUMENT  # the same with or without settings


def test_a_route_without_a_declaration_cannot_be_documented(app: Flask) -> None:
    app.add_url_rule("/extra", "extra", lambda: "", methods=["PUT"])
    with pytest.raises(LookupError, match="extra"):
        build(app)


class Extra(BaseModel):
    """An extra answer."""

    number: int


def _extra(number: int) -> dict[str, int]:
    """Something extra

    Said at length.
    """
    return {"number": number}


def test_a_declared_route_is_documented_from_its_declaration(app: Flask) -> None:
    number = Param("number", "path", "A number.", {"type": "integer"})
    view = documented(Extra, auth="public", params=(number,), tag="operations")(_extra)
    app.add_url_rule("/extra/<int:number>", "extra", view, methods=["PUT"])
    document = build(app)
    assert _documented(document) == _routes(app)
    operation = document["paths"]["/extra/{number}"]["put"]
    assert (operation["summary"], operation["description"]) == (
        "Something extra",
        "Said at length.",
    )
    assert operation["parameters"][0]["schema"] == {"type": "integer"}
    assert operation["security"] == []
    answer = operation["responses"]["200"]
    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Extra"}
    assert document["components"]["schemas"]["Extra"]["required"] == ["number"]


def test_a_path_parameter_must_be_declared(app: Flask) -> None:
    app.add_url_rule("/extra/<int:number>", "extra", documented(Extra)(_extra), methods=["PUT"])
    with pytest.raises(LookupError, match="path parameters"):
        build(app)


def test_the_proxy_documents_every_method_it_forwards() -> None:
    documented = {method for path, method in _documented(DOCUMENT) if path == PROXY}
    assert documented == set(METHODS)


def test_the_document_is_served_publicly(client: FlaskClient) -> None:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    assert answer.get_json() == DOCUMENT


def test_the_version_is_the_package_version() -> None:
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text())["project"]["version"]
    assert DOCUMENT["info"]["version"] == sfdc.__version__ == declared
    try:
        installed = metadata.version("sfdc-token-service")
    except metadata.PackageNotFoundError:
        return  # run from a checkout: pyproject.toml is where the version comes from
    assert installed == declared


def test_every_catalogue_error_is_documented_and_answered_somewhere() -> None:
    examples = DOCUMENT["components"]["examples"]
    responses = [
        response
        for item in DOCUMENT["paths"].values()
        for operation in item.values()
        for response in operation["responses"].values()
    ]
    # Any path may answer these (404, 405, a bug's 500): the document names them once.
    responses += DOCUMENT["components"]["responses"].values()
    used = {
        reference["$ref"].rsplit("/", 1)[1]
        for response in responses
        for media in response.get("content", {}).values()
        for reference in media.get("examples", {}).values()
    }
    for kind in catalogue():
        assert kind.__name__ in examples, kind
        assert vars(kind).get("__doc__"), f"{kind}: its docstring is what the document says of it"
        if kind is not ConfigError:  # refused at start-up, before serving
            assert kind.__name__ in used, kind
        if "code" in vars(kind):
            assert examples[kind.__name__]["value"]["error"] == kind.code


def test_connection_names_are_constrained_as_the_code_checks_them() -> None:
    header = next(
        parameter
        for parameter in DOCUMENT["paths"]["/token"]["get"]["parameters"]
        if parameter["name"] == "X-Sfdc-Connection"
    )
    path = DOCUMENT["paths"]["/connections/{name}"]["get"]["parameters"][0]
    body = DOCUMENT["components"]["schemas"]["ConnectRequest"]["properties"]["name"]
    assert header["schema"]["pattern"] == path["schema"]["pattern"] == body["pattern"]
    assert body["pattern"] == NAME_PATTERN
    replace_flag = DOCUMENT["components"]["schemas"]["ConnectRequest"]["properties"]["replace"]
    assert {"type": "boolean"} in replace_flag["anyOf"]


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
    assert DOCUMENT["openapi"] == "3.1.0"
    # The OpenAPI Initiative's 3.1 meta-schema, as schemathesis ships it.
    jsonschema_rs.Draft202012Validator(OPENAPI_31).validate(DOCUMENT)
    # That meta-schema leaves Schema Objects alone: each must be JSON Schema 2020-12.
    schemas = [*_schema_objects(DOCUMENT["paths"]), *DOCUMENT["components"]["schemas"].values()]
    for schema in schemas:
        jsonschema_rs.meta.validate(schema)
    for reference in set(_references(DOCUMENT)):
        assert reference.startswith("#/"), reference
        node: Any = DOCUMENT
        for part in reference[2:].split("/"):
            assert part in node, f"{reference} points nowhere"
            node = node[part]
    # And schemathesis reads it as such.
    schemathesis.openapi.from_dict(DOCUMENT).validate()


# -- the service keeps to its document ---------------------------------------------------


@pytest.fixture
def org(keypair: KeyPair) -> Iterator[Any]:
    """The emulator, with a connected app that allows the web-server flow too."""
    config = emulator_config(
        keypair,
        usernames=(USERNAME, PERSON),
        consumer_secret=CONSUMER_SECRET,
        callback_urls=(CALLBACK,),
    )
    with running_emulator(config) as running:
        yield running


@pytest.fixture
def full_app(
    org: Any, seed_env: dict[str, str], sqlite_url: str, live_clock: Any
) -> Iterator[Flask]:
    """The app with every part on: connected orgs too, so nothing answers 501."""
    settings = load_settings(
        {
            **seed_env,
            "SFDC_LOGIN_URL": org.url,
            "SFDC_API_KEYS": API_KEY,
            "SFDC_CONSUMER_SECRET": CONSUMER_SECRET,
            "SFDC_ENCRYPTION_KEY": ENCRYPTION_KEY,
            "SFDC_CALLBACK_URL": CALLBACK,
            "DATABASE_URL": sqlite_url,
        }
    )
    app = create_app(settings, clock=live_clock)
    yield app
    app.extensions[CONNECTIONS_KEY].store.dispose()


def _as_a_browser_comes_back(app: Flask) -> dict[str, str]:
    """The callback's query after a person allowed a fresh connect link at the emulator."""
    link = app.test_client().post("/connections", json={"name": "acme-prod"}, headers=AUTH)
    return decide(link.json["authorize_url"])  # type: ignore[index]


@SCHEMA.hook
def map_case(context: Any, case: Any) -> Any:
    """A valid default connection for a key is one its scopes let it call, and not 'jwt':
    no schema can say so, so a generated valid key request is given such a scope."""
    body = case.body if isinstance(case.body, dict) else {}
    if case.operation.path == "/keys" and case.meta.generation.mode.is_positive:
        if body.get("default_connection") == "jwt":
            del body["default_connection"]
        elif body.get("default_connection") is not None and isinstance(body.get("scopes"), list):
            body["scopes"] = [*body["scopes"][:99], "proxy:*"]
    return case


@SCHEMA.parametrize()
@hypothesis.settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    # The app and the emulator are shared by an operation's examples on purpose: the
    # token is minted once, as in production.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_service_keeps_to_its_document(
    case: Any, full_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every request, the checks' own probes too (the same without the API key, ...), is
    # served by this app in-process.
    monkeypatch.setattr(case.operation.schema, "app", full_app)
    monkeypatch.setattr(case.operation, "app", full_app)
    if case.operation.path == CALLBACK_PATH and case.meta.generation.mode.is_positive:
        # A valid callback is one Salesforce sends after a person allowed: a state this service
        # signed, a code Salesforce issued. No generated string is either.
        case.query = _as_a_browser_comes_back(full_app)
    if case.operation.path == "/connect/{nonce}" and case.meta.generation.mode.is_positive:
        # A valid nonce is one of a link this service made; no generated string is.
        link = full_app.test_client().post("/connections", json={"name": "acme"}, headers=AUTH)
        case.path_parameters = {"nonce": link.json["connect_url"].rsplit("/", 1)[1]}  # type: ignore[index]
    response = case.call(headers=AUTH)
    # No list of checks: every check schemathesis has.
    case.validate_response(response, headers=AUTH)
