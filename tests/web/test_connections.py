"""Connected orgs over HTTP, against the emulator: connect, use, re-consent, delete.

The person at Salesforce is played by ``decide``: it opens the connect link on
the emulator's consent page and presses Allow or Deny, as a browser would;
the callback is then called with what the browser was sent back with.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from sfdc.emulator import EmulatorConfig, running_emulator
from sfdc.errors import RequestError, SalesforceRefusal
from sfdc.ops import check
from sfdc.orgs.connections import Connections
from sfdc.orgs.onboarding import resolve_login
from sfdc.orgs.store import ConnectionStore
from sfdc.salesforce.transport import Transport
from sfdc.settings.settings import Settings, load_settings
from sfdc.web import create_app
from sfdc.web.extension import CONNECTIONS_KEY
from tests.conftest import (
    CONSUMER_KEY,
    CONSUMER_SECRET,
    USERNAME,
    FakeClock,
    KeyPair,
)
from tests.emulated import emulator_config, stats
from tests.fakes import Reply, scripted_session
from tests.orgs_support import (
    CALLBACK,
    PERSON,
    connect,
    connected_env,
    decide,
    org_config,
    refresh_at,
    stored_refresh_token,
)
from tests.web.conftest import AUTH

ACME = {**AUTH, "X-Sfdc-Connection": "acme"}
QUERY = "/api/data/v60.0/query?q=SELECT+Id+FROM+Account"


@pytest.fixture(params=[False, True], ids=["static", "rotating"])
def rotating(request: pytest.FixtureRequest) -> bool:
    value: bool = request.param
    return value


@pytest.fixture
def org(keypair: KeyPair, rotating: bool) -> Iterator[Any]:
    with running_emulator(org_config(keypair, rotate=rotating)) as running:
        yield running


@pytest.fixture
def org_env(org: Any, seed_env: dict[str, str], database_url: str) -> dict[str, str]:
    return connected_env(seed_env, org.url, database_url)


@pytest.fixture
def org_settings(org_env: dict[str, str]) -> Settings:
    return load_settings(org_env)


_APPS: list[Flask] = []


def new_instance(settings: Settings, clock: FakeClock) -> Flask:
    app = create_app(settings, clock=clock)
    _APPS.append(app)
    return app


@pytest.fixture(autouse=True)
def _close_databases() -> Iterator[None]:
    yield
    while _APPS:
        _APPS.pop().extensions[CONNECTIONS_KEY].store.dispose()


@pytest.fixture
def org_app(org_settings: Settings, live_clock: FakeClock) -> Flask:
    return new_instance(org_settings, live_clock)


@pytest.fixture
def web(org_app: Flask) -> FlaskClient:
    return org_app.test_client()


def test_connect_link_carries_state_pkce_and_our_callback(web: FlaskClient, org: Any) -> None:
    answer = web.post("/connections", json={"name": "acme"}, headers=AUTH)
    assert answer.status_code == 201
    assert answer.json["connect_url"].startswith(  # type: ignore[index]
        CALLBACK.removesuffix("/oauth/callback") + "/connect/"
    )
    url = urlsplit(answer.json["authorize_url"])  # type: ignore[index]
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{org.url}/services/oauth2/authorize"
    assert query["response_type"] == "code"
    assert query["client_id"] == CONSUMER_KEY
    assert query["redirect_uri"] == CALLBACK
    assert query["scope"] == "api refresh_token"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) > 40


def test_a_connected_org_serves_token_connection_and_proxy(web: FlaskClient) -> None:
    stored = connect(web)
    assert stored["username"] == PERSON
    assert stored["status"] == "connected"
    jwt_token = web.get("/token", headers=AUTH).json["access_token"]  # type: ignore[index]
    org_token = web.get("/token", headers=ACME).json["access_token"]  # type: ignore[index]
    assert org_token != jwt_token
    test = web.get("/connection", headers=ACME)
    assert test.status_code == 200
    assert test.json["user"]["username"] == PERSON  # type: ignore[index]
    assert web.get("/connection", headers=AUTH).json["user"]["username"] == USERNAME  # type: ignore[index]
    assert web.get(QUERY, headers=ACME).status_code == 200


def test_listing_shows_connections_and_no_secret(web: FlaskClient, database_url: str) -> None:
    connect(web)
    _raw, refresh_token = stored_refresh_token(database_url, "acme")
    access_token = web.get("/token", headers=ACME).json["access_token"]  # type: ignore[index]
    listing = web.get("/connections", headers=AUTH)
    assert listing.status_code == 200
    (entry,) = listing.json["connections"]  # type: ignore[index]
    assert entry["name"] == "acme"
    assert entry["username"] == PERSON
    assert entry["org_id"].startswith("00D")
    assert entry["scopes"]
    shown = listing.get_data(as_text=True) + web.get("/connections/acme", headers=AUTH).get_data(
        as_text=True
    )
    assert refresh_token not in shown
    assert access_token not in shown


def test_a_database_reader_gets_nothing_usable(
    web: FlaskClient, org: Any, database_url: str
) -> None:
    connect(web)
    raw, refresh_token = stored_refresh_token(database_url, "acme")
    assert refresh_token not in raw
    refused = refresh_at(org.url, raw, CONSUMER_SECRET, CONSUMER_KEY)
    assert refused.json()["error"] == "invalid_grant"
    assert refresh_at(org.url, refresh_token, CONSUMER_SECRET, CONSUMER_KEY).status_code == 200


def test_callback_refuses_replay_forgery_and_expiry(
    web: FlaskClient, live_clock: FakeClock
) -> None:
    link = web.post("/connections", json={"name": "acme"}, headers=AUTH).json
    back = decide(link["authorize_url"])  # type: ignore[index]
    assert web.get("/oauth/callback", query_string=back).status_code == 200
    replay = web.get("/oauth/callback", query_string=back)
    assert replay.status_code == 400
    assert "already used" in replay.get_data(as_text=True)
    assert replay.mimetype == "text/html"

    forged = {**back, "state": back["state"][:-4] + "abcd"}
    answer = web.get("/oauth/callback", query_string=forged, headers={"Accept": "application/json"})
    assert answer.status_code == 400
    assert answer.json["error"] == "invalid_state"  # type: ignore[index]

    late = web.post("/connections", json={"name": "late"}, headers=AUTH).json
    late_back = decide(late["authorize_url"])  # type: ignore[index]
    live_clock.advance(timedelta(minutes=16))
    expired = web.get(
        "/oauth/callback", query_string=late_back, headers={"Accept": "application/json"}
    )
    assert expired.json["error"] == "state_expired"  # type: ignore[index]
    assert web.get("/connections/late", headers=AUTH).status_code == 404


def test_declining_stores_nothing_and_says_so(web: FlaskClient) -> None:
    link = web.post("/connections", json={"name": "acme"}, headers=AUTH).json
    back = decide(link["authorize_url"], decision="deny")  # type: ignore[index]
    page = web.get("/oauth/callback", query_string=back)
    assert page.status_code == 403
    text = page.get_data(as_text=True)
    assert "declined" in text
    assert "new connect link" in text
    assert web.get("/connections", headers=AUTH).json == {"connections": [], "next": None}


def test_an_expired_access_token_is_refreshed_transparently(web: FlaskClient, org: Any) -> None:
    connect(web)
    before = web.get("/token", headers=ACME).json["access_token"]  # type: ignore[index]
    requests.post(f"{org.url}/_emulator/expire", timeout=5).raise_for_status()
    assert web.get(QUERY, headers=ACME).status_code == 200
    after = web.get("/token", headers=ACME).json["access_token"]  # type: ignore[index]
    assert after != before
    assert stats(org.url)["refresh_grants"] == 1
    assert web.get("/connections/acme", headers=AUTH).json["status"] == "connected"  # type: ignore[index]


def test_concurrent_refreshes_on_two_instances_spend_the_refresh_token_once(
    org_settings: Settings, live_clock: FakeClock, org: Any, rotating: bool, database_url: str
) -> None:
    """Two app instances share one database; with rotation a second refresh would be refused."""
    instances = [new_instance(org_settings, live_clock) for _ in range(2)]
    connect(instances[0].test_client())
    for instance in instances:  # each holds the same, soon dead, token
        assert instance.test_client().get("/token", headers=ACME).status_code == 200
    requests.post(f"{org.url}/_emulator/expire", timeout=5).raise_for_status()
    barrier = threading.Barrier(12)
    statuses: list[int] = []

    def call(app: Flask) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.get(QUERY, headers=ACME).status_code)

    threads = [threading.Thread(target=call, args=(instances[i % 2],)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [200] * 12
    assert stats(org.url)["refresh_grants"] == 1
    _raw, refresh_token = stored_refresh_token(database_url, "acme")
    answer = refresh_at(org.url, refresh_token, CONSUMER_SECRET, CONSUMER_KEY)
    assert answer.status_code == 200  # what is stored is the live refresh token
    assert ("refresh_token" in answer.json()) is rotating


def test_a_revoked_refresh_token_asks_for_consent_with_a_fresh_link(
    web: FlaskClient, org: Any
) -> None:
    connect(web)
    requests.post(f"{org.url}/_emulator/refresh-tokens/revoke", timeout=5).raise_for_status()
    refused = web.get(QUERY, headers=ACME)
    assert refused.status_code == 502
    body = refused.json
    assert body["error"] == "invalid_grant"  # type: ignore[index]
    assert "expired access/refresh token" in body["error_description"]  # type: ignore[index]
    assert body["connect_url"] in body["hint"]  # type: ignore[index]
    listed = web.get("/connections/acme", headers=AUTH).json
    assert listed["status"] == "needs_consent"  # type: ignore[index]
    asked = stats(org.url)["token_requests"]
    again = web.get("/token", headers=ACME)
    assert again.status_code == 502
    assert stats(org.url)["token_requests"] == asked  # Salesforce is not asked again
    assert again.json["connect_url"] == body["connect_url"]  # type: ignore[index]  # one link, reused

    back = decide(body["authorize_url"])  # type: ignore[index]
    assert web.get("/oauth/callback", query_string=back).status_code == 200
    assert web.get(QUERY, headers=ACME).status_code == 200


def test_deleting_revokes_the_refresh_token_first(
    web: FlaskClient, org: Any, database_url: str
) -> None:
    connect(web)
    _raw, refresh_token = stored_refresh_token(database_url, "acme")
    answer = web.delete("/connections/acme", headers=AUTH)
    assert answer.status_code == 200
    assert answer.json["revoked"] is True  # type: ignore[index]
    assert refresh_at(org.url, refresh_token, CONSUMER_SECRET, CONSUMER_KEY).status_code == 400
    gone = web.get("/token", headers=ACME)
    assert gone.status_code == 404
    assert gone.json["error"] == "unknown_connection"  # type: ignore[index]
    assert web.delete("/connections/acme", headers=AUTH).status_code == 404


def test_connecting_again_replaces_and_revokes_the_old_refresh_token(
    web: FlaskClient, org: Any, database_url: str
) -> None:
    connect(web)
    _raw, first = stored_refresh_token(database_url, "acme")
    connect(web)
    _raw, second = stored_refresh_token(database_url, "acme")
    assert second != first
    assert refresh_at(org.url, first, CONSUMER_SECRET, CONSUMER_KEY).status_code == 400
    assert len(web.get("/connections", headers=AUTH).json["connections"]) == 1  # type: ignore[index]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({}, "needs the connection's name"),
        ({"name": "no spaces"}, "is not a connection name"),
        ({"name": "acme", "login": "http://127.0.0.1:6379"}, "not a Salesforce login host"),
        ({"name": "acme", "login": "https://evil.example.com"}, "not a Salesforce login host"),
        ({"name": "acme", "login": "http://login.salesforce.com"}, "https"),
        ({"name": "acme", "login": "prod"}, "login 'prod' is not 'production', 'sandbox'"),
        ({"name": "acme", "scopes": "api\u0000"}, "scopes must be OAuth scope names"),
        ({"name": "acme", "scopes": "api " * 200}, "at most 500 characters"),
        (
            {"name": "acme", "login": f"https://{'a' * 10_000}.my.salesforce.com"},
            "a login URL has at most 255",
        ),
    ],
)
def test_bad_connect_requests_are_refused_with_a_reason(
    web: FlaskClient, body: dict[str, str], problem: str
) -> None:
    answer = web.post("/connections", json=body, headers=AUTH)
    assert answer.status_code == 400
    assert problem in answer.json["error_description"] + answer.json["hint"]  # type: ignore[index]


def test_managing_connections_needs_an_api_key_but_the_callback_does_not(
    web: FlaskClient,
) -> None:
    assert web.post("/connections", json={"name": "acme"}).status_code == 401
    assert web.get("/connections").status_code == 401
    assert web.delete("/connections/acme").status_code == 401
    assert web.get("/token", headers={"X-Sfdc-Connection": "acme"}).status_code == 401
    callback = web.get("/oauth/callback?" + urlencode({"state": "x", "code": "y"}))
    assert callback.status_code == 400  # refused for its state, not for a missing key


def test_login_aliases_pick_the_sandbox_host(web: FlaskClient) -> None:
    answer = web.post("/connections", json={"name": "uat", "login": "sandbox"}, headers=AUTH)
    assert answer.json["authorize_url"].startswith(  # type: ignore[index]
        "https://test.salesforce.com/services/oauth2/authorize?"
    )


def test_without_an_encryption_key_connections_are_off(client: FlaskClient) -> None:
    answer = client.post("/connections", json={"name": "acme"}, headers=AUTH)
    assert answer.status_code == 501
    assert "SFDC_ENCRYPTION_KEY" in answer.json["hint"]  # type: ignore[index]
    assert client.get("/token", headers=ACME).status_code == 501


def test_no_token_or_state_reaches_the_logs(
    web: FlaskClient, org: Any, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="sfdc")
    link = web.post("/connections", json={"name": "acme"}, headers=AUTH).json
    back = decide(link["authorize_url"])  # type: ignore[index]
    assert web.get("/oauth/callback", query_string=back).status_code == 200
    requests.post(f"{org.url}/_emulator/expire", timeout=5).raise_for_status()
    assert web.get(QUERY, headers=ACME).status_code == 200
    access_token = web.get("/token", headers=ACME).json["access_token"]  # type: ignore[index]
    _raw, refresh_token = stored_refresh_token(database_url, "acme")
    assert web.delete("/connections/acme", headers=AUTH).status_code == 200
    # The service's own lines; urllib3's come from this test playing the browser.
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("sfdc"))
    assert "connection acme stored" in logged  # the log does tell the story
    for secret in (access_token, refresh_token, back["code"], back["state"], CONSUMER_SECRET):
        assert secret not in logged


def test_check_reports_stored_orgs_and_never_a_token(
    web: FlaskClient, org_env: dict[str, str], database_url: str
) -> None:
    connect(web)
    _raw, refresh_token = stored_refresh_token(database_url, "acme")
    steps = {step.name: step for step in check.run(org_env)}
    assert steps["connected orgs"].detail.startswith("on; stored in")
    assert steps["stored orgs"].ok
    assert steps["stored orgs"].detail == "1: acme (connected)"
    assert all(refresh_token not in step.line() for step in steps.values())
    offline = {step.name for step in check.run(org_env, offline=True)}
    assert "stored orgs" not in offline  # offline never opens the database


def test_json_sent_the_way_curl_d_sends_it_is_read(web: FlaskClient) -> None:
    """curl -d '{...}' without -H Content-Type labels JSON as a form; the name is still read."""
    answer = web.post(
        "/connections",
        data='{"name": "acme"}',
        headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 201
    broken = web.post("/connections", data="{name: acme}", headers=AUTH)
    assert broken.status_code == 400
    assert broken.json["error_description"] == "The request body is not valid JSON."  # type: ignore[index]
    form = web.post("/connections", data={"name": "acme", "login": "sandbox"}, headers=AUTH)
    assert form.status_code == 201


def test_an_empty_connection_header_is_refused_not_taken_for_the_jwt_user(
    web: FlaskClient,
) -> None:
    answer = web.get("/token", headers={**AUTH, "X-Sfdc-Connection": ""})
    assert answer.status_code == 400
    assert "header is empty" in answer.json["error_description"]  # type: ignore[index]


def test_reconnecting_in_another_org_is_refused_unless_replacing(
    org: Any, keypair: KeyPair, org_env: dict[str, str], live_clock: FakeClock
) -> None:
    """A leaked reconnect link cannot quietly point a name at another org."""
    with running_emulator(_another_org(keypair)) as other:
        web = _beside(other, org_env, live_clock)
        connect(web)
        first_org = web.get("/connections/acme", headers=AUTH).json["org_id"]  # type: ignore[index]
        link = web.post("/connections", json={"name": "acme", "login": other.url}, headers=AUTH)
        back = decide(link.json["authorize_url"])  # type: ignore[index]
        refused = web.get(
            "/oauth/callback", query_string=back, headers={"Accept": "application/json"}
        )
        assert refused.status_code == 409
        assert refused.json["error"] == "org_mismatch"  # type: ignore[index]
        assert '"replace": true' in refused.json["hint"]  # type: ignore[index]
        assert stats(other.url)["refresh_tokens_active"] == 0  # what it granted was revoked
        kept = web.get("/connections/acme", headers=AUTH).json
        assert kept["org_id"] == first_org  # type: ignore[index]

        replace = {"name": "acme", "login": other.url, "replace": True}
        link = web.post("/connections", json=replace, headers=AUTH)
        back = decide(link.json["authorize_url"])  # type: ignore[index]
        assert web.get("/oauth/callback", query_string=back).status_code == 200
        moved = web.get("/connections/acme", headers=AUTH).json
        assert moved["org_id"] != first_org  # type: ignore[index]
        assert moved["login_url"] == other.url  # type: ignore[index]
        # The old org's refresh token was revoked where it was issued.
        assert stats(org.url)["refresh_tokens_active"] == 0


def test_a_wrong_consumer_secret_at_the_callback_says_which_setting(
    org_env: dict[str, str], live_clock: FakeClock
) -> None:
    app = new_instance(
        load_settings({**org_env, "SFDC_CONSUMER_SECRET": "not-the-apps-secret"}), live_clock
    )
    web = app.test_client()
    link = web.post("/connections", json={"name": "acme"}, headers=AUTH).json
    back = decide(link["authorize_url"])  # type: ignore[index]
    page = web.get("/oauth/callback", query_string=back)
    assert page.status_code == 502
    text = page.get_data(as_text=True)
    assert "invalid_client" in text
    assert "Consumer Secret" in text
    assert "not-the-apps-secret" not in text


def test_a_login_hours_refusal_keeps_the_connection(
    web: FlaskClient, org_settings: Settings, live_clock: FakeClock
) -> None:
    """Only a refresh token Salesforce calls expired needs consent; other refusals pass."""
    connect(web)
    session, _adapter = scripted_session(
        Reply(
            400,
            {"error": "invalid_grant", "error_description": "ip restricted or invalid login hours"},
        )
    )
    elsewhere = Connections(
        org_settings,
        ConnectionStore(org_settings.database),  # type: ignore[arg-type]
        Transport(session, timeout=5),
        live_clock,
    )
    live_clock.advance(timedelta(hours=3))  # the stored access token is no longer fresh
    try:
        with pytest.raises(SalesforceRefusal) as caught:
            elsewhere.refresher.refresh("acme", frozenset())
    finally:
        elsewhere.store.dispose()
    assert caught.value.code == "invalid_grant"
    assert "Login IP Ranges" in caught.value.hint
    assert web.get("/connections/acme", headers=AUTH).json["status"] == "connected"  # type: ignore[index]


def test_a_loopback_login_is_refused_when_the_service_is_not_local() -> None:
    with pytest.raises(RequestError):
        resolve_login("http://127.0.0.1:9999", "https://login.salesforce.com")
    local = "http://127.0.0.1:9999"
    assert resolve_login("http://127.0.0.1:9999", "x", local=(local,)) == local


@pytest.mark.parametrize(
    "login", ["http://127.0.0.1:6379", "http://localhost:9999", "http://127.0.0.2:9999"]
)
def test_a_local_service_takes_only_its_own_emulator_as_a_loopback_login(login: str) -> None:
    """Not any port on this machine (Redis's, say): only the login URL it runs against."""
    with pytest.raises(RequestError, match="not a Salesforce login host"):
        resolve_login(login, "x", local=("http://127.0.0.1:9999",))


def _another_org(keypair: KeyPair) -> EmulatorConfig:
    """A second emulator: another org (its ids follow its audience) at another port."""
    return emulator_config(
        keypair,
        usernames=(PERSON,),
        consumer_secret=CONSUMER_SECRET,
        callback_urls=(CALLBACK,),
        audience="https://test.salesforce.com",
    )


def _beside(other: Any, org_env: dict[str, str], live_clock: FakeClock) -> FlaskClient:
    """The service, allowed to send connect links to the ``other`` local emulator too."""
    settings = load_settings({**org_env, "SFDC_LOCAL_LOGIN_URLS": other.url})
    return new_instance(settings, live_clock).test_client()


def test_a_link_issued_before_the_name_existed_cannot_move_it_later(
    keypair: KeyPair, org_env: dict[str, str], live_clock: FakeClock
) -> None:
    with running_emulator(_another_org(keypair)) as other:
        web = _beside(other, org_env, live_clock)
        early = web.post("/connections", json={"name": "acme", "login": other.url}, headers=AUTH)
        connect(web)  # meanwhile, acme is connected in the first org
        back = decide(early.json["authorize_url"])  # type: ignore[index]
        late = web.get("/oauth/callback", query_string=back, headers={"Accept": "application/json"})
        assert late.status_code == 409
        assert late.json["error"] == "org_mismatch"  # type: ignore[index]
        assert stats(other.url)["refresh_tokens_active"] == 0


def test_a_spent_consent_link_is_not_handed_out_again(web: FlaskClient, org: Any) -> None:
    connect(web)
    requests.post(f"{org.url}/_emulator/refresh-tokens/revoke", timeout=5).raise_for_status()
    first = web.get(QUERY, headers=ACME).json["authorize_url"]  # type: ignore[index]
    back = decide(first, decision="deny")  # the person opened it, and declined
    assert web.get("/oauth/callback", query_string=back).status_code == 403
    second = web.get(QUERY, headers=ACME).json["authorize_url"]  # type: ignore[index]
    assert second != first
    assert web.get("/oauth/callback", query_string=decide(second)).status_code == 200


@pytest.mark.parametrize("value", ["maybe", 2, None, [True]])
def test_replace_must_be_true_or_false(web: FlaskClient, value: object) -> None:
    answer = web.post("/connections", json={"name": "acme", "replace": value}, headers=AUTH)
    assert answer.status_code == 400
    assert "'replace' must be true or false" in answer.json["error_description"]  # type: ignore[index]
