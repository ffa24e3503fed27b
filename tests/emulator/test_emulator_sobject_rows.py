"""sObject Rows and sObject Rows by External ID: CRUD, upsert and Salesforce's error
shapes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from sfdc.emulator import RunningEmulator

V = "/services/data/v62.0"
Api = Callable[..., requests.Response]


def create(api: Api, sobject: str = "Account", **fields: object) -> str:
    response = api("POST", f"{V}/sobjects/{sobject}", json=fields)
    assert response.status_code == 201, response.text
    record_id: str = response.json()["id"]
    return record_id


def error_of(response: requests.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list)
    assert len(body) == 1
    error: dict[str, object] = body[0]
    return error


def test_get_returns_every_field_with_system_stamps(api: Api) -> None:
    record_id = create(api, Name="Acme")
    row = api("GET", f"{V}/sobjects/Account/{record_id}").json()
    assert row["attributes"] == {"type": "Account", "url": f"{V}/sobjects/Account/{record_id}"}
    assert row["Id"] == record_id
    assert row["Name"] == "Acme"
    assert row["Phone"] is None
    assert row["IsDeleted"] is False
    assert row["CreatedDate"].endswith("+0000")
    assert row["CreatedById"].startswith("005")


def test_get_with_fields_returns_only_those(api: Api) -> None:
    record_id = create(api, Name="Acme", Phone="555-0100")
    row = api("GET", f"{V}/sobjects/Account/{record_id}", params={"fields": "name,Phone"}).json()
    assert set(row) == {"attributes", "Name", "Phone"}
    bad = api("GET", f"{V}/sobjects/Account/{record_id}", params={"fields": "Nope"})
    assert error_of(bad, 400)["errorCode"] == "INVALID_FIELD"


def test_field_names_are_case_insensitive_and_stored_canonically(
    api: Api, emulator: RunningEmulator
) -> None:
    record_id = create(api, name="Acme", industry="Energy")
    stored = emulator.state.records.get("Account", record_id)
    assert stored is not None
    assert stored.fields == {"Name": "Acme", "Industry": "Energy"}


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        ({"Name": "A", "Colour__c": "red"}, "INVALID_FIELD", None),
        ({"Phone": "555"}, "REQUIRED_FIELD_MISSING", ["Name"]),
        ({"Name": None}, "REQUIRED_FIELD_MISSING", ["Name"]),
        ({"Name": "A", "CreatedDate": "2020-01-01T00:00:00Z"}, "INVALID_FIELD_FOR_INSERT_UPDATE",
         ["CreatedDate"]),
        ({"Name": "A", "OwnerId": "not-an-id"}, "MALFORMED_ID", ["OwnerId"]),
        ({"Name": "A", "NumberOfEmployees": "many"}, "INVALID_TYPE_ON_FIELD_IN_RECORD",
         ["NumberOfEmployees"]),
        ({"Name": "x" * 256}, "STRING_TOO_LONG", ["Name"]),
    ],
)  # fmt: skip
def test_bad_inserts_get_salesforce_error_shapes(
    api: Api, body: dict[str, object], code: str, fields: list[str] | None
) -> None:
    error = error_of(api("POST", f"{V}/sobjects/Account", json=body), 400)
    assert error["errorCode"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert error.get("fields") == fields


def test_contact_needs_a_last_name(api: Api) -> None:
    error = error_of(api("POST", f"{V}/sobjects/Contact", json={"FirstName": "Ann"}), 400)
    assert error == {
        "message": "Required fields are missing: [LastName]",
        "errorCode": "REQUIRED_FIELD_MISSING",
        "fields": ["LastName"],
    }


def test_invalid_json_is_a_parser_error(api: Api) -> None:
    response = api(
        "POST",
        f"{V}/sobjects/Account",
        data="{not json",
        headers={"Content-Type": "application/json"},
    )
    assert error_of(response, 400)["errorCode"] == "JSON_PARSER_ERROR"


def test_update_checks_fields_and_answers_204(api: Api) -> None:
    record_id = create(api, Name="Acme")
    assert (
        api("PATCH", f"{V}/sobjects/Account/{record_id}", json={"Name": "Acme 2"}).status_code
        == 204
    )
    assert api("GET", f"{V}/sobjects/Account/{record_id}").json()["Name"] == "Acme 2"
    cleared = api("PATCH", f"{V}/sobjects/Account/{record_id}", json={"Name": None})
    assert error_of(cleared, 400)["errorCode"] == "REQUIRED_FIELD_MISSING"
    read_only = api("PATCH", f"{V}/sobjects/Account/{record_id}", json={"Id": record_id})
    assert error_of(read_only, 400)["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_a_path_that_is_no_id_is_not_found(api: Api) -> None:
    error = error_of(api("GET", f"{V}/sobjects/Account/banana"), 404)
    assert error["errorCode"] == "NOT_FOUND"


def test_organization_rows_cannot_be_created(api: Api) -> None:
    response = api("POST", f"{V}/sobjects/Organization", json={"Name": "Mine"})
    assert response.status_code == 400


def test_upsert_creates_then_updates(api: Api) -> None:
    url = f"{V}/sobjects/Account/External_Id__c/EXT-1"
    created = api("PATCH", url, json={"Name": "Upserted"})
    assert created.status_code == 201
    body = created.json()
    assert body == {"id": body["id"], "success": True, "errors": [], "created": True}
    updated = api("PATCH", url, json={"Phone": "555-0101"})
    assert updated.status_code == 200
    assert updated.json() == {"id": body["id"], "success": True, "errors": [], "created": False}
    row = api("GET", url).json()
    assert (row["Id"], row["Name"], row["Phone"], row["External_Id__c"]) == (
        body["id"],
        "Upserted",
        "555-0101",
        "EXT-1",
    )


def test_upsert_before_api_46_answers_204_on_update(api: Api) -> None:
    url = "/services/data/v45.0/sobjects/Account/External_Id__c/EXT-OLD"
    created = api("PATCH", url, json={"Name": "Old"})
    assert created.status_code == 201
    assert "created" not in created.json()
    updated = api("PATCH", url, json={"Name": "Older"})
    assert updated.status_code == 204
    assert updated.content == b""


def test_upsert_with_several_matches_is_300_and_changes_nothing(api: Api) -> None:
    first = create(api, Name="One", External_Id__c="DUP")
    second = create(api, Name="Two", External_Id__c="DUP")
    response = api("PATCH", f"{V}/sobjects/Account/External_Id__c/DUP", json={"Name": "X"})
    assert response.status_code == 300
    assert sorted(response.json()) == sorted(
        [f"{V}/sobjects/Account/{first}", f"{V}/sobjects/Account/{second}"]
    )
    assert api("GET", f"{V}/sobjects/Account/{first}").json()["Name"] == "One"


def test_upsert_update_only_does_not_create(api: Api) -> None:
    response = api(
        "PATCH",
        f"{V}/sobjects/Account/External_Id__c/NONE",
        params={"updateOnly": "true"},
        json={"Name": "Never"},
    )
    assert error_of(response, 404)["errorCode"] == "NOT_FOUND"


def test_upsert_on_a_field_that_is_no_external_id_is_not_found(api: Api) -> None:
    response = api("PATCH", f"{V}/sobjects/Account/Name/Acme", json={"Phone": "1"})
    error = error_of(response, 404)
    assert error["errorCode"] == "NOT_FOUND"
    assert "external ID" in str(error["message"])


def test_upsert_validates_the_body_like_an_insert(api: Api) -> None:
    response = api("PATCH", f"{V}/sobjects/Account/External_Id__c/E2", json={"Phone": "1"})
    assert error_of(response, 400)["errorCode"] == "REQUIRED_FIELD_MISSING"
