"""Failures on this service's side: its configuration, its database, its own bugs."""

from __future__ import annotations

from sfdc.errors.base import ServiceError, SfdcError


class ConfigError(SfdcError):
    """The configuration cannot work: raised at start-up (or by the CLI), before serving.

    It stops the process with one line naming the fix; it is never an HTTP answer,
    so it is not in ``catalogue()``.
    """

    code = "configuration_error"


class InternalError(ServiceError):
    """A bug: logged with its traceback for the operator; the caller gets no trace."""

    code = "internal_error"
    retryable = True
    hint = "Retry; if it persists, read the service's logs (`cf logs APP --recent`)."


class ConnectionsNotEnabled(ServiceError):
    """Connected orgs are off: no encryption key or consumer secret was configured."""

    code = "connections_not_enabled"
    status = 501
    hint = (
        "Set SFDC_ENCRYPTION_KEY (generate it with `python -m sfdc keygen`) and "
        "SFDC_CONSUMER_SECRET in the bound credential, then restart; see the README's "
        "'Connecting an org'."
    )


class DatabaseUnavailable(ServiceError):
    """The connections database failed; only the driver's error class is named."""

    code = "database_unavailable"
    status = 503
    retryable = True
    hint = "Check the bound PostgreSQL service (`cf service`), or DATABASE_URL; retry in a moment."


class RefreshInProgress(ServiceError):
    """Another process holds a connection's refresh lease and has not finished in time."""

    code = "refresh_in_progress"
    status = 503
    retryable = True
    hint = (
        "Retry in a few seconds. If it persists, look for refresh errors in the log; "
        "`python -m sfdc check` lists each connection's state."
    )

    def __init__(self, name: str) -> None:
        super().__init__(
            f"Another process is refreshing the token of connection '{name}' and has not "
            "finished yet."
        )
