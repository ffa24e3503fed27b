"""The token endpoint's answers, good and bad, become a token or an actionable error."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from sfdc.errors import SalesforceRefusal, SalesforceUnavailable, UpstreamProtocolError
from sfdc.salesforce.oauth import JWT_BEARER_GRANT, OAuthClient, parse_token_response
from sfdc.salesforce.refusals import advise
from sfdc.salesforce.transport import NO_RETRY, Transport
from tests.fakes import Reply, scripted_session

ENDPOINT = "https://login.salesforce.com/services/oauth2/token"
JSON = {"Content-Type": "application/json;charset=UTF-8"}
GOOD = {
    "access_token": "00Dxx0000001gPL!AR8AQ.secret",
    "scope": "api",
    "instance_url": "https://acme.my.salesforce.com",
    "id": "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS",
    "token_type": "Bearer",
}


def _parse(status: int, body: bytes, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return parse_token_response(status, headers or JSON, body, endpoint=ENDPOINT)


def test_jwt_grant_is_a_form_post_with_grant_type_and_assertion() -> None:
    session, adapter = scripted_session(Reply(200, GOOD, {"Set-Cookie": "BrowserId=x"}))
    response = OAuthClient("https://login.salesforce.com/", Transport(session)).jwt_bearer("a.b.c")
    sent = adapter.sent[0]
    assert sent.method == "POST"
    assert sent.url == ENDPOINT
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(sent.body) == {"grant_type": [JWT_BEARER_GRANT], "assertion": ["a.b.c"]}  # type: ignore[arg-type]
    assert response.body["access_token"] == GOOD["access_token"]
    assert "Set-Cookie" not in response.headers


# Section 1.6 of the research file: each error Salesforce documents or is seen to send.
SECTION_1_6 = [
    ("invalid_grant", "user hasn't approved this consumer", "pre-authorized"),
    ("invalid_grant", "audience is invalid", "SFDC_AUDIENCE"),
    ("invalid_grant", "Audience validation failed", "SFDC_AUDIENCE"),
    ("invalid_grant", "expired authorization code", "clock"),
    ("invalid_grant", "invalid assertion", "certificate"),
    ("invalid_app_access", "user is not admin approved to access this app", "profile"),
    ("invalid_client_id", "client identifier invalid", "SFDC_CONSUMER_KEY"),
    ("invalid_grant", "IP restricted or invalid login hours", "IP"),
    ("inactive_user", "user is inactive", "reactivate"),
    ("inactive_org", "org is locked", "org"),
    ("rate_limit_exceeded", "login rate exceeded", "3,600"),
]


@pytest.mark.parametrize(("error", "description", "fix"), SECTION_1_6)
def test_each_documented_refusal_keeps_salesforce_words_and_adds_a_fix(
    error: str, description: str, fix: str
) -> None:
    body = f'{{"error":"{error}","error_description":"{description}"}}'.encode()
    with pytest.raises(SalesforceRefusal) as caught:
        _parse(400, body)
    refusal = caught.value
    assert refusal.to_dict()["error"] == error
    assert refusal.to_dict()["error_description"] == description
    assert fix in refusal.hint
    assert refusal.status == 502
    assert refusal.retryable is (error == "rate_limit_exceeded")


def test_hints_differ_between_the_causes_of_invalid_grant() -> None:
    hints = {advise("invalid_grant", d).hint for _, d, _ in SECTION_1_6[:5]}
    assert len(hints) == 4  # the two audience wordings share one


def test_unknown_refusal_still_gets_a_hint() -> None:
    with pytest.raises(SalesforceRefusal) as caught:
        _parse(400, b'{"error":"something_new"}')
    assert caught.value.code == "something_new"
    assert "troubleshooting" in caught.value.hint
    assert caught.value.description


@pytest.mark.parametrize(
    ("status", "body", "headers", "match"),
    [
        (200, b"", JSON, "an empty body"),
        (200, b"   ", JSON, "an empty body"),
        (200, b"<html>Maintenance</html>", {"Content-Type": "text/html"}, "text/html"),
        (400, b"Bad Request", {"Content-Type": "text/plain"}, "text/plain"),
        (200, b"[1,2]", JSON, "not Salesforce's JSON"),
        (200, b'{"scope":"api"}', JSON, "without access_token and instance_url"),
        (201, b'{"x":1}', JSON, "not an OAuth error"),
        (200, b"\xff\xfe", {"Content-Type": "application/octet-stream"}, "bytes"),
    ],
)
def test_unusable_answers_are_protocol_errors(
    status: int, body: bytes, headers: dict[str, str], match: str
) -> None:
    with pytest.raises(UpstreamProtocolError, match=match) as caught:
        _parse(status, body, headers)
    assert caught.value.status == 502
    assert caught.value.hint


def test_persistent_5xx_is_unavailable_not_a_refusal() -> None:
    session, _ = scripted_session(Reply(503, "<html>down</html>", {"Content-Type": "text/html"}))
    client = OAuthClient("https://login.salesforce.com", Transport(session, retry=NO_RETRY))
    with pytest.raises(SalesforceUnavailable, match="HTTP 503") as caught:
        client.jwt_bearer("a.b.c")
    assert caught.value.retryable


def test_a_redirect_is_not_followed_and_names_where_it_pointed() -> None:
    moved = Reply(307, b"", {"Location": "https://acme.my.salesforce.com/services/oauth2/token"})
    session, adapter = scripted_session(moved, Reply(200, GOOD))
    client = OAuthClient("https://login.salesforce.com", Transport(session))
    with pytest.raises(
        UpstreamProtocolError, match=r"redirecting to acme\.my\.salesforce\.com"
    ) as caught:
        client.jwt_bearer("a.b.c")
    assert len(adapter.sent) == 1, "the assertion was posted nowhere else"
    assert "SFDC_LOGIN_URL" in caught.value.hint


@pytest.mark.parametrize("issued_at", ["99999999999999999999", "\u00b2", "-5", "soon"])
def test_odd_issued_at_falls_back_to_the_time_received(issued_at: str) -> None:
    from datetime import UTC, datetime

    from sfdc.tokens.token import token_from_response

    received = datetime(2026, 11, 23, tzinfo=UTC)
    token = token_from_response({**GOOD, "issued_at": issued_at}, received_at=received)
    assert token.issued_at == received
