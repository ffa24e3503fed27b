"""Request bodies through the proxy over real HTTP: the app served on a port, the emulator
behind it. A body larger than the memory spool reaches Salesforce byte for byte with its
length, is sent again after a re-login, is refused over 64 MiB before anything is sent,
and leaves no temporary file behind however the request ends."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sfdc.emulator import running_emulator
from sfdc.settings.settings import Settings, load_settings
from sfdc.web import MAX_PROXIED_BODY, create_app
from sfdc.web.spool import MEMORY_LIMIT
from tests.conftest import API_KEY, FakeClock, KeyPair
from tests.emulated import emulator_config, stats
from tests.web.over_http import Serve
from tests.web.spool_support import spool_files

ECHO = "/services/apexrest/echo"
BEARER = {"Authorization": f"Bearer {API_KEY}"}
TEXT = {**BEARER, "Content-Type": "text/plain"}
# Three times what stays in memory: the body goes through a file.
BODY = base64.b64encode(hashlib.shake_256(b"upload").digest(3 * MEMORY_LIMIT // 4 * 3))


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    directory = tmp_path / "spool"
    directory.mkdir()
    return directory


@pytest.fixture
def service(settings: Settings, live_clock: FakeClock, spool: Path, serve: Serve) -> str:
    return serve(create_app(settings, clock=live_clock, spool_dir=str(spool)))


def _pieces(data: bytes, size: int = 100_000) -> Iterator[bytes]:
    """``data`` as a generator: requests sends it chunked."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _raw(service: str, head: bytes, send: Callable[[socket.socket], None]) -> bytes:
    """The whole answer to a request written by hand: ``head``, then whatever ``send`` sends
    (on a thread, so a server that answers before the body ends is heard)."""
    host, port = service.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head)

        def body() -> None:
            with contextlib.suppress(OSError):  # the server answered and closed before the end
                send(sock)

        sender = threading.Thread(target=body, daemon=True)
        sender.start()
        answer = b""
        try:
            while part := sock.recv(65536):
                answer += part
        except OSError:
            pass
        sender.join(30)
    return answer


def _head(extra: str) -> bytes:
    return (
        f"POST {ECHO} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n"
        f"Content-Type: text/plain\r\nConnection: close\r\n{extra}\r\n"
    ).encode()


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_large_body_reaches_salesforce_byte_for_byte_with_its_length(
    service: str, spool: Path, framing: str
) -> None:
    data = BODY if framing == "content-length" else _pieces(BODY)
    answer = requests.post(f"{service}{ECHO}", data=data, headers=TEXT, timeout=30)
    assert answer.status_code == 200, answer.text[:300]
    echoed = answer.json()
    assert echoed["body"].encode() == BODY
    assert echoed["headers"]["Content-Length"] == str(len(BODY))
    assert "Transfer-Encoding" not in echoed["headers"], "a framed body, chunked or not"
    assert spool_files(spool) == []


def test_a_replay_after_the_session_died_sends_the_same_body_again(
    service: str, spool: Path, emulator: Any
) -> None:
    assert requests.get(f"{service}/services/data/v60.0/limits", headers=BEARER, timeout=10).ok
    emulator.state.expire_all()  # every session ends: the next call meets INVALID_SESSION_ID
    answer = requests.post(f"{service}{ECHO}", data=_pieces(BODY), headers=TEXT, timeout=30)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["body"].encode() == BODY
    assert stats(emulator.url)["token_requests"] == 2, "one new login, then the replay"
    assert spool_files(spool) == []


def test_a_content_length_over_the_limit_is_413_before_the_body_is_read(
    service: str, spool: Path, emulator: Any
) -> None:
    answer = _raw(service, _head(f"Content-Length: {MAX_PROXIED_BODY + 1}\r\n"), lambda _: None)
    assert answer.split(b"\r\n", 1)[0].split()[1:2] == [b"413"], answer[:300]
    assert b'"error":"request_entity_too_large"' in answer.replace(b" ", b"")
    assert stats(emulator.url)["token_requests"] == 0, "nothing was sent to Salesforce"
    assert spool_files(spool) == []


def test_a_chunked_body_over_the_limit_is_413_and_never_sent(
    service: str, spool: Path, emulator: Any
) -> None:
    piece = b"x" * (1 << 20)
    frame = b"%x\r\n" % len(piece) + piece + b"\r\n"

    def send(sock: socket.socket) -> None:
        for _ in range(MAX_PROXIED_BODY // len(piece) + 1):  # one MiB more than the limit
            sock.sendall(frame)
        sock.sendall(b"0\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)  # werkzeug's server drains what is left until then

    answer = _raw(service, _head("Transfer-Encoding: chunked\r\n"), send)
    assert answer.split(b"\r\n", 1)[0].split()[1:2] == [b"413"], answer[:300]
    assert b"chunked request body is over the 64 MiB limit" in answer
    assert stats(emulator.url)["token_requests"] == 0, "nothing was sent to Salesforce"
    assert spool_files(spool) == []


def test_a_caller_gone_midway_leaves_no_file_and_sends_nothing(
    service: str, spool: Path, emulator: Any
) -> None:
    def send(sock: socket.socket) -> None:
        sock.sendall(BODY[: 2 * MEMORY_LIMIT])  # on disk by now
        sock.shutdown(socket.SHUT_WR)  # the caller hangs up

    answer = _raw(service, _head(f"Content-Length: {len(BODY)}\r\n"), send)
    assert answer.split(b"\r\n", 1)[0].split()[1:2] == [b"400"], answer[:300]
    assert b"ended before its Content-Length" in answer
    assert stats(emulator.url)["api_usage"] == 0, "half a body never reaches Salesforce"
    assert spool_files(spool) == []


def test_an_org_gone_midway_leaves_no_file(
    keypair: KeyPair, seed_env: dict[str, str], spool: Path, serve: Serve
) -> None:
    with running_emulator(emulator_config(keypair)) as emulator:
        settings = load_settings(
            {**seed_env, "SFDC_LOGIN_URL": emulator.url, "SFDC_API_KEYS": API_KEY}
        )
        service = serve(create_app(settings, spool_dir=str(spool)))
        assert requests.get(f"{service}/token", headers=BEARER, timeout=10).ok
    answer = requests.post(f"{service}{ECHO}", data=BODY, headers=TEXT, timeout=30)
    assert answer.status_code == 503
    assert answer.json()["error"] == "salesforce_unavailable"
    assert spool_files(spool) == []
