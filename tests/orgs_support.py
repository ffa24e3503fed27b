"""Helpers for connected-org tests: the emulated app, a person at its consent page, the DB."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from sfdc.emulator import EmulatorConfig
from tests.conftest import API_KEY, CONSUMER_SECRET, ENCRYPTION_KEY, USERNAME, KeyPair
from tests.emulated import emulator_config
from tests.sealing_support import open_column

CALLBACK = "https://tokens.apps.example.com/oauth/callback"
PERSON = "admin@acme.example"


def org_config(pair: KeyPair, *, rotate: bool = True, **overrides: Any) -> EmulatorConfig:
    """The connected app with a consumer secret and CALLBACK, where PERSON may consent;
    refresh-token rotation on unless ``rotate`` is False."""
    fields: dict[str, Any] = {
        "usernames": (USERNAME, PERSON),
        "consumer_secret": CONSUMER_SECRET,
        "callback_urls": (CALLBACK,),
        "rotate_refresh_tokens": rotate,
        **overrides,
    }
    return emulator_config(pair, **fields)


def connected_env(seed_env: dict[str, str], login_url: str, database_url: str) -> dict[str, str]:
    """A deployment with connected orgs on, logging in at ``login_url``."""
    return {
        **seed_env,
        "SFDC_LOGIN_URL": login_url,
        "SFDC_API_KEYS": API_KEY,
        "SFDC_CONSUMER_SECRET": CONSUMER_SECRET,
        "SFDC_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "SFDC_CALLBACK_URL": CALLBACK,
        "DATABASE_URL": database_url,
    }


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


def connect(web: FlaskClient, name: str = "acme", **body: str) -> dict[str, Any]:
    """Ask for a connect link, approve it as PERSON, call the callback: the stored connection."""
    auth = {"Authorization": f"Bearer {API_KEY}"}
    answer = web.post("/connections", json={"name": name, **body}, headers=auth)
    assert answer.status_code == 201, answer.json
    link: dict[str, Any] = answer.json  # type: ignore[assignment]
    back = decide(link["authorize_url"])
    done = web.get("/oauth/callback", query_string=back, headers={"Accept": "application/json"})
    assert done.status_code == 200, done.json
    connected: dict[str, Any] = done.json["connected"]  # type: ignore[index]
    return connected


def _rows(database_url: str, query: str, **params: str) -> list[Any]:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(query), params).all())
    finally:
        engine.dispose()


def stored_refresh_token(
    database_url: str, name: str, key: str = ENCRYPTION_KEY
) -> tuple[str, str]:
    """(the column as a database reader sees it, the refresh token the key opens)."""
    ((raw,),) = _rows(database_url, "SELECT refresh_token FROM connections WHERE name = :n", n=name)
    return raw, open_column(raw, key, name=name, purpose="refresh_token")


def sealed_values(database_url: str) -> list[tuple[str, str, str]]:
    """(value, row name, purpose) of every sealed value in the connections database."""
    found = []
    for name, refresh, access in _rows(
        database_url, "SELECT name, refresh_token, access_token FROM connections"
    ):
        found += [(refresh, name, "refresh_token"), (access, name, "access_token")]
    for nonce, verifier in _rows(database_url, "SELECT nonce, code_verifier FROM consent_requests"):
        found.append((verifier, nonce, "code_verifier"))
    return [entry for entry in found if entry[0] is not None]


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
