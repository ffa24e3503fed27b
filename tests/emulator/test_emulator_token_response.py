"""What a successful JWT grant returns: fields, IDs, and the optional `signature`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import string
from collections.abc import Callable
from typing import Any

import requests

from sfdc.emulator import EmulatorConfig, running_emulator
from tests.emulator.emulator_support import (
    ALICE,
    BOB,
    CONSUMER_SECRET,
    TEST,
    FakeClock,
    post_token,
)

GetToken = Callable[..., dict[str, Any]]


def case_safe_suffix(id15: str) -> str:
    """Salesforce's 18-character ID suffix, computed here independently of the emulator."""
    alphabet = string.ascii_uppercase + "012345"
    suffix = ""
    for start in range(0, 15, 5):
        chunk = id15[start : start + 5]
        suffix += alphabet[sum(1 << i for i, c in enumerate(chunk) if "A" <= c <= "Z")]
    return suffix


def split_identity_url(url: str) -> tuple[str, str, str]:
    match = re.fullmatch(r"(http://127\.0\.0\.1:\d+)/id/(\w{18})/(\w{18})", url)
    assert match is not None, url
    return match.group(1), match.group(2), match.group(3)


def test_success_has_the_documented_fields_and_nothing_else(get_token: GetToken) -> None:
    body = get_token()
    assert set(body) == {
        "access_token",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
    }
    assert body["token_type"] == "Bearer"
    assert "refresh_token" not in body
    assert "expires_in" not in body


def test_urls_point_back_at_the_emulator(get_token: GetToken, emulator: Any) -> None:
    body = get_token()
    assert body["instance_url"] == emulator.url
    host, _, _ = split_identity_url(body["id"])
    assert host == emulator.url


def test_ids_are_18_character_salesforce_ids(get_token: GetToken) -> None:
    _, org_id, user_id = split_identity_url(get_token()["id"])
    assert org_id.startswith("00D")
    assert user_id.startswith("005")
    assert org_id[15:] == case_safe_suffix(org_id[:15])
    assert user_id[15:] == case_safe_suffix(user_id[:15])


def test_access_token_is_org_id_bang_opaque(get_token: GetToken) -> None:
    body = get_token()
    _, org_id, _ = split_identity_url(body["id"])
    prefix, bang, opaque = body["access_token"].partition("!")
    assert bang == "!"
    assert prefix == org_id[:15]
    assert len(opaque) >= 40
    # The shape clients check before using a string as a token (the sf CLI's regex).
    assert re.fullmatch(r"00D\w{12,15}![.\w]*", body["access_token"])


def test_each_grant_mints_a_new_token_with_stable_user_ids(get_token: GetToken) -> None:
    first, second, bob = get_token(), get_token(), get_token(sub=BOB)
    assert first["access_token"] != second["access_token"]
    assert first["id"] == second["id"]
    assert bob["id"] != first["id"]
    assert split_identity_url(bob["id"])[1] == split_identity_url(first["id"])[1]


def test_ids_survive_an_emulator_restart(
    http: requests.Session,
    make_config: Callable[..., EmulatorConfig],
    make_assertion: Callable[..., str],
) -> None:
    identity_urls = []
    for _ in range(2):
        with running_emulator(make_config()) as running:
            body = post_token(http, running.url, make_assertion()).json()
            identity_urls.append(body["id"].removeprefix(running.url))
    assert identity_urls[0] == identity_urls[1]


def test_sandbox_org_has_its_own_org_id(
    http: requests.Session,
    get_token: GetToken,
    make_config: Callable[..., EmulatorConfig],
    make_assertion: Callable[..., str],
) -> None:
    production_org = split_identity_url(get_token()["id"])[1]
    with running_emulator(make_config(audience=TEST)) as sandbox:
        body = post_token(http, sandbox.url, make_assertion(aud=TEST)).json()
    assert split_identity_url(body["id"])[1] != production_org


def test_scope_is_the_configured_one(get_token: GetToken) -> None:
    assert get_token()["scope"] == "web openid api id"


def test_signature_is_hmac_of_id_and_issued_at_with_the_secret(
    get_token: GetToken, clock: FakeClock
) -> None:
    body = get_token()
    assert body["issued_at"] == str(int(clock.now.timestamp() * 1000))
    assert len(body["issued_at"]) == 13
    message = (body["id"] + body["issued_at"]).encode()
    expected = hmac.new(CONSUMER_SECRET.encode(), message, hashlib.sha256).digest()
    assert base64.b64decode(body["signature"]) == expected


def test_without_a_consumer_secret_there_is_no_issued_at_or_signature(
    http: requests.Session,
    make_config: Callable[..., EmulatorConfig],
    make_assertion: Callable[..., str],
) -> None:
    with running_emulator(make_config(consumer_secret=None)) as running:
        body = post_token(http, running.url, make_assertion(sub=ALICE)).json()
    assert "issued_at" not in body
    assert "signature" not in body
    assert body["token_type"] == "Bearer"
