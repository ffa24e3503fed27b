"""The TLS front itself: what the client scenarios rely on it to do as CF's router does.

Behind it, a plain-HTTP echo server answers with the request line, headers and body it
received, so each check reads what the backend got.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.clients.front import Front, running_front

LARGE = 5 * 1024 * 1024  # bytes: well over nginx's buffers, so it must stream


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        document = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "headers": {name.lower(): value for name, value in self.headers.items()},
                "body_length": len(body),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(document)))
        self.end_headers()
        self.wfile.write(document)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read answers, not logs."""


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        backend = f"http://127.0.0.1:{server.server_port}"
        with running_front(backend, tmp_path_factory.mktemp("front")) as running:
            yield running
    finally:
        server.shutdown()
        server.server_close()


def _echo(front: Front, method: str = "GET", **kwargs: object) -> dict[str, object]:
    answer = requests.request(
        method, f"{front.url}/services/data?q=a%0Ab", verify=str(front.ca_file), timeout=30,
        **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    document: dict[str, object] = answer.json()
    return document


def test_it_adds_the_routers_headers(front: Front) -> None:
    got = _echo(front, headers={"X-Forwarded-For": "203.0.113.9"})
    headers = got["headers"]
    assert isinstance(headers, dict)
    assert headers["x-forwarded-proto"] == "https"
    assert headers["x-forwarded-host"] == front.url.removeprefix("https://")
    assert headers["host"] == front.url.removeprefix("https://")
    assert headers["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert len(headers["x-vcap-request-id"]) == 32
    assert got["path"] == "/services/data?q=a%0Ab", "the path and query pass as sent"


def test_each_request_gets_its_own_request_id(front: Front) -> None:
    ids = {_echo(front)["headers"]["x-vcap-request-id"] for _ in range(3)}  # type: ignore[index]
    assert len(ids) == 3


def test_a_large_body_reaches_the_backend_whole(front: Front) -> None:
    assert _echo(front, "POST", data=b"x" * LARGE)["body_length"] == LARGE


def test_only_clients_trusting_the_ca_get_through(front: Front) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{front.url}/services/data", timeout=10)
    assert front.ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
