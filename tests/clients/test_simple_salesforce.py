"""simple-salesforce, unchanged, given the instance URL and a token (an API key for the
service): everything a team does with it works, and the key never reaches Salesforce.

simple-salesforce keeps only host:port of the instance URL and always speaks https, so
it reaches the service through the TLS front; it trusts the front's CA through
``REQUESTS_CA_BUNDLE``. Each scenario runs against the emulator itself (the harness and
the emulator's fidelity) and against the service.
"""

from __future__ import annotations

import csv
import io

import pytest
from simple_salesforce import Salesforce, SalesforceExpiredSession, format_soql

from tests.clients.targets import API_KEY, Target

VERSION = "62.0"
ROWS = 250  # more than one page at the smallest batch size (200)
PAGE = {"Sforce-Query-Options": "batchSize=200"}
PREFIX = "py-"


@pytest.fixture
def sf(target: Target, monkeypatch: pytest.MonkeyPatch) -> Salesforce:
    for name, value in target.client_env().items():
        monkeypatch.setenv(name, value)
    return Salesforce(instance_url=target.url, session_id=target.token, version=VERSION)


def _assert_no_key_reached_salesforce(target: Target) -> None:
    seen = target.credentials_seen()
    assert seen == [], "a credential the emulator never issued reached it"
    assert API_KEY not in repr(seen)


def test_bulk_insert_then_query_with_paging_and_bulk_query(sf: Salesforce, target: Target) -> None:
    prefix = f"{PREFIX}{target.name}-"
    rows = [{"Name": f"{prefix}{n:03}", "Industry": "Energy"} for n in range(ROWS)]
    results = sf.bulk2.Account.insert(records=rows, wait=0.1)
    assert sum(r["numberRecordsProcessed"] for r in results) == ROWS
    assert sum(r["numberRecordsFailed"] for r in results) == 0

    soql = format_soql(
        "SELECT Id, Name FROM Account WHERE Name LIKE '{:like}%' ORDER BY Name", prefix
    )
    first = sf.query(soql, headers=PAGE)
    assert first["totalSize"] == ROWS
    assert first["done"] is False
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True, headers=PAGE)
    assert second["done"] is True
    names = [r["Name"] for r in first["records"] + second["records"]]
    assert names == [row["Name"] for row in rows]
    assert len(sf.query_all(soql, headers=PAGE)["records"]) == ROWS

    pages = list(
        sf.bulk2.Account.query(
            format_soql("SELECT Id, Name FROM Account WHERE Name LIKE '{:like}%'", prefix),
            wait=0.1,
        )
    )
    found = [line for page in pages for line in csv.DictReader(io.StringIO(str(page)))]
    assert sorted(r["Name"] for r in found) == names
    _assert_no_key_reached_salesforce(target)


def test_describe(sf: Salesforce, target: Target) -> None:
    names = {s["name"] for s in sf.describe()["sobjects"]}
    assert {"Account", "Contact", "User", "Organization"} <= names
    fields = {f["name"]: f for f in sf.Account.describe()["fields"]}
    assert fields["External_Id__c"]["externalId"] is True
    assert sf.Contact.metadata()["objectDescribe"]["name"] == "Contact"
    _assert_no_key_reached_salesforce(target)


def test_crud_and_query_all_sees_the_deleted_row(sf: Salesforce, target: Target) -> None:
    created = sf.Contact.create(
        {"LastName": f"{PREFIX}{target.name}-crud", "Email": "c@example.com"}
    )
    assert created["success"] is True
    contact_id = created["id"]
    assert sf.Contact.get(contact_id)["Email"] == "c@example.com"
    assert sf.Contact.update(contact_id, {"Email": "d@example.com"}) == 204
    assert sf.Contact.get(contact_id)["Email"] == "d@example.com"
    assert sf.Contact.delete(contact_id) == 204

    soql = format_soql("SELECT Id, IsDeleted FROM Contact WHERE Id = {}", contact_id)
    assert sf.query(soql)["totalSize"] == 0
    deleted = sf.query_all(soql, include_deleted=True)["records"]
    assert [(r["Id"], r["IsDeleted"]) for r in deleted] == [(contact_id, True)]
    _assert_no_key_reached_salesforce(target)


def test_upsert_by_external_id(sf: Salesforce, target: Target) -> None:
    key = f"External_Id__c/{PREFIX}{target.name}-ext-1"
    assert sf.Account.upsert(key, {"Name": "first"}) == 201
    # An update answers 200 with a body from API version 46.0 on (204 before).
    assert sf.Account.upsert(key, {"Name": "second"}) == 200
    assert sf.Account.get_by_custom_id("External_Id__c", key.split("/")[1])["Name"] == "second"
    _assert_no_key_reached_salesforce(target)


def test_limits_and_api_usage(sf: Salesforce, target: Target) -> None:
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] > 0
    sf.query("SELECT COUNT() FROM Account")
    # From the Sforce-Limit-Info header of the last call.
    assert sf.api_usage["api-usage"].total > 0
    _assert_no_key_reached_salesforce(target)


def test_identity_and_userinfo(sf: Salesforce, target: Target) -> None:
    version = sf.restful("")
    identity_url = version["identity"]
    assert identity_url.startswith(f"{target.url}/id/"), "the identity URL names the front"
    identity = sf.session.get(identity_url, headers=sf.headers, timeout=10).json()
    assert identity["username"] == "integration@example.com"
    assert identity["urls"]["rest"].startswith(f"{target.url}/services/data/")
    userinfo = sf.session.get(
        f"{target.url}/services/oauth2/userinfo", headers=sf.headers, timeout=10
    ).json()
    assert userinfo["preferred_username"] == "integration@example.com"
    assert userinfo["user_id"] == identity["user_id"]
    _assert_no_key_reached_salesforce(target)


def test_a_call_after_the_session_ended(sf: Salesforce, target: Target) -> None:
    sf.query("SELECT COUNT() FROM Account")
    target.end_sessions()
    if target.reauthenticates:
        assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 1
    else:
        with pytest.raises(SalesforceExpiredSession):
            sf.query("SELECT COUNT() FROM User")
    _assert_no_key_reached_salesforce(target)


def test_bulk_api_1_insert_and_query(sf: Salesforce, target: Target) -> None:
    """Bulk API 1.0 puts the session in ``X-SFDC-Session`` under ``/services/async``."""
    last_name = f"{PREFIX}{target.name}-bulk1"
    rows = [{"LastName": last_name, "Email": f"b{n}@example.com"} for n in range(3)]
    inserted = sf.bulk.Contact.insert(rows, batch_size=10, use_serial=True)
    assert [r["success"] for r in inserted] == [True, True, True]
    found = sf.bulk.Contact.query(
        format_soql("SELECT Id, Email FROM Contact WHERE LastName = {}", last_name)
    )
    assert sorted(r["Email"] for r in found) == [f"b{n}@example.com" for n in range(3)]
    _assert_no_key_reached_salesforce(target)
