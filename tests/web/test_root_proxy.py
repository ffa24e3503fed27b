"""Salesforce's own URL space at the service's root, over real HTTP: the app served on a
port, the emulator behind it. Every route answers as Salesforce would; no credential the
caller sent reaches Salesforce (the emulator records any it never issued); links point at
the service; a dead session is replaced once on REST, Bulk 1.0, Bulk 2.0 and identity."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import requests
from flask import Flask

from sfdc.emulator import running_emulator
from sfdc.settings.public import PublicAddress
from sfdc.settings.settings import Settings, load_settings
from sfdc.web import create_app
from sfdc.web.extension import CONNECTIONS_KEY
from tests.conftest import API_KEY, FakeClock, KeyPair
from tests.emulated import stats
from tests.orgs_support import PERSON, connect, connected_env, org_config
from tests.web.over_http import Serve

V = "/services/data/v60.0"
BEARER = {"Authorization": f"Bearer {API_KEY}"}
JOB_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload">'
    "<operation>insert</operation><object>Account</object><contentType>CSV</contentType>"
    "</jobInfo>"
)
XML = {"Content-Type": "application/xml; charset=UTF-8"}


@pytest.fixture
def service(app: Flask, serve: Serve) -> str:
    return serve(app)


def _usage(emulator: Any) -> int:
    """How many API calls the emulator has answered."""
    used: int = requests.get(f"{emulator.url}/_emulator/stats", timeout=5).json()["api_usage"]
    return used


def _seen(emulator: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = requests.get(
        f"{emulator.url}/_emulator/credentials-seen", timeout=5
    ).json()["credentials"]
    return found


def _identity_path(service: str) -> str:
    """``/id/<orgId>/<userId>`` of the service's JWT user, from the version resource."""
    identity: str = requests.get(f"{service}{V}", headers=BEARER, timeout=10).json()["identity"]
    assert identity.startswith(f"{service}/id/")
    return identity[len(service) :]


def test_versions_answer_with_and_without_a_slash_and_no_redirect(service: str) -> None:
    for path in ("/services/data", "/services/data/"):
        answer = requests.get(f"{service}{path}", headers=BEARER, timeout=10, allow_redirects=False)
        assert answer.status_code == 200, path
        assert {"label": "Spring '24", "url": V, "version": "60.0"} in answer.json()


def test_every_route_reaches_the_org_and_no_caller_credential_reaches_salesforce(
    service: str, emulator: Any
) -> None:
    oauth = {"Authorization": f"OAuth {API_KEY}"}
    session = {"X-SFDC-Session": API_KEY}
    query = requests.get(
        f"{service}{V}/query", params={"q": "SELECT Id FROM Account"}, headers=oauth, timeout=10
    )
    assert query.json()["totalSize"] == 3
    assert (
        requests.get(f"{service}/services/apexrest/echo", headers=BEARER, timeout=10).json()["path"]
        == "/services/apexrest/echo"
    )
    userinfo = requests.get(f"{service}/services/oauth2/userinfo", headers=BEARER, timeout=10)
    assert userinfo.status_code == 200
    assert userinfo.json()["preferred_username"]
    identity_path = _identity_path(service)
    by_parameter = requests.get(
        f"{service}{identity_path}", params={"format": "json", "oauth_token": API_KEY}, timeout=10
    )
    assert by_parameter.status_code == 200
    assert by_parameter.json()["id"] == f"{service}{identity_path}"
    job = requests.post(
        f"{service}/services/async/60.0/job", data=JOB_XML, headers={**session, **XML}, timeout=10
    )
    assert job.status_code == 201, job.text
    assert "<state>Open</state>" in job.text
    ingest = requests.post(
        f"{service}{V}/jobs/ingest",
        json={"object": "Account", "operation": "insert"},
        headers=BEARER,
        timeout=10,
    )
    assert ingest.status_code == 200
    assert requests.get(f"{service}/api/data/v60.0/limits", headers=BEARER, timeout=10).ok
    assert _seen(emulator) == []


def test_a_key_in_a_query_parameter_counts_only_on_identity_paths(service: str) -> None:
    answer = requests.get(f"{service}{V}/limits", params={"oauth_token": API_KEY}, timeout=10)
    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthorized"


def test_a_wrong_key_in_any_place_is_refused_before_salesforce(service: str, emulator: Any) -> None:
    for headers in ({"Authorization": "OAuth wrong-key-0123456789"}, {"X-SFDC-Session": "nope"}):
        answer = requests.get(f"{service}{V}/limits", headers=headers, timeout=10)
        assert answer.status_code == 401
    assert stats(emulator.url)["token_requests"] == 0


