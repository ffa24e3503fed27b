"""Every scope decision over real HTTP: the app served on a socket, connected orgs, the
emulator, named keys.

Keys are made the way an operator makes them, through ``POST /keys`` with a
configured (full-access) key; each test then calls as a named key and checks
what a user of that key would notice: 200, or 403 ``forbidden`` naming the
missing scope, or 401 for a key that is not (or no longer) valid.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from sfdc.access.keyring import REVOCATION_DELAY
from sfdc.settings.settings import Settings, load_settings
from sfdc.web import create_app
from sfdc.web.extension import CONNECTIONS_KEY
from tests.conftest import API_KEY, CONSUMER_KEY, CONSUMER_SECRET, USERNAME, FakeClock, KeyPair
from tests.orgs_support import (
    PERSON,
    connect,
    connected_env,
    decide,
    org_config,
    refresh_at,
    stored_refresh_token,
)
from tests.web.conftest import AUTH
from tests.web.over_http import HttpClient, Served
from tests.web.test_metrics import sample

USERINFO = "/api/oauth2/userinfo"
QUERY = "/api/data/v60.0/query?q=SELECT+Id+FROM+Account"


@pytest.fixture
def org(keypair: KeyPair) -> Iterator[Any]:
    from sfdc.emulator import running_emulator

    with running_emulator(org_config(keypair, rotate=False)) as running:
        yield running


@pytest.fixture
def org_settings(org: Any, seed_env: dict[str, str], database_url: str) -> Settings:
    return load_settings(connected_env(seed_env, org.url, database_url))


_APPS: list[tuple[Flask, Served]] = []


def _instance(settings: Settings, clock: FakeClock) -> HttpClient:
    """A new app instance, served on its own loopback port: callers reach it over HTTP."""
    app = create_app(settings, clock=clock)
    served = Served(app)
    _APPS.append((app, served))
    return served.client


@pytest.fixture(autouse=True)
def _close_instances() -> Iterator[None]:
    yield
    while _APPS:
        app, served = _APPS.pop()
        served.close()
        app.extensions[CONNECTIONS_KEY].store.dispose()


@pytest.fixture
def web(org_settings: Settings, live_clock: FakeClock) -> HttpClient:
    client = _instance(org_settings, live_clock)
    connect(client, "acme")
    connect(client, "globex")
    return client


def new_key(web: HttpClient, *scopes: str, default: str | None = None) -> str:
    body: dict[str, Any] = {"client": "billing-app", "scopes": list(scopes)}
    if default:
        body["default_connection"] = default
    answer = web.post("/keys", json=body, headers=AUTH)
    assert answer.status_code == 201, answer.json
    key: str = answer.json["key"]  # type: ignore[index]
    return key


def bearer(key: str, connection: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"}
    return {**headers, "X-Sfdc-Connection": connection} if connection else headers


def refused(answer: Any, scope: str) -> None:
    assert answer.status_code == 403, answer.json
    assert answer.json["error"] == "forbidden"
    assert f"'{scope}'" in answer.json["hint"]
    assert answer.json["retryable"] is False


def test_a_proxy_key_for_acme_reaches_acme_through_the_proxy_and_nothing_else(
    web: HttpClient,
) -> None:
    key = new_key(web, "proxy:acme")
    as_acme = web.get(USERINFO, headers=bearer(key, "acme"))
    assert as_acme.status_code == 200
    assert as_acme.json["preferred_username"] == PERSON  # type: ignore[index]
    assert web.get(QUERY, headers=bearer(key, "acme")).status_code == 200
    refused(web.get("/token", headers=bearer(key, "acme")), "token:acme")
    refused(web.get("/connection", headers=bearer(key, "acme")), "token:acme")
    refused(web.get(QUERY, headers=bearer(key, "globex")), "proxy:globex")
    refused(web.delete("/connections/acme", headers=bearer(key)), "connections:acme")
    refused(web.get(QUERY, headers=bearer(key)), "proxy:jwt")  # the JWT identity
    refused(web.get("/token", headers=bearer(key)), "token:jwt")
    refused(web.get("/keys", headers=bearer(key)), "keys")
    assert web.get("/connections/acme", headers=AUTH).status_code == 200  # still there


def test_a_default_connection_serves_callers_that_send_no_header(web: HttpClient) -> None:
    key = new_key(web, "proxy:acme", default="acme")
    answer = web.get(USERINFO, headers=bearer(key))
    assert answer.status_code == 200
    assert answer.json["preferred_username"] == PERSON  # type: ignore[index]
    refused(web.get(QUERY, headers=bearer(key, "globex")), "proxy:globex")  # the header wins
    # A client that sends no header (simple-salesforce, sf) at Salesforce's own paths.
    root = web.get("/services/oauth2/userinfo", headers={"Authorization": f"OAuth {key}"})
    assert root.status_code == 200
    assert root.json["preferred_username"] == PERSON
    refused(web.get("/services/data/v60.0/limits", headers=bearer(key, "globex")), "proxy:globex")


def test_a_token_key_receives_tokens_and_may_proxy(web: HttpClient) -> None:
    key = new_key(web, "token:acme")
    token = web.get("/token", headers=bearer(key, "acme"))
    assert token.status_code == 200
    assert token.json["access_token"]
    assert web.get("/connection", headers=bearer(key, "acme")).status_code == 200
    assert web.get(QUERY, headers=bearer(key, "acme")).status_code == 200
    report = web.post("/token", json={"rejected": "nope"}, headers=bearer(key, "acme"))
    assert report.status_code == 200
    refused(web.post("/token", json={"rejected": "x"}, headers=bearer(key)), "token:jwt")
    refused(web.get("/connections/acme", headers=bearer(key)), "connections:acme")


def test_the_jwt_identity_is_a_resource_of_its_own(web: HttpClient) -> None:
    key = new_key(web, "token:jwt")
    assert web.get("/token", headers=bearer(key)).status_code == 200
    as_jwt = web.get(USERINFO, headers=bearer(key))
    assert as_jwt.json["preferred_username"] == USERNAME  # type: ignore[index]
    refused(web.get("/token", headers=bearer(key, "acme")), "token:acme")


def test_the_demo_page_shows_live_credentials_only_to_token_holders_over_jwt(
    web: HttpClient,
) -> None:
    proxy_only = web.get("/", headers=bearer(new_key(web, "proxy:*")))
    assert proxy_only.status_code == 200
    assert proxy_only.json["response_text"]["access_token"] == "REDACTED"  # type: ignore[index]
    holder = web.get("/", headers=bearer(new_key(web, "token:jwt")))
    assert holder.json["redacted"] == []  # type: ignore[index]
    assert web.get("/", headers=bearer("00Dsfkabcdefghij!" + "a" * 43)).status_code == 401


def test_managing_connections_is_per_connection_and_lists_only_those(web: HttpClient) -> None:
    key = new_key(web, "connections:acme")
    listed = web.get("/connections", headers=bearer(key))
    assert [c["name"] for c in listed.json["connections"]] == ["acme"]  # type: ignore[index]
    assert web.get("/connections/acme", headers=bearer(key)).status_code == 200
    refused(web.get("/connections/globex", headers=bearer(key)), "connections:globex")
    refused(
        web.post("/connections", json={"name": "globex"}, headers=bearer(key)),
        "connections:globex",
    )
    refused(web.get(QUERY, headers=bearer(key, "acme")), "proxy:acme")
    assert web.delete("/connections/acme", headers=bearer(key)).status_code == 200
    everything = web.get("/connections", headers=AUTH).json["connections"]  # type: ignore[index]
    assert [c["name"] for c in everything] == ["globex"]
    refused(web.get("/connections", headers=bearer(new_key(web, "proxy:*"))), "connections:*")


def test_managing_keys_needs_the_keys_scope(web: HttpClient) -> None:
    admin = new_key(web, "keys")
    made = web.post(
        "/keys", json={"client": "etl", "scopes": ["proxy:globex"]}, headers=bearer(admin)
    )
    assert made.status_code == 201
    listed = web.get("/keys", headers=bearer(admin)).json["keys"]  # type: ignore[index]
    assert {k["client"] for k in listed} == {"billing-app", "etl"}
    assert all("key" not in k for k in listed)
    refused(
        web.post(
            "/keys",
            json={"client": "x", "scopes": ["keys"]},
            headers=bearer(
                made.json["key"]  # type: ignore[index]
            ),
        ),
        "keys",
    )
    refused(web.get(USERINFO, headers=bearer(admin)), "proxy:jwt")  # keys grants nothing else
    etl = made.json["key"]  # type: ignore[index]
    etl_id = made.json["id"]  # type: ignore[index]
    refused(web.post(f"/keys/{etl_id}/rotate", headers=bearer(etl)), "keys")
    refused(web.delete(f"/keys/{etl_id}", headers=bearer(etl)), "keys")
    assert web.post(f"/keys/{etl_id}/rotate", headers=bearer(admin)).status_code == 200
    assert web.delete(f"/keys/{etl_id}", headers=bearer(admin)).status_code == 200


def test_other_places_salesforce_clients_put_a_session_are_accepted(web: HttpClient) -> None:
    key = new_key(web, "proxy:acme", default="acme")
    assert web.get(USERINFO, headers={"Authorization": f"OAuth {key}"}).status_code == 200
    assert web.get(USERINFO, headers={"X-SFDC-Session": key}).status_code == 200
    # Only identity-URL paths read a key from the query string.
    assert web.get(f"{USERINFO}?oauth_token={key}").status_code == 401


def test_an_unknown_key_is_401_and_a_known_one_outside_its_scope_is_403(web: HttpClient) -> None:
    key = new_key(web, "proxy:acme")
    forged = key[:-4] + "AAAA" if not key.endswith("AAAA") else key[:-4] + "BBBB"
    for unknown in (forged, "00Dsfkzzzzzzzzzz!" + "a" * 43, "not-a-key-at-all-0123456789"):
        answer = web.get(QUERY, headers=bearer(unknown, "acme"))
        assert answer.status_code == 401, unknown
        assert answer.json["error"] == "unauthorized"  # type: ignore[index]


def test_rotating_and_revoking_reach_another_instance_within_the_delay(
    org_settings: Settings, live_clock: FakeClock
) -> None:
    first = _instance(org_settings, live_clock)
    connect(first, "acme")
    other_clock = FakeClock(live_clock.now)
    second = _instance(org_settings, other_clock)
    made = first.post("/keys", json={"client": "etl", "scopes": ["proxy:acme"]}, headers=AUTH)
    key_id, key = made.json["id"], made.json["key"]  # type: ignore[index]
    assert second.get(QUERY, headers=bearer(key, "acme")).status_code == 200

    rotated = first.post(f"/keys/{key_id}/rotate", headers=AUTH)
    assert rotated.status_code == 200
    new = rotated.json["key"]  # type: ignore[index]
    assert new != key
    assert rotated.json["id"] == key_id
    assert first.get(QUERY, headers=bearer(key, "acme")).status_code == 401  # here: at once
    assert second.get(QUERY, headers=bearer(new, "acme")).status_code == 200  # never seen: read
    other_clock.advance(REVOCATION_DELAY)
    assert second.get(QUERY, headers=bearer(key, "acme")).status_code == 401

    revoked = first.delete(f"/keys/{key_id}", headers=AUTH)
    assert revoked.status_code == 200
    assert revoked.json["revoked_at"]
    assert second.get(QUERY, headers=bearer(new, "acme")).status_code == 200  # its cached view
    other_clock.advance(REVOCATION_DELAY)
    assert second.get(QUERY, headers=bearer(new, "acme")).status_code == 401
    assert first.delete("/keys/abcdefghij", headers=AUTH).status_code == 404


def test_the_person_approving_sees_the_client_and_what_is_replaced(web: HttpClient) -> None:
    key = new_key(web, "connections:acme")
    link = web.post(
        "/connections", json={"name": "acme", "replace": True}, headers=bearer(key)
    ).json
    path = "/connect/" + link["connect_url"].rsplit("/connect/", 1)[1]  # type: ignore[index]
    page = web.get(path).get_data(as_text=True)
    assert "billing-app" in page
    assert PERSON in page
    assert "replaces" in page
    assert link["authorize_url"] in page.replace("&amp;", "&")  # type: ignore[index]
    pending = web.get(path, headers={"Accept": "application/json"}).json
    assert pending["client"] == "billing-app"
    assert pending["replace"] is True
    assert pending["existing"]["username"] == PERSON  # type: ignore[index]
    assert web.get("/connect/no-such-link").status_code == 400

    back = decide(link["authorize_url"], username=USERNAME)  # type: ignore[index]
    done = web.get("/oauth/callback", query_string=back)
    assert done.status_code == 200
    shown = done.get_data(as_text=True)
    assert USERNAME in shown
    assert "billing-app" in shown
    stored = web.get("/connections/acme", headers=AUTH).json
    assert stored["username"] == USERNAME
    assert stored["created_by"] == "billing-app"


def test_a_reconnect_as_another_user_needs_replace(web: HttpClient, org: Any) -> None:
    link = web.post("/connections", json={"name": "acme"}, headers=AUTH).json
    back = decide(link["authorize_url"], username=USERNAME)  # type: ignore[index]
    answer = web.get("/oauth/callback", query_string=back, headers={"Accept": "application/json"})
    assert answer.status_code == 409
    assert answer.json["error"] == "user_mismatch"  # type: ignore[index]
    still = web.get("/connections/acme", headers=AUTH).json
    assert still["username"] == PERSON  # type: ignore[index]
    # Nothing was revoked: the stored refresh token still gets new access tokens.
    requests.post(f"{org.url}/_emulator/expire", timeout=5).raise_for_status()
    assert web.get(QUERY, headers={**AUTH, "X-Sfdc-Connection": "acme"}).status_code == 200


def test_a_replace_revokes_the_old_refresh_token_once_the_new_one_is_stored(
    web: HttpClient, org: Any, database_url: str
) -> None:
    _, old = stored_refresh_token(database_url, "acme")
    link = web.post("/connections", json={"name": "acme", "replace": True}, headers=AUTH).json
    back = decide(link["authorize_url"], username=USERNAME)  # type: ignore[index]
    assert web.get("/oauth/callback", query_string=back).status_code == 200
    _, new = stored_refresh_token(database_url, "acme")
    assert new != old
    assert refresh_at(org.url, old, CONSUMER_SECRET, CONSUMER_KEY).status_code == 400
    assert refresh_at(org.url, new, CONSUMER_SECRET, CONSUMER_KEY).status_code == 200


def test_every_use_is_an_audit_line_and_a_metric_without_the_key(
    web: HttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    key = new_key(web, "token:acme", "connections:acme")
    before = web.get("/metrics").get_data(as_text=True)
    with caplog.at_level(logging.INFO, logger="sfdc.audit"):
        token = web.get("/token", headers=bearer(key, "acme")).json["access_token"]  # type: ignore[index]
        web.get(QUERY, headers=bearer(key, "acme"))
        # A call that reaches no org used no credentials: it leaves no audit line.
        unknown = web.get(QUERY, headers={**AUTH, "X-Sfdc-Connection": "nosuch"})
        assert unknown.status_code == 404
        web.post("/connections", json={"name": "acme"}, headers=bearer(key))
        web.delete("/connections/acme", headers=bearer(key))
    after = web.get("/metrics").get_data(as_text=True)
    lines = [r for r in caplog.records if r.name == "sfdc.audit"]
    uses = [(r.audit, r.client, r.connection) for r in lines]  # type: ignore[attr-defined]
    assert uses == [
        ("token", "billing-app", "acme"),
        ("proxy", "billing-app", "acme"),
        ("connect_link", "billing-app", "acme"),
        ("deleted", "billing-app", "acme"),
    ]
    for record in lines:
        assert key not in record.getMessage()
        assert token not in record.getMessage()
    for use in ("token", "proxy", "connect_link", "deleted"):
        labels = {"client": "billing-app", "connection": "acme", "use": use}
        assert (
            sample(after, "sfdc_credential_uses_total", **labels)
            - sample(before, "sfdc_credential_uses_total", **labels)
            == 1
        )


def test_configured_keys_keep_full_access(web: HttpClient) -> None:
    assert API_KEY in AUTH["Authorization"]
    assert web.get("/token", headers={**AUTH, "X-Sfdc-Connection": "globex"}).status_code == 200
    assert web.get("/keys", headers=AUTH).status_code == 200


def test_no_new_connection_may_take_the_name_jwt(web: HttpClient) -> None:
    answer = web.post("/connections", json={"name": "jwt"}, headers=AUTH)
    assert answer.status_code == 400
    assert "JWT identity" in answer.json["error_description"]  # type: ignore[index]


def test_only_a_key_that_manages_the_connection_gets_a_consent_link(
    web: HttpClient, org: Any
) -> None:
    requests.post(f"{org.url}/_emulator/refresh-tokens/revoke", timeout=5).raise_for_status()
    requests.post(f"{org.url}/_emulator/expire", timeout=5).raise_for_status()
    proxy_only = web.get(QUERY, headers=bearer(new_key(web, "proxy:acme"), "acme"))
    assert proxy_only.status_code == 502
    assert "connect_url" not in proxy_only.json  # type: ignore[operator]
    assert "'connections:acme'" in proxy_only.json["hint"]  # type: ignore[index]
    manager = new_key(web, "proxy:acme", "connections:acme")
    managed = web.get(QUERY, headers=bearer(manager, "acme"))
    assert managed.status_code == 502
    assert "/connect/" in managed.json["connect_url"]  # type: ignore[index]


@pytest.mark.parametrize("odd", ["%00", "%00abcdefghi", "abcdefghij%00", "%C3%A9" * 5, "a" * 300])
def test_an_id_that_cannot_be_a_key_id_is_an_unknown_key(
    org_settings: Settings, live_clock: FakeClock, odd: str
) -> None:
    """No such key, on every database: PostgreSQL refuses a NUL in a string outright, so
    asking it answered 400 "the connections database refused a value" there and 404 on
    SQLite."""
    web = _instance(org_settings, live_clock)
    for answer in (
        web.delete(f"/keys/{odd}", headers=AUTH),
        web.post(f"/keys/{odd}/rotate", headers=AUTH),
    ):
        assert answer.status_code == 404, answer.json
        assert answer.json["error"] == "unknown_key"  # type: ignore[index]
        assert answer.json["retryable"] is False  # type: ignore[index]


def test_a_key_request_that_is_wrong_says_which_part_is_wrong(
    org_settings: Settings, live_clock: FakeClock
) -> None:
    """Each of these answered the same "POST /keys needs a 'client' name and a list of
    'scopes'", which a caller who sent both could not act on; the last three made a key
    whose every call without X-Sfdc-Connection was refused (403, or 404 for 'jwt')."""
    web = _instance(org_settings, live_clock)
    wrong = [
        ({"client": "etl", "scopes": ["PROXY:acme"]}, "'PROXY:acme' is not a scope."),
        ({"client": "etl", "scopes": ["keys:acme"]}, "'keys:acme' is not a scope."),
        (
            {"client": "etl", "scopes": ["proxy:acme proxy:globex"]},
            "'proxy:acme proxy:globex' is not a scope.",
        ),
        ({"client": "etl", "scopes": [5]}, "'scopes' must be a list of strings."),
        ({"client": "<script>", "scopes": ["proxy:acme"]}, "'<script>' is not a client name."),
        ({"client": 5, "scopes": ["proxy:acme"]}, "'client' must be a string."),
        (
            {"client": "etl", "scopes": ["proxy:acme"], "default_connection": "*"},
            "'*' is not a connection name.",
        ),
        (
            {"client": "etl", "scopes": ["proxy:acme"], "default_connection": "globex"},
            "The default connection 'globex' is not one this key may call.",
        ),
        (
            {"client": "etl", "scopes": ["connections:acme"], "default_connection": "acme"},
            "The default connection 'acme' is not one this key may call.",
        ),
        (
            {"client": "etl", "scopes": ["proxy:jwt"], "default_connection": "jwt"},
            "'jwt' is the JWT identity, what a key without a default connection acts as.",
        ),
    ]
    for body, problem in wrong:
        answer = web.post("/keys", json=body, headers=AUTH)
        assert answer.status_code == 400, (body, answer.json)
        assert answer.json["error"] == "invalid_request"  # type: ignore[index]
        assert answer.json["error_description"] == problem, body  # type: ignore[index]
    assert web.get("/keys", headers=AUTH).json == {"keys": []}


def test_a_connection_header_that_is_no_name_is_400_whatever_the_key(
    org_settings: Settings, live_clock: FakeClock
) -> None:
    """A scoped key got 403 with a hint to ask for a scope that cannot exist ('proxy:*'
    for the header '*', 'proxy:acme,globex' for two headers), the header echoed whole;
    a full-access key got this 400."""
    web = _instance(org_settings, live_clock)
    key = new_key(web, "proxy:acme", "token:acme")
    for header in ("*", "acme,globex", "acme globex", "x" * 3000):
        for path in (QUERY, "/services/data/v60.0", "/token"):
            answer = web.get(path, headers=bearer(key, header))
            assert answer.status_code == 400, (header[:20], path, answer.json)
            assert answer.json["error"] == "invalid_request"  # type: ignore[index]
            assert "is not a connection name" in answer.json["error_description"]  # type: ignore[index]
            assert len(answer.json["error_description"]) < 200  # type: ignore[index]


def test_naming_jwt_in_the_header_is_the_jwt_identity(
    org_settings: Settings, live_clock: FakeClock
) -> None:
    """A 403 for 'X-Sfdc-Connection: jwt' asked for 'proxy:jwt'; a key holding it then got
    404 "There is no connection named 'jwt'" (no connection may take that name)."""
    web = _instance(org_settings, live_clock)
    key = new_key(web, "token:jwt")
    assert web.get("/token", headers=bearer(key, "jwt")).status_code == 200
    as_jwt = web.get(USERINFO, headers=bearer(key, "jwt"))
    assert as_jwt.status_code == 200, as_jwt.json
    assert as_jwt.json["preferred_username"] == USERNAME  # type: ignore[index]
    refused(web.get(USERINFO, headers=bearer(new_key(web, "proxy:acme"), "jwt")), "proxy:jwt")
