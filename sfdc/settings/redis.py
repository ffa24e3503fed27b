"""Finding the Redis for the shared token cache: ``REDIS_URL`` or a bound Redis service.

Redis offerings differ (``p-redis``, ``p.redis``, ``rediscloud``, user-provided),
so a binding is recognised by its label or its ``redis`` tag, and its
credentials give either a ``uri`` or ``host``/``port``/``password`` with
``tls_port`` when TLS is offered (research/cloudfoundry.md §6). The URL is
checked with redis-py's own parser at start-up; it is never quoted in a
message, since it may hold a password.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import cfenv
import redis.connection

from sfdc.errors import ConfigError
from sfdc.settings.cloudfoundry import choose_bound


@dataclass(frozen=True)
class RedisBinding:
    """Where the shared token cache lives; ``url`` may hold a password."""

    url: str = field(repr=False)
    source: str

    @property
    def tls(self) -> bool:
        return self.url.startswith("rediss://")


def _is_redis(service: cfenv.Service) -> bool:
    tags = service.env.get("tags") or []
    label = str(service.env.get("label") or "")
    return "redis" in label.lower() or any(str(t).lower() == "redis" for t in tags)


def _redis_url(service: cfenv.Service) -> str:
    credentials: dict[str, Any] = service.credentials
    for key in ("uri", "url"):
        value = credentials.get(key)
        if isinstance(value, str) and value.startswith(("redis://", "rediss://")):
            return value
    host = credentials.get("host") or credentials.get("hostname")
    if not host:
        raise ConfigError(
            f"Redis service '{service.name}' has no host (keys: {', '.join(sorted(credentials))}).",
            hint="Bind a Redis service whose credentials hold host, port and password, or set "
            "REDIS_URL.",
        )
    # Brokers that offer TLS add tls_port next to port (research/cloudfoundry.md §6).
    tls_port = credentials.get("tls_port")
    scheme, port = ("rediss", tls_port) if tls_port else ("redis", credentials.get("port", 6379))
    password = credentials.get("password") or ""
    userinfo = f":{quote(str(password), safe='')}@" if password else ""
    return f"{scheme}://{userinfo}{host}:{int(port)}/0"


def _checked(url: str, source: str) -> RedisBinding:
    """A binding whose URL redis-py can use; the URL is never quoted (it may hold a password)."""
    problem = None
    if not url.startswith(("redis://", "rediss://")):
        problem = "is not a redis:// or rediss:// URL"
    else:
        try:
            options = redis.connection.parse_url(url)  # type: ignore[no-untyped-call]
        except ValueError as exc:
            problem = f"cannot be used ({str(exc).split(':')[0].strip().rstrip('.')})"
        else:
            database = urlsplit(url).path.strip("/")
            if not options.get("host"):
                problem = "names no host"
            elif database and not database.isdigit():
                problem = "names a database that is not a number"
    if problem:
        raise ConfigError(
            f"The Redis URL from {source} {problem}.",
            hint="Use redis://:password@host:6379/0 (rediss:// for TLS), or rebind the Redis "
            "service.",
        )
    return RedisBinding(url=url, source=source)


def find_redis(environ: Mapping[str, str], *, service_name: str | None) -> RedisBinding | None:
    """The Redis for the shared cache: ``REDIS_URL``, else a bound Redis service, else none."""
    url = environ.get("REDIS_URL", "").strip()
    if url:
        return _checked(url, "REDIS_URL")
    match = choose_bound(
        environ,
        service_name=service_name,
        setting="SFDC_REDIS_SERVICE",
        kind="Redis",
        is_kind=_is_redis,
    )
    if match is None:
        return None
    try:
        return _checked(_redis_url(match), f"service '{match.name}'")
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"Redis service '{match.name}' has a port that is not a number.",
            hint="Rebind the service; its credentials should hold host, port and password.",
        ) from exc
