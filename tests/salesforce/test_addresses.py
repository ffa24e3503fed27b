"""Links in Salesforce's answers, pointed at the service: what is rewritten and what is not."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest

from sfdc.salesforce.addresses import REWRITE_LIMIT, Addresses, decoded, origin, rewritable

INSTANCE = "https://acme.my.salesforce.com"
LOGIN = "https://login.salesforce.com"
PUBLIC = "https://sfdc.apps.example.com"
LINKS = Addresses.of((f"{INSTANCE}/", f"{LOGIN}/id/00D/005"), f"{PUBLIC}/")


def test_origins_are_scheme_and_host_in_lower_case() -> None:
    assert (
        origin("https://Acme.My.Salesforce.com:8443/x?y") == "https://acme.my.salesforce.com:8443"
    )
    assert origin("/services/data") == ""
    assert LINKS.origins == (INSTANCE, LOGIN)
    assert LINKS.public == PUBLIC


def test_urls_that_start_with_an_origin_are_rewritten_and_the_formatting_kept() -> None:
    document = {
        "id": f"{LOGIN}/id/00D/005",
        "urls": {"rest": f"{INSTANCE}/services/data/v{{version}}/", "custom_domain": INSTANCE},
        "query": f"{INSTANCE}?x=1",
    }
    for text in (json.dumps(document), json.dumps(document, indent=2)):
        rewritten = LINKS.body(text.encode())
        assert rewritten is not None
        assert rewritten.decode() == text.replace(INSTANCE, PUBLIC).replace(LOGIN, PUBLIC)


@pytest.mark.parametrize(
    "value",
    [
        "https://acme.my.salesforce.com.evil.example/x",  # a longer host
        "see https://acme.my.salesforce.com/x",  # inside other text
        "https://other.my.salesforce.com/x",
        "/services/data/v60.0/sobjects/Account/001",  # relative: already right
    ],
)
def test_other_text_is_left_alone(value: str) -> None:
    assert LINKS.body(json.dumps({"Website": value}).encode()) is None


def test_an_escaped_quote_before_an_origin_is_text_not_a_link() -> None:
    document = json.dumps({"Description": f'"{INSTANCE}/x" said'}).encode()
    assert LINKS.body(document) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            f"{INSTANCE}/services/data/v60.0/sobjects/Account/001",
            f"{PUBLIC}/services/data/v60.0/sobjects/Account/001",
        ),
        (f"{LOGIN}/id/00D/005?format=json", f"{PUBLIC}/id/00D/005?format=json"),
        (INSTANCE.upper(), PUBLIC),
        ("/services/data/v60.0/jobs/ingest/750", "/services/data/v60.0/jobs/ingest/750"),
        (f"{INSTANCE}.evil.example/x", f"{INSTANCE}.evil.example/x"),
    ],
)
def test_location_headers_point_at_the_service(value: str, expected: str) -> None:
    assert LINKS.location(value) == expected


@pytest.mark.parametrize(
    ("content_type", "length", "expected"),
    [
        ("application/json", 100, True),
        ("application/json;charset=UTF-8", None, True),
        ("application/vnd.salesforce+json", 10, True),
        ("application/json", REWRITE_LIMIT + 1, False),
        ("text/csv", 10, False),
        ("application/xml", 10, False),
        ("application/jsonp", 10, False),
        (None, 10, False),
    ],
)
def test_only_small_json_answers_are_read_for_links(
    content_type: str | None, length: int | None, expected: bool
) -> None:
    assert rewritable(content_type, length) is expected


def test_encoded_answers_are_decoded_within_the_limit() -> None:
    text = b'{"identity": "https://acme.my.salesforce.com/id/00D/005"}'
    assert decoded(gzip.compress(text), "gzip") == text
    assert decoded(zlib.compress(text), "deflate") == text
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert decoded(raw_deflate.compress(text) + raw_deflate.flush(), "deflate") == text
    assert decoded(text, "") == text
    assert decoded(text, "br") is None
    assert decoded(b"not gzip", "gzip") is None
    bomb = gzip.compress(b" " * (REWRITE_LIMIT + 10))
    assert decoded(bomb, "gzip") is None
