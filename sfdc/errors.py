"""One exception tree for the whole service.

Every error carries what a person needs to act on it: a stable ``code`` (for a
Salesforce refusal, Salesforce's own ``error``), a ``description`` of what
happened, a ``hint`` saying what to change, ``retryable`` (whether trying the
same thing later can help), and the HTTP ``status`` the service answers with.
The web layer turns any of them into the contract's JSON error; the CLI into
one line on stderr. None of them ever holds a secret.

    SfdcError
    ├── ConfigError               bad setting, binding or key (start-up)
    ├── RequestError              a caller's request we refuse (400/401)
    └── UpstreamError             anything about talking to Salesforce
        ├── SalesforceRefusal     Salesforce answered with an OAuth error (502)
        ├── SalesforceUnavailable unreachable, or 5xx/408/429 after retries (503)
        ├── SalesforceTimeout     no answer within the timeout (504)
        └── UpstreamProtocolError an answer we cannot read: not JSON, empty (502)
"""

from __future__ import annotations

from typing import Any


class SfdcError(Exception):
    """Base of every error this package raises on purpose."""

    code = "sfdc_error"
    status = 500
    retryable = False

    def __init__(
        self,
        description: str,
        *,
        hint: str = "",
        code: str | None = None,
        status: int | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.hint = hint
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if retryable is not None:
            self.retryable = retryable

    def to_dict(self) -> dict[str, Any]:
        """The contract's error body."""
        return {
            "error": self.code,
            "error_description": self.description,
            "hint": self.hint,
            "retryable": self.retryable,
        }

    def one_line(self) -> str:
        """For logs and the CLI: what happened, then what to do."""
        return f"{self.description} Fix: {self.hint}" if self.hint else self.description

    def __str__(self) -> str:
        return self.one_line()


class ConfigError(SfdcError):
    """The configuration cannot work; raised at start-up, before serving."""

    code = "configuration_error"


class RequestError(SfdcError):
    """A caller's request that we refuse; ``status`` is 400 or 401."""

    code = "invalid_request"
    status = 400


class UpstreamError(SfdcError):
    """Base for everything that went wrong talking to Salesforce."""

    status = 502


class SalesforceRefusal(UpstreamError):
    """Salesforce answered with an OAuth error; ``code`` is its ``error``."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        hint: str,
        retryable: bool,
        upstream_status: int,
    ) -> None:
        super().__init__(description, hint=hint, code=error, retryable=retryable)
        self.upstream_status = upstream_status


class SalesforceUnavailable(UpstreamError):
    """Salesforce could not be reached, or kept answering 5xx/408/429."""

    code = "salesforce_unavailable"
    status = 503
    retryable = True


class SalesforceTimeout(UpstreamError):
    """Salesforce did not answer within the configured timeout."""

    code = "salesforce_timeout"
    status = 504
    retryable = True


class UpstreamProtocolError(UpstreamError):
    """Salesforce (or something in between) answered with a body we cannot use."""

    code = "invalid_upstream_response"
    retryable = True


class DatabaseUnavailable(SfdcError):
    """The connections database could not be used; nothing about the request was stored."""

    code = "database_unavailable"
    status = 503
    retryable = True


class RefreshInProgress(SfdcError):
    """Another process holds a connection's refresh lease and has not finished in time."""

    code = "refresh_in_progress"
    status = 503
    retryable = True

    def __init__(self, name: str) -> None:
        super().__init__(
            f"Another process is refreshing the token of connection '{name}' and has not "
            "finished yet.",
            hint="Retry in a few seconds. If this persists, look for refresh errors in the "
            "log (python -m sfdc check lists each connection's last failure).",
        )
