"""Bulk API 1.0: jobs and batches in XML, JSON and CSV, and its dead-session answer."""

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
XML_JOB = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload">'
    "<operation>insert</operation><object>Account</object><contentType>{kind}</contentType>"
    "</jobInfo>"
)
GetToken = Callable[..., dict[str, Any]]


@pytest.fixture
def bulk(
    http: requests.Session, emulator: RunningEmulator, get_token: GetToken
) -> Callable[..., requests.Response]:
    """Call Bulk API 1.0 with the session in X-SFDC-Session."""
    session = get_token()["access_token"]

    def call(method: str, path: str, content_type: str, data: bytes = b"") -> requests.Response:
        headers = {"X-SFDC-Session": session, "Content-Type": content_type}
        url = f"{emulator.url}/services/async/62.0{path}"
        return http.request(method, url, data=data, headers=headers, timeout=10)

    return call


Bulk = Callable[..., requests.Response]


def xml_fields(response: requests.Response) -> dict[str, str]:
    root = ET.fromstring(response.content)  # noqa: S314 - the emulator's own output
    return {child.tag.removeprefix(NS): child.text or "" for child in root}


def test_xml_job_with_a_csv_batch(bulk: Bulk, emulator: RunningEmulator) -> None:
    created = bulk(
        "POST", "/job", "application/xml; charset=UTF-8", XML_JOB.format(kind="CSV").encode()
    )
    assert created.status_code == 201
    assert created.headers["Content-Type"].startswith("application/xml")
    job = xml_fields(created)
    assert (job["state"], job["object"], job["contentType"]) == ("Open", "Account", "CSV")
    assert job["id"].startswith("750")
    batch = bulk("POST", f"/job/{job['id']}/batch", "text/csv", b"Name,Phone\nOne,1\n,2\n")
    assert batch.status_code == 201
    info = xml_fields(batch)
    assert (info["state"], info["jobId"]) == ("Queued", job["id"])
    status = xml_fields(bulk("GET", f"/job/{job['id']}/batch/{info['id']}", "application/xml"))
    assert (status["state"], status["numberRecordsProcessed"], status["numberRecordsFailed"]) == (
        "Completed",
        "2",
        "1",
    )
    result = bulk("GET", f"/job/{job['id']}/batch/{info['id']}/result", "application/xml")
    rows = list(csv.DictReader(io.StringIO(result.text)))
    assert [(r["Success"], r["Created"]) for r in rows] == [("true", "true"), ("false", "false")]
    assert rows[1]["Error"].startswith("REQUIRED_FIELD_MISSING:")
    assert emulator.state.records.get("Account", rows[0]["Id"]) is not None
    closing = '<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><state>Closed</state></jobInfo>'
    closed = bulk("POST", f"/job/{job['id']}", "application/xml", closing.encode())
    assert xml_fields(closed)["state"] == "Closed"
    assert xml_fields(closed)["numberRecordsProcessed"] == "2"
    late = bulk("POST", f"/job/{job['id']}/batch", "text/csv", b"Name\nLate\n")
    assert xml_fields(late)["exceptionCode"] == "InvalidJobState"


def test_json_job_with_a_json_batch(bulk: Bulk) -> None:
    body = {"operation": "insert", "object": "Contact", "contentType": "JSON"}
    created = bulk("POST", "/job", "application/json", json.dumps(body).encode())
    assert created.status_code == 201
    job = created.json()
    assert job["state"] == "Open"
    records = [{"LastName": "Json"}, {"FirstName": "NoLast"}]
    batch = bulk(
        "POST", f"/job/{job['id']}/batch", "application/json", json.dumps(records).encode()
    )
    assert batch.json()["state"] == "Queued"
    result = bulk("GET", f"/job/{job['id']}/batch/{batch.json()['id']}/result", "application/json")
    first, second = result.json()
    assert (first["success"], first["created"], first["errors"]) == (True, True, [])
    assert first["id"].startswith("003")
    assert second["success"] is False
    assert second["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert second["errors"][0]["fields"] == ["LastName"]
    listed = bulk("GET", f"/job/{job['id']}/batch", "application/json").json()
    assert [b["id"] for b in listed["batchInfo"]] == [batch.json()["id"]]


def test_xml_batch_of_sobjects(bulk: Bulk) -> None:
    job = xml_fields(bulk("POST", "/job", "application/xml", XML_JOB.format(kind="XML").encode()))
    records = (
        '<sObjects xmlns="http://www.force.com/2009/06/asyncapi/dataload">'
        "<sObject><Name>Xml One</Name></sObject><sObject><Name>Xml Two</Name></sObject>"
        "</sObjects>"
    )
    batch = xml_fields(bulk("POST", f"/job/{job['id']}/batch", "application/xml", records.encode()))
    result = bulk("GET", f"/job/{job['id']}/batch/{batch['id']}/result", "application/xml")
    results = ET.fromstring(result.content)  # noqa: S314 - the emulator's own output
    assert [r.findtext(f"{NS}success") for r in results] == ["true", "true"]


@pytest.mark.parametrize(
    ("content_type", "parse"),
    [
        ("application/xml", lambda r: xml_fields(r)),
        ("application/json", lambda r: r.json()),
    ],
)
def test_a_dead_session_is_invalid_session_id_with_400(
    http: requests.Session,
    emulator: RunningEmulator,
    get_token: GetToken,
    content_type: str,
    parse: Callable[[requests.Response], dict[str, str]],
) -> None:
    token = get_token()["access_token"]
    emulator.state.expire_all()
    for headers in ({"X-SFDC-Session": token}, {}, {"X-SFDC-Session": "00D!forged"}):
        response = http.post(
            f"{emulator.url}/services/async/62.0/job",
            data=XML_JOB.format(kind="CSV"),
            headers={**headers, "Content-Type": content_type},
            timeout=10,
        )
        assert response.status_code == 400
        body = parse(response)
        assert body["exceptionCode"] == "InvalidSessionId"
        assert body["exceptionMessage"]
    xml = http.get(f"{emulator.url}/services/async/62.0/job/750x", timeout=10)
    assert xml.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert '<error xmlns="http://www.force.com/2009/06/asyncapi/dataload">' in xml.text


def test_unknown_jobs_and_objects_are_refused(bulk: Bulk) -> None:
    missing = bulk("GET", "/job/750000000000000AAA", "application/json")
    assert (missing.status_code, missing.json()["exceptionCode"]) == (400, "InvalidJob")
    body = {"operation": "insert", "object": "Widget__c", "contentType": "JSON"}
    widget = bulk("POST", "/job", "application/json", json.dumps(body).encode())
    assert widget.json()["exceptionCode"] == "InvalidEntity"
    bad_xml = bulk("POST", "/job", "application/xml", b"<jobInfo>")
    assert bad_xml.status_code == 400
    assert xml_fields(bad_xml)["exceptionCode"] == "InvalidXML"
