"""sObject Collections: many records per call, per-record results, allOrNone."""

from __future__ import annotations

from collections.abc import Callable

import requests

V = "/services/data/v62.0"
ROOT = f"{V}/composite/sobjects"
Api = Callable[..., requests.Response]


def account(**fields: object) -> dict[str, object]:
    return {"attributes": {"type": "Account"}, **fields}


def test_create_answers_one_result_per_record_in_order(api: Api) -> None:
    response = api("POST", ROOT, json={"records": [account(Name="One"), account(Phone="2")]})
    assert response.status_code == 200
    first, second = response.json()
    assert first["success"] is True
    assert first["id"].startswith("001")
    assert first["errors"] == []
    assert second == {
        "id": None,
        "success": False,
        "errors": [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [Name]",
                "fields": ["Name"],
            }
        ],
    }
    assert api("GET", f"{V}/sobjects/Account/{first['id']}").json()["Name"] == "One"


def test_all_or_none_rolls_everything_back(api: Api) -> None:
    body = {"allOrNone": True, "records": [account(Name="Kept?"), account(Bogus__c="x")]}
    first, second = api("POST", ROOT, json=body).json()
    assert first["success"] is False
    assert first["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert second["errors"][0]["statusCode"] == "INVALID_FIELD"
    found = api("GET", f"{V}/query", params={"q": "SELECT Id FROM Account WHERE Name = 'Kept?'"})
    assert found.json()["totalSize"] == 0


def test_update_retrieve_and_delete(api: Api) -> None:
    created = api("POST", ROOT, json={"records": [account(Name="A"), account(Name="B")]}).json()
    ids = [result["id"] for result in created]
    updated = api(
        "PATCH",
        ROOT,
        json={
            "records": [account(Id=ids[0], Phone="555"), account(Id="001000000000000AAA", Name="X")]
        },
    ).json()
    assert [result["success"] for result in updated] == [True, False]
    assert updated[1]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    fetched = api(
        "GET",
        f"{ROOT}/Account",
        params={"ids": f"{ids[0]},001000000000000AAA", "fields": "Name,Phone"},
    ).json()
    assert fetched[0]["Name"] == "A"
    assert fetched[0]["Phone"] == "555"
    assert fetched[1] is None
    deleted = api("DELETE", ROOT, params={"ids": ",".join(ids)}).json()
    assert [result["success"] for result in deleted] == [True, True]
    assert api("GET", f"{V}/sobjects/Account/{ids[0]}").status_code == 404


def test_more_than_200_records_are_refused(api: Api) -> None:
    response = api("POST", ROOT, json={"records": [account(Name=str(n)) for n in range(201)]})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_retrieve_by_post_for_long_id_lists(api: Api) -> None:
    created = api("POST", ROOT, json={"records": [account(Name="Posted")]}).json()
    body = {"ids": [created[0]["id"]], "fields": ["Name"]}
    fetched = api("POST", f"{ROOT}/Account", json=body).json()
    assert [row["Name"] for row in fetched] == ["Posted"]
