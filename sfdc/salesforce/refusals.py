"""What to do about each OAuth error Salesforce's token endpoint returns.

Source: section 1.6 of ``research/salesforce-oauth.md`` (Salesforce's
"OAuth 2.0 JWT Bearer Flow" and "OAuth Flow Errors" help pages, plus the
error strings seen in real responses). Salesforce's descriptions are short
and sometimes misleading ("invalid assertion" for a certificate mismatch), so
each maps to a hint naming what to change: the connected app, the user's
profile, or this service's configuration.

``is_session_rejection`` reads the other kind of refusal: an API answer that
says the access token itself is dead (research §5.3, §6), so that a caller
can replace the token once and replay.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sfdc.errors import ConnectLinkError, SalesforceRefusal


@dataclass(frozen=True)
class Advice:
    hint: str
    retryable: bool = False


_APPROVAL = Advice(
    "In Setup > App Manager > (your connected app) > Manage > Edit Policies, set Permitted "
    "Users to 'Admin approved users are pre-authorized', then add the integration user's "
    "profile or a permission set under Profiles / Permission Sets. Also check that "
    "SFDC_USERNAME is exactly that user and that SFDC_LOGIN_URL points at the org it lives "
    "in (production vs sandbox)."
)
_AUDIENCE = Advice(
    "Set SFDC_AUDIENCE to https://login.salesforce.com for production and Developer "
    "Edition orgs, or https://test.salesforce.com for sandboxes; not a My Domain URL. By "
    "default it follows SFDC_LOGIN_URL, which may point at the wrong kind of org."
)
_EXPIRED = Advice(
    "The assertion had expired when Salesforce read it: this host's clock is probably "
    "behind. Check the time source (NTP) of the machine or container running the service."
)
_SIGNATURE = Advice(
    "Salesforce could not verify the signed assertion. Upload the certificate that "
    "belongs to this service's private key to the connected app ('Use digital "
    "signatures'); compare its fingerprint with the one this service logs at start-up."
)
_APP_ACCESS = Advice(
    "The connected app admits only pre-authorized users: assign the integration user's "
    "profile or a permission set to the app (App Manager > Manage > Profiles)."
)
_CLIENT_ID = Advice(
    "SFDC_CONSUMER_KEY is not a connected app in this org. Copy the Consumer Key from "
    "App Manager > (app) > View > Manage Consumer Details, check the app is installed "
    "in the org that SFDC_LOGIN_URL reaches, and allow a few minutes after creating it."
)
_IP = Advice(
    "The user's profile restricts login IPs or hours. In the connected app set IP "
    "Relaxation to 'Relax IP restrictions', or add this foundation's egress IP ranges to "
    "the profile's Login IP Ranges, and check its Login Hours."
)
_INACTIVE_USER = Advice(
    "The integration user is frozen or deactivated: reactivate it in Setup > Users, "
    "or point SFDC_USERNAME at an active user."
)
_INACTIVE_ORG = Advice(
    "The org is locked, inactive or being migrated: check the org's status with its "
    "administrator or Salesforce Trust (status.salesforce.com)."
)
_RATE = Advice(
    "Salesforce's login rate limit (3,600 logins per user per hour) is exhausted. Wait up "
    "to an hour; this service reuses one token per process, so look for other clients "
    "logging in as the same user.",
    retryable=True,
)
_GRANT_TYPE = Advice(
    "The token endpoint did not accept the JWT bearer grant. Check that SFDC_LOGIN_URL is "
    "a Salesforce login host (login, test, or My Domain), not an instance or Lightning URL."
)
_UNKNOWN = Advice(
    "Salesforce refused the token request. Look up the error in the README's "
    "troubleshooting table, and run `python -m sfdc check` with the same settings."
)

_BY_ERROR: dict[str, Advice] = {
    "invalid_app_access": _APP_ACCESS,
    "invalid_client_id": _CLIENT_ID,
    "inactive_user": _INACTIVE_USER,
    "inactive_org": _INACTIVE_ORG,
    "rate_limit_exceeded": _RATE,
    "unsupported_grant_type": _GRANT_TYPE,
}

# invalid_grant covers unrelated causes; only its description tells them apart.
_BY_INVALID_GRANT_DESCRIPTION: dict[str, Advice] = {
    "user hasn't approved this consumer": _APPROVAL,
    "audience is invalid": _AUDIENCE,
    "audience validation failed": _AUDIENCE,
    "expired authorization code": _EXPIRED,
    "invalid assertion": _SIGNATURE,
    "ip restricted or invalid login hours": _IP,
}


def advise(error: str, description: str) -> Advice:
    """The advice for one Salesforce ``error``/``error_description`` pair."""
    if error == "invalid_grant":
        return _BY_INVALID_GRANT_DESCRIPTION.get(description.strip().lower(), _UNKNOWN)
    return _BY_ERROR.get(error, _UNKNOWN)


def refusal(
    error: str, description: str, *, upstream_status: int | None, advice: Advice | None = None
) -> SalesforceRefusal:
    """Salesforce's refusal as our error, keeping its own code and description."""
    advice = advice or advise(error, description)
    return SalesforceRefusal(
        error,
        description or f"Salesforce refused the request ({error}).",
        hint=advice.hint,
        retryable=advice.retryable,
        upstream_status=upstream_status,
    )


