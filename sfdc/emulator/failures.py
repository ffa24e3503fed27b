"""Failures the emulator can inject into the token endpoint (not a Salesforce feature).

Salesforce sometimes answers with a maintenance page, stalls, or returns a body no JSON
parser accepts (for example from a proxy in between). These modes let a client's tests
provoke each of those on demand, one token request at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast, get_args

from flask import Response

FailureMode = Literal["error", "hang", "garbage", "empty"]
FAILURE_MODES: tuple[str, ...] = get_args(FailureMode)

DEFAULT_STATUS = 503
DEFAULT_HANG_SECONDS = 30.0

_MAINTENANCE_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>"
    "<body><h1>Salesforce is temporarily unavailable</h1></body></html>\n"
)
# Labelled as JSON on purpose: a client must not trust Content-Type over the parse result.
_GARBAGE_BODY = "<html><body>this is not JSON"


@dataclass(frozen=True)
class InjectedFailure:
    """How to spoil one token-endpoint call.

    - ``error``: answer ``status`` (4xx/5xx) with an HTML body.
    - ``hang``: wait ``seconds`` (or until the emulator shuts down), then answer normally.
    - ``garbage``: answer 200 with a body that is not JSON.
    - ``empty``: answer 200 with an empty body.
    """

    mode: FailureMode
    status: int = DEFAULT_STATUS
    seconds: float = DEFAULT_HANG_SECONDS

    def __post_init__(self) -> None:
        if self.mode not in FAILURE_MODES:
            raise ValueError(f"mode must be one of {', '.join(FAILURE_MODES)}")
        if not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if not 0 <= self.seconds <= 3600:
            raise ValueError("seconds must be between 0 and 3600")


def parse_mode(value: object) -> FailureMode:
    """Check a mode name that came from outside, e.g. an admin request body."""
    if not isinstance(value, str) or value not in FAILURE_MODES:
        raise ValueError(f"mode must be one of {', '.join(FAILURE_MODES)}")
    return cast(FailureMode, value)


def failure_response(failure: InjectedFailure) -> Response | None:
    """The response that replaces the real one, or None to answer normally."""
    if failure.mode == "error":
        return Response(_MAINTENANCE_PAGE, failure.status, content_type="text/html;charset=UTF-8")
    if failure.mode == "garbage":
        return Response(_GARBAGE_BODY, 200, content_type="application/json;charset=UTF-8")
    if failure.mode == "empty":
        return Response(b"", 200, content_type="application/json;charset=UTF-8")
    return None
