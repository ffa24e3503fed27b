"""How we connect to Salesforce: the ``requests`` session, and urllib3 pools for streaming.

The session reads proxy and CA settings from the environment once per host
instead of on every call, and never takes credentials from ``~/.netrc``. The
API proxy's streamed calls use urllib3 pools, one per Salesforce host, set up
as the session would be for that host: its proxy (``HTTPS_PROXY``/``NO_PROXY``)
and CA bundle (``REQUESTS_CA_BUNDLE``), so they go where the token client's
calls go, verified the same way.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

USER_AGENT = "sfdc-token-service/0.1 (+cloudfoundry)"


class _NoNetrc(requests.auth.AuthBase):
    """We always send our own Authorization; never take credentials from ~/.netrc."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


class _Session(requests.Session):
    """A session that reads proxy and CA settings from the environment once per host.

    requests re-reads them (and ~/.netrc) on every request, about half a
    millisecond of scanning os.environ and stat calls; a Cloud Foundry app's
    environment does not change while it runs.
    """

    def __init__(self) -> None:
        super().__init__()
        self.auth = _NoNetrc()
        self._environment: dict[tuple[str, str, Any], Any] = {}

    def merge_environment_settings(  # type: ignore[override]
        self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        if proxies or verify is not None or cert is not None:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, stream)
        found = self._environment.get(key)
        if found is None:
            found = super().merge_environment_settings(url, {}, stream, None, None)
            self._environment[key] = found
        return {**found, "proxies": dict(found["proxies"])}


def new_session() -> requests.Session:
    session = _Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


# Idle connections kept per Salesforce host. A gevent worker may have more calls in
# flight at once; urllib3 opens more for them and closes those after use.
PROXY_POOL_SIZE = 32


class Pools:
    """The urllib3 pool for each Salesforce host, made on first use and kept.

    ``send`` is on every proxied call's path, so a known host costs one dict
    lookup: without an egress proxy, the request goes to the host's own
    connection pool, skipping the manager's per-call URL parsing; through a
    proxy, the manager writes the request as that proxy needs it.
    """

    def __init__(self, session: requests.Session) -> None:
        self.session = session
        self._lock = threading.Lock()
        self._pools: dict[str, _Route] = {}

    def send(self, method: str, url: str, **options: Any) -> urllib3.BaseHTTPResponse:
        """``urlopen`` for ``url`` (absolute, http or https), on its host's pool."""
        scheme, _, netloc, *rest = url.split("/", 3)
        route = self._pools.get(f"{scheme}//{netloc}") or self._route(url, f"{scheme}//{netloc}")
        if route.pool is None:
            return route.manager.urlopen(method, url, redirect=False, **options)
        # What the manager does for a host it knows: send the request target, and no
        # redirect; the pool percent-encodes what a request line cannot hold, and drops
        # a fragment, as the manager's own parse would.
        target = "/" + (rest[0] if rest else "")
        return route.pool.urlopen(method, target, assert_same_host=False, redirect=False, **options)

    def _route(self, url: str, key: str) -> _Route:
        with self._lock:
            route = self._pools.get(key)
            if route is None:
                manager = self._make(url)
                direct = not isinstance(manager, urllib3.ProxyManager)
                route = _Route(manager, manager.connection_from_url(url) if direct else None)
                self._pools[key] = route
        return route

    def _make(self, url: str) -> urllib3.PoolManager:
        settings = self.session.merge_environment_settings(url, {}, True, None, None)
        verify = settings["verify"]
        options: dict[str, Any] = {"cert_reqs": "CERT_REQUIRED" if verify else "CERT_NONE"}
        if isinstance(verify, str):
            options["ca_certs"] = verify
        elif verify:
            options["ca_certs"] = requests.utils.DEFAULT_CA_BUNDLE_PATH
        options.update(num_pools=4, maxsize=PROXY_POOL_SIZE)
        proxy = requests.utils.select_proxy(url, settings["proxies"])
        return urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)


@dataclass(frozen=True)
class _Route:
    manager: urllib3.PoolManager
    pool: urllib3.HTTPConnectionPool | None  # None: through an egress proxy, by the manager
