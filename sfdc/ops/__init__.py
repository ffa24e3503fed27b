"""Operator commands, ``python -m sfdc``: keygen, token, check, smoke, reseal, keepalive,
keys, emulator.

A thin CLI (``cli``) over core functions: ``keygen`` writes credentials for
CredHub, ``check`` diagnoses a deployment, ``smoke`` tests a deployed service,
``reseal`` moves stored secrets to the newest encryption key, ``keepalive``
runs the connected orgs' keep-alive job, ``keys`` (its own module) creates, lists,
rotates and revokes named API keys; ``one_line`` is how both fail (one line, exit 1).

May import: every core part (``sfdc.access``, ``sfdc.orgs`` and below, ``sfdc.client``) and
``sfdc.emulator`` for its own command; never ``sfdc.web``.
"""