def test_only_the_headers_salesforce_reads_are_forwarded(service: str, emulator: Any) -> None:
    sent = {
        **BEARER,
        "X-SFDC-Session": API_KEY,
        "X-Sfdc-Anything": "internal",
        "Cookie": "sid=caller",
        "X-Forwarded-For": "10.1.2.3",
        "Sforce-Call-Options": "client=acme",
        "X-PrettyPrint": "1",
        "If-None-Match": '"etag"',
        "Accept-Language": "de",
    }
    echoed = requests.get(f"{service}/services/apexrest/echo", headers=sent, timeout=10).json()
    names = {name.lower() for name in echoed["headers"]}
    assert {"sforce-call-options", "x-prettyprint", "if-none-match", "accept-language"} <= names
    for name in ("x-sfdc-session", "x-sfdc-anything", "cookie", "x-forwarded-for"):
        assert name not in names
    assert echoed["headers"]["Authorization"] != sent["Authorization"]
    assert _seen(emulator) == []


@pytest.mark.parametrize(
    "path",
    [
        "/services/data/v60.0/..;/..;/id/x",
        "/services/data/v60.0/%2e%2e%3b/x",
        "/services/apexrest/..;x/echo",
        "/services/async/60.0/%252e%252e%253b/job",
        "/id/00D/..;/005",
        "/services/data/../oauth2/token",
    ],
)
def test_dot_segments_are_refused_in_every_encoding(service: str, emulator: Any, path: str) -> None:
    with requests.Session() as http:
        prepared = requests.Request("GET", f"{service}{path}", headers=BEARER).prepare()
        prepared.url = f"{service}{path}"  # as written: requests would resolve the dots
        answer = http.send(prepared, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_path"
    assert stats(emulator.url)["token_requests"] == 0


def _no_emulator_address(text: str, emulator: Any) -> None:
    assert emulator.url not in text
    assert emulator.url.replace("127.0.0.1", "localhost") not in text


def test_links_in_answers_point_at_the_service(service: str, emulator: Any) -> None:
    version = requests.get(f"{service}{V}", headers=BEARER, timeout=10)
    assert version.json()["identity"].startswith(f"{service}/id/")
    identity = requests.get(f"{service}{_identity_path(service)}", headers=BEARER, timeout=10)
    urls = identity.json()["urls"]
    assert urls["rest"] == f"{service}/services/data/v{{version}}/"
    assert int(identity.headers["Content-Length"]) == len(identity.content)
    userinfo = requests.get(f"{service}/services/oauth2/userinfo", headers=BEARER, timeout=10)
    assert userinfo.json()["profile"].startswith(f"{service}/")
    for answer in (version, identity, userinfo):
        _no_emulator_address(answer.text, emulator)
    moved = requests.get(
        f"{service}/services/apexrest/moved", headers=BEARER, timeout=10, allow_redirects=False
    )
    assert moved.status_code == 301
    assert moved.headers["Location"] == f"{service}/services/apexrest/echo"
    followed = requests.get(f"{service}/services/apexrest/moved", headers=BEARER, timeout=10)
    assert followed.json()["path"] == "/services/apexrest/echo"
    assert _seen(emulator) == []


def test_the_routers_forwarded_headers_give_the_public_url(service: str) -> None:
    routed = {**BEARER, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "sfdc.apps.example.com"}
    version = requests.get(f"{service}{V}", headers=routed, timeout=10).json()
    assert version["identity"].startswith("https://sfdc.apps.example.com/id/")
    moved = requests.get(
        f"{service}/services/apexrest/moved", headers=routed, timeout=10, allow_redirects=False
    )
    assert moved.headers["Location"] == "https://sfdc.apps.example.com/services/apexrest/echo"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Forwarded-Proto", "javascript"),
        ("X-Forwarded-Host", "evil.example.com/path"),
        ("X-Forwarded-Host", "user@evil.example.com"),
        ("X-Forwarded-Host", "host.example.com:99999999"),
    ],
)
def test_an_address_that_is_not_one_is_refused_before_salesforce(
    service: str, emulator: Any, header: str, value: str
) -> None:
    requests.get(f"{service}{V}", headers=BEARER, timeout=10).raise_for_status()  # a token
    before = _usage(emulator)
    answer = requests.get(f"{service}{V}", headers={**BEARER, header: value}, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert "X-Forwarded-Host" in answer.json()["error_description"]
    assert value not in answer.text  # the caller's value is not echoed into the answer
    assert _usage(emulator) == before  # nothing reached Salesforce


@pytest.mark.parametrize(
    ("public", "expected"),
    [
        (PublicAddress(url="https://sfdc.example.com"), "https://sfdc.example.com"),
        (PublicAddress(forwarded_hops=0), None),  # forwarded headers not trusted: the socket's
    ],
)
def test_the_setting_decides_the_public_url(
    settings: Settings,
    live_clock: FakeClock,
    serve: Serve,
    public: PublicAddress,
    expected: str | None,
) -> None:
    service = serve(create_app(replace(settings, public=public), clock=live_clock))
    routed = {**BEARER, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example.com"}
    identity = requests.get(f"{service}{V}", headers=routed, timeout=10).json()["identity"]
    assert identity.startswith(f"{expected or service}/id/")


def test_rest_and_identity_replace_a_dead_token_once(service: str, emulator: Any) -> None:
    identity_path = _identity_path(service)
    emulator.state.expire_all()
    assert requests.get(f"{service}{V}/limits", headers=BEARER, timeout=10).status_code == 200
    emulator.state.expire_all()
    assert requests.get(f"{service}{identity_path}", headers=BEARER, timeout=10).status_code == 200
    emulator.state.expire_all()
    userinfo = requests.get(f"{service}/services/oauth2/userinfo", headers=BEARER, timeout=10)
    assert userinfo.status_code == 200
    assert stats(emulator.url)["token_requests"] == 4


def test_bulk_1_replaces_a_dead_session_and_replays_the_body(service: str, emulator: Any) -> None:
    session = {"X-SFDC-Session": API_KEY}
    created = requests.post(
        f"{service}/services/async/60.0/job", data=JOB_XML, headers={**session, **XML}, timeout=10
    )
    job = created.text.split("<id>", 1)[1].split("</id>", 1)[0]
    emulator.state.expire_all()
    batch = requests.post(
        f"{service}/services/async/60.0/job/{job}/batch",
        data="Name\nAcme Bulk One\n",
        headers={**session, "Content-Type": "text/csv"},
        timeout=10,
    )
    assert batch.status_code == 201, batch.text
    emulator.state.expire_all()
    status = requests.get(
        f"{service}/services/async/60.0/job/{job}",
        headers={**session, "Accept": "application/json"},
        timeout=10,
    )
    assert status.status_code == 200
    assert status.json()["numberRecordsProcessed"] in (1, "1")
    assert stats(emulator.url)["token_requests"] == 3
    assert _seen(emulator) == []


def test_bulk_2_replaces_a_dead_token_and_replays_the_upload(service: str, emulator: Any) -> None:
    job = requests.post(
        f"{service}{V}/jobs/ingest",
        json={"object": "Account", "operation": "insert"},
        headers=BEARER,
        timeout=10,
    ).json()
    emulator.state.expire_all()
    upload = requests.put(
        f"{service}/{job['contentUrl'].lstrip('/')}",
        data="Name\nAcme Bulk Two\n",
        headers={**BEARER, "Content-Type": "text/csv"},
        timeout=10,
    )
    assert upload.status_code == 201
    emulator.state.expire_all()
    closed = requests.patch(
        f"{service}{V}/jobs/ingest/{job['id']}",
        json={"state": "UploadComplete"},
        headers=BEARER,
        timeout=10,
    )
    assert closed.status_code == 200
    done = requests.get(f"{service}{V}/jobs/ingest/{job['id']}", headers=BEARER, timeout=10)
    assert done.json()["numberRecordsProcessed"] == 1
    assert stats(emulator.url)["token_requests"] == 3


def test_a_connected_org_is_chosen_by_header_which_never_reaches_salesforce(
    keypair: KeyPair,
    seed_env: dict[str, str],
    sqlite_url: str,
    live_clock: FakeClock,
    serve: Serve,
) -> None:
    with running_emulator(org_config(keypair)) as org:
        app = create_app(
            load_settings(connected_env(seed_env, org.url, sqlite_url)), clock=live_clock
        )
        try:
            connect(app.test_client(), "acme")
            service = serve(app)
            acme = {**BEARER, "X-Sfdc-Connection": "acme"}
            me = requests.get(f"{service}/services/oauth2/userinfo", headers=acme, timeout=10)
            assert me.json()["preferred_username"] == PERSON
            org.state.expire_all()
            echoed = requests.get(f"{service}/services/apexrest/echo", headers=acme, timeout=10)
            assert echoed.status_code == 200
            assert not any(name.lower().startswith("x-sfdc") for name in echoed.json()["headers"])
            assert _seen(org) == []
        finally:
            app.extensions[CONNECTIONS_KEY].store.dispose()


def test_api_prefix_and_head_answer_like_the_root(service: str, emulator: Any) -> None:
    moved = requests.get(
        f"{service}/api/apexrest/moved", headers=BEARER, timeout=10, allow_redirects=False
    )
    assert moved.headers["Location"] == f"{service}/services/apexrest/echo"
    version = requests.get(f"{service}/api/data/v60.0", headers=BEARER, timeout=10).json()
    assert version["identity"].startswith(f"{service}/id/")
    head = requests.head(f"{service}/services/oauth2/userinfo", headers=BEARER, timeout=10)
    assert head.status_code == 200
    assert head.content == b""
    emulator.state.expire_all()
    assert requests.head(f"{service}{V}/limits", headers=BEARER, timeout=10).status_code == 200
    assert _seen(emulator) == []
