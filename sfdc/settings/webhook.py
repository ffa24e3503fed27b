"""Where connection alerts are posted: ``SFDC_WEBHOOK_URL``, signed with ``SFDC_WEBHOOK_SECRET``.

Both may come from the environment or the bound credential (``webhook_url``,
``webhook_secret``): a webhook URL is often a secret itself (chat services
put their token in the path), so only its host is ever logged. A URL without
a secret is refused at start-up: a receiver could not tell our alerts from
anyone's, and an unsigned alert that a connection needs consent invites
phishing with a fake connect link.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sfdc.errors import ConfigError
from sfdc.settings.hosts import is_loopback

# Long enough that guessing is hopeless; `secrets.token_urlsafe(32)` gives 43.
MIN_SECRET_LENGTH = 16
_GENERATE = 'Generate one with `python -c "import secrets; print(secrets.token_urlsafe(32))"`.'


@dataclass(frozen=True)
class WebhookTarget:
    url: str = field(repr=False)
    secret: str = field(repr=False)

    @property
    def description(self) -> str:
        """For logs: scheme and host, never the path (it may hold a token)."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname}"


def find_webhook(url: str | None, secret: str | None) -> WebhookTarget | None:
    """The configured webhook, None when no URL is set, else ConfigError."""
    if url is None:
        return None
    parts = urlsplit(url)
    local = parts.scheme == "http" and is_loopback(parts.hostname or "")
    if not (parts.scheme == "https" or local) or not parts.hostname:
        raise ConfigError(
            "SFDC_WEBHOOK_URL is not an https URL.",
            hint="Set it to the https:// URL that receives connection alerts (plain http only "
            "for loopback hosts), or unset it.",
        )
    if secret is None:
        raise ConfigError(
            "SFDC_WEBHOOK_URL is set but SFDC_WEBHOOK_SECRET is not: alerts would be unsigned.",
            hint="Add webhook_secret to the bound credential (or set SFDC_WEBHOOK_SECRET) and "
            f"give the receiver the same value. {_GENERATE}",
        )
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"SFDC_WEBHOOK_SECRET is shorter than {MIN_SECRET_LENGTH} characters.",
            hint=f"Use a long random secret. {_GENERATE}",
        )
    return WebhookTarget(url, secret)
