"""Talking to Salesforce went wrong: it refused, could not be reached, or answered nonsense.

Salesforce's refusals are the one place where the ``error`` is not this
service's word but Salesforce's own (``invalid_grant``, ``Bad_OAuth_Token``):
callers and Salesforce's documentation already speak it, so it is relayed as
it came, with a hint added. Those classes set ``salesforce_code``.
"""

from __future__ import annotations

from sfdc.errors.base import UpstreamError
from sfdc.errors.caller import CONNECT_HINT


class SalesforceRefusal(UpstreamError):
    """Salesforce answered with an OAuth error; ``code`` is its ``error`` (``invalid_grant``
    here is an example), ``retryable`` depends on which one it is."""

    code = "invalid_grant"
    salesforce_code = True
    hint = "Look up the error in the README's troubleshooting table."

    def __init__(
        self,
        error: str,
        description: str,
        *,
        hint: str,
        retryable: bool,
        upstream_status: int | None,
    ) -> None:
        super().__init__(description, hint=hint)
        self.code = error
        self.retryable = retryable
        self.upstream_status = upstream_status  # None once Salesforce's answer is not at hand


class IdentityRefusal(SalesforceRefusal):
    """The identity URL refused the token: its body is the code (``Bad_OAuth_Token``), or
    ``identity_http_<status>`` when it answered something else."""

    code = "Bad_OAuth_Token"


class ConsentRequired(UpstreamError):
    """Salesforce no longer honours a connection's refresh token; a person must consent.

    ``invalid_grant``, as Salesforce words it, so that a client handling Salesforce's
    refusal handles this one too; the web layer adds a fresh ``connect_url``.
    """

    code = "invalid_grant"
    salesforce_code = True
    hint = f"Connect it again: {CONNECT_HINT}"

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(
            f"Connection '{name}' needs consent again: Salesforce refused its refresh token "
            f"({reason})."
        )
        self.connection = name
        self.reason = reason


class NoRefreshToken(UpstreamError):
    """Salesforce granted a connection no refresh token, so it cannot be stored."""

    code = "no_refresh_token"
    hint = (
        "Add 'Perform requests at any time (refresh_token, offline_access)' to the connected "
        "app's OAuth scopes, keep refresh_token in the requested scopes, and connect again."
    )


class UpstreamProtocolError(UpstreamError):
    """Salesforce (or something in between) answered with something we cannot use."""

    code = "invalid_upstream_response"
    retryable = True
    hint = "Something other than Salesforce may be answering: check SFDC_LOGIN_URL and any proxy."


class SalesforceUnavailable(UpstreamError):
    """Salesforce could not be reached, or kept answering 5xx/408/429."""

    code = "salesforce_unavailable"
    status = 503
    retryable = True
    hint = "Check egress (security groups, proxy) to Salesforce; retry later."


class SalesforceTimeout(UpstreamError):
    """Salesforce did not answer within the configured timeout."""

    code = "salesforce_timeout"
    status = 504
    retryable = True
    hint = "Retry later, or raise SFDC_HTTP_TIMEOUT if calls are merely slow."
