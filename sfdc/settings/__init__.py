"""Settings: what the service is told, read once and validated at start-up.

The environment and Cloud Foundry's bindings (through cfenv) become one frozen
``Settings``: the signing key and certificate (``keys``), the login host and
audience (``hosts``), the bound CredHub credential (``cloudfoundry``), Redis
(``redis``), the connections database (``database``), the keep-alive job's
timing (``keepalive``, read by ``durations``), the alerts webhook
(``webhook``) and the service's own address for the proxy (``public``).
Anything that cannot work stops start-up with one ``ConfigError`` line naming
the fix.

May import: ``sfdc.errors``, ``sfdc.clock`` and ``sfdc.telemetry``; nothing above them.
"""
