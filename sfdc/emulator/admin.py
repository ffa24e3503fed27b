"""Test knobs under `/_emulator/` (not part of Salesforce).

- `GET /_emulator/stats`: counters and gauges, see `EmulatorState.stats`.
- `POST /_emulator/expire`: end every issued session, as a session timeout would.
- `POST /_emulator/fail`: JSON `{"count": N, "mode": "error"|"hang"|"garbage"|"empty",
  "status": 503, "seconds": 30}` spoils the next N token-endpoint calls.
- `POST /_emulator/refresh-tokens/revoke`: revoke every refresh token and the sessions
  issued under them, as an admin revoking the app's OAuth usage would; answers
  `{"revoked": N}` (refresh tokens).
- `GET /_emulator/credentials-seen`: every `Authorization` / `X-SFDC-Session` header and
  `oauth_token` parameter value presented that was not a token this emulator issued, as
  `{"count": N, "credentials": [{"source", "value", "path"}]}` (see `credential_log`).
- `POST /_emulator/reset`: back to a fresh emulator.

Each mirrors a method of `EmulatorState`, for tests that drive the emulator from another
process (e.g. `make run`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from .context import current
from .failures import DEFAULT_HANG_SECONDS, DEFAULT_STATUS, parse_mode
from .responses import json_response

blueprint = Blueprint("admin", __name__, url_prefix="/_emulator")


def _bad_request(message: str) -> Response:
    return json_response({"error": "bad_request", "message": message}, 400)


@blueprint.get("/stats")
def stats() -> Response:
    emulator = current()
    return json_response(emulator.state.stats(emulator.config.clock()))


@blueprint.post("/expire")
def expire() -> Response:
    return json_response({"expired": current().state.expire_all()})


def _number(body: dict[str, Any], name: str, default: float) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    return value


@blueprint.post("/fail")
def fail() -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _bad_request("send a JSON object")
    try:
        count = _number(body, "count", 1)
        status = _number(body, "status", DEFAULT_STATUS)
        if count != int(count) or status != int(status):
            raise ValueError("count and status must be whole numbers")
        current().state.fail_next(
            count=int(count),
            mode=parse_mode(body.get("mode", "error")),
            status=int(status),
            seconds=_number(body, "seconds", DEFAULT_HANG_SECONDS),
        )
    except ValueError as invalid:
        return _bad_request(str(invalid))
    return json_response({"pending_failures": current().state.pending_failures})


@blueprint.post("/refresh-tokens/revoke")
def revoke_refresh_tokens() -> Response:
    return json_response({"revoked": current().state.revoke_refresh_tokens()})


@blueprint.get("/credentials-seen")
def credentials_seen() -> Response:
    seen = current().state.credentials.unknown()
    return json_response({"count": len(seen), "credentials": [c.as_json() for c in seen]})


@blueprint.post("/reset")
def reset() -> Response:
    current().state.reset()
    return json_response({"reset": True})
