"""Per-app objects and per-request facts shared by the emulator's blueprints.

The emulated config and state live in `app.extensions`, never in module globals, so several
emulators can run in one process. Every URL the emulator hands out (`instance_url`, the
identity URL) points back at the host the request came in on, because one loopback server
plays login.salesforce.com and the org's instance at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from flask import current_app, request

from .config import EmulatorConfig
from .state import EmulatorState

EXTENSION_KEY = "sfdc_emulator"


@dataclass(frozen=True)
class EmulatorContext:
    config: EmulatorConfig
    state: EmulatorState


@dataclass(frozen=True)
class Credential:
    """What a request presented as its access token.

    `kind` is ``missing`` (nothing sent), ``malformed`` (an Authorization header that is not
    ``Bearer <token>``) or ``token``.
    """

    kind: Literal["missing", "malformed", "token"]
    token: str = ""


def current() -> EmulatorContext:
    """The config and state of the emulator serving this request."""
    return cast(EmulatorContext, current_app.extensions[EXTENSION_KEY])


def base_url() -> str:
    """Scheme and host of this request, without a trailing slash.

    Behind a TLS front (`EmulatorConfig.behind_front`), the scheme and host the client used,
    from the front's `X-Forwarded-Proto` and `X-Forwarded-Host` (first hop): Salesforce
    names itself by the https address its clients reach, never by an internal hop."""
    if current().config.behind_front:
        proto = _first_hop(request.headers.get("X-Forwarded-Proto"))
        host = _first_hop(request.headers.get("X-Forwarded-Host"))
        if proto in ("http", "https") and host:
            return f"{proto}://{host}"
    return request.host_url.rstrip("/")


def _first_hop(value: str | None) -> str:
    return (value or "").split(",")[0].strip()


def presented_credential(*, allow_parameter: bool) -> Credential:
    """The access token from `Authorization: Bearer`, or from an `oauth_token` parameter
    where the endpoint documents one (the identity URL)."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return Credential("malformed")
        return Credential("token", token)
    if allow_parameter:
        token = request.values.get("oauth_token", "")
        if token:
            return Credential("token", token)
    return Credential("missing")
