"""The browser half of the web-server flow: consent page, approve, deny, and the errors
that must never redirect to an unregistered URI."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sfdc.emulator import RunningEmulator
from tests.emulator.emulator_support import ALICE, BOB, CONSUMER_KEY, STRANGER
from tests.emulator.web_flow_support import (
    AUTHORIZE,
    CALLBACK,
    CALLBACK_WITH_QUERY,
    ConsentForm,
    approve,
    authorize_request,
    callback,
    consent_form,
    submit,
)

HOSTILE = "\"'><script>alert('x')</script>&amp;"
StartWebEmulator = Callable[..., RunningEmulator]


def stats(http: requests.Session, emulator: RunningEmulator) -> dict[str, int]:
    body: dict[str, int] = http.get(f"{emulator.url}/_emulator/stats", timeout=10).json()
    return body


# --- consent page ------------------------------------------------------------------------


def test_consent_page_asks_for_the_scopes_with_allow_and_deny(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    response = authorize_request(http, web_emulator.url, scope="api refresh_token", state="s1")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = response.text
    assert '<button type="submit" name="decision" value="approve" id="approve">Allow</button>' in (
        page
    )
    assert '<button type="submit" name="decision" value="deny" id="deny">Deny</button>' in page
    assert '<select name="username" id="username">' in page
    assert CONSUMER_KEY in page
    assert 'data-scope="api"' in page
    assert 'data-scope="refresh_token"' in page
    assert 'data-scope="openid"' not in page
    form = ConsentForm(page)
    assert (form.method, form.action) == ("post", AUTHORIZE)
    assert form.usernames == [ALICE, BOB]
    assert form.selected == ALICE
    assert form.hidden == {
        "response_type": "code",
        "client_id": CONSUMER_KEY,
        "redirect_uri": CALLBACK,
        "scope": "api refresh_token",
        "state": "s1",
    }


def test_consent_page_preselects_the_login_hint_only_if_it_is_a_user(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    assert consent_form(http, web_emulator.url, login_hint=BOB).selected == BOB
    assert consent_form(http, web_emulator.url, login_hint=STRANGER).selected == ALICE


def test_consent_page_without_scope_lists_every_app_scope(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    page = authorize_request(http, web_emulator.url).text
    for scope in web_emulator.config.oauth_scopes:
        assert f'data-scope="{scope}"' in page


def test_hostile_state_is_escaped_on_the_page_and_returned_intact(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    response = authorize_request(http, web_emulator.url, state=HOSTILE, login_hint=HOSTILE)
    assert "<script>" not in response.text
    assert "&#34;&#39;&gt;&lt;script&gt;" in response.text
    form = ConsentForm(response.text)
    assert form.hidden["state"] == HOSTILE
    assert callback(submit(http, web_emulator.url, form, "approve"))["state"] == HOSTILE


# --- errors that must not redirect ---------------------------------------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example.com/oauth/callback",
        CALLBACK + "/more",
        CALLBACK.upper(),
        CALLBACK + "?x=1",
        None,
    ],
)
def test_unregistered_redirect_uri_gets_an_error_page_and_no_redirect(
    http: requests.Session, web_emulator: RunningEmulator, redirect_uri: str | None
) -> None:
    response = authorize_request(http, web_emulator.url, redirect_uri=redirect_uri, state="s")
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert "redirect_uri_mismatch" in response.text


@pytest.mark.parametrize("client_id", ["3MVG9_someone_else", "", None])
def test_unknown_client_id_gets_an_error_page_and_no_redirect(
    http: requests.Session, web_emulator: RunningEmulator, client_id: str | None
) -> None:
    response = authorize_request(http, web_emulator.url, client_id=client_id)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "invalid_client_id" in response.text


def test_emulator_without_callback_urls_never_redirects(
    http: requests.Session, emulator: RunningEmulator
) -> None:
    response = authorize_request(http, emulator.url)
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_a_tampered_form_is_checked_again(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    form = consent_form(http, web_emulator.url)
    form.hidden["redirect_uri"] = "https://evil.example.com/"
    response = submit(http, web_emulator.url, form, "approve")
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "redirect_uri_mismatch" in response.text
    assert stats(http, web_emulator)["codes_issued"] == 0


def test_approving_as_someone_outside_the_org_is_refused(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    form = consent_form(http, web_emulator.url)
    response = submit(http, web_emulator.url, form, "approve", username=STRANGER)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert stats(http, web_emulator)["codes_issued"] == 0


# --- errors that redirect ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "unsupported_response_type"),
        ({"scope": "api full"}, "invalid_scope"),
        ({"code_challenge": "abc", "code_challenge_method": "plain"}, "invalid_request"),
    ],
)
def test_bad_request_to_a_registered_callback_redirects_with_the_error(
    http: requests.Session,
    web_emulator: RunningEmulator,
    params: dict[str, str | None],
    error: str,
) -> None:
    response = authorize_request(http, web_emulator.url, state="xyz", **params)
    answer = callback(response)
    assert answer["error"] == error
    assert answer["state"] == "xyz"
    assert answer["error_description"]
    assert "code" not in answer


# --- approve and deny ----------------------------------------------------------------------


def test_approve_redirects_with_a_code_and_the_state(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    answer = approve(http, web_emulator.url, state="opaque-123")
    assert set(answer) == {"code", "state"}
    assert answer["state"] == "opaque-123"
    assert len(answer["code"]) >= 32
    assert stats(http, web_emulator)["codes_issued"] == 1


def test_without_state_the_callback_gets_only_the_code(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    assert set(approve(http, web_emulator.url)) == {"code"}


def test_a_callback_with_a_query_keeps_it_and_gets_the_code_appended(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    form = consent_form(http, web_emulator.url, redirect_uri=CALLBACK_WITH_QUERY, state="s")
    response = submit(http, web_emulator.url, form, "approve")
    location = response.headers["Location"]
    assert location.startswith(CALLBACK_WITH_QUERY + "&code=")
    query = parse_qs(urlsplit(location).query)
    assert query["tenant"] == ["acme"]
    assert query["state"] == ["s"]


def test_every_approval_gets_a_different_code(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    codes = {approve(http, web_emulator.url)["code"] for _ in range(3)}
    assert len(codes) == 3


def test_deny_redirects_with_access_denied(
    http: requests.Session, web_emulator: RunningEmulator
) -> None:
    form = consent_form(http, web_emulator.url, state="keep-me")
    response = submit(http, web_emulator.url, form, "deny")
    assert response.headers["Location"] == (
        f"{CALLBACK}?error=access_denied&error_description=end-user+denied+authorization"
        "&state=keep-me"
    )
    answer = callback(response)
    assert answer == {
        "error": "access_denied",
        "error_description": "end-user denied authorization",
        "state": "keep-me",
    }
    assert stats(http, web_emulator)["codes_issued"] == 0
