"""Who may do what: named API keys, their scopes, and the decision on each request.

``keys`` makes and recognizes keys of the form ``00Dsfk<id>!<secret>`` and
hashes them (only the hash is stored); ``scopes`` is the scope grammar
(``proxy:acme``, ``token:jwt``, ``connections:*``, ``keys``) and the pure
decision whether a caller's scopes allow a capability over a resource;
``schema`` and ``store`` keep named keys in the connections database;
``keyring`` turns a presented key into a ``Caller`` (configured full-access
keys first, then named keys through a short per-process cache, so a
revocation reaches every process within ``REVOCATION_DELAY``).

May import: ``sfdc.orgs`` (the database, its schema base and name rules),
``sfdc.settings``, ``sfdc.errors``, ``sfdc.clock``, ``sfdc.telemetry``. Never Flask.
"""
