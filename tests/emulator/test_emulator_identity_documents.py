"""The full field lists of the identity URL and UserInfo documents, and their URLs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from sfdc.emulator import RunningEmulator
from tests.emulator.emulator_support import ALICE, bearer

GetToken = Callable[..., dict[str, Any]]

IDENTITY_FIELDS = {
    "id", "asserted_user", "user_id", "organization_id", "username", "nick_name",
    "display_name", "email", "email_verified", "first_name", "last_name", "timezone",
    "photos", "addr_street", "addr_city", "addr_state", "addr_country", "addr_zip",
    "mobile_phone", "mobile_phone_verified", "is_lightning_login_user", "status", "urls",
    "active", "user_type", "language", "locale", "utcOffset", "last_modified_date",
    "is_app_installed",
}  # fmt: skip
USERINFO_FIELDS = {
    "sub", "user_id", "organization_id", "preferred_username", "nickname", "name", "email",
    "email_verified", "given_name", "family_name", "zoneinfo", "photos", "profile",
    "picture", "address", "is_salesforce_integration_user", "urls", "active", "user_type",
    "language", "locale", "utcOffset", "updated_at", "is_app_installed",
}  # fmt: skip
URL_NAMES = {
    "enterprise", "metadata", "partner", "rest", "sobjects", "search", "query", "recent",
    "tooling_soap", "tooling_rest", "profile", "feeds", "groups", "users", "feed_items",
    "feed_elements", "custom_domain",
}  # fmt: skip


def test_identity_document_has_every_documented_field(
    http: requests.Session, get_token: GetToken
) -> None:
    token = get_token()
    body = http.get(token["id"], headers=bearer(token["access_token"]), timeout=10).json()
    assert set(body) >= IDENTITY_FIELDS
    assert set(body["photos"]) == {"picture", "thumbnail"}
    assert set(body["urls"]) == URL_NAMES


def test_userinfo_has_every_documented_claim(
    http: requests.Session, emulator: RunningEmulator, get_token: GetToken
) -> None:
    token = get_token()
    response = http.get(
        f"{emulator.url}/services/oauth2/userinfo",
        headers=bearer(token["access_token"]),
        timeout=10,
    )
    body = response.json()
    assert set(body) >= USERINFO_FIELDS
    assert body["sub"] == token["id"]
    assert body["preferred_username"] == ALICE
    assert (body["given_name"], body["family_name"], body["name"]) == (
        "Alice",
        "Smith",
        "Alice Smith",
    )
    assert set(body["urls"]) == URL_NAMES


def test_every_identity_url_is_absolute_on_the_emulator(
    http: requests.Session, emulator: RunningEmulator, get_token: GetToken
) -> None:
    token = get_token()
    body = http.get(token["id"], params={"oauth_token": token["access_token"]}, timeout=10).json()
    for name, url in body["urls"].items():
        assert url.startswith(f"{emulator.url}/") or url == emulator.url, name
    assert body["urls"]["rest"] == f"{emulator.url}/services/data/v{{version}}/"


def test_identity_urls_with_a_version_lead_to_working_resources(
    http: requests.Session, get_token: GetToken
) -> None:
    token = get_token()
    headers = bearer(token["access_token"])
    urls = http.get(token["id"], headers=headers, params={"version": "62.0"}, timeout=10).json()[
        "urls"
    ]
    assert http.get(urls["sobjects"], headers=headers, timeout=10).status_code == 200
    query = http.get(
        urls["query"], headers=headers, params={"q": "SELECT Id FROM User"}, timeout=10
    )
    assert query.status_code == 200
    assert query.json()["totalSize"] >= 1
