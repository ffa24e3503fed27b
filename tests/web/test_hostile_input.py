"""Bodies a hostile client sends to the service's own JSON endpoints: 4xx, never a 500.

Each was a 500 before: a lone surrogate in ``rejected`` (the hash of it raised
UnicodeEncodeError), JSON nested 50,000 levels deep (``json.loads`` raised
RecursionError), and a lone surrogate in ``scopes`` or ``login``.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import AUTH

JSON = {**AUTH, "Content-Type": "application/json"}
DEEP = b"[" * 30_000 + b"]" * 30_000


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"rejected": "\\ud800"}', "lone UTF-16 surrogate"),
        (b'{"rejected": ' + DEEP + b"}", "deeper than"),
        (b'{"rejected": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "at most 65536 bytes"),
    ],
)
def test_reporting_a_token_with_a_hostile_body_is_a_clear_4xx(
    client: FlaskClient, body: bytes, problem: str
) -> None:
    answer = client.post("/token", data=body, headers=JSON)
    assert 400 <= answer.status_code < 500, answer.get_data(as_text=True)
    assert problem in answer.json["error_description"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"name": "acme", "scopes": "api \\udc00"}', "lone UTF-16 surrogate"),
        (b'{"name": "acme", "login": "https://\\ud800.my.salesforce.com"}', "lone UTF-16"),
        (b'{"name": ' + DEEP + b"}", "deeper than"),
    ],
)
def test_asking_for_a_connect_link_with_a_hostile_body_is_a_clear_400(
    client: FlaskClient, body: bytes, problem: str
) -> None:
    answer = client.post("/connections", data=body, headers=JSON)
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert problem in answer.json["error_description"]  # type: ignore[index]
