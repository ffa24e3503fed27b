"""The emulated org's own rows: one User per configured username and the Organization.

Their IDs are the ones the token endpoint hands out in identity URLs, so
`SELECT Id FROM User WHERE Username = '...'` finds the user a session belongs to, and the
Organization row's `Id` is the org ID of every access token (Object Reference for the
Salesforce Platform, "User" and "Organization").
"""

from __future__ import annotations

import re

from .config import SANDBOX_AUDIENCE, EmulatorConfig
from .ids import organization_id, user_id
from .records import SObjectRecord

ORG_NAME = "Emulated Org"
TIME_ZONE = "America/Los_Angeles"
LOCALE = "en_US"
# The standard profile every emulated user has ("System Administrator" in a new org).
PROFILE_ID = "00e000000000001AAA"


def names_of(username: str) -> tuple[str, str]:
    """(first name, last name) made up from the username: `alice.smith@x` -> Alice Smith."""
    words = [word.capitalize() for word in re.split(r"[._+-]+", username.split("@")[0]) if word]
    if not words:
        return "", username
    return (" ".join(words[:-1]), words[-1])


def user_row(config: EmulatorConfig, username: str) -> SObjectRecord:
    first, last = names_of(username)
    fields = {
        "Username": username,
        "FirstName": first or None,
        "LastName": last,
        "Name": f"{first} {last}".strip(),
        "Email": username,
        "Alias": (first[:1] + last)[:8].lower(),
        "IsActive": True,
        "TimeZoneSidKey": TIME_ZONE,
        "LocaleSidKey": LOCALE,
        "LanguageLocaleKey": LOCALE,
        "EmailEncodingKey": "UTF-8",
        "ProfileId": PROFILE_ID,
        "UserType": "Standard",
    }
    return SObjectRecord("User", user_id(config, username), fields)


def organization_row(config: EmulatorConfig) -> SObjectRecord:
    sandbox = config.audience == SANDBOX_AUDIENCE
    fields = {
        "Name": ORG_NAME,
        "OrganizationType": "Developer Edition",
        "InstanceName": "EM1",
        "IsSandbox": sandbox,
        "LanguageLocaleKey": LOCALE,
        "TimeZoneSidKey": TIME_ZONE,
    }
    return SObjectRecord("Organization", organization_id(config), fields)


def org_rows(config: EmulatorConfig) -> list[SObjectRecord]:
    return [organization_row(config), *(user_row(config, name) for name in config.usernames)]
