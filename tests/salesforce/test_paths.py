"""Which URLs the API proxy may reach, which headers cross, where the token goes: every
refused case."""

from __future__ import annotations

import pytest

from sfdc.errors import RequestError, UpstreamProtocolError
from sfdc.salesforce.paths import (
    check_path,
    credentials,
    request_headers,
    response_headers,
    target_url,
    without_token,
)

INSTANCE = "https://acme.my.salesforce.com"


def test_a_path_goes_to_the_instance_with_its_encoding_kept() -> None:
    url = target_url(
        INSTANCE,
        "/services/data/v60.0/query",
        "q=SELECT+Id+FROM+Account%20LIMIT%201",
        allow_loopback=False,
    )
    assert url == f"{INSTANCE}/services/data/v60.0/query?q=SELECT+Id+FROM+Account%20LIMIT%201"
    assert target_url(
        INSTANCE, "/services/data/v60.0/sobjects/Account/ext__c/a%2Fb", "", allow_loopback=False
    ).endswith("/ext__c/a%2Fb")


@pytest.mark.parametrize(
    "path",
    [
        "",
        "..",
        "data/../../id/00D/005",
        "data/./limits",
        "data/%2e%2e/oauth2/token",
        "data/%2E%2E/x",
        "data/%252e%252e/x",
        "data/%25252e%25252e/x",
        "data/..%2fid",
        "data/..%5cid",
        "data\\..\\id",
        "/evil.example.com/x",
        "%2fevil.example.com/x",
        "http://evil.example.com/x",
        "https:%2f%2fevil.example.com",
        "data/x%0d%0aX-Injected: 1",
        "data/x%00y",
        "data/..;/id/00D/005",
        "data/..;x=1/limits",
        "data/.;/limits",
        "data/..%3b/id",
        "data/%2e%2e%3B/id",
        "data/%252e%252e%253b/id",
    ],
)
def test_paths_that_could_leave_services_are_refused(path: str) -> None:
    with pytest.raises(RequestError) as caught:
        check_path(path)
    assert caught.value.status == 400
    assert caught.value.code == "invalid_path"
    assert "/api/" in caught.value.hint


@pytest.mark.parametrize("query", ["q=a\r\nHost: evil", "x=\n", "x=\x00"])
def test_raw_control_characters_in_the_query_are_refused(query: str) -> None:
    with pytest.raises(RequestError):
        target_url(INSTANCE, "/services/data/v60.0/query", query, allow_loopback=False)


@pytest.mark.parametrize("path", ["", "v60.0", "v60.0/sobjects;x", "a..b/c.d", "..a/x"])
def test_an_empty_path_where_allowed_and_names_with_dots_pass(path: str) -> None:
    check_path(path, may_be_empty=True)


def test_encoded_newlines_in_the_query_pass_untouched_as_multi_line_soql() -> None:
    query = "q=SELECT+Id%0AFROM+Account%09LIMIT+1"
    url = target_url(INSTANCE, "/services/data/v60.0/query", query, allow_loopback=False)
    assert url.endswith(f"?{query}")


@pytest.mark.parametrize(
    ("instance", "loopback_ok"),
    [
        ("https://evil.example.com", False),
        ("http://acme.my.salesforce.com", False),
        ("http://127.0.0.1:8081", False),
        ("https://acme.my.salesforce.com.evil.example", False),
    ],
)
def test_only_salesforce_hosts_are_reached(instance: str, loopback_ok: bool) -> None:
    with pytest.raises(UpstreamProtocolError):
        target_url(instance, "/services/data/v60.0/limits", "", allow_loopback=loopback_ok)


def test_loopback_is_reached_only_when_the_login_url_is_loopback() -> None:
    url = target_url("http://127.0.0.1:8081", "/services/data/", "", allow_loopback=True)
    assert url == "http://127.0.0.1:8081/services/data/"


@pytest.mark.parametrize(
    ("query", "sent"),
    [
        ("format=json&oauth_token=key&version=60.0", "format=json&version=60.0"),
        ("OAUTH_TOKEN=key", ""),
        ("oauth%5Ftoken=key&a=1", "a=1"),
        ("%6Fauth_token=key", ""),
        ("oauth_token", ""),
        ("q=oauth_token", "q=oauth_token"),
        ("a=1&b=2", "a=1&b=2"),
    ],
)
def test_the_callers_oauth_token_parameter_never_goes_upstream(query: str, sent: str) -> None:
    assert without_token(query) == sent
    url = target_url(f"{INSTANCE}/", "/id/00D/005", query, allow_loopback=False)
    assert url == f"{INSTANCE}/id/00D/005" + (f"?{sent}" if sent else "")


def test_the_token_goes_where_each_api_reads_it() -> None:
    assert credentials("/services/async/60.0/job", "tok") == {"X-SFDC-Session": "tok"}
    for path in ("/services/data/v60.0/limits", "/services/apexrest/x", "/id/00D/005"):
        assert credentials(path, "tok") == {"Authorization": "Bearer tok"}


def test_request_headers_cross_by_allowlist() -> None:
    sent = request_headers(
        [
            ("Authorization", "Bearer caller-api-key"),
            ("Cookie", "session=1"),
            ("Host", "service.example.com"),
            ("X-Forwarded-For", "10.0.0.1"),
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
            ("Sforce-Query-Options", "batchSize=200"),
            ("If-Match", '"abc"'),
            ("X-PrettyPrint", "1"),
            ("X-SFDC-Session", "caller-api-key"),
            ("X-Sfdc-Connection", "acme"),
            ("X-Sfdc-Anything", "x"),
            ("Range", "bytes=0-99"),
            ("Sforce-Enable-PKChunking", "chunkSize=1000"),
            ("Forwarded", "for=10.0.0.1"),
        ]
    )
    assert sent == {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Sforce-Query-Options": "batchSize=200",
        "If-Match": '"abc"',
        "X-PrettyPrint": "1",
        "Range": "bytes=0-99",
        "Sforce-Enable-PKChunking": "chunkSize=1000",
    }


def test_response_headers_drop_hop_by_hop_and_cookies() -> None:
    kept = response_headers(
        {
            "Content-Type": "application/json",
            "Sforce-Limit-Info": "api-usage=5/15000",
            "Transfer-Encoding": "chunked",
            "Connection": "keep-alive",
            "Set-Cookie": "BrowserId=x",
            "Location": "/services/data/v60.0/sobjects/Account/001",
        }
    )
    assert dict(kept) == {
        "Content-Type": "application/json",
        "Sforce-Limit-Info": "api-usage=5/15000",
        "Location": "/services/data/v60.0/sobjects/Account/001",
    }
