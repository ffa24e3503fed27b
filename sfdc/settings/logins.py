"""The login host and the JWT audience: SFDC_LOGIN_URL and SFDC_AUDIENCE, checked.

Salesforce's JWT bearer flow posts to ``{login}/services/oauth2/token`` and wants
``aud`` to name the login server: login.salesforce.com for production,
test.salesforce.com for sandboxes (Salesforce Help, "OAuth 2.0 JWT Bearer Flow").
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sfdc.errors import ConfigError
from sfdc.settings.hosts import PRODUCTION_AUDIENCE, SANDBOX_AUDIENCE, is_loopback


def login_url(raw: str) -> str:
    """``scheme://host[:port]``, https unless the host is loopback (the local emulator)."""
    parts = urlsplit(raw.strip())
    example = "e.g. https://login.salesforce.com, https://test.salesforce.com or "
    example += "https://MyDomain.my.salesforce.com"
    if "@" in parts.netloc:
        raise ConfigError(
            "SFDC_LOGIN_URL carries a user name or password.",
            hint=f"Give only the login host, {example}; the JWT flow needs no password.",
        )
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(
            "SFDC_LOGIN_URL is not an http(s) URL.", hint=f"Give a login host, {example}."
        )
    origin = f"{parts.scheme}://{parts.netloc.lower()}"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(
            f"SFDC_LOGIN_URL must be only a scheme and host, but has more after {origin}.",
            hint=f"Drop the path: the service adds /services/oauth2/token itself ({example}).",
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"SFDC_LOGIN_URL {origin} is plain http; the assertion would travel unencrypted.",
            hint="Use https://. Plain http is accepted only for loopback hosts (the emulator).",
        )
    return origin


def audience(raw: str | None, login: str) -> tuple[str, str | None]:
    """The JWT ``aud`` and a warning, if the value is one Salesforce is known to refuse."""
    if raw is None:
        return default_audience(login), None
    parts = urlsplit(raw)
    if parts.scheme != "https" or not parts.hostname or "@" in parts.netloc:
        raise ConfigError(
            f"SFDC_AUDIENCE '{raw}' is not an https URL.",
            hint="Use https://login.salesforce.com (production), https://test.salesforce.com "
            "(sandbox), or an Experience Cloud site URL; or unset it.",
        )
    host = parts.hostname
    if host.endswith(".my.salesforce.com") or raw.endswith("/"):
        return raw, (
            f"SFDC_AUDIENCE is {raw}; Salesforce has been seen to answer 'audience is invalid' "
            "for My Domain audiences and trailing slashes. If exchanges fail, use "
            "https://login.salesforce.com or https://test.salesforce.com."
        )
    return raw, None


def default_audience(login: str) -> str:
    """Sandbox logins (test.salesforce.com, *.sandbox.my.salesforce.com) use the test audience."""
    host = urlsplit(login).hostname or ""
    sandbox = host == "test.salesforce.com" or host.endswith(".sandbox.my.salesforce.com")
    return SANDBOX_AUDIENCE if sandbox else PRODUCTION_AUDIENCE
