"""Salesforce JWT bearer tokens for Cloud Foundry: the framework-free core.

``sfdc.web`` serves it with Flask; ``sfdc.emulator`` is a local Salesforce
stand-in for tests. Neither is imported here, so ``import sfdc`` stays free of
Flask.
"""

import tomllib
from importlib import metadata
from pathlib import Path

from sfdc.client import SalesforceAuth, SalesforceSession
from sfdc.errors import (
    ConfigError,
    RequestError,
    SalesforceRefusal,
    SalesforceTimeout,
    SalesforceUnavailable,
    SfdcError,
    UpstreamError,
    UpstreamProtocolError,
)
from sfdc.salesforce.oauth import OAuthClient, TokenResponse
from sfdc.salesforce.refusals import is_session_rejection
from sfdc.salesforce.transport import RetryPolicy, Transport
from sfdc.settings.settings import DEFAULT_TIMEOUT, Settings, load_settings
from sfdc.tokens.assertion import ASSERTION_LIFETIME, Assertion, Signer, claims
from sfdc.tokens.exchange import Exchange
from sfdc.tokens.provider import TokenProvider
from sfdc.tokens.service import JwtBearerFlow, TokenService
from sfdc.tokens.token import Freshness, Token


def _version() -> str:
    """The installed distribution's version; from a checkout (as Cloud Foundry runs it, and
    as the tests do), the one in pyproject.toml beside the package."""
    try:
        return metadata.version("sfdc-token-service")
    except metadata.PackageNotFoundError:
        pass
    try:
        with (Path(__file__).resolve().parent.parent / "pyproject.toml").open("rb") as file:
            version: str = tomllib.load(file)["project"]["version"]
    except OSError:  # a copy without pyproject.toml still serves; it cannot say its version
        return "0+unknown"
    return version


__version__ = _version()

__all__ = [
    "ASSERTION_LIFETIME",
    "DEFAULT_TIMEOUT",
    "Assertion",
    "ConfigError",
    "Exchange",
    "Freshness",
    "JwtBearerFlow",
    "OAuthClient",
    "RequestError",
    "RetryPolicy",
    "SalesforceAuth",
    "SalesforceRefusal",
    "SalesforceSession",
    "SalesforceTimeout",
    "SalesforceUnavailable",
    "Settings",
    "SfdcError",
    "Signer",
    "Token",
    "TokenProvider",
    "TokenResponse",
    "TokenService",
    "Transport",
    "UpstreamError",
    "UpstreamProtocolError",
    "__version__",
    "claims",
    "is_session_rejection",
    "load_settings",
]
