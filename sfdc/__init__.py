"""Salesforce JWT bearer tokens for Cloud Foundry: the framework-free core.

``sfdc.web`` serves it with Flask; ``sfdc.emulator`` is a local Salesforce
stand-in for tests. Neither is imported here, so ``import sfdc`` stays free of
Flask.
"""

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
    "claims",
    "is_session_rejection",
    "load_settings",
]
