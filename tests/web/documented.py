"""The document the service serves, built as the tests read it, and a check of one answer."""

from __future__ import annotations

from typing import Any

import schemathesis
from flask import Flask

from sfdc.web import routes
from sfdc.web.openapi import build

PROXY = "/api/{path}"
# Every route of the API proxy: each forwards HEAD itself.
PROXIES = frozenset(
    {
        PROXY,
        "/services/data",
        "/services/data/",
        "/services/data/{path}",
        "/services/async/{path}",
        "/services/apexrest/{path}",
        "/services/oauth2/userinfo",
        "/id/{path}",
    }
)


def routed() -> Flask:
    """An app with every route and no settings: all the document is derived from."""
    app = Flask("sfdc.web")
    routes(app)
    return app


DOCUMENT = build(routed())
# Loaded here rather than with from_wsgi in a fixture: schemathesis.pytest.from_fixture needs
# pytest's Node._nodeid, which pytest 9 no longer has.
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)


def assert_documented(path: str, method: str, answer: Any) -> None:
    """``answer`` has a status the document lists for the operation, and matches it."""
    responses = DOCUMENT["paths"][path][method.lower()]["responses"]
    assert str(answer.status_code) in responses, f"{method} {path}: {answer.status_code}"
    SCHEMA[path][method].validate_response(answer)
