"""Where callers reach the service: ``SFDC_PUBLIC_URL`` and ``SFDC_FORWARDED_HOPS``.

The API proxy points Salesforce's links (``Location``, the identity URL, ...) at the
service's own address, so it must know that address. Behind Cloud Foundry's router
the request arrives as plain HTTP on the container's port; the router says what the
caller used in ``X-Forwarded-Proto`` (and ``X-Forwarded-Host``/``-Port`` where a
further proxy sets them), and keeps the route's ``Host``. Those headers are trusted
from ``forwarded_hops`` proxies in front (werkzeug's ``ProxyFix``): one, CF's gorouter,
by default; 0 trusts none (the service faces callers directly); 2 for a load balancer
in front of the router. ``SFDC_PUBLIC_URL`` overrides all of it with a fixed
``https://host[:port]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sfdc.errors import ConfigError
from sfdc.settings.hosts import is_loopback

DEFAULT_FORWARDED_HOPS = 1  # Cloud Foundry's gorouter
MAX_FORWARDED_HOPS = 5


@dataclass(frozen=True)
class PublicAddress:
    url: str | None = None  # scheme://host[:port]; None: from the request
    forwarded_hops: int = DEFAULT_FORWARDED_HOPS


def _url(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    parts = urlsplit(raw.strip())
    local = parts.scheme == "http" and is_loopback(parts.hostname or "")
    bare = parts.path in ("", "/") and not (parts.query or parts.fragment or "@" in parts.netloc)
    if not (parts.scheme == "https" or local) or not parts.hostname or not bare:
        shown = "(a URL with a user or password)" if "@" in raw else f"'{raw}'"
        raise ConfigError(
            f"SFDC_PUBLIC_URL {shown} is not https://host[:port] (no path, query or user).",
            hint="Set it to the route callers use, e.g. https://sfdc-token.apps.example.com, "
            "or leave it unset to take the address from the request.",
        )
    return f"{parts.scheme}://{parts.netloc}"


def _hops(raw: str | None) -> int:
    if raw is None or not raw.strip():
        return DEFAULT_FORWARDED_HOPS
    text = raw.strip()
    if not text.isdigit() or int(text) > MAX_FORWARDED_HOPS:
        raise ConfigError(
            f"SFDC_FORWARDED_HOPS '{raw}' is not a whole number from 0 to {MAX_FORWARDED_HOPS}.",
            hint="Count the proxies in front of the service that set X-Forwarded-* headers: "
            "1 on Cloud Foundry (its router), 0 when callers reach the service directly.",
        )
    return int(text)


def public_address(url: str | None, hops: str | None) -> PublicAddress:
    """The two settings as given (None: unset), checked; ConfigError if malformed."""
    return PublicAddress(url=_url(url), forwarded_hops=_hops(hops))
