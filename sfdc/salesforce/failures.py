"""Why a call to Salesforce failed, read from the exceptions' types, never their messages.

A failure arrives wrapped: requests' ``ConnectionError`` holds urllib3's
``MaxRetryError`` in ``args[0]``, whose ``reason`` is, say, a
``NewConnectionError`` raised from the socket's ``ConnectionRefusedError``.
Message texts differ between versions, platforms and locales; the types do
not, so ``cause`` walks the whole chain and asks about types. One trap decides
the order of the questions: in urllib3 2.x ``NewConnectionError`` (refused,
DNS, unreachable network) is a subclass of ``ConnectTimeoutError``, so "did
the connection fail?" is asked before "did it time out?"; asked the other way
round, a closed port reads as a timeout (504) instead of Salesforce being
unreachable (503).
"""

from __future__ import annotations

import enum
import socket
import ssl
from collections.abc import Iterator

import requests
import urllib3

from sfdc.errors import SalesforceTimeout, SalesforceUnavailable


class Cause(enum.Enum):
    """What went wrong on the network; the value completes "Could not reach X: ..."."""

    TLS = "the TLS handshake failed"
    PROXY = "the egress proxy failed"
    DNS = "the host name does not resolve"
    REFUSED = "the connection was refused"
    UNREACHABLE = "the connection failed"
    RESET = "the connection was closed or reset"
    TIMEOUT = "no answer in time"

    @property
    def retryable(self) -> bool:
        """Whether another attempt can cure it: not a certificate another attempt will
        present again."""
        return self is not Cause.TLS


# Asked in this order: the first that matches anywhere in the chain is the cause.
_QUESTIONS: tuple[tuple[Cause, tuple[type[BaseException], ...]], ...] = (
    (Cause.TLS, (ssl.SSLError, urllib3.exceptions.SSLError, requests.exceptions.SSLError)),
    (Cause.PROXY, (urllib3.exceptions.ProxyError, requests.exceptions.ProxyError)),
    (Cause.DNS, (urllib3.exceptions.NameResolutionError, socket.gaierror)),
    (Cause.REFUSED, (ConnectionRefusedError,)),
    # Any other failure to connect (no route, network unreachable): before TIMEOUT,
    # since urllib3's NewConnectionError is a ConnectTimeoutError.
    (Cause.UNREACHABLE, (urllib3.exceptions.NewConnectionError,)),
    (Cause.RESET, (ConnectionResetError, BrokenPipeError, urllib3.exceptions.ProtocolError)),
    (Cause.TIMEOUT, (urllib3.exceptions.TimeoutError, requests.Timeout, TimeoutError)),
    (Cause.UNREACHABLE, (requests.ConnectionError,)),
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and all it wraps: ``args[0]`` (requests), ``reason`` (urllib3), and the
    ``__cause__``/``__context__`` links Python keeps."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        first = current.args[0] if current.args else None
        for wrapped in (getattr(current, "reason", None), first, current.__cause__):
            if isinstance(wrapped, BaseException):
                pending.append(wrapped)
        if current.__context__ is not None:
            pending.append(current.__context__)


def cause(exc: BaseException) -> Cause | None:
    """The network cause of ``exc``; None when it is not a network failure (a bad URL,
    an answer HTTP cannot parse)."""
    chain = list(_chain(exc))
    for found, types in _QUESTIONS:
        if any(isinstance(link, types) for link in chain):
            return found
    return None


def network_error(
    found: Cause, where: str, *, attempts: int, timeout: float
) -> SalesforceUnavailable | SalesforceTimeout:
    """The service's error for a call to ``where`` (a URL or ``METHOD /path``, never a
    query string: it may hold data) that failed for ``found``."""
    if found is Cause.TIMEOUT:
        return SalesforceTimeout(
            f"Salesforce did not answer {where} within {timeout:g} s ({attempts} attempt(s)).",
            hint="Salesforce may be degraded (status.salesforce.com); retry later, or raise "
            "SFDC_HTTP_TIMEOUT if calls are merely slow.",
        )
    if found is Cause.TLS:
        return SalesforceUnavailable(
            f"Could not reach {where}: {found.value}.",
            hint="If egress goes through a TLS-inspecting proxy, set REQUESTS_CA_BUNDLE="
            "/etc/ssl/certs/ca-certificates.crt so its CA is trusted; else check the host.",
        )
    return SalesforceUnavailable(
        f"Could not reach {where}: {found.value} ({attempts} attempt(s)).",
        hint="Check SFDC_LOGIN_URL, DNS and the space's egress rules (security groups, "
        "proxy); retry later.",
    )
