"""SOQL through `/query` and `/queryAll`: filtering, ordering, paging, COUNT(), deleted
rows, explain and the errors Salesforce gives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from sfdc.emulator import RunningEmulator
from tests.emulator.emulator_support import ALICE

V = "/services/data/v62.0"
Api = Callable[..., requests.Response]


def soql(api: Api, query: str, resource: str = "query", **kwargs: Any) -> dict[str, Any]:
    response = api("GET", f"{V}/{resource}", params={"q": query}, **kwargs)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def people(api: Api) -> list[str]:
    """Five contacts with names, emails and titles to filter on."""
    rows = [
        {"LastName": "Adams", "FirstName": "Ann", "Title": "CEO", "Email": "ann@x.org"},
        {"LastName": "Baker", "FirstName": "Bob", "Title": "CTO"},
        {"LastName": "Clark", "FirstName": "Cat", "Title": "Engineer", "Email": "cat@x.org"},
        {"LastName": "davis", "FirstName": "Dan", "Title": "Engineer"},
        {"LastName": "Evans", "Title": "Intern"},
    ]
    ids = []
    for row in rows:
        response = api("POST", f"{V}/sobjects/Contact", json=row)
        assert response.status_code == 201
        ids.append(response.json()["id"])
    return ids


def names(body: dict[str, Any]) -> list[str]:
    return [record["LastName"] for record in body["records"]]


def test_records_carry_attributes_and_the_selected_fields_in_canonical_case(
    api: Api, people: list[str]
) -> None:
    body = soql(api, "select id, lastname from contact where lastname = 'ADAMS'")
    assert body["totalSize"] == 1
    assert body["done"] is True
    assert body["records"] == [
        {
            "attributes": {"type": "Contact", "url": f"{V}/sobjects/Contact/{people[0]}"},
            "Id": people[0],
            "LastName": "Adams",
        }
    ]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Title = 'Engineer'", ["Clark", "davis"]),
        ("Title != 'Engineer'", ["Adams", "Baker", "Evans"]),
        ("Title <> 'Engineer' AND FirstName != null", ["Adams", "Baker"]),
        ("Email = null", ["Baker", "davis", "Evans"]),
        ("LastName < 'C'", ["Adams", "Baker"]),
        ("LastName >= 'd'", ["davis", "Evans"]),
        ("LastName LIKE '%a%s'", ["Adams", "davis", "Evans"]),
        ("FirstName LIKE 'C_t'", ["Clark"]),
        ("Title IN ('CEO', 'cto')", ["Adams", "Baker"]),
        ("Title NOT IN ('CEO', 'CTO', 'Engineer')", ["Evans"]),
        ("(Title = 'CEO' OR Title = 'Intern') AND LastName != 'Evans'", ["Adams"]),
        ("Title = 'CEO' OR (Title = 'Engineer' AND Email != null)", ["Adams", "Clark"]),
        ("NOT Title = 'Engineer'", ["Adams", "Baker", "Evans"]),
        ("IsDeleted = false AND LastName = 'Baker'", ["Baker"]),
    ],
)
def test_where_clauses(api: Api, people: list[str], where: str, expected: list[str]) -> None:
    body = soql(api, f"SELECT LastName FROM Contact WHERE {where} ORDER BY LastName")  # noqa: S608
    assert names(body) == expected


def test_numbers_and_booleans_compare_as_such(api: Api) -> None:
    for count in (5, 50, 500):
        api("POST", f"{V}/sobjects/Account", json={"Name": f"N{count}", "NumberOfEmployees": count})
    body = soql(api, "SELECT Name FROM Account WHERE NumberOfEmployees > 10 ORDER BY Name")
    assert [r["Name"] for r in body["records"]] == ["N50", "N500"]


def test_order_by_desc_nulls_and_limit_offset(api: Api, people: list[str]) -> None:
    query = "SELECT LastName FROM Contact ORDER BY Email DESC NULLS LAST, LastName LIMIT 3"
    assert names(soql(api, query)) == ["Clark", "Adams", "Baker"]
    query = "SELECT LastName FROM Contact ORDER BY Email NULLS FIRST, LastName ASC"
    assert names(soql(api, query)) == ["Baker", "davis", "Evans", "Adams", "Clark"]
    query = "SELECT LastName FROM Contact ORDER BY LastName DESC LIMIT 2 OFFSET 1"
    assert names(soql(api, query)) == ["davis", "Clark"]  # letter case ignored


def test_count(api: Api, people: list[str]) -> None:
    body = soql(api, "SELECT COUNT() FROM Contact WHERE Title = 'Engineer'")
    assert body == {"totalSize": 2, "done": True, "records": []}


def test_the_org_users_and_organization_are_queryable(
    api: Api, get_token: Callable[..., dict[str, Any]]
) -> None:
    token = get_token()
    users = soql(api, f"SELECT Id, Username FROM User WHERE Username = '{ALICE}'")["records"]  # noqa: S608
    assert token["id"].endswith("/" + users[0]["Id"])
    org = soql(api, "SELECT Id, Name FROM Organization")["records"]
    assert f"/{org[0]['Id']}/" in token["id"]


def test_query_all_also_returns_deleted_rows(api: Api, people: list[str]) -> None:
    assert api("DELETE", f"{V}/sobjects/Contact/{people[1]}").status_code == 204
    query = "SELECT LastName, IsDeleted FROM Contact WHERE LastName = 'Baker'"
    assert soql(api, query)["records"] == []
    deleted = soql(api, query, resource="queryAll")["records"]
    assert [(r["LastName"], r["IsDeleted"]) for r in deleted] == [("Baker", True)]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("SELECT Id FRM Contact", "MALFORMED_QUERY"),
        ("SELECT FROM Contact", "MALFORMED_QUERY"),
        ("SELECT Id FROM Contact WHERE", "MALFORMED_QUERY"),
        ("SELECT Id FROM Contact WHERE Title = 'a' AND Title = 'b' OR Title = 'c'",
         "MALFORMED_QUERY"),
        ("SELECT Id FROM Contact WHERE Title = 'unterminated", "MALFORMED_QUERY"),
        ("SELECT Id FROM Contact LIMIT -1", "MALFORMED_QUERY"),
        ("SELECT Id, Shoe_Size__c FROM Contact", "INVALID_FIELD"),
        ("SELECT Id FROM Contact WHERE Colour = 'red'", "INVALID_FIELD"),
        ("SELECT Id FROM Contact ORDER BY Height", "INVALID_FIELD"),
        ("SELECT Id FROM Widget__c", "INVALID_TYPE"),
        ("SELECT Id FROM Contact OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE"),
    ],
)  # fmt: skip
def test_bad_queries(api: Api, query: str, code: str) -> None:
    response = api("GET", f"{V}/query", params={"q": query})
    assert response.status_code == 400
    [error] = response.json()
    assert error["errorCode"] == code
    assert error["message"]


def add_accounts(emulator: RunningEmulator, count: int) -> None:
    for number in range(count):
        emulator.state.records.create("Account", {"Name": f"Bulk {number:04d}"})


def test_more_rows_than_a_batch_are_paged_with_next_records_url(
    api: Api, emulator: RunningEmulator
) -> None:
    add_accounts(emulator, 2100)
    query = "SELECT Name FROM Account WHERE Name LIKE 'Bulk%' ORDER BY Name"
    first = soql(api, query)
    assert (first["totalSize"], first["done"], len(first["records"])) == (2100, False, 2000)
    assert first["nextRecordsUrl"].startswith(f"{V}/query/01g")
    assert first["nextRecordsUrl"].endswith("-2000")
    second = api("GET", first["nextRecordsUrl"]).json()
    assert (second["totalSize"], second["done"], len(second["records"])) == (2100, True, 100)
    assert "nextRecordsUrl" not in second
    seen = [r["Name"] for r in first["records"] + second["records"]]
    assert seen == [f"Bulk {n:04d}" for n in range(2100)]


def test_batch_size_header_is_honoured_down_to_200(api: Api, emulator: RunningEmulator) -> None:
    add_accounts(emulator, 450)
    query = "SELECT Name FROM Account WHERE Name LIKE 'Bulk%'"
    headers = {"Sforce-Query-Options": "batchSize=100"}
    body = soql(api, query, headers=headers)
    pages = [len(body["records"])]
    while not body["done"]:
        body = api("GET", body["nextRecordsUrl"]).json()
        pages.append(len(body["records"]))
    assert pages == [200, 200, 50]


def test_query_all_pages_under_its_own_resource(api: Api, emulator: RunningEmulator) -> None:
    add_accounts(emulator, 250)
    headers = {"Sforce-Query-Options": "batchSize=200"}
    body = soql(api, "SELECT Name FROM Account", resource="queryAll", headers=headers)
    assert body["nextRecordsUrl"].startswith(f"{V}/queryAll/01g")
    assert api("GET", body["nextRecordsUrl"]).json()["done"] is True


def test_an_unknown_locator_is_refused(api: Api) -> None:
    response = api("GET", f"{V}/query/01g000000000000AAA-2000")
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_explain_returns_plans_without_running(api: Api, people: list[str]) -> None:
    response = api("GET", f"{V}/query", params={"explain": "SELECT Id FROM Contact"})
    assert response.status_code == 200
    [plan] = response.json()["plans"]
    assert plan["sobjectType"] == "Contact"
    assert plan["leadingOperationType"] == "TableScan"
    assert plan["sobjectCardinality"] == len(people)
    bad = api("GET", f"{V}/query", params={"explain": "SELECT FROM"})
    assert bad.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_columns_true_describes_the_selected_columns_like_the_cli_expects(api: Api) -> None:
    response = api(
        "GET",
        f"{V}/query",
        params={"q": "SELECT Id, name, IsDeleted FROM Account", "columns": "true"},
    )
    assert response.status_code == 200
    body = response.json()
    assert "records" not in body
    assert body["entityName"] == "Account"
    columns = body["columnMetadata"]
    assert [c["columnName"] for c in columns] == ["Id", "Name", "IsDeleted"]
    assert all(c["joinColumns"] == [] and c["aggregate"] is False for c in columns)
    assert columns[2]["booleanType"] is True
    bad = api("GET", f"{V}/query", params={"q": "SELECT Nope FROM Account", "columns": "true"})
    assert bad.json()[0]["errorCode"] == "INVALID_FIELD"


def test_ids_match_in_either_form_and_keep_their_case(api: Api, people: list[str]) -> None:
    first = people[0]
    for wanted in (first, first[:15]):
        body = soql(api, f"SELECT LastName FROM Contact WHERE Id = '{wanted}'")  # noqa: S608
        assert names(body) == ["Adams"]
    swapped = first[:15].swapcase()
    body = soql(api, f"SELECT LastName FROM Contact WHERE Id IN ('{swapped}')")  # noqa: S608
    assert body["totalSize"] == 0
