"""``sfdc.SalesforceAuth`` and ``SalesforceSession``: Python apps calling Salesforce directly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sfdc.client import SalesforceAuth, SalesforceSession, is_session_rejection
from sfdc.emulator import running_emulator
from sfdc.errors import SalesforceTimeout, SalesforceUnavailable
from sfdc.settings.settings import load_settings
from sfdc.tokens.exchange import Exchange
from sfdc.tokens.service import TokenService
from tests.conftest import KeyPair
from tests.emulated import emulator_config, stats
from tests.fakes import Reply, closed_port, make_exchange, scripted_session, silent_server

DEAD = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


@pytest.mark.parametrize(
    ("status", "body", "dead"),
    [
        (401, json.dumps(DEAD).encode(), True),
        (401, b"<Errors><Error><errorCode>INVALID_SESSION_ID</errorCode></Error></Errors>", True),
        (403, b"Bad_OAuth_Token", True),
        (401, b'[{"message":"INVALID_HEADER_TYPE","errorCode":"INVALID_AUTH_HEADER"}]', False),
        (403, b'[{"errorCode":"INSUFFICIENT_ACCESS"}]', False),
        (401, b"not json", False),
        (200, json.dumps(DEAD).encode(), False),
        # Bulk API 1.0: an XML or JSON error with exceptionCode InvalidSessionId.
        (400, b"<error><exceptionCode>InvalidSessionId</exceptionCode></error>", True),
        (400, b'{"exceptionCode":"InvalidSessionId","exceptionMessage":"Invalid session"}', True),
        (401, b'{"exceptionCode":"InvalidSessionId"}', True),
        (400, b'{"exceptionCode":"InvalidJob","exceptionMessage":"InvalidSessionId"}', False),
        (400, json.dumps(DEAD).encode(), False),  # REST says a dead session with 401 only
        (500, b"<exceptionCode>InvalidSessionId</exceptionCode>", False),
    ],
)
def test_only_a_dead_session_counts_as_one(status: int, body: bytes, dead: bool) -> None:
    assert is_session_rejection(status, body) is dead


class _Tokens:
    """A token source that hands out numbered tokens and records rejections."""

    def __init__(self) -> None:
        self.issued = 0
        self.rejections = 0
        self._current: Exchange | None = None

    def current(self) -> Exchange:
        if self._current is None:
            from datetime import UTC, datetime

            self.issued += 1
            self._current = make_exchange(f"tok{self.issued}", datetime.now(UTC), None)
        return self._current

    def rejected(self, exchange: Exchange) -> bool:
        self.rejections += 1
        self._current = None
        return True


def test_a_fresh_token_rejected_too_is_returned_not_retried_again() -> None:
    session, adapter = scripted_session(Reply(401, DEAD), Reply(401, DEAD), Reply(200, {}))
    tokens = _Tokens()
    answer = session.post(
        "https://acme.my.salesforce.com/services/data/v60.0/sobjects/Account",
        json={"Name": "x"},
        auth=SalesforceAuth(tokens),
    )
    assert answer.status_code == 401
    assert len(adapter.sent) == 2, "one replay, never a loop"
    assert [r.headers["Authorization"] for r in adapter.sent] == ["Bearer tok1", "Bearer tok2"]
    assert adapter.sent[0].body == adapter.sent[1].body == b'{"Name": "x"}'
    assert tokens.rejections == 1


def test_other_401s_pass_through_untouched() -> None:
    other = [{"message": "INVALID_HEADER_TYPE", "errorCode": "INVALID_AUTH_HEADER"}]
    session, adapter = scripted_session(Reply(401, other), Reply(200, {}))
    tokens = _Tokens()
    answer = session.get(
        "https://acme.my.salesforce.com/services/data/", auth=SalesforceAuth(tokens)
    )
    assert answer.status_code == 401
    assert answer.json() == other
    assert len(adapter.sent) == 1
    assert tokens.rejections == 0


@pytest.fixture
def service(keypair: KeyPair, seed_env: dict[str, str]) -> Iterator[tuple[TokenService, Any]]:
    with running_emulator(emulator_config(keypair)) as emulator:
        yield TokenService(load_settings({**seed_env, "SFDC_LOGIN_URL": emulator.url})), emulator


def test_session_reaches_the_org_and_survives_an_expired_token(
    service: tuple[TokenService, Any],
) -> None:
    tokens, emulator = service
    salesforce = SalesforceSession(tokens)
    assert salesforce.get("/services/data/v60.0/limits").status_code == 200
    emulator.state.expire_all()
    created = salesforce.post("/services/data/v60.0/sobjects/Account", json={"Name": "Lib"})
    assert created.status_code == 201
    record = salesforce.get(f"/services/data/v60.0/sobjects/Account/{created.json()['id']}")
    assert record.json()["Name"] == "Lib"
    assert stats(emulator.url)["token_requests"] == 2


def test_plain_requests_with_the_auth(service: tuple[TokenService, Any]) -> None:
    tokens, emulator = service
    url = f"{tokens.current().token.instance_url}/services/data/v60.0/limits"
    emulator.state.expire_all()
    assert requests.get(url, auth=SalesforceAuth(tokens), timeout=10).status_code == 200


def test_session_errors_are_the_service_error_types(service: tuple[TokenService, Any]) -> None:
    tokens, _ = service
    session = SalesforceSession(tokens, timeout=0.5)
    with pytest.raises(SalesforceUnavailable, match="refused"):
        session.get(f"http://127.0.0.1:{closed_port()}/services/")
    with silent_server() as port, pytest.raises(SalesforceTimeout):
        session.get(f"http://127.0.0.1:{port}/services/")
