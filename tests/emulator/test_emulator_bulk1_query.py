"""Bulk API 1.0 query jobs: a SOQL batch, its result list and its rows in JSON, CSV, XML."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
import requests

from sfdc.emulator import RunningEmulator

NS = "{http://www.force.com/2009/06/asyncapi/dataload}"
GetToken = Callable[..., dict[str, Any]]
Call = Callable[..., requests.Response]
NAMES = ["Bulk One", "Bulk Two"]
SOQL = "SELECT Id, Name FROM Account WHERE Name LIKE 'Bulk %' ORDER BY Name"


@pytest.fixture
def bulk(http: requests.Session, emulator: RunningEmulator, get_token: GetToken) -> Call:
    """Call Bulk API 1.0 with the session in X-SFDC-Session."""
    session = get_token()["access_token"]

    def call(method: str, path: str, content_type: str, data: bytes = b"") -> requests.Response:
        headers = {"X-SFDC-Session": session, "Content-Type": content_type}
        url = f"{emulator.url}/services/async/62.0{path}"
        return http.request(method, url, data=data, headers=headers, timeout=10)

    return call


@pytest.fixture
def account_ids(api: Call) -> list[str]:
    created = [
        api("POST", "/services/data/v62.0/sobjects/Account", json={"Name": name}) for name in NAMES
    ]
    return [answer.json()["id"] for answer in created]


def _json_job(bulk: Call, operation: str = "query", sobject: str = "Account") -> str:
    body = {"operation": operation, "object": sobject, "contentType": "JSON"}
    created = bulk("POST", "/job", "application/json", json.dumps(body).encode())
    assert created.status_code == 201, created.text
    job_id: str = created.json()["id"]
    return job_id


def _batch(bulk: Call, job_id: str, soql: str, content_type: str = "application/json") -> str:
    added = bulk("POST", f"/job/{job_id}/batch", content_type, soql.encode())
    assert added.status_code == 201, added.text
    batch_id: str = added.json()["id"] if "json" in content_type else _xml(added)["id"]
    return batch_id


def _xml(response: requests.Response) -> dict[str, str]:
    root = ET.fromstring(response.content)  # noqa: S314 - the emulator's own output
    return {child.tag.removeprefix(NS): child.text or "" for child in root}


@pytest.mark.usefixtures("account_ids")
def test_a_json_query_job_lists_one_result_of_records(bulk: Call) -> None:
    job_id = _json_job(bulk)
    batch_id = _batch(bulk, job_id, SOQL)
    status = bulk("GET", f"/job/{job_id}/batch/{batch_id}", "application/json").json()
    assert (status["state"], status["numberRecordsProcessed"]) == ("Completed", 2)
    results = bulk("GET", f"/job/{job_id}/batch/{batch_id}/result", "application/json").json()
    assert len(results) == 1
    assert results[0].startswith("752")
    rows = bulk("GET", f"/job/{job_id}/batch/{batch_id}/result/{results[0]}", "application/json")
    assert [(r["attributes"]["type"], r["Name"]) for r in rows.json()] == [
        ("Account", name) for name in NAMES
    ]
    job = bulk("GET", f"/job/{job_id}", "application/json").json()
    assert job["numberRecordsProcessed"] == 2


def test_a_csv_query_job_answers_an_xml_result_list_and_csv_rows(
    bulk: Call, account_ids: list[str]
) -> None:
    job_xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload">'
        "<operation>query</operation><object>Account</object><contentType>CSV</contentType>"
        "</jobInfo>"
    )
    job_id = _xml(bulk("POST", "/job", "application/xml", job_xml.encode()))["id"]
    batch_id = _batch(bulk, job_id, SOQL, "text/csv")
    listed = bulk("GET", f"/job/{job_id}/batch/{batch_id}/result", "application/xml")
    root = ET.fromstring(listed.content)  # noqa: S314 - the emulator's own output
    assert root.tag == f"{NS}result-list"
    result_id = root.findtext(f"{NS}result")
    rows = bulk("GET", f"/job/{job_id}/batch/{batch_id}/result/{result_id}", "application/xml")
    assert rows.headers["Content-Type"].startswith("text/csv")
    assert list(csv.DictReader(io.StringIO(rows.text))) == [
        {"Id": record_id, "Name": name} for record_id, name in zip(account_ids, NAMES, strict=True)
    ]


def test_query_all_finds_deleted_rows_and_query_does_not(
    bulk: Call, api: Call, account_ids: list[str]
) -> None:
    api("DELETE", f"/services/data/v62.0/sobjects/Account/{account_ids[0]}")
    counts = {}
    for operation in ("query", "queryAll"):
        job_id = _json_job(bulk, operation)
        batch_id = _batch(bulk, job_id, SOQL)
        counts[operation] = bulk("GET", f"/job/{job_id}/batch/{batch_id}", "application/json")
    assert counts["query"].json()["numberRecordsProcessed"] == 1
    assert counts["queryAll"].json()["numberRecordsProcessed"] == 2


@pytest.mark.parametrize(
    ("soql", "why"),
    [
        ("SELEC Id FROM Account", "Failed to process query"),
        ("SELECT COUNT() FROM Account", "Aggregate"),
        ("SELECT Id FROM Contact", "the job on Account"),
    ],
)
def test_a_query_it_cannot_run_fails_the_batch(bulk: Call, soql: str, why: str) -> None:
    job_id = _json_job(bulk)
    batch_id = _batch(bulk, job_id, soql)
    status = bulk("GET", f"/job/{job_id}/batch/{batch_id}", "application/json").json()
    assert status["state"] == "Failed"
    assert status["stateMessage"].startswith("InvalidBatch : ")
    assert why in status["stateMessage"]
    results = bulk("GET", f"/job/{job_id}/batch/{batch_id}/result", "application/json")
    assert (results.status_code, results.json()["exceptionCode"]) == (400, "InvalidBatch")


@pytest.mark.usefixtures("account_ids")
def test_an_unknown_result_id_is_refused(bulk: Call) -> None:
    job_id = _json_job(bulk)
    batch_id = _batch(bulk, job_id, SOQL)
    answer = bulk(
        "GET", f"/job/{job_id}/batch/{batch_id}/result/752000000000000AAA", "application/json"
    )
    assert (answer.status_code, answer.json()["exceptionCode"]) == (400, "InvalidBatch")


@pytest.mark.usefixtures("account_ids")
def test_an_xml_query_job_answers_query_result_records(bulk: Call) -> None:
    job_xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload">'
        "<operation>query</operation><object>Account</object><contentType>XML</contentType>"
        "</jobInfo>"
    )
    job_id = _xml(bulk("POST", "/job", "application/xml", job_xml.encode()))["id"]
    batch_id = _batch(bulk, job_id, SOQL, "application/xml")
    listed = bulk("GET", f"/job/{job_id}/batch/{batch_id}/result", "application/xml")
    result_id = ET.fromstring(listed.content).findtext(f"{NS}result")  # noqa: S314
    rows = bulk("GET", f"/job/{job_id}/batch/{batch_id}/result/{result_id}", "application/xml")
    root = ET.fromstring(rows.content)  # noqa: S314 - the emulator's own output
    assert root.tag == f"{NS}queryResult"
    records = root.findall(f"{NS}records")
    assert [(r.findtext(f"{NS}type"), r.findtext(f"{NS}Name")) for r in records] == [
        ("Account", name) for name in NAMES
    ]
