"""An emulator behind a TLS front names itself by the address its clients reach.

Salesforce's instance URL, identity URLs and the links in its documents are https URLs of
the host the client called. Behind a front that terminates TLS (as the client tests put
it), the emulator takes that address from `X-Forwarded-Proto` / `X-Forwarded-Host`; by
default it ignores them, so a caller that forwards such headers cannot make the
emulator's links look already rewritten.
"""

from __future__ import annotations

from collections.abc import Callable

import requests

from sfdc.emulator import EmulatorConfig, running_emulator
from tests.emulator.emulator_support import bearer, post_token

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "front.example:8443"}


def _token(
    http: requests.Session, url: str, assertion: str, headers: dict[str, str]
) -> dict[str, str]:
    http.headers.update(headers)
    response = post_token(http, url, assertion)
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def test_behind_a_front_the_urls_are_the_fronts(
    http: requests.Session,
    make_config: Callable[..., EmulatorConfig],
    make_assertion: Callable[..., str],
) -> None:
    with running_emulator(make_config(behind_front=True)) as emulator:
        token = _token(http, emulator.url, make_assertion(), FORWARDED)
        assert token["instance_url"] == "https://front.example:8443"
        assert token["id"].startswith("https://front.example:8443/id/")
        # The identity URL names the front; the request itself went to the emulator.
        identity = http.get(
            emulator.url + token["id"].removeprefix("https://front.example:8443"),
            headers=bearer(token["access_token"]),
            timeout=10,
        )
        assert identity.status_code == 200, identity.text
        assert identity.json()["urls"]["rest"].startswith("https://front.example:8443/")


def test_by_default_forwarded_headers_change_nothing(
    http: requests.Session,
    make_config: Callable[..., EmulatorConfig],
    make_assertion: Callable[..., str],
) -> None:
    with running_emulator(make_config()) as emulator:
        token = _token(http, emulator.url, make_assertion(), FORWARDED)
        assert token["instance_url"] == emulator.url
        assert token["id"].startswith(f"{emulator.url}/id/")


def test_a_front_without_forwarded_headers_leaves_the_request_address(
    http: requests.Session,
    make_config: Callable[..., EmulatorConfig],
    make_assertion: Callable[..., str],
) -> None:
    with running_emulator(make_config(behind_front=True)) as emulator:
        token = _token(http, emulator.url, make_assertion(), {"X-Forwarded-Proto": "gopher"})
        assert token["instance_url"] == emulator.url
