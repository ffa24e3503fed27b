"""Scopes: which capability a key has over which resource, and the decision per request.

A scope is ``<capability>:<resource>``. Capabilities:

- ``token``: receive access tokens (``/token``, ``/connection``); implies ``proxy``.
- ``proxy``: call Salesforce through the proxy, never seeing a token.
- ``connections``: manage connections (connect links, list, show, delete, replace).
- ``keys``: manage keys; its resource is always ``*`` (``keys`` alone means ``keys:*``).

A resource is ``jwt`` (the service's own JWT integration identity), a
connection name, or ``*`` (every connection and ``jwt``). The decision is pure:
scopes in, the missing scope (or None) out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sfdc.errors import InvalidRequest
from sfdc.orgs.records import NAME_PATTERN

TOKEN = "token"  # noqa: S105 - a capability's name, not a secret
PROXY = "proxy"
CONNECTIONS = "connections"
KEYS = "keys"
CAPABILITIES = (TOKEN, PROXY, CONNECTIONS, KEYS)
JWT = "jwt"
ANY = "*"
# What each capability also grants: a key that may receive tokens may as well proxy.
_IMPLIES = {TOKEN: (TOKEN, PROXY)}
_RESOURCE = re.compile(NAME_PATTERN)
# One scope, as JSON Schema (ECMA-262) and Python both read it; the OpenAPI document states it.
_NAME = NAME_PATTERN.removeprefix("^").removesuffix("$")
SCOPE_PATTERN = rf"^(keys(:\*)?|(token|proxy|connections):(\*|{_NAME}))$"
GRAMMAR = (
    "capability:resource, e.g. proxy:acme, token:jwt, connections:*, keys; capabilities "
    f"{', '.join(CAPABILITIES)}; resources jwt, a connection name, or *"
)


@dataclass(frozen=True, order=True)
class Scope:
    capability: str
    resource: str

    def __str__(self) -> str:
        return KEYS if self.capability == KEYS else f"{self.capability}:{self.resource}"


FULL_ACCESS = tuple(Scope(capability, ANY) for capability in CAPABILITIES)


def parse_scope(text: str) -> Scope:
    """``proxy:acme`` as a Scope; InvalidRequest naming the grammar for anything else."""
    capability, colon, resource = text.strip().partition(":")
    if capability == KEYS and resource in ("", ANY):
        return Scope(KEYS, ANY)
    if (
        capability not in CAPABILITIES
        or capability == KEYS
        or not colon
        or not (resource == ANY or _RESOURCE.fullmatch(resource))
    ):
        raise InvalidRequest(f"'{text[:80]}' is not a scope.", hint=f"Write scopes as {GRAMMAR}.")
    return Scope(capability, resource)


def parse_scopes(texts: Iterable[str]) -> tuple[Scope, ...]:
    """Scopes from strings, each of which may hold several separated by spaces or commas."""
    found = {parse_scope(word) for text in texts for word in re.split(r"[\s,]+", text) if word}
    if not found:
        raise InvalidRequest("A key needs at least one scope.", hint=f"Write scopes as {GRAMMAR}.")
    return tuple(sorted(found))


def needed(capability: str, connection: str | None) -> Scope:
    """The scope a request needs: ``capability`` over the connection, or over ``jwt``."""
    if capability == KEYS:
        return Scope(KEYS, ANY)
    return Scope(capability, JWT if connection is None else connection)


def allows(scopes: Iterable[Scope], capability: str, connection: str | None) -> bool:
    """Whether ``scopes`` grant ``capability`` over ``connection`` (None: the JWT identity)."""
    want = needed(capability, connection)
    for scope in scopes:
        if want.capability in _IMPLIES.get(scope.capability, (scope.capability,)) and (
            scope.resource in (ANY, want.resource)
        ):
            return True
    return False


def granted(scopes: Iterable[Scope], capability: str) -> frozenset[str] | None:
    """The connection names ``scopes`` grant ``capability`` over, or None for all of them
    (a ``*`` scope): the filter a list of connections is read through."""
    names: set[str] = set()
    for scope in scopes:
        if capability in _IMPLIES.get(scope.capability, (scope.capability,)):
            if scope.resource == ANY:
                return None
            if scope.resource != JWT:
                names.add(scope.resource)
    return frozenset(names)
