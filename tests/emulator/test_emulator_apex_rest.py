"""The canned Apex REST service behind `/services/apexrest/`."""

from __future__ import annotations

from collections.abc import Callable

import requests

from sfdc.emulator import RunningEmulator

Api = Callable[..., requests.Response]


def test_echo_returns_what_it_received(api: Api) -> None:
    response = api(
        "GET", "/services/apexrest/echo", params={"a": "1", "b": ["2", "3"]}, headers={"X-A": "1"}
    )
    assert response.status_code == 200
    echoed = response.json()
    assert echoed.pop("headers")["X-A"] == "1"
    assert echoed == {
        "method": "GET",
        "path": "/services/apexrest/echo",
        "params": {"a": "1", "b": ["2", "3"]},
        "body": "",
    }
    assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")


def test_echo_returns_a_json_body(api: Api) -> None:
    response = api("POST", "/services/apexrest/echo", json={"order": 42})
    assert response.json()["body"] == {"order": 42}
    assert response.json()["method"] == "POST"


def test_unknown_apex_rest_paths_are_not_found(api: Api) -> None:
    response = api("GET", "/services/apexrest/missing/thing")
    assert response.status_code == 404
    assert response.json() == [
        {"message": "Could not find a match for URL /missing/thing", "errorCode": "NOT_FOUND"}
    ]


def test_a_dead_session_gets_the_rest_api_answer(
    http: requests.Session, emulator: RunningEmulator
) -> None:
    response = http.get(
        f"{emulator.url}/services/apexrest/echo",
        headers={"Authorization": "Bearer 00D!dead"},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
