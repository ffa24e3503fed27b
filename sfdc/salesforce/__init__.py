"""The wire to Salesforce: HTTP with timeouts, retries and pooled connections.

``transport`` (the one HTTP seam: timeouts, retry policy), ``failures`` (why
a call failed, by exception type: unreachable or too slow), ``pools``
(keep-alive pools per host), ``oauth`` (the token, revoke and introspect
endpoints), ``refusals`` (what each Salesforce refusal means and what to do
about it) and ``paths`` (which API paths a caller may have proxied, and which
headers cross).

May import: ``sfdc.settings``, ``sfdc.errors``, ``sfdc.clock``, ``sfdc.telemetry``.
"""
