"""Test doubles for the HTTP seam: a scripted requests adapter, a fake clock for time.

``ScriptedAdapter`` is mounted on a real ``requests.Session``, like httpx's
MockTransport: the code under test runs unchanged, only the network is fake.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import BaseAdapter


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict[str, Any] | list[Any] = b""
    headers: Mapping[str, str] = field(default_factory=dict)


Outcome = Reply | Exception


class ScriptedAdapter(BaseAdapter):
    """Answers each request with the next scripted outcome and records what was sent."""

    def __init__(self, *outcomes: Outcome) -> None:
        super().__init__()
        self.outcomes = list(outcomes)
        self.sent: list[requests.PreparedRequest] = []
        self.timeouts: list[Any] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append(request)
        self.timeouts.append(kwargs.get("timeout"))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        body = outcome.body
        headers = dict(outcome.headers)
        if isinstance(body, dict | list):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json;charset=UTF-8")
        response = requests.Response()
        response.status_code = outcome.status
        response._content = body.encode() if isinstance(body, str) else body
        response.headers.update(headers)
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def scripted_session(*outcomes: Outcome) -> tuple[requests.Session, ScriptedAdapter]:
    session = requests.Session()
    adapter = ScriptedAdapter(*outcomes)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session, adapter


class FakeTime:
    """monotonic() and sleep() that only move when slept: retries without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
