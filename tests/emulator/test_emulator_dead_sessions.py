"""Every API answers an expired or revoked session the way Salesforce documents it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from sfdc.emulator import RunningEmulator

V = "/services/data/v62.0"
REST_DEAD = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
REST_CALLS = [
    ("GET", f"{V}"),
    ("GET", f"{V}/"),
    ("GET", f"{V}/limits"),
    ("GET", f"{V}/sobjects"),
    ("GET", f"{V}/sobjects/Account/describe"),
    ("POST", f"{V}/sobjects/Account"),
    ("PATCH", f"{V}/sobjects/Account/External_Id__c/X"),
    ("GET", f"{V}/query?q=SELECT+Id+FROM+Account"),
    ("GET", f"{V}/queryAll?q=SELECT+Id+FROM+Account"),
    ("GET", f"{V}/query/01g000000000000AAA-2000"),
    ("POST", f"{V}/jobs/ingest"),
    ("GET", f"{V}/jobs/query"),
    ("GET", f"{V}/no/such/resource"),
    ("GET", "/services/apexrest/echo"),
]


@pytest.fixture(params=["expired", "revoked"])
def dead_token(
    request: pytest.FixtureRequest,
    http: requests.Session,
    emulator: RunningEmulator,
    get_token: Callable[..., dict[str, Any]],
) -> str:
    token: str = get_token()["access_token"]
    if request.param == "expired":
        emulator.state.expire_all()
    else:
        revoked = http.post(
            f"{emulator.url}/services/oauth2/revoke", data={"token": token}, timeout=10
        )
        assert revoked.status_code == 200
    return token


@pytest.mark.parametrize(("method", "path"), REST_CALLS)
def test_rest_bulk2_and_apex_rest_say_invalid_session_id(
    http: requests.Session, emulator: RunningEmulator, dead_token: str, method: str, path: str
) -> None:
    response = http.request(
        method,
        f"{emulator.url}{path}",
        headers={"Authorization": f"Bearer {dead_token}"},
        json={},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json() == REST_DEAD


def test_bulk1_says_invalid_session_id(
    http: requests.Session, emulator: RunningEmulator, dead_token: str
) -> None:
    response = http.get(
        f"{emulator.url}/services/async/62.0/job/750000000000000AAA",
        headers={"X-SFDC-Session": dead_token, "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["exceptionCode"] == "InvalidSessionId"


@pytest.mark.parametrize("path", ["/services/oauth2/userinfo", "identity"])
def test_identity_and_userinfo_say_bad_oauth_token(
    http: requests.Session,
    emulator: RunningEmulator,
    get_token: Callable[..., dict[str, Any]],
    path: str,
) -> None:
    token = get_token()
    emulator.state.expire_all()
    url = token["id"] if path == "identity" else f"{emulator.url}{path}"
    response = http.get(
        url, headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10
    )
    assert (response.status_code, response.text) == (403, "Bad_OAuth_Token")
