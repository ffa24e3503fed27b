"""The smoke test a CI pipeline runs right after ``cf push``: is the deployed service right?

Checks, each one HTTP call with a timeout: ``/healthz`` answers (retried for
``wait`` seconds while a fresh deploy comes up); ``/`` has the seed's keys and
shows an anonymous caller nothing live; with an API key, ``/token`` hands out
a token and ``/connection`` reaches Salesforce. A failure carries the
service's own ``error`` and ``hint``. Tokens are checked, never reported.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any
from xml.etree import ElementTree

import requests

from sfdc.clock import utc_now
from sfdc.tokens.assertion import LIVE_AFTER_EXP

SEED_KEYS = ("claim", "signed_claim", "target_payload", "response_headers", "response_text")
REDACTED = "REDACTED"
WAIT_POLL = 2.0  # seconds between /healthz probes while waiting for a deploy


@dataclass(frozen=True)
class Result:
    name: str
    status: str  # "pass", "fail" or "skip"
    seconds: float
    detail: str

    def line(self) -> str:
        return (
            f"{self.status.upper():4}  {self.name:<10} {self.detail} ({self.seconds * 1000:.0f} ms)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "seconds": round(self.seconds, 3)}


class _Failed(Exception):
    """A check failed; the message is the line's detail."""


def _describe(answer: requests.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error" in body:
        return (
            f"HTTP {answer.status_code} {body['error']}: {body.get('error_description', '')} "
            f"Hint: {body.get('hint', '')}"
        )
    return f"HTTP {answer.status_code}, not the service's JSON"


def _json(answer: requests.Response, expected: int = 200) -> dict[str, Any]:
    if answer.status_code != expected:
        raise _Failed(_describe(answer))
    try:
        body = answer.json()
    except ValueError as exc:
        raise _Failed(f"HTTP {answer.status_code} with a body that is not JSON") from exc
    if not isinstance(body, dict):
        raise _Failed("the answer is JSON but not an object")
    return body


def _claim_expiry(claim: str) -> datetime:
    payload = claim.split(".")[1]
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return datetime.fromtimestamp(int(decoded["exp"]), UTC)


class Smoke:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        connections: tuple[str, ...] = (),
        timeout: float = 10.0,
        session: requests.Session | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.connections = connections
        self.timeout = timeout
        self.session = session or requests.Session()
        self._monotonic = monotonic
        self._sleep = sleep

    def _get(
        self, path: str, *, authorized: bool = False, connection: str | None = None
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.api_key}"} if authorized else {}
        if connection:
            headers["X-Sfdc-Connection"] = connection
        try:
            return self.session.get(
                f"{self.base_url}{path}",
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise _Failed(f"no answer from {self.base_url}{path} ({type(exc).__name__})") from exc

    def healthz(self, wait: float = 0.0) -> str:
        deadline = self._monotonic() + wait
        while True:
            try:
                body = _json(self._get("/healthz"))
                if body.get("status") != "ok":
                    raise _Failed(f"status is {body.get('status')!r}, not 'ok'")
                return "200 ok"
            except _Failed:
                if self._monotonic() + WAIT_POLL > deadline:
                    raise
                self._sleep(WAIT_POLL)

    def demo(self) -> str:
        body = _json(self._get("/"))
        missing = [key for key in SEED_KEYS if key not in body]
        if missing:
            raise _Failed(f"the demo page lacks {', '.join(missing)}")
        response = body["response_text"]
        if not isinstance(response, dict) or response.get("access_token") != REDACTED:
            raise _Failed("an anonymous caller was shown the access token")
        if body["signed_claim"] != REDACTED or body["target_payload"] != REDACTED:
            expired = _claim_expiry(str(body["claim"])) + LIVE_AFTER_EXP
            if utc_now() < expired:
                raise _Failed("an anonymous caller was shown a live signed assertion")
        return "200, seed keys present, nothing live shown anonymously"

    def token(self) -> str:
        body = _json(self._get("/token", authorized=True))
        if not body.get("access_token") or not body.get("instance_url"):
            raise _Failed("the answer has no access_token or instance_url")
        return f"200, {body.get('token_type')} token for {body['instance_url']}"

    def connection(self, name: str | None = None) -> str:
        body = _json(self._get("/connection", authorized=True, connection=name))
        if body.get("status") is not True:
            raise _Failed(f"status is {body.get('status')!r}: {body.get('message')}")
        return f"200, {body.get('message')}"

    def _timed(self, name: str, check: Callable[[], str]) -> Result:
        started = self._monotonic()
        try:
            detail, status = check(), "pass"
        except _Failed as failure:
            detail, status = str(failure), "fail"
        return Result(name, status, self._monotonic() - started, detail)

    def run(self, *, wait: float = 0.0, require_key: bool = False) -> list[Result]:
        """Every check's result; without a key the key checks are skipped, or failed if required."""
        results = [self._timed("healthz", lambda: self.healthz(wait))]
        if results[0].status == "fail":
            gone = "not run: /healthz did not answer"
            skipped = (Result(name, "skip", 0.0, gone) for name in ("demo", "token", "connection"))
            return [*results, *skipped]
        results.append(self._timed("demo", self.demo))
        checks: list[tuple[str, Callable[[], str]]] = [
            ("token", self.token),
            ("connection", self.connection),
        ]
        checks += [(f"connection {n}", partial(self.connection, n)) for n in self.connections]
        for name, check in checks:
            if self.api_key:
                results.append(self._timed(name, check))
            else:
                missing = "no API key (--api-key or SFDC_SMOKE_API_KEY)"
                results.append(Result(name, "fail" if require_key else "skip", 0.0, missing))
        return results


def junit(results: list[Result], suite: str = "sfdc smoke") -> bytes:
    """JUnit XML, as CI systems show test reports."""
    root = ElementTree.Element(
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(sum(r.status == "fail" for r in results)),
        skipped=str(sum(r.status == "skip" for r in results)),
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for result in results:
        case = ElementTree.SubElement(
            root,
            "testcase",
            classname="sfdc.smoke",
            name=result.name,
            time=f"{result.seconds:.3f}",
        )
        if result.status == "fail":
            ElementTree.SubElement(
                case, "failure", message=result.detail[:200]
            ).text = result.detail
        elif result.status == "skip":
            ElementTree.SubElement(case, "skipped", message=result.detail)
    document: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return document
