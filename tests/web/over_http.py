"""The app on a real socket, called the way Flask's test client is called.

For tests whose point is what a caller sees over HTTP (status, headers, JSON),
through a real server and real requests, not the WSGI shortcut: ``serve(app)``
starts werkzeug's threaded server on a free loopback port and answers an
``HttpClient`` whose ``get``/``post``/``delete`` take the arguments the tests
already use with ``FlaskClient`` (``headers``, ``json``, ``query_string``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

Serve = Callable[[Flask], str]
"""What the ``serve`` fixture (tests/web/conftest.py) yields: an app in, its base URL out."""


class Answer:
    """What came back: ``status_code``, ``headers``, ``json`` (None unless JSON), the body."""

    def __init__(self, response: requests.Response) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self._body = response.content
        is_json = response.headers.get("Content-Type", "").startswith("application/json")
        self.json: Any = response.json() if is_json else None

    def get_data(self, as_text: bool = False) -> bytes | str:
        return self._body.decode() if as_text else self._body


class HttpClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._session = requests.Session()

    def open(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        query_string: Mapping[str, str] | None = None,
    ) -> Answer:
        response = self._session.request(
            method,
            self.base_url + path,
            headers=dict(headers or {}),
            json=json,
            params=query_string,
            allow_redirects=False,  # as the test client: a redirect is an answer to look at
            timeout=30,
        )
        return Answer(response)

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Answer:
        return self.open("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Answer:
        return self.open("DELETE", path, **kwargs)

    def close(self) -> None:
        self._session.close()


class Served:
    """A running server and a client for it; ``close()`` stops both."""

    def __init__(self, app: Flask) -> None:
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.client = HttpClient(f"http://127.0.0.1:{self._server.server_port}")

    def close(self) -> None:
        self.client.close()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
