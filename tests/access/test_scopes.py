"""The scope grammar and the decision it drives: pure, so every case is a line."""

from __future__ import annotations

import re

import pytest

from sfdc.access import keys
from sfdc.access.caller import Caller
from sfdc.access.scopes import (
    FULL_ACCESS,
    SCOPE_PATTERN,
    Scope,
    allows,
    granted,
    needed,
    parse_scope,
    parse_scopes,
)
from sfdc.errors import InvalidRequest

# The sf CLI's check that a string is an access token (sfdx-core's sfdc.matchesAccessToken).
SF_ACCESS_TOKEN = re.compile(r"^(00D\w{12,15})![.\w]*$")


def test_a_new_key_has_the_contract_form_and_passes_the_sf_cli_check() -> None:
    key_id, key = keys.new_key()
    assert re.fullmatch(r"00Dsfk[a-z2-7]{10}![A-Za-z0-9]{43}", key)
    assert SF_ACCESS_TOKEN.fullmatch(key)
    assert keys.key_id(key) == key_id
    assert keys.new_key()[1] != key


def test_a_rotated_key_keeps_its_id_and_changes_its_secret() -> None:
    key_id, key = keys.new_key()
    same_id, rotated = keys.new_key(key_id)
    assert same_id == key_id
    assert keys.key_id(rotated) == key_id
    assert rotated != key
    assert not keys.matches(rotated, keys.digest(key))
    assert keys.matches(key, keys.digest(key))


@pytest.mark.parametrize(
    "text", ["test-api-key-0123456789abcdef", "00Dsfkabc!x", "00DsfkABCDEFGHIJ!" + "a" * 43, ""]
)
def test_strings_not_of_the_named_form_have_no_key_id(text: str) -> None:
    assert keys.key_id(text) is None


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        ("proxy:acme", Scope("proxy", "acme")),
        ("token:jwt", Scope("token", "jwt")),
        ("connections:*", Scope("connections", "*")),
        ("keys", Scope("keys", "*")),
        ("keys:*", Scope("keys", "*")),
    ],
)
def test_scopes_parse_as_the_grammar_says(text: str, scope: Scope) -> None:
    assert parse_scope(text) == scope
    assert re.fullmatch(SCOPE_PATTERN, text)


@pytest.mark.parametrize(
    "text", ["proxy", "admin:acme", "proxy:", "proxy:-acme", "keys:acme", "token:a b", "*:*"]
)
def test_anything_else_is_refused_with_the_grammar_in_the_hint(text: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_scope(text)
    assert "proxy:acme" in refused.value.hint
    assert not re.fullmatch(SCOPE_PATTERN, text)


def test_several_scopes_in_one_string_or_many_are_one_sorted_set() -> None:
    assert parse_scopes(["proxy:acme token:jwt", "proxy:acme,keys"]) == (
        Scope("keys", "*"),
        Scope("proxy", "acme"),
        Scope("token", "jwt"),
    )
    with pytest.raises(InvalidRequest):
        parse_scopes([" "])


PROXY_ACME = (Scope("proxy", "acme"),)


@pytest.mark.parametrize(
    ("scopes", "capability", "connection", "allowed"),
    [
        # the "done when": proxy over acme, nothing else
        (PROXY_ACME, "proxy", "acme", True),
        (PROXY_ACME, "token", "acme", False),
        (PROXY_ACME, "proxy", "globex", False),
        (PROXY_ACME, "connections", "acme", False),
        (PROXY_ACME, "proxy", None, False),
        (PROXY_ACME, "keys", None, False),
        # token implies proxy, not the other way round
        ((Scope("token", "acme"),), "proxy", "acme", True),
        ((Scope("token", "acme"),), "token", "acme", True),
        ((Scope("token", "acme"),), "connections", "acme", False),
        # jwt is a resource of its own; * covers it and every connection
        ((Scope("token", "jwt"),), "token", None, True),
        ((Scope("token", "jwt"),), "token", "acme", False),
        ((Scope("proxy", "*"),), "proxy", None, True),
        ((Scope("proxy", "*"),), "proxy", "globex", True),
        ((Scope("connections", "*"),), "connections", "acme", True),
        ((Scope("connections", "*"),), "proxy", "acme", False),
        ((Scope("keys", "*"),), "keys", None, True),
        ((Scope("keys", "*"),), "token", None, False),
        (FULL_ACCESS, "keys", None, True),
        (FULL_ACCESS, "token", "anything", True),
        ((), "proxy", "acme", False),
    ],
)
def test_the_decision(
    scopes: tuple[Scope, ...], capability: str, connection: str | None, allowed: bool
) -> None:
    assert allows(scopes, capability, connection) is allowed
    caller = Caller("billing-app", "abcdefghij", scopes)
    assert caller.may(capability, connection) is allowed
    assert (caller.missing(capability, connection) is None) is allowed


def test_the_missing_scope_names_the_connection_or_jwt() -> None:
    assert str(needed("token", "acme")) == "token:acme"
    assert str(needed("proxy", None)) == "proxy:jwt"
    assert str(needed("keys", None)) == "keys"
    caller = Caller("billing-app", "abcdefghij", PROXY_ACME)
    assert str(caller.missing("connections", "acme")) == "connections:acme"


def test_granted_names_the_connections_a_capability_covers() -> None:
    scopes = (Scope("connections", "acme"), Scope("proxy", "globex"), Scope("token", "jwt"))
    assert granted(scopes, "connections") == {"acme"}
    # token:jwt implies proxy over the JWT identity, which is no connection.
    assert granted(scopes, "proxy") == {"globex"}
    assert granted((*scopes, Scope("token", "initech")), "proxy") == {"globex", "initech"}
    assert granted((Scope("connections", "*"),), "connections") is None  # all of them
