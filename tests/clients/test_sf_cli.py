"""The `sf` CLI, unchanged, logged in with the instance URL and a token (an API key for
the service, in the key form the CLI accepts as an access token).

The CLI starts slowly (about 3 s a command on a loaded 2-core machine), so each command
runs once per target and the tests share one logged-in HOME in a fixed order. It reaches
the service through the TLS front and trusts its CA through ``NODE_EXTRA_CA_CERTS``.
``sf data query`` has no page-size option: 2,100 rows are more than one page (2,000), so
the query shows that the CLI followed ``nextRecordsUrl``.

Unlike the other clients, it runs against the service only: the service reaches the same
emulator, and a run straight at the emulator would double the slowest module of the suite
(about a minute) for no check the other two clients and the emulator's own tests
(access tokens shaped as ``sf`` requires) do not already make. To run it there too while
working on the emulator, set ``SF_TARGETS`` below to ``TARGETS``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.clients.conftest import target_for
from tests.clients.sf_cli import SfCli
from tests.clients.targets import API_KEY, Target
from tests.conftest import KeyPair

ROWS = 2100
USERNAME = "integration@example.com"
SF_TARGETS = ["service"]


@pytest.fixture(scope="module", params=SF_TARGETS)
def module_target(request: pytest.FixtureRequest, keypair: KeyPair) -> Target:
    return target_for(request, keypair)


@pytest.fixture(scope="module")
def sf(module_target: Target, tmp_path_factory: pytest.TempPathFactory) -> SfCli:
    cli = SfCli.create(tmp_path_factory.mktemp("sf-home"), module_target.client_env())
    login = cli.login(module_target.url, module_target.token).ok()
    assert login["username"] == USERNAME
    assert login["instanceUrl"].rstrip("/") == module_target.url
    return cli


@pytest.fixture(scope="module")
def prefix(module_target: Target) -> str:
    return f"sf-{module_target.name}-"


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_bulk_insert_then_query_with_paging_and_bulk_export(sf: SfCli, prefix: str) -> None:
    names = [f"{prefix}{n:04}" for n in range(ROWS)]
    rows = [{"Name": name, "Industry": "Energy"} for name in names]
    source = _write_csv(sf.home / "accounts.csv", rows)
    imported = sf.on_org(
        "data", "import", "bulk", "--file", str(source), "--sobject", "Account", "--wait", "5"
    ).ok()
    assert (imported["successfulRecords"], imported["failedRecords"]) == (ROWS, 0)

    soql = f"SELECT Id, Name FROM Account WHERE Name LIKE '{prefix}%' ORDER BY Name"  # noqa: S608
    queried = sf.on_org("data", "query", "--query", soql).ok()
    assert queried["totalSize"] == ROWS
    assert [r["Name"] for r in queried["records"]] == names

    exported = sf.home / "exported.csv"
    sf.on_org(
        "data", "export", "bulk", "--query", soql, "--output-file", str(exported), "--wait", "5"
    ).ok()
    with exported.open(newline="") as file:
        assert sorted(r["Name"] for r in csv.DictReader(file)) == names


def test_describe(sf: SfCli) -> None:
    described = sf.on_org("sobject", "describe", "--sobject", "Account").ok()
    fields = {f["name"]: f for f in described["fields"]}
    assert fields["External_Id__c"]["externalId"] is True


def test_crud_and_all_rows(sf: SfCli, prefix: str) -> None:
    created = sf.on_org(
        "data", "create", "record", "--sobject", "Contact",
        "--values", f"LastName='{prefix}crud' Email=c@example.com",
    ).ok()  # fmt: skip
    contact_id = created["id"]
    sf.on_org(
        "data", "update", "record", "--sobject", "Contact", "--record-id", contact_id,
        "--values", "Email=d@example.com",
    ).ok()  # fmt: skip
    got = sf.on_org("data", "get", "record", "--sobject", "Contact", "--record-id", contact_id)
    assert got.ok()["Email"] == "d@example.com"
    sf.on_org("data", "delete", "record", "--sobject", "Contact", "--record-id", contact_id).ok()

    soql = f"SELECT Id, IsDeleted FROM Contact WHERE Id = '{contact_id}'"  # noqa: S608
    assert sf.on_org("data", "query", "--query", soql).ok()["totalSize"] == 0
    everything = sf.on_org("data", "query", "--query", soql, "--all-rows").ok()
    assert [r["IsDeleted"] for r in everything["records"]] == [True]


def test_upsert_by_external_id(sf: SfCli, prefix: str) -> None:
    external_id = f"{prefix}ext-1"
    for name in ("first", "second"):
        source = _write_csv(
            sf.home / f"{name}.csv", [{"External_Id__c": external_id, "Name": name}]
        )
        upserted = sf.on_org(
            "data", "upsert", "bulk", "--file", str(source), "--sobject", "Account",
            "--external-id", "External_Id__c", "--wait", "5",
        ).ok()  # fmt: skip
        assert upserted["jobInfo"]["numberRecordsProcessed"] == 1
        assert upserted["jobInfo"]["numberRecordsFailed"] == 0
    soql = f"SELECT Name FROM Account WHERE External_Id__c = '{external_id}'"  # noqa: S608
    assert [r["Name"] for r in sf.on_org("data", "query", "--query", soql).ok()["records"]] == [
        "second"
    ]


def test_limits(sf: SfCli) -> None:
    limits = {item["name"]: item for item in sf.on_org("org", "list", "limits").ok()}
    assert limits["DailyApiRequests"]["max"] > 0


def test_userinfo(sf: SfCli, module_target: Target) -> None:
    answer = sf.on_org("api", "request", "rest", "/services/oauth2/userinfo").ok()
    assert answer["statusCode"] == 200
    userinfo = answer["body"]
    assert userinfo["preferred_username"] == USERNAME
    assert userinfo["profile"].startswith(f"{module_target.url}/")


def test_a_call_after_the_session_ended(sf: SfCli, module_target: Target) -> None:
    module_target.end_sessions()
    answer = sf.on_org("data", "query", "--query", "SELECT Id FROM User")
    if module_target.reauthenticates:
        assert answer.ok()["totalSize"] == 1
    else:
        assert answer.status != 0
        assert "INVALID_SESSION_ID" in str(answer.document), answer.document


def test_no_key_reached_salesforce(sf: SfCli, module_target: Target) -> None:
    seen = module_target.credentials_seen()
    assert seen == []
    assert API_KEY not in repr(seen)
