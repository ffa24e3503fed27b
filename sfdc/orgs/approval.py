"""What the person opening a connect link is asked to approve, before Salesforce.

A connect link opens the service's own page first (``sfdc.web.approve``):
it names the client whose key asked, the connection name, the login and
scopes, and, for an existing connection, who and where it is bound to now
and whether approving may replace that. Its button goes on to Salesforce's
authorize URL, rebuilt here from the pending request (the state's signature
is deterministic, the PKCE challenge comes from the sealed verifier), so
nothing more than the request itself is stored.
"""

from __future__ import annotations

from typing import Any

from sfdc.errors import StateExpired, StateUnreadable, StateUsed
from sfdc.orgs.consent import challenge
from sfdc.orgs.onboarding import Onboarding
from sfdc.orgs.records import describe


def pending(onboarding: Onboarding, nonce: str) -> dict[str, Any]:
    """The pending connect link ``nonce``: name, client, login, scopes, expiry, whether it
    may replace, the connection as bound now (or None), and Salesforce's authorize URL."""
    found = onboarding.store.get_request(nonce)
    if found is None:
        raise StateUsed("This connect link was already used, or never existed.")
    if onboarding.clock() >= found.expires_at:
        raise StateExpired("This connect link has expired; nothing was stored.")
    verifier = onboarding.sealer.open(found.code_verifier, name=nonce, purpose="code_verifier")
    if verifier is None:
        raise StateUnreadable(
            "This connect link was sealed with an encryption key this service no longer holds."
        )
    existing = onboarding.store.get(found.name)
    state = onboarding.signer.state(nonce, found.expires_at)
    return {
        "name": found.name,
        "client": found.requested_by,
        "login_url": found.login_url,
        "scopes": found.scopes,
        "expires_at": found.expires_at,
        "replace": found.replace_org,
        "existing": describe(existing) if existing is not None else None,
        "authorize_url": onboarding.authorize_url(found, state, challenge(verifier)),
    }
