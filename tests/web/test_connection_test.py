"""``/connection``: the identity URL says who and which org; a dead token is replaced once."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.conftest import USERNAME
from tests.emulated import stats
from tests.web.conftest import AUTH


def test_reports_user_org_and_token_age(client: FlaskClient) -> None:
    answer = client.get("/connection", headers=AUTH)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["status"] is True
    assert body["user"]["username"] == USERNAME
    assert body["org"]["id"].startswith("00D")
    assert USERNAME in body["message"]
    assert body["token"]["age_seconds"] >= 0
    assert "access_token" not in str(body)


def test_a_dead_token_is_replaced_once_and_the_test_passes(
    client: FlaskClient, emulator: Any
) -> None:
    client.get("/connection", headers=AUTH)
    emulator.state.expire_all()
    assert client.get("/connection", headers=AUTH).get_json()["status"] is True
    assert stats(emulator.url)["token_requests"] == 2


def test_needs_an_api_key(client: FlaskClient) -> None:
    assert client.get("/connection").status_code == 401
