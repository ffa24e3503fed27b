"""``/api/<path>`` against the emulator: pass-through, re-authentication, streaming, refusals,
and an org that stops answering."""

from __future__ import annotations

import hashlib
import tracemalloc
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sfdc.emulator import running_emulator
from sfdc.settings.settings import load_settings
from sfdc.web import create_app
from tests.conftest import API_KEY, KeyPair
from tests.emulated import emulator_config, stats
from tests.fakes import silent_server
from tests.web.conftest import AUTH, concurrent_statuses

V = "/api/data/v60.0"


def test_needs_an_api_key(client: FlaskClient, emulator: Any) -> None:
    assert client.get(f"{V}/limits").status_code == 401
    assert stats(emulator.url)["token_requests"] == 0


def test_query_string_status_body_and_sforce_headers_pass_through(client: FlaskClient) -> None:
    answer = client.get(f"{V}/query?q=SELECT+Id,Name+FROM+Account", headers=AUTH)
    assert answer.status_code == 200
    assert answer.get_json()["totalSize"] == 3
    assert answer.headers["Sforce-Limit-Info"].startswith("api-usage=")
    assert answer.content_type.startswith("application/json")
    bad = client.get(f"{V}/query?q=SELECT+Id", headers=AUTH)
    assert bad.status_code == 400
    assert bad.get_json()[0]["errorCode"] == "MALFORMED_QUERY", "Salesforce's own error body"


def test_a_token_expired_between_calls_is_replaced_once(client: FlaskClient, emulator: Any) -> None:
    assert client.get(f"{V}/limits", headers=AUTH).status_code == 200
    emulator.state.expire_all()
    assert client.get(f"{V}/limits", headers=AUTH).status_code == 200
    assert stats(emulator.url)["token_requests"] == 2


def test_fifty_calls_after_expiry_all_succeed_with_one_new_exchange(
    app: Flask, client: FlaskClient, emulator: Any
) -> None:
    client.get(f"{V}/limits", headers=AUTH)
    emulator.state.expire_all()
    assert concurrent_statuses(app, f"{V}/limits", 50, AUTH) == [200] * 50
    assert stats(emulator.url)["token_requests"] == 2


def test_post_and_patch_bodies_survive_a_replay(client: FlaskClient, emulator: Any) -> None:
    client.get(f"{V}/limits", headers=AUTH)
    emulator.state.expire_all()
    created = client.post(f"{V}/sobjects/Account", headers=AUTH, json={"Name": "Acme Replay"})
    assert created.status_code == 201
    record = created.get_json()["id"]
    emulator.state.expire_all()
    patched = client.patch(
        f"{V}/sobjects/Account/{record}", headers=AUTH, json={"Name": "Acme Patched"}
    )
    assert patched.status_code == 204
    fetched = client.get(f"{V}/sobjects/Account/{record}", headers=AUTH).get_json()
    assert fetched["Name"] == "Acme Patched"
    assert stats(emulator.url)["token_requests"] == 3


def test_delete_and_head_match_salesforce(client: FlaskClient, emulator: Any) -> None:
    import requests

    record = client.post(f"{V}/sobjects/Account", headers=AUTH, json={"Name": "Gone"}).get_json()
    path = f"/data/v60.0/sobjects/Account/{record['id']}"
    token = client.get("/token", headers=AUTH).get_json()["access_token"]
    direct = requests.head(
        f"{emulator.url}/services{path}", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    proxied = client.head(f"/api{path}", headers=AUTH)
    assert proxied.status_code == direct.status_code
    assert proxied.data == b""
    assert proxied.headers.get("Content-Length") == direct.headers.get("Content-Length")
    options = client.options(f"/api{path}", headers=AUTH)
    assert options.status_code == 405
    assert options.get_json()["error"] == "method_not_allowed"
    assert client.delete(f"/api{path}", headers=AUTH).status_code == 204
    assert client.get(f"/api{path}", headers=AUTH).status_code == 404


def _document(document_id: str, size: int) -> bytes:
    """The emulator's documented download content: 64 KiB chunks of SHAKE-256."""
    chunk, out, k = 64 * 1024, bytearray(), 0
    while len(out) < size:
        out += hashlib.shake_256(f"{document_id}:{k}".encode()).digest(chunk)
        k += 1
    return bytes(out[:size])


def test_a_large_download_streams_through_intact_in_bounded_memory(client: FlaskClient) -> None:
    size, document = 48 * 1024 * 1024, "015000000000001AAA"
    tracemalloc.start()
    try:
        answer = client.get(
            f"{V}/sobjects/Document/{document}/Body?size={size}", headers=AUTH, buffered=False
        )
        digest, received = hashlib.sha256(), 0
        for piece in answer.response:
            digest.update(piece)
            received += len(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        answer.close()
    assert answer.status_code == 200
    assert received == size
    assert digest.hexdigest() == hashlib.sha256(_document(document, size)).hexdigest()
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB: the body was held whole"


@pytest.mark.parametrize(
    "path",
    [
        "/api/data/../../id/x",
        "/api/data/%2e%2e/oauth2/token",
        "/api/data/%252e%252e/x",
        "/api//evil.example.com/x",
        "/api/http://evil.example.com/x",
        "/api/data/x%0d%0aX-Injected:%201",
        "/api/",
    ],
)
def test_refused_paths_never_reach_salesforce(
    client: FlaskClient, emulator: Any, path: str
) -> None:
    answer = client.get(path, headers=AUTH)
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid_path"
    assert stats(emulator.url)["token_requests"] == 0


def test_oversized_bodies_are_refused_before_buffering(client: FlaskClient, emulator: Any) -> None:
    answer = client.post(
        f"{V}/sobjects/Account",
        headers={**AUTH, "Content-Type": "application/json"},
        data=b"{}",
        environ_overrides={"CONTENT_LENGTH": str(65 * 1024 * 1024)},  # what the caller claims
    )
    assert answer.status_code == 413
    assert answer.get_json().keys() == {"error", "error_description", "hint", "retryable"}
    assert answer.get_json()["error"] == "request_entity_too_large"
    assert "64 MiB" in answer.get_json()["hint"]
    assert stats(emulator.url)["token_requests"] == 0


@pytest.fixture
def token_then_gone(keypair: KeyPair, seed_env: dict[str, str]) -> tuple[FlaskClient, int]:
    """A client holding a token from an org that then goes away; and its old port."""
    with running_emulator(emulator_config(keypair)) as emulator:
        settings = load_settings(
            {**seed_env, "SFDC_LOGIN_URL": emulator.url, "SFDC_API_KEYS": API_KEY}
        )
        client = create_app(replace(settings, http_timeout=0.5)).test_client()
        assert client.get("/token", headers=AUTH).status_code == 200
    return client, urlsplit(emulator.url).port or 0


def test_an_org_whose_port_is_closed_is_503_unavailable(
    token_then_gone: tuple[FlaskClient, int],
) -> None:
    client, _ = token_then_gone
    answer = client.get(f"{V}/limits?q=secret", headers=AUTH)
    assert answer.status_code == 503
    body = answer.get_json()
    assert (body["error"], body["retryable"]) == ("salesforce_unavailable", True)
    assert "refused" in body["error_description"]
    assert "secret" not in body["error_description"]


def test_an_org_that_accepts_and_never_answers_is_504_timeout(
    token_then_gone: tuple[FlaskClient, int],
) -> None:
    client, port = token_then_gone
    with silent_server(port):
        answer = client.get(f"{V}/limits", headers=AUTH)
    assert answer.status_code == 504
    body = answer.get_json()
    assert (body["error"], body["retryable"]) == ("salesforce_timeout", True)
