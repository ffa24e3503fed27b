"""Network failures over real sockets: unreachable is a 503, too slow a 504, by type.

Both of the transport's paths are exercised: ``request`` (token endpoint,
identity URL; through requests) and ``open`` (the API proxy; urllib3 directly,
where a closed port once came out as a timeout).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import pytest
import requests

from sfdc.errors import SalesforceTimeout, SalesforceUnavailable, UpstreamError
from sfdc.salesforce.transport import RetryPolicy, Transport
from tests.fakes import answering_server, closed_port, silent_server

Call = Callable[[Transport, str], object]
CALLS: dict[str, Call] = {
    "request": lambda transport, url: transport.request("POST", url, data={"a": "b"}),
    "open": lambda transport, url: transport.open("GET", url, headers={}),
}


def _transport() -> Transport:
    return Transport(requests.Session(), timeout=0.5, retry=RetryPolicy(attempts=1))


def _failure(call: str, url: str) -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        CALLS[call](_transport(), url)
    return caught.value


@pytest.mark.parametrize("call", CALLS)
def test_a_closed_port_is_unavailable_not_a_timeout(call: str) -> None:
    error = _failure(call, f"http://127.0.0.1:{closed_port()}/services/data/v60.0/limits?q=1")
    assert isinstance(error, SalesforceUnavailable)
    assert (error.status, error.code, error.retryable) == (503, "salesforce_unavailable", True)
    assert "the connection was refused" in error.description
    assert "q=1" not in error.description, "a query may hold the caller's data"


@pytest.mark.parametrize("call", CALLS)
def test_a_server_that_never_answers_is_a_timeout(call: str) -> None:
    with silent_server() as port:
        error = _failure(call, f"http://127.0.0.1:{port}/services/oauth2/token")
    assert isinstance(error, SalesforceTimeout)
    assert (error.status, error.code, error.retryable) == (504, "salesforce_timeout", True)


@pytest.mark.parametrize("call", CALLS)
def test_a_host_that_does_not_resolve_is_unavailable(call: str) -> None:
    error = _failure(call, "http://sfdc-token-service-test.invalid/services/oauth2/token")
    assert error.status == 503
    assert "does not resolve" in error.description


def _hang_up(connection: socket.socket, _done: threading.Event) -> None:
    connection.shutdown(socket.SHUT_RDWR)


def _stall_after_headers(connection: socket.socket, _done: threading.Event) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")


@pytest.mark.parametrize("call", CALLS)
def test_a_server_hanging_up_without_an_answer_is_unavailable(call: str) -> None:
    with answering_server(_hang_up) as port:
        error = _failure(call, f"http://127.0.0.1:{port}/services/oauth2/token")
    assert error.status == 503
    assert "closed or reset" in error.description


def test_a_body_that_stops_after_the_headers_is_a_timeout() -> None:
    """requests does not wrap urllib3's errors raised while the raw body is read."""
    with answering_server(_stall_after_headers) as port:
        error = _failure("request", f"http://127.0.0.1:{port}/services/oauth2/token")
    assert isinstance(error, SalesforceTimeout)


def test_each_attempt_at_a_closed_port_is_retried_and_counted() -> None:
    transport = Transport(
        requests.Session(), timeout=0.5, retry=RetryPolicy(attempts=2, base_delay=0.01)
    )
    with pytest.raises(SalesforceUnavailable, match=r"refused \(2 attempt\(s\)\)"):
        transport.request("POST", f"http://127.0.0.1:{closed_port()}/services/oauth2/token")
