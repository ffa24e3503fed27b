"""Running the emulator over real HTTP: in a test (`running_emulator`) or a terminal (`serve`).

Both use Werkzeug's threaded server, so a stalled (`hang`) token request does not hold up
other requests. Request logs carry method, path and status only: query strings can hold
access tokens (`/id/...?oauth_token=`, `/revoke?token=`), which must never reach a log.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import create_emulator_app
from .config import EmulatorConfig
from .state import EmulatorState

logger = logging.getLogger("sfdc.emulator")

# How often the serving loop checks for shutdown; bounds how long stopping takes.
_POLL_INTERVAL_SECONDS = 0.02
_STOP_TIMEOUT_SECONDS = 5.0


class _RedactingRequestHandler(WSGIRequestHandler):
    """Logs to `sfdc.emulator` without query strings or raw request lines."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = getattr(self, "path", "?").partition("?")[0]
        logger.info("%s %s %s", getattr(self, "command", "?"), path, code)

    def log_error(self, format: str, *args: Any) -> None:
        # The arguments can quote the raw request line, query string included.
        logger.warning("malformed request from %s", self.address_string())

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("request handler message suppressed")


@dataclass(frozen=True)
class RunningEmulator:
    """A live emulator: its base URL (no trailing slash), state and config."""

    url: str
    state: EmulatorState
    config: EmulatorConfig


def _make_server(
    config: EmulatorConfig, host: str, port: int
) -> tuple[BaseWSGIServer, str, EmulatorState]:
    state = EmulatorState()
    app = create_emulator_app(config, state)
    server = make_server(host, port, app, threaded=True, request_handler=_RedactingRequestHandler)
    shown_host = f"[{host}]" if ":" in host else host
    return server, f"http://{shown_host}:{server.server_port}", state


@contextmanager
def running_emulator(
    config: EmulatorConfig, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningEmulator]:
    """Serve the emulator on a background thread until the block exits.

    `port=0` picks a free port. On exit, requests stalled by a `hang` failure are released
    and the server stops within a fraction of a second.
    """
    server, url, state = _make_server(config, host, port)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": _POLL_INTERVAL_SECONDS},
        name=f"sfdc-emulator-{server.server_port}",
        daemon=True,
    )
    thread.start()
    try:
        yield RunningEmulator(url=url, state=state, config=config)
    finally:
        state.shutdown()
        server.shutdown()
        thread.join(_STOP_TIMEOUT_SECONDS)
        server.server_close()


def serve(config: EmulatorConfig, host: str, port: int) -> None:
    """Serve the emulator in the foreground until interrupted (Ctrl-C).

    Ctrl-C stops the serving loop at once; what remains is the interpreter's own teardown.
    Its final garbage collections walk every object the imports created (Flask, and via
    `sfdc/__init__` SQLAlchemy and more): about 0.3 s of CPU, which on a busy machine
    stretched to seconds. Those objects live as long as the process anyway, so they are
    frozen (`gc.freeze`) before serving, and neither teardown nor request-time collections
    walk them again.
    """
    server, url, state = _make_server(config, host, port)
    gc.freeze()
    print(f"Salesforce emulator listening on {url}", flush=True)
    try:
        server.serve_forever(poll_interval=_POLL_INTERVAL_SECONDS)
    finally:
        state.shutdown()
        server.server_close()
