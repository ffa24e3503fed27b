"""GET /connections a page at a time: limit, after, the Link header, name order.

250 stored connections (rows written straight to the database: listing never
reads their tokens) are walked by following the `Link: <...>; rel="next"`
header, as a client would, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sfdc.emulator import running_emulator
from sfdc.orgs.schema import ConnectionRow
from sfdc.settings.settings import load_settings
from sfdc.web import create_app
from sfdc.web.connections import PAGE_DEFAULT, PAGE_MAX
from sfdc.web.extension import CONNECTIONS_KEY
from tests.conftest import FakeClock, KeyPair
from tests.orgs_support import connected_env, org_config
from tests.web.conftest import AUTH

NAMES = [f"org-{i:03d}" for i in range(250)]
NEXT = re.compile(r'^<(?P<target>[^>]+)>; rel="next"$')


def _row(name: str) -> ConnectionRow:
    return ConnectionRow(
        name=name,
        login_url="https://login.salesforce.com",
        instance_url="https://example.my.salesforce.com",
        identity_url="https://login.salesforce.com/id/00D000000000001/005000000000001",
        user_id="005000000000001",
        org_id="00D000000000001",
        username=f"admin@{name}.example",
        scopes="api refresh_token",
        connected_at=datetime(2026, 1, 1, tzinfo=UTC),
        refresh_token="not-a-token",
    )


@pytest.fixture
def app(keypair: KeyPair, seed_env: dict[str, str], database_url: str) -> Iterator[Flask]:
    with running_emulator(org_config(keypair)) as org:
        settings = load_settings(connected_env(seed_env, org.url, database_url))
        made = create_app(settings, clock=FakeClock(datetime.now(UTC)))
        store = made.extensions[CONNECTIONS_KEY].store
        with store.session(write=True) as session:
            session.add_all(_row(name) for name in reversed(NAMES))
        yield made
        store.dispose()


@pytest.fixture
def web(app: Flask) -> FlaskClient:
    return app.test_client()


def _walk(web: FlaskClient, first: str) -> tuple[list[str], list[int]]:
    names: list[str] = []
    sizes: list[int] = []
    target: str | None = first
    while target is not None:
        answer = web.get(target, headers=AUTH)
        assert answer.status_code == 200, answer.json
        body: Any = answer.json
        page = [entry["name"] for entry in body["connections"]]
        names += page
        sizes.append(len(page))
        link = answer.headers.get("Link")
        assert body["next"] == (None if link is None else NEXT.fullmatch(link)["target"])  # type: ignore[index]
        target = body["next"]
    return names, sizes


def test_following_the_link_header_walks_every_connection_once_in_name_order(
    web: FlaskClient,
) -> None:
    names, sizes = _walk(web, "/connections?limit=100")
    assert names == NAMES
    assert sizes == [100, 100, 50]


def test_without_a_limit_a_page_holds_the_default(web: FlaskClient) -> None:
    names, sizes = _walk(web, "/connections")
    assert names == NAMES
    assert sizes == [PAGE_DEFAULT, PAGE_DEFAULT, 250 - 2 * PAGE_DEFAULT]


def test_the_largest_page_holds_them_all_and_has_no_next(web: FlaskClient) -> None:
    answer = web.get(f"/connections?limit={PAGE_MAX}", headers=AUTH)
    assert [entry["name"] for entry in answer.json["connections"]] == NAMES  # type: ignore[index]
    assert "Link" not in answer.headers
    assert answer.json["next"] is None  # type: ignore[index]


def test_a_page_starts_after_the_name_given_even_one_deleted_meanwhile(
    web: FlaskClient, app: Flask
) -> None:
    first = web.get("/connections?limit=10", headers=AUTH)
    assert first.json["next"] == "/connections?limit=10&after=org-009"  # type: ignore[index]
    with app.extensions[CONNECTIONS_KEY].store.session(write=True) as session:
        session.delete(session.get(ConnectionRow, "org-009"))
    second = web.get(first.json["next"], headers=AUTH)  # type: ignore[index]
    assert second.json["connections"][0]["name"] == "org-010"  # type: ignore[index]


def test_the_store_pages_within_a_set_of_names(app: Flask) -> None:
    connections = app.extensions[CONNECTIONS_KEY]
    allowed = {"org-001", "org-120", "org-249", "no-such-org"}
    first = connections.page(after=None, limit=2, names=allowed)
    assert [entry["name"] for entry in first.connections] == ["org-001", "org-120"]
    assert first.after == "org-120"
    rest = connections.page(after=first.after, limit=2, names=allowed)
    assert [entry["name"] for entry in rest.connections] == ["org-249"]
    assert rest.after is None


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("limit=0", "limit"),
        (f"limit={PAGE_MAX + 1}", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("after=no%20such%20name!", "connection name"),
        ("limt=10", "limt"),
    ],
)
def test_a_bad_page_request_is_refused_saying_what_to_send(
    web: FlaskClient, query: str, names: str
) -> None:
    answer = web.get(f"/connections?{query}", headers=AUTH)
    assert answer.status_code == 400
    body: Any = answer.json
    assert body["error"] == "invalid_request"
    assert names in body["error_description"]
    assert body["hint"]


def test_paging_needs_an_api_key(web: FlaskClient) -> None:
    assert web.get("/connections?limit=5").status_code == 401
