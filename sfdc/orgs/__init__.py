"""Connected orgs: onboarding through the web-server flow, stored refresh tokens.

``connections.Connections`` is the entry point; ``onboarding`` makes connect
links and takes the OAuth callback, ``consent`` signs the link's state and
PKCE pair, ``refresh`` turns a stored refresh token into access tokens,
``sources`` hands them out per process (shared through Redis, kept in an LRU),
``store`` and ``schema`` hold the database (migrated by ``migrations``),
``records`` names a connection's states, ``parked`` keeps rotated refresh
tokens the database could not take yet. Its secrets are sealed by
``sfdc.tokens.sealing.ColumnSealer``; ``reseal`` seals them all again under
the first key, so an old key can be retired.
Upkeep: ``backoff`` spaces out failing refreshes across processes,
``keepalive`` refreshes idle connections (one process at a time, by a lease
in ``jobs``), ``alerts`` announces connections that need consent or
recover, through the signed ``webhook``.

May import: ``sfdc.tokens``, ``sfdc.salesforce``, ``sfdc.settings``,
``sfdc.errors``, ``sfdc.clock``, ``sfdc.telemetry``.
"""
