"""Bulk API 2.0: ingest jobs from create to results, and query jobs with locators."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
import requests

from sfdc.emulator import RunningEmulator

V = "/services/data/v62.0"
INGEST = f"{V}/jobs/ingest"
QUERY = f"{V}/jobs/query"
Api = Callable[..., requests.Response]


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def run_ingest(api: Api, data: str, **job: Any) -> dict[str, Any]:
    """Create a job, upload `data`, close it and return its final status."""
    created = api("POST", INGEST, json={"object": "Account", "operation": "insert", **job})
    assert created.status_code == 200, created.text
    info = created.json()
    assert info["state"] == "Open"
    assert info["contentUrl"] == f"services/data/v62.0/jobs/ingest/{info['id']}/batches"
    uploaded = api(
        "PUT",
        f"{INGEST}/{info['id']}/batches",
        data=data.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 201
    assert uploaded.content == b""
    closed = api("PATCH", f"{INGEST}/{info['id']}", json={"state": "UploadComplete"})
    assert closed.status_code == 200
    assert closed.json()["state"] == "UploadComplete"
    status: dict[str, Any] = api("GET", f"{INGEST}/{info['id']}").json()
    return status


def test_insert_job_completes_with_successes_and_failures(
    api: Api, emulator: RunningEmulator
) -> None:
    status = run_ingest(api, "Name,Phone\nAlpha,555-1\n,555-2\nGamma,\n")
    assert status["state"] == "JobComplete"
    assert status["jobType"] == "V2Ingest"
    assert (status["numberRecordsProcessed"], status["numberRecordsFailed"]) == (3, 1)
    assert status["id"].startswith("750")
    good = api("GET", f"{INGEST}/{status['id']}/successfulResults")
    assert good.headers["Content-Type"].startswith("text/csv")
    assert good.text.splitlines()[0] == '"sf__Id","sf__Created","Name","Phone"'
    succeeded = rows_of(good.text)
    assert [(r["Name"], r["sf__Created"]) for r in succeeded] == [
        ("Alpha", "true"),
        ("Gamma", "true"),
    ]
    stored = emulator.state.records.get("Account", succeeded[0]["sf__Id"])
    assert stored is not None
    assert stored.fields == {"Name": "Alpha", "Phone": "555-1"}
    failed = rows_of(api("GET", f"{INGEST}/{status['id']}/failedResults").text)
    assert len(failed) == 1
    assert failed[0]["sf__Error"].startswith("REQUIRED_FIELD_MISSING:")
    assert failed[0]["Phone"] == "555-2"


def test_upsert_job_matches_on_the_external_id(api: Api) -> None:
    run_ingest(api, "Name,External_Id__c\nFirst,E-1\n")
    status = run_ingest(
        api,
        "Name,External_Id__c\nRenamed,E-1\nSecond,E-2\n",
        operation="upsert",
        externalIdFieldName="External_Id__c",
    )
    results = rows_of(api("GET", f"{INGEST}/{status['id']}/successfulResults").text)
    assert [(r["External_Id__c"], r["sf__Created"]) for r in results] == [
        ("E-1", "false"),
        ("E-2", "true"),
    ]
    found = api(
        "GET", f"{V}/query", params={"q": "SELECT Name FROM Account WHERE External_Id__c = 'E-1'"}
    )
    assert [r["Name"] for r in found.json()["records"]] == ["Renamed"]


def test_delete_job_removes_rows(api: Api) -> None:
    record_id = api("POST", f"{V}/sobjects/Account", json={"Name": "Doomed"}).json()["id"]
    status = run_ingest(api, f"Id\n{record_id}\n001000000000000AAA\n", operation="delete")
    assert (status["numberRecordsProcessed"], status["numberRecordsFailed"]) == (2, 1)
    assert api("GET", f"{V}/sobjects/Account/{record_id}").status_code == 404


def test_aborted_job_reports_its_records_as_unprocessed(api: Api) -> None:
    info = api("POST", INGEST, json={"object": "Contact", "operation": "insert"}).json()
    api("PUT", f"{INGEST}/{info['id']}/batches", data=b"LastName\nOne\nTwo\n",
        headers={"Content-Type": "text/csv"})  # fmt: skip
    aborted = api("PATCH", f"{INGEST}/{info['id']}", json={"state": "Aborted"})
    assert aborted.json()["state"] == "Aborted"
    unprocessed = rows_of(api("GET", f"{INGEST}/{info['id']}/unprocessedrecords").text)
    assert [r["LastName"] for r in unprocessed] == ["One", "Two"]
    more = api("PUT", f"{INGEST}/{info['id']}/batches", data=b"LastName\nThree\n",
               headers={"Content-Type": "text/csv"})  # fmt: skip
    assert more.status_code == 409


def test_jobs_are_listed_and_deleted(api: Api) -> None:
    status = run_ingest(api, "Name\nListed\n")
    listed = api("GET", INGEST).json()
    assert listed["done"] is True
    assert status["id"] in [job["id"] for job in listed["records"]]
    assert api("DELETE", f"{INGEST}/{status['id']}").status_code == 204
    assert api("GET", f"{INGEST}/{status['id']}").status_code == 404


@pytest.mark.parametrize(
    "job",
    [
        {"object": "Account", "operation": "merge"},
        {"object": "Widget__c", "operation": "insert"},
        {"object": "Account", "operation": "upsert", "externalIdFieldName": "Name"},
        {"object": "Account", "operation": "insert", "columnDelimiter": "COLON"},
    ],
)
def test_bad_ingest_jobs_are_refused(api: Api, job: dict[str, str]) -> None:
    response = api("POST", INGEST, json=job)
    assert response.status_code == 400
    assert response.json()[0]["errorCode"]


def test_an_unknown_job_is_not_found(api: Api) -> None:
    assert api("GET", f"{INGEST}/750000000000000AAA").status_code == 404


def test_query_job_results_page_with_locators(api: Api, emulator: RunningEmulator) -> None:
    for number in range(5):
        emulator.state.records.create("Account", {"Name": f"Q{number}", "Phone": None})
    soql = "SELECT Name, Id FROM Account WHERE Name LIKE 'Q%' ORDER BY Name"
    created = api("POST", QUERY, json={"operation": "query", "query": soql})
    assert created.status_code == 200
    info = created.json()
    assert (info["state"], info["object"], info["operation"]) == (
        "UploadComplete",
        "Account",
        "query",
    )
    status = api("GET", f"{QUERY}/{info['id']}").json()
    assert (status["state"], status["jobType"], status["numberRecordsProcessed"]) == (
        "JobComplete",
        "V2Query",
        5,
    )
    names: list[str] = []
    params: dict[str, str] = {"maxRecords": "2"}
    sets = []
    while True:
        page = api("GET", f"{QUERY}/{info['id']}/results", params=params)
        assert page.status_code == 200
        assert page.text.splitlines()[0] == '"Name","Id"'
        sets.append(int(page.headers["Sforce-NumberOfRecords"]))
        names += [row["Name"] for row in rows_of(page.text)]
        if page.headers["Sforce-Locator"] == "null":
            break
        params["locator"] = page.headers["Sforce-Locator"]
    assert sets == [2, 2, 1]
    assert names == [f"Q{n}" for n in range(5)]


def test_query_all_job_includes_deleted_rows(api: Api) -> None:
    record_id = api("POST", f"{V}/sobjects/Account", json={"Name": "Gone"}).json()["id"]
    api("DELETE", f"{V}/sobjects/Account/{record_id}")
    soql = "SELECT Id, IsDeleted FROM Account WHERE Name = 'Gone'"
    live = api("POST", QUERY, json={"operation": "query", "query": soql}).json()
    every = api("POST", QUERY, json={"operation": "queryAll", "query": soql}).json()
    assert rows_of(api("GET", f"{QUERY}/{live['id']}/results").text) == []
    assert rows_of(api("GET", f"{QUERY}/{every['id']}/results").text) == [
        {"Id": record_id, "IsDeleted": "true"}
    ]


def test_query_job_with_bad_soql_is_refused(api: Api) -> None:
    response = api("POST", QUERY, json={"operation": "query", "query": "SELECT FROM"})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_results_need_the_jobs_api_version(api: Api) -> None:
    info = api("POST", QUERY, json={"query": "SELECT Id FROM Account"}).json()
    response = api("GET", f"/services/data/v61.0/jobs/query/{info['id']}/results")
    assert response.status_code == 409


@pytest.mark.parametrize("path", [INGEST, QUERY, f"{INGEST}/750000000000000AAA"])
def test_a_dead_session_gets_the_rest_api_answer(
    http: requests.Session, emulator: RunningEmulator, path: str
) -> None:
    response = http.get(
        f"{emulator.url}{path}", headers={"Authorization": "Bearer 00D!dead"}, timeout=10
    )
    assert response.status_code == 401
    assert response.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
