"""The Procfile's server facing clients that are slow, malformed or too large.

The app runs as Cloud Foundry runs it (the Procfile's command, 2 workers)
against the emulator. Slow clients must starve no one: 100 connections send
their headers a byte a second and 50 keyed uploads trickle a large body (each
one the server drops is opened again at once), and meanwhile the health check
and a keyed ``/token`` must answer, as CF's health check and callers need.
How fast they answer is the bench's business (``make bench``); here they must
answer at all. Requests over gunicorn's limits get gunicorn's own answers,
which the README's error table lists.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import API_KEY, KeyPair
from tests.emulated import served_by_procfile
from tests.slow_clients import SlowClients

# A few seconds: far above an answer's time even on a loaded 2-core machine, and the
# checks end before the slow uploads reach their own deadline (10 s of grace), which
# would free the server whatever its workers do.
ANSWER_WITHIN = 5  # seconds
CHECKS = 4
PAUSE = 1.5  # seconds between checks


@pytest.fixture(scope="module")
def server(keypair: KeyPair, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The port of the app, served by the Procfile's command; its exit is checked after."""
    home = tmp_path_factory.mktemp("home")
    with served_by_procfile(keypair, home, API_KEY) as service:
        yield service.port


def test_health_and_token_answer_beside_slow_clients(server: int) -> None:
    base = f"http://127.0.0.1:{server}"
    answers: list[tuple[str, int]] = []
    with SlowClients(server, headers=100, bodies=50, api_key=API_KEY) as slow:
        for _ in range(CHECKS):
            time.sleep(PAUSE)
            health = requests.get(f"{base}/healthz", timeout=ANSWER_WITHIN)
            token = requests.get(
                f"{base}/token",
                headers={"Authorization": f"Bearer {API_KEY}"},
                timeout=ANSWER_WITHIN,
            )
            answers += [("/healthz", health.status_code), ("/token", token.status_code)]
        held = slow.counts.opened
    assert held >= 150, "all the slow clients were connected"
    assert answers == [("/healthz", 200), ("/token", 200)] * CHECKS


def _raw(port: int, request: bytes) -> tuple[int, str, bytes]:
    """(status, Content-Type, body) of one request sent as these exact bytes."""
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_WITHIN) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):  # to the end: every request here closes
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *fields = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, _, value in (f.partition(": ") for f in fields)}
    return int(status_line.split()[1]), headers.get("content-type", ""), body


HEALTH = b"GET /healthz"
CLOSE = b"Connection: close\r\n"
FIELDS = b"".join(b"X-Field-%d: a\r\n" % i for i in range(101))


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        # limit_request_line = 8190: SOQL of about 8 KB passes, then gunicorn's 414.
        (HEALTH + b"?q=" + b"a" * 8100 + b" HTTP/1.1\r\nHost: x\r\n" + CLOSE + b"\r\n", 200),
        (HEALTH + b"?q=" + b"a" * 8200 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        # limit_request_fields = 100, limit_request_field_size = 8190: 431.
        (HEALTH + b" HTTP/1.1\r\nHost: x\r\n" + FIELDS + b"\r\n", 431),
        (HEALTH + b" HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8200 + b"\r\n\r\n", 431),
        # Unreadable request line or headers: 400.
        (b"GET\r\n\r\n", 400),
        (HEALTH + b" HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n", 400),
        (
            b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            400,
        ),
        # An Expect other than 100-continue: 417.
        (b"POST /healthz HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nContent-Length: 1\r\n\r\na", 417),
    ],
    ids=[
        "line-8100",
        "line-8200",
        "101-fields",
        "field-8200",
        "no-target",
        "ctl",
        "two-lengths",
        "expect",
    ],
)
def test_gunicorns_own_answers(server: int, request_bytes: bytes, status: int) -> None:
    answered, kind, _ = _raw(server, request_bytes)
    assert answered == status
    assert kind == ("application/json" if status == 200 else "text/html"), "not the JSON contract"


def test_a_malformed_chunked_body_is_a_400_in_the_contract_shape(server: int) -> None:
    answered, kind, body = _raw(
        server,
        b"POST /api/data/v60.0/sobjects/Account HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {API_KEY}\r\n".encode()
        + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n",
    )
    assert (answered, kind) == (400, "application/json"), body
    assert b'"error":"bad_request"' in body.replace(b" ", b"")


def test_a_chunked_body_over_the_limit_is_413_and_never_forwarded(server: int) -> None:
    """With Content-Length a large body is refused up front; chunked, the service finds
    out only while reading. It must still answer 413, not forward the first 64 MiB as if
    they were the whole body (Salesforce would answer 201 for a cut record)."""
    chunk = b"x" * (1 << 20)
    frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    with socket.create_connection(("127.0.0.1", server), timeout=30) as sock:
        sock.sendall(
            b"POST /api/data/v60.0/sobjects/Account HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: Bearer {API_KEY}\r\n".encode()
            + b"Content-Type: application/json\r\n"
            + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        try:
            for _ in range(65):  # 65 MiB, one more than the limit
                sock.sendall(frame)
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed before the end: what we hope for
        answer = b""
        try:
            while part := sock.recv(65536):
                answer += part
        except OSError:
            pass
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.split()[1:2] == [b"413"], answer[:300]
    assert b'"error":"request_entity_too_large"' in answer.replace(b" ", b"")


def test_a_chunked_body_within_the_limit_is_forwarded_whole(server: int) -> None:
    record = b'{"Name": "Chunked Communications"}'
    answered, _kind, body = _raw(
        server,
        b"POST /api/data/v60.0/sobjects/Account HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {API_KEY}\r\n".encode()
        + b"Content-Type: application/json\r\n"
        + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + b"%x\r\n" % 10
        + record[:10]
        + b"\r\n"
        + b"%x\r\n" % (len(record) - 10)
        + record[10:]
        + b"\r\n0\r\n\r\n",
    )
    assert answered == 201, body
    assert b'"success":true' in body.replace(b" ", b"")
