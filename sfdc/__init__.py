"""Salesforce JWT bearer tokens for Cloud Foundry: the framework-free core.

``sfdc.web`` serves it with Flask; ``sfdc.emulator`` is a local Salesforce
stand-in for tests. Neither is imported here, so ``import sfdc`` stays free of
Flask.
"""

from sfdc.assertion import ASSERTION_LIFETIME, Assertion, Signer, claims
from sfdc.config import Settings, load_settings
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
from sfdc.exchange import Exchange
from sfdc.flow import JwtBearerFlow, TokenService
from sfdc.http import DEFAULT_TIMEOUT, RetryPolicy, Transport
from sfdc.oauth import OAuthClient, TokenResponse
from sfdc.provider import TokenProvider
from sfdc.session import SalesforceAuth, SalesforceSession, is_session_rejection
from sfdc.tokens import Freshness, Token

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
