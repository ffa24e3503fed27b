"""Access tokens: minted, cached, shared, refreshed, and sealed at rest.

``assertion`` signs the JWT; ``token`` and ``exchange`` are what a grant
yields; ``service`` (``TokenService``) composes the JWT bearer flow with the
caches: ``provider`` (process memory, one flight, background refresh),
``shared_cache`` (sealed entries in Redis, a cluster-wide lock), ``cooldown``
(backing off a refusing Salesforce) and ``sealing`` (the one scheme for
everything kept at rest, in Redis and in the connections database).
``identity`` is the connection test through the identity URL.

May import: ``sfdc.salesforce``, ``sfdc.settings``, ``sfdc.errors``, ``sfdc.clock``,
``sfdc.telemetry``.
"""
