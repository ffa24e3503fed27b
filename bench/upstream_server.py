"""``python -m bench.upstream_server PORT CONSUMER_KEY USERNAME``, certificate PEM on stdin:
the emulator under gevent's WSGI server, which keeps connections alive (see upstream.py)."""

from gevent import monkey

monkey.patch_all()  # before anything imports socket

import socket  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

from gevent.pywsgi import WSGIServer  # noqa: E402

from sfdc.emulator import EmulatorConfig, create_emulator_app  # noqa: E402


class _Server(WSGIServer):  # type: ignore[misc]
    def handle(self, sock: Any, address: Any) -> None:
        # pywsgi writes the headers and the body apart: with Nagle's algorithm on, the
        # body would wait for the client's delayed ACK (40 ms) on every kept-alive answer.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle(sock, address)


def main() -> None:
    port, consumer_key, username = sys.argv[1], sys.argv[2], sys.argv[3]
    config = EmulatorConfig(
        consumer_key=consumer_key, usernames=(username,), certificate_pem=sys.stdin.buffer.read()
    )
    _Server(("127.0.0.1", int(port)), create_emulator_app(config), log=None).serve_forever()


if __name__ == "__main__":
    main()
