"""The API proxy's streamed calls: sent on the host's kept connection as urllib3's manager
would send them, or through an egress proxy when one is configured; never redirected."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sfdc.salesforce.pools import new_session
from sfdc.salesforce.transport import Transport


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps connections alive
    seen: list[tuple[str, int]]

    def do_GET(self) -> None:  # http.server calls it by this name
        self.seen.append((self.requestline, self.client_address[1]))
        body = b'{"ok": true}'
        self.send_response(302 if "redirect" in self.path else 200)
        self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[int, list[tuple[str, int]]]]:
    seen: list[tuple[str, int]] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def _get(transport: Transport, url: str) -> tuple[int, bytes]:
    upstream = transport.open("GET", url, headers={"Authorization": "Bearer token"})
    body = upstream.read(decode_content=False)
    upstream.release_conn()
    return upstream.status, body


@pytest.mark.usefixtures("no_proxy_settings")
def test_calls_go_on_one_kept_connection_as_the_request_target(
    recorder: tuple[int, list[tuple[str, int]]],
) -> None:
    port, seen = recorder
    transport = Transport(new_session())
    base = f"http://127.0.0.1:{port}/services/data/v60.0"
    assert _get(transport, f"{base}/query?q=SELECT+Id+FROM+Account") == (200, b'{"ok": true}')
    # A character no request line may hold is percent-encoded; a fragment is not sent.
    assert _get(transport, f'{base}/query?q=Name+%3D+"x"#part')[0] == 200
    assert [line for line, _ in seen] == [
        "GET /services/data/v60.0/query?q=SELECT+Id+FROM+Account HTTP/1.1",
        "GET /services/data/v60.0/query?q=Name+%3D+%22x%22 HTTP/1.1",
    ]
    assert seen[0][1] == seen[1][1], "the second call reused the first call's connection"


@pytest.mark.usefixtures("no_proxy_settings")
def test_a_redirect_is_handed_back_not_followed(
    recorder: tuple[int, list[tuple[str, int]]],
) -> None:
    port, seen = recorder
    status, _ = _get(Transport(new_session()), f"http://127.0.0.1:{port}/services/redirect")
    assert status == 302
    assert len(seen) == 1


@pytest.mark.usefixtures("no_proxy_settings")
def test_an_egress_proxy_gets_the_whole_url(
    recorder: tuple[int, list[tuple[str, int]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, seen = recorder
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    transport = Transport(new_session())
    url = "http://na1.salesforce.invalid/services/data/v60.0/limits"
    assert _get(transport, url)[0] == 200
    assert _get(transport, "http://na1.salesforce.invalid/services/redirect")[0] == 302
    assert [line for line, _ in seen] == [
        f"GET {url} HTTP/1.1",
        "GET http://na1.salesforce.invalid/services/redirect HTTP/1.1",
    ]
