"""The REST data API: resources, record round trips, usage header and the 401 shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from sfdc.emulator import RunningEmulator

V = "/services/data/v62.0"
INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


Api = Callable[..., requests.Response]


def test_versions_list_needs_no_token(http: requests.Session, emulator: RunningEmulator) -> None:
    response = http.get(f"{emulator.url}/services/data/", timeout=10)
    assert response.status_code == 200
    versions = response.json()
    assert {"label", "url", "version"} <= set(versions[0])
    assert {"version": "62.0", "label": "Winter '25", "url": "/services/data/v62.0"} in versions


def test_resources_by_version(api: Api) -> None:
    response = api("GET", f"{V}/")
    assert response.status_code == 200
    assert response.json()["query"] == f"{V}/query"
    assert response.json()["sobjects"] == f"{V}/sobjects"


def test_unknown_api_version_is_not_found(api: Api) -> None:
    response = api("GET", "/services/data/v12.0/limits")
    assert response.status_code == 404
    assert response.json()[0]["errorCode"] == "NOT_FOUND"


def test_every_call_reports_api_usage(api: Api) -> None:
    usages = [api("GET", f"{V}/limits").headers["Sforce-Limit-Info"] for _ in range(3)]
    assert usages == ["api-usage=1/15000", "api-usage=2/15000", "api-usage=3/15000"]


def test_limits_count_down_daily_requests(api: Api) -> None:
    api("GET", f"{V}/")
    daily = api("GET", f"{V}/limits").json()["DailyApiRequests"]
    assert daily == {"Max": 15000, "Remaining": 15000 - 2}


def test_query_returns_canned_accounts_in_salesforce_shape(api: Api) -> None:
    response = api("GET", f"{V}/query", params={"q": "SELECT Id, Name FROM Account"})
    assert response.status_code == 200
    body = response.json()
    assert body["done"] is True
    assert body["totalSize"] == len(body["records"]) >= 3
    record = body["records"][0]
    assert record["attributes"] == {
        "type": "Account",
        "url": f"{V}/sobjects/Account/{record['Id']}",
    }
    assert record["Name"]


def test_query_with_trailing_slash_like_the_identity_urls(api: Api) -> None:
    response = api("GET", f"{V}/query/", params={"q": "SELECT Name FROM Account"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("soql", "error_code"),
    [("", "MALFORMED_QUERY"), ("SELECT Id FROM Widget__x", "INVALID_TYPE")],
)
def test_bad_queries_are_400(api: Api, soql: str, error_code: str) -> None:
    response = api("GET", f"{V}/query", params={"q": soql})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == error_code


def test_describe_global_lists_account(api: Api) -> None:
    names = [sobject["name"] for sobject in api("GET", f"{V}/sobjects/").json()["sobjects"]]
    assert "Account" in names


def test_created_account_round_trips(api: Api, emulator: RunningEmulator) -> None:
    created = api("POST", f"{V}/sobjects/Account", json={"Name": "Acme", "Industry": "Energy"})
    assert created.status_code == 201
    body = created.json()
    assert body["success"] is True
    assert body["errors"] == []
    assert body["id"].startswith("001")
    assert len(body["id"]) == 18
    stored = emulator.state.records.get("Account", body["id"])
    assert stored is not None
    assert stored.fields == {"Name": "Acme", "Industry": "Energy"}
    fetched = api("GET", f"{V}/sobjects/Account/{body['id']}").json()
    assert fetched["Name"] == "Acme"
    assert fetched["attributes"]["type"] == "Account"
    queried = api("GET", f"{V}/query", params={"q": "SELECT Name FROM Account"}).json()
    assert "Acme" in [record["Name"] for record in queried["records"]]


def test_patch_merges_fields_and_answers_204(api: Api, emulator: RunningEmulator) -> None:
    record_id = api("POST", f"{V}/sobjects/Account", json={"Name": "Acme"}).json()["id"]
    response = api("PATCH", f"{V}/sobjects/Account/{record_id}", json={"Phone": "555-0100"})
    assert response.status_code == 204
    assert response.content == b""
    stored = emulator.state.records.get("Account", record_id)
    assert stored is not None
    assert stored.fields == {"Name": "Acme", "Phone": "555-0100"}


def test_delete_answers_204_and_the_record_is_gone(api: Api) -> None:
    record_id = api("POST", f"{V}/sobjects/Account", json={"Name": "Acme"}).json()["id"]
    assert api("DELETE", f"{V}/sobjects/Account/{record_id}").status_code == 204
    missing = api("GET", f"{V}/sobjects/Account/{record_id}")
    assert missing.status_code == 404
    assert missing.json() == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]


def test_fifteen_character_ids_find_the_same_record(api: Api) -> None:
    record_id = api("POST", f"{V}/sobjects/Account", json={"Name": "Acme"}).json()["id"]
    assert api("GET", f"{V}/sobjects/Account/{record_id[:15]}").json()["Id"] == record_id


def test_body_that_is_not_a_json_object_is_400(api: Api) -> None:
    response = api(
        "POST",
        f"{V}/sobjects/Account",
        data="Name=Acme",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400


def test_unsupported_method_gets_salesforce_error_shape(api: Api) -> None:
    record_id = api("POST", f"{V}/sobjects/Account", json={"Name": "Acme"}).json()["id"]
    response = api("PUT", f"{V}/sobjects/Account/{record_id}", json={"Name": "x"})
    assert response.status_code == 405
    assert response.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer 00Dxx0000001gPL!forged"}],
    ids=["no-token", "unknown-token"],
)
def test_missing_or_unknown_token_is_401_invalid_session(
    http: requests.Session, emulator: RunningEmulator, headers: dict[str, str]
) -> None:
    response = http.get(f"{emulator.url}{V}/limits", headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert response.json() == INVALID_SESSION
    assert "Sforce-Limit-Info" not in response.headers
    assert emulator.state.api_usage == 0


def test_malformed_authorization_header_is_invalid_auth_header(
    http: requests.Session, emulator: RunningEmulator
) -> None:
    response = http.get(
        f"{emulator.url}{V}/limits", headers={"Authorization": "Basic dXNlcjpwYXNz"}, timeout=10
    )
    assert response.status_code == 401
    assert response.json()[0]["errorCode"] == "INVALID_AUTH_HEADER"


def test_token_as_query_parameter_is_not_accepted_by_the_rest_api(
    http: requests.Session, emulator: RunningEmulator, get_token: Callable[..., dict[str, Any]]
) -> None:
    token = get_token()["access_token"]
    response = http.get(f"{emulator.url}{V}/limits", params={"oauth_token": token}, timeout=10)
    assert response.status_code == 401
