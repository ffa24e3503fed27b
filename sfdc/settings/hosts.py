"""Which hosts count as Salesforce: where a token may be sent.

Source: research/salesforce-oauth.md §8. There is no single official list of
``instance_url`` domains; these are the suffixes Salesforce's own CLI accepts
plus the documented Experience Cloud, government and alternative domains.
Anything else in a token response means something other than Salesforce
answered, and a token must never be handed out to be sent there. Loopback is
accepted only when the login URL itself is loopback (the local emulator).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

from sfdc.errors import UpstreamProtocolError

SALESFORCE_DOMAINS = (
    "salesforce.com",  # login, test, *.my.salesforce.com, *.sandbox.my.salesforce.com, pods
    "force.com",  # *.force.com, *.secure.force.com, *.content.force.com
    "my.site.com",  # Experience Cloud sites
    "cloudforce.com",
    "my-salesforce.com",  # "alternative domains"
    "salesforce.mil",  # US government
    "crmforce.mil",
)

# The JWT `aud` for production and Developer Edition orgs, and for sandboxes (research §1.2).
PRODUCTION_AUDIENCE = "https://login.salesforce.com"
SANDBOX_AUDIENCE = "https://test.salesforce.com"


@lru_cache(maxsize=256)  # asked on every proxied call, of the same few hosts
def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_salesforce_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in SALESFORCE_DOMAINS)


@lru_cache(maxsize=1024)  # every proxied call checks its token's instance URL; errors not kept
def check_salesforce_url(url: str, *, what: str, allow_loopback: bool) -> str:
    """``url`` if it is https on a Salesforce host (or loopback when allowed), else an error."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    local = allow_loopback and is_loopback(host) and parts.scheme in ("http", "https")
    good = parts.scheme == "https" and is_salesforce_host(host)
    if "@" in parts.netloc or not (good or local):
        raise UpstreamProtocolError(
            f"The token response's {what} is not an https URL on a Salesforce host "
            f"({parts.scheme}://{host}); no token is handed out to be sent there.",
            hint="Something other than Salesforce answered at SFDC_LOGIN_URL; check that it "
            "is a Salesforce login host and that no proxy rewrites the answer.",
        )
    return url
