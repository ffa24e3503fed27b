"""Helpers for connected-org tests: a person at the emulator's consent page, and the DB."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import requests
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from sfdc.emulator import EmulatorConfig
from tests.conftest import CONSUMER_SECRET, ENCRYPTION_KEY, USERNAME, KeyPair
from tests.emulated import emulator_config

CALLBACK = "https://tokens.apps.example.com/oauth/callback"
PERSON = "admin@acme.example"


def org_config(pair: KeyPair, *, rotate: bool = True) -> EmulatorConfig:
    """The emulator for connected orgs: PERSON may consent at CALLBACK; rotation on or off."""
    return emulator_config(
        pair,
        usernames=(USERNAME, PERSON),
        consumer_secret=CONSUMER_SECRET,
        callback_urls=(CALLBACK,),
        rotate_refresh_tokens=rotate,
    )


class _Form(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.action = attributes.get("action") or ""
        elif tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes.get("name") or ""] = attributes.get("value") or ""


def decide(connect_url: str, decision: str = "approve", username: str = PERSON) -> dict[str, str]:
    """Open the connect link, press Allow (or Deny): the callback's query parameters."""
    page = requests.get(connect_url, timeout=10)
    assert page.status_code == 200, page.text
    form = _Form(page.text)
    parts = urlsplit(connect_url)
    action = form.action
    if action.startswith("/"):
        action = f"{parts.scheme}://{parts.netloc}{action}"
    answer = requests.post(
        action,
        data={**form.fields, "username": username, "decision": decision},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code in (302, 303), answer.text
    location = answer.headers["Location"]
    assert location.startswith(CALLBACK)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def stored_refresh_token(database_url: str, name: str) -> tuple[str, str]:
    """(the column as a database reader sees it, the refresh token the key opens)."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            raw = connection.execute(
                text("SELECT refresh_token FROM connections WHERE name = :n"), {"n": name}
            ).scalar_one()
    finally:
        engine.dispose()
    opened = json.loads(Fernet(ENCRYPTION_KEY).decrypt(raw.encode()))
    return raw, opened["secret"]


def refresh_at(emulator_url: str, refresh_token: str, secret: str, key: str) -> requests.Response:
    return requests.post(
        f"{emulator_url}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": key,
            "client_secret": secret,
        },
        timeout=10,
    )
