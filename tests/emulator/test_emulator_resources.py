"""Versions, Resources by Version, describes and Limits, as the REST API Developer Guide
shows them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from sfdc.emulator import RunningEmulator
from tests.emulator.emulator_support import ALICE, bearer

V = "/services/data/v62.0"
Api = Callable[..., requests.Response]


@pytest.mark.parametrize("path", ["/services/data", "/services/data/"])
def test_versions_answer_on_both_paths_without_a_redirect(
    http: requests.Session, emulator: RunningEmulator, path: str
) -> None:
    response = http.get(f"{emulator.url}{path}", timeout=10, allow_redirects=False)
    assert response.status_code == 200
    versions = response.json()
    assert versions[0] == {"label": "Summer '14", "url": "/services/data/v31.0", "version": "31.0"}
    assert {"label": "Winter '23", "url": "/services/data/v56.0", "version": "56.0"} in versions
    numbers = [float(entry["version"]) for entry in versions]
    assert numbers == sorted(numbers)
    assert numbers == [float(n) for n in range(31, int(numbers[-1]) + 1)]
    assert numbers[-1] >= 66.0


@pytest.mark.parametrize("path", [V, f"{V}/"])
def test_resources_by_version_are_relative_urls_plus_an_absolute_identity(
    api: Api, emulator: RunningEmulator, path: str
) -> None:
    response = api("GET", path, allow_redirects=False)
    assert response.status_code == 200
    body = response.json()
    for name in ("sobjects", "query", "queryAll", "limits", "composite", "tooling", "jobs"):
        assert body[name] == f"{V}/{name}"
    assert body["identity"].startswith(f"{emulator.url}/id/00D")


def test_the_identity_link_names_the_caller(
    api: Api, http: requests.Session, get_token: Callable[..., dict[str, Any]]
) -> None:
    token = get_token()
    identity = api("GET", f"{V}/").json()["identity"]
    assert identity == token["id"]
    me = http.get(identity, headers=bearer(token["access_token"]), timeout=10).json()
    assert me["username"] == ALICE


def test_resources_of_an_unserved_version_are_not_found(api: Api) -> None:
    response = api("GET", "/services/data/v30.0")
    assert response.status_code == 404
    assert response.json()[0]["errorCode"] == "NOT_FOUND"


def test_describe_global_lists_the_emulated_objects(api: Api) -> None:
    body = api("GET", f"{V}/sobjects").json()
    assert body["encoding"] == "UTF-8"
    assert body["maxBatchSize"] == 200
    by_name = {entry["name"]: entry for entry in body["sobjects"]}
    assert {"Account", "Contact", "User", "Organization"} <= set(by_name)
    account = by_name["Account"]
    assert account["keyPrefix"] == "001"
    assert account["urls"] == {
        "sobject": f"{V}/sobjects/Account",
        "describe": f"{V}/sobjects/Account/describe",
        "rowTemplate": f"{V}/sobjects/Account/{{ID}}",
    }
    assert by_name["Organization"]["createable"] is False


def test_basic_information_has_the_object_and_recent_items(api: Api) -> None:
    created = api("POST", f"{V}/sobjects/Account", json={"Name": "Recent Co"}).json()
    body = api("GET", f"{V}/sobjects/Account").json()
    assert body["objectDescribe"]["name"] == "Account"
    assert body["recentItems"][0]["Id"] == created["id"]
    assert body["recentItems"][0]["attributes"]["type"] == "Account"


def test_describe_gives_realistic_fields(api: Api) -> None:
    body = api("GET", f"{V}/sobjects/account/describe").json()
    assert body["name"] == "Account"
    fields = {field["name"]: field for field in body["fields"]}
    assert fields["Id"]["type"] == "id"
    assert fields["Id"]["createable"] is False
    name = fields["Name"]
    assert (name["type"], name["length"], name["nillable"], name["createable"]) == (
        "string",
        255,
        False,
        True,
    )
    external = fields["External_Id__c"]
    assert external["externalId"] is True
    assert external["custom"] is True
    assert external["idLookup"] is True
    assert fields["OwnerId"]["referenceTo"] == ["User"]
    assert fields["CreatedDate"]["updateable"] is False
    for field in body["fields"]:
        assert {"label", "soapType", "updateable", "unique", "picklistValues"} <= set(field)


@pytest.mark.parametrize("name", ["Contact", "User", "Organization"])
def test_other_objects_describe_too(api: Api, name: str) -> None:
    body = api("GET", f"{V}/sobjects/{name}/describe").json()
    assert body["name"] == name
    assert "Id" in [field["name"] for field in body["fields"]]


def test_describe_of_an_unknown_object_is_not_found(api: Api) -> None:
    response = api("GET", f"{V}/sobjects/Widget__c/describe")
    assert response.status_code == 404
    assert response.json()[0]["errorCode"] == "NOT_FOUND"


def test_limits_list_documented_keys_as_max_and_remaining(api: Api) -> None:
    body = api("GET", f"{V}/limits").json()
    for key in ("DailyApiRequests", "DailyBulkApiBatches", "DailyBulkV2QueryJobs", "SingleEmail"):
        assert set(body[key]) == {"Max", "Remaining"}
    assert body["DataStorageMB"] == {"Max": 5, "Remaining": 5}


@pytest.mark.parametrize(
    "path",
    [
        f"{V}/sobjects",
        f"{V}/sobjects/Contact/describe",
        f"{V}/query?q=SELECT+Id+FROM+User",
        f"{V}/jobs/ingest",
        "/services/apexrest/echo",
    ],
)
def test_every_authenticated_api_reports_usage(api: Api, path: str) -> None:
    first = api("GET", path).headers["Sforce-Limit-Info"]
    second = api("GET", path).headers["Sforce-Limit-Info"]
    assert first.endswith("/15000")
    assert int(second.split("=")[1].split("/")[0]) == int(first.split("=")[1].split("/")[0]) + 1
