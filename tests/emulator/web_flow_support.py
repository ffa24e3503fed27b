"""Helpers for the web-server (authorization code) and refresh-token flow tests.

They drive the emulator the way a browser and a client app would: read the consent page's
form, submit it, follow the callback's query, and call the token endpoint. PKCE challenges
are computed here, independently of the emulator.
"""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from tests.emulator.emulator_support import ALICE, CONSUMER_KEY, CONSUMER_SECRET, bearer

CALLBACK = "https://app.example.com/oauth/callback"
CALLBACK_WITH_QUERY = "http://localhost:1717/OauthRedirect?tenant=acme"
CALLBACKS = (CALLBACK, CALLBACK_WITH_QUERY)
AUTHORIZE = "/services/oauth2/authorize"


class ConsentForm(HTMLParser):
    """What a browser sees in the consent page's form."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.action = ""
        self.method = ""
        self.hidden: dict[str, str] = {}
        self.usernames: list[str] = []
        self.selected: str | None = None
        self.buttons: list[dict[str, str | None]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.action = attributes.get("action") or ""
            self.method = (attributes.get("method") or "").lower()
        elif tag == "input" and attributes.get("type") == "hidden":
            self.hidden[attributes["name"] or ""] = attributes.get("value") or ""
        elif tag == "option":
            value = attributes.get("value") or ""
            self.usernames.append(value)
            if "selected" in attributes:
                self.selected = value
        elif tag == "button":
            self.buttons.append(attributes)


def _with(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, str]:
    """`defaults` updated with `overrides`; an override of None removes the field."""
    merged: dict[str, Any] = {**defaults, **overrides}
    return {name: value for name, value in merged.items() if value is not None}


def authorize_request(http: requests.Session, url: str, **params: Any) -> requests.Response:
    """GET the authorize endpoint as a browser would, without following redirects."""
    defaults = {"response_type": "code", "client_id": CONSUMER_KEY, "redirect_uri": CALLBACK}
    return http.get(
        f"{url}{AUTHORIZE}", params=_with(defaults, params), allow_redirects=False, timeout=10
    )


def consent_form(http: requests.Session, url: str, **params: Any) -> ConsentForm:
    response = authorize_request(http, url, **params)
    assert response.status_code == 200, response.text
    return ConsentForm(response.text)


def submit(
    http: requests.Session,
    url: str,
    form: ConsentForm,
    decision: str,
    username: str | None = None,
) -> requests.Response:
    """Press a consent page button: post its hidden fields, the user and the decision."""
    data = {**form.hidden, "decision": decision, "username": username or form.selected or ""}
    return http.post(f"{url}{form.action}", data=data, allow_redirects=False, timeout=10)


def callback(response: requests.Response, redirect_uri: str = CALLBACK) -> dict[str, str]:
    """The query parameters a 302 to `redirect_uri` adds (those already in it excluded)."""
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    registered = urlsplit(redirect_uri)
    landed = urlsplit(location)
    assert (landed.scheme, landed.netloc, landed.path) == (
        registered.scheme,
        registered.netloc,
        registered.path,
    ), location
    query = parse_qs(landed.query, keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in query.values()), location
    added = {name: values[0] for name, values in query.items()}
    for name, values in parse_qs(registered.query).items():
        assert added.pop(name) == values[0]
    return added


def approve(
    http: requests.Session, url: str, username: str = ALICE, **params: Any
) -> dict[str, str]:
    """Open the consent page, approve as `username`, and return the callback's parameters."""
    form = consent_form(http, url, **params)
    redirect_uri = params.get("redirect_uri", CALLBACK)
    return callback(submit(http, url, form, "approve", username), redirect_uri)


def get_code(http: requests.Session, url: str, username: str = ALICE, **params: Any) -> str:
    return approve(http, url, username, **params)["code"]


def exchange(
    http: requests.Session, url: str, code: str | None, /, **fields: Any
) -> requests.Response:
    """Redeem `code` (None: send none) at the token endpoint; keyword fields override or
    (None) drop fields."""
    defaults = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": CONSUMER_KEY,
        "client_secret": CONSUMER_SECRET,
        "redirect_uri": CALLBACK,
    }
    return http.post(f"{url}/services/oauth2/token", data=_with(defaults, fields), timeout=10)


def tokens(http: requests.Session, url: str, username: str = ALICE, **params: Any) -> Any:
    """The whole flow: approve, redeem the code, return the token response body."""
    response = exchange(http, url, get_code(http, url, username, **params))
    assert response.status_code == 200, response.text
    return response.json()


def refresh(
    http: requests.Session, url: str, refresh_token: str | None, /, **fields: Any
) -> requests.Response:
    """Use `refresh_token` (None: send none); keyword fields override or (None) drop fields."""
    defaults = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": CONSUMER_KEY,
        "client_secret": CONSUMER_SECRET,
    }
    return http.post(f"{url}/services/oauth2/token", data=_with(defaults, fields), timeout=10)


def revoke(http: requests.Session, url: str, token: str) -> requests.Response:
    return http.post(f"{url}/services/oauth2/revoke", data={"token": token}, timeout=10)


def rest_status(http: requests.Session, url: str, token: str) -> int:
    """Status of an authenticated REST call: 200 with a live session, 401 without."""
    return http.get(f"{url}/services/data/v62.0/", headers=bearer(token), timeout=10).status_code


def s256(verifier: str) -> str:
    """The PKCE S256 code_challenge for `verifier` (RFC 7636 section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def assert_refused(response: requests.Response, error: str, description: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() == {"error": error, "error_description": description}
