"""The caller behind a request: which client, by which key, allowed what."""

from __future__ import annotations

from dataclasses import dataclass

from sfdc.access.scopes import FULL_ACCESS, Scope, allows, needed

# The client name of keys configured in SFDC_API_KEYS / the credential's api_keys.
CONFIGURED_CLIENT = "SFDC_API_KEYS"


@dataclass(frozen=True)
class Caller:
    """A key's holder: ``client`` names it in logs and metrics; never holds the key."""

    client: str
    key_id: str | None
    scopes: tuple[Scope, ...]
    default_connection: str | None = None

    def missing(self, capability: str, connection: str | None) -> Scope | None:
        """The scope this caller lacks for ``capability`` over ``connection``, or None."""
        if allows(self.scopes, capability, connection):
            return None
        return needed(capability, connection)

    def may(self, capability: str, connection: str | None) -> bool:
        return self.missing(capability, connection) is None


def configured() -> Caller:
    """The full-access caller holding a configured key."""
    return Caller(CONFIGURED_CLIENT, None, FULL_ACCESS)