# The web-server flow's code exchange and the refresh-token grant (research §2-3):
# the same endpoint, but the fixes are a new connect link, the connected app's
# Callback URL and secret, or the person's consent, not the JWT set-up.
_NEW_LINK = ConnectLinkError.hint  # as for a link that cannot be redeemed
_WEB_SERVER: dict[str, Advice] = {
    "invalid_grant": Advice(
        "The authorization code was already used or has expired (codes live about 15 "
        "minutes and work once). " + _NEW_LINK
    ),
    "redirect_uri_mismatch": Advice(
        "The connected app's Callback URL must be exactly this service's /oauth/callback "
        "(SFDC_CALLBACK_URL). Salesforce can take several minutes to apply a change to it; "
        "then " + _NEW_LINK[0].lower() + _NEW_LINK[1:]
    ),
    "invalid_client": Advice(
        "Salesforce refused the consumer secret: put the connected app's current Consumer "
        "Secret in consumer_secret (SFDC_CONSUMER_SECRET) and restart."
    ),
    "invalid_client_credentials": Advice(
        "Salesforce refused the consumer secret: put the connected app's current Consumer "
        "Secret in consumer_secret (SFDC_CONSUMER_SECRET) and restart."
    ),
    "invalid_client_id": Advice(
        "SFDC_CONSUMER_KEY is not a connected app in the org the person logged in to: install "
        "the app there, or connect through the org that owns it."
    ),
}
_LOGIN_HOURS = frozenset({"ip restricted or invalid login hours"})
_REFRESH: dict[str, Advice] = {
    "inactive_user": Advice(
        "The connection's user is frozen or deactivated: reactivate it, or connect again as "
        "another user."
    ),
    "inactive_org": _INACTIVE_ORG,
    "invalid_client": _WEB_SERVER["invalid_client"],
    "invalid_client_credentials": _WEB_SERVER["invalid_client"],
    "invalid_client_id": Advice(
        "SFDC_CONSUMER_KEY no longer names the app this connection was made with; restore it, "
        "or connect again."
    ),
    "rate_limit_exceeded": _RATE,
}


_WEB_SERVER_OTHER = Advice(
    "Salesforce refused to redeem the authorization code. Check the connected app's OAuth "
    "settings (Callback URL, scopes, Require Secret), then ask for a new connect link."
)
_REFRESH_OTHER = Advice(
    "Salesforce refused the connection's refresh token request. If the user or the app's "
    "policies changed in Salesforce, connect it again (POST /connections)."
)


def grant_refusal(
    error: str, description: str, *, upstream_status: int | None, grant: str
) -> SalesforceRefusal:
    """A refusal of the authorization-code (``grant="code"``) or refresh-token grant."""
    if grant == "code":
        advice = _WEB_SERVER.get(error, _WEB_SERVER_OTHER)
    elif error == "invalid_grant" and description.strip().lower() in _LOGIN_HOURS:
        advice = _IP
    else:
        advice = _REFRESH.get(error, _REFRESH_OTHER)
    return refusal(error, description, upstream_status=upstream_status, advice=advice)


# Statuses whose body may say the session is dead: REST and Bulk API 2.0 answer 401,
# Bulk API 1.0 answers 400 (and 401 on some paths), identity and UserInfo 403.
SESSION_REJECTION_STATUSES = frozenset({400, 401, 403})
_BULK1_EXCEPTION = "InvalidSessionId"


def is_session_rejection(status: int, body: bytes) -> bool:
    """Whether an answer means "this access token is dead", so a new one can help.

    REST and Bulk API 2.0: 401 ``INVALID_SESSION_ID`` (a JSON array, or XML). Bulk API
    1.0: ``exceptionCode`` ``InvalidSessionId`` in an XML or JSON error (HTTP 400 or 401).
    Identity URL and UserInfo: 403 ``Bad_OAuth_Token``."""
    if status not in SESSION_REJECTION_STATUSES:
        return False
    if status == 403:
        return body.strip() == b"Bad_OAuth_Token"
    if b"<exceptionCode>InvalidSessionId</exceptionCode>" in body:
        return True
    if status == 401 and b"<errorCode>INVALID_SESSION_ID</errorCode>" in body:
        return True
    if b"InvalidSessionId" not in body and b"INVALID_SESSION_ID" not in body:
        return False  # not worth parsing
    try:
        document = json.loads(body)
    except ValueError:
        return False
    errors = document if isinstance(document, list) else [document]
    for e in errors:
        if not isinstance(e, dict):
            continue
        if e.get("exceptionCode") == _BULK1_EXCEPTION:
            return True
        if status == 401 and e.get("errorCode") == "INVALID_SESSION_ID":
            return True
    return False
