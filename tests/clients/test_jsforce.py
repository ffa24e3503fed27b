"""jsforce, unchanged, given the instance URL and a token (an API key for the service).

The scenario (`js/jsforce-scenario.mjs`) runs once per target in Node 22 and reports what
each step saw; these tests judge it. jsforce's ``identity()`` follows the ``identity`` URL
of the version resource with the token in ``oauth_token``: had that URL named Salesforce,
the key would have reached the emulator, which the last test would catch.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.clients.node import JS, node_env, run_node_json
from tests.clients.targets import API_KEY, Target

ROWS = 250


@pytest.fixture(scope="module")
def seen(module_target: Target, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    prefix = f"js-{module_target.name}-"
    env = node_env(
        {
            **module_target.client_env(),
            "INSTANCE_URL": module_target.url,
            "ACCESS_TOKEN": module_target.token,
            "PREFIX": prefix,
            "KNOBS_URL": module_target.emulator_url,
        },
        tmp_path_factory.mktemp("home"),
    )
    answer = run_node_json(JS / "jsforce-scenario.mjs", env)
    answer["prefix"] = prefix
    answer["credentials_seen"] = module_target.credentials_seen()
    return answer


def _names(prefix: str) -> list[str]:
    return [f"{prefix}{n:03}" for n in range(ROWS)]


def test_every_step_ran(seen: dict[str, Any]) -> None:
    assert seen["failures"] == {}


def test_bulk_insert_and_query(seen: dict[str, Any]) -> None:
    assert (seen["bulkInserted"], seen["bulkFailed"]) == (ROWS, 0)
    assert seen["bulkQueried"] == _names(seen["prefix"])


def test_bulk_api_1_insert_and_query(seen: dict[str, Any]) -> None:
    assert seen["bulk1Inserted"] == [True, True, True]
    assert seen["bulk1Queried"] == [f"b{n}@example.com" for n in range(3)]


def test_query_with_paging(seen: dict[str, Any]) -> None:
    assert seen["firstPage"] == {"totalSize": ROWS, "done": False, "size": 200}
    assert seen["pagedNames"] == _names(seen["prefix"])
    assert seen["secondDone"] is True
    assert seen["autoFetched"] == ROWS


def test_describe(seen: dict[str, Any]) -> None:
    assert {"Account", "Contact", "User", "Organization"} <= set(seen["sobjects"])
    assert "External_Id__c" in seen["externalIds"]


def test_crud_and_query_all(seen: dict[str, Any]) -> None:
    assert seen["created"] is True
    assert seen["updatedEmail"] == "d@example.com"
    assert seen["deleted"] is True
    assert seen["queryAfterDelete"] == 0
    assert seen["queryAllAfterDelete"] == [True]


def test_upsert(seen: dict[str, Any]) -> None:
    assert seen["upserts"] == [True, True]
    assert seen["upsertedName"] == ["second"]


def test_limits(seen: dict[str, Any]) -> None:
    assert seen["dailyApiMax"] > 0
    assert seen["limitInfo"]["apiUsage"]["used"] > 0


def test_identity_and_userinfo(seen: dict[str, Any], module_target: Target) -> None:
    assert seen["identity"]["username"] == "integration@example.com"
    assert seen["identity"]["rest"].startswith(f"{module_target.url}/services/data/")
    assert seen["userinfo"] == {
        "username": "integration@example.com",
        "userId": seen["identity"]["userId"],
    }


def test_a_call_after_the_session_ended(seen: dict[str, Any], module_target: Target) -> None:
    if module_target.reauthenticates:
        assert seen["afterExpiry"] == {"totalSize": 1}
    else:
        assert seen["afterExpiry"] == {"error": "INVALID_SESSION_ID"}


def test_no_key_reached_salesforce(seen: dict[str, Any]) -> None:
    assert seen["credentials_seen"] == []
    assert API_KEY not in repr(seen["credentials_seen"])
