"""The identity URL (`/id/{orgId}/{userId}`) and `/services/oauth2/userinfo`.

Emulates Salesforce's "Identity URLs" (Mobile SDK guide and Salesforce Help) and the OpenID
Connect UserInfo endpoint. Both take an access token and answer a bad, expired or revoked one
with HTTP 403 and the plain-text body `Bad_OAuth_Token` (the REST data API answers 401
instead). Salesforce's other identity-URL errors are not documented where we could read
them; the ones used here (`Missing_OAuth_Token`, `Wrong_Org`, `Bad_Id`, `No_Access`,
`Invalid_Version`) follow the commonly cited list and are unconfirmed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from .api_versions import resolve_version
from .context import base_url, current, presented_credential
from .ids import same_id, user_id
from .org_data import names_of
from .responses import json_response, plain_text
from .state import IssuedToken

blueprint = Blueprint("identity", __name__)

# Scopes that let a token read another user's identity URL (Salesforce Help, "OpenID Connect").
_READ_OTHERS_SCOPES = frozenset({"api", "full"})


def _session(*, allow_parameter: bool) -> IssuedToken | Response:
    """The live session the request presents, or the 403 Salesforce sends instead."""
    credential = presented_credential(allow_parameter=allow_parameter)
    if credential.kind == "missing":
        return plain_text("Missing_OAuth_Token", 403)
    emulator = current()
    session = None
    if credential.kind == "token":
        timeout = emulator.config.session_timeout
        session = emulator.state.use(credential.token, emulator.config.clock(), timeout)
    return plain_text("Bad_OAuth_Token", 403) if session is None else session


def _urls(base: str, org_id: str, uid: str, version: str) -> dict[str, str]:
    rest = f"{base}/services/data/v{version}/"
    soap = f"{base}/services/Soap"
    return {
        "enterprise": f"{soap}/c/{version}/{org_id[:15]}",
        "metadata": f"{soap}/m/{version}/{org_id[:15]}",
        "partner": f"{soap}/u/{version}/{org_id[:15]}",
        "rest": rest,
        "sobjects": f"{rest}sobjects/",
        "search": f"{rest}search/",
        "query": f"{rest}query/",
        "recent": f"{rest}recent/",
        "tooling_soap": f"{soap}/T/{version}/{org_id[:15]}",
        "tooling_rest": f"{rest}tooling/",
        "profile": f"{base}/{uid}",
        "feeds": f"{rest}chatter/feeds",
        "groups": f"{rest}chatter/groups",
        "users": f"{rest}chatter/users",
        "feed_items": f"{rest}chatter/feed-items",
        "feed_elements": f"{rest}chatter/feed-elements",
        "custom_domain": base,
    }


def _common(base: str, session: IssuedToken, username: str, uid: str) -> dict[str, Any]:
    """Fields both documents share, for user `username` in the session's org."""
    return {
        "user_id": uid,
        "organization_id": session.organization_id,
        "email": username,
        "email_verified": True,
        "photos": {
            "picture": f"{base}/profilephoto/005/F",
            "thumbnail": f"{base}/profilephoto/005/T",
        },
        "urls": _urls(base, session.organization_id, uid, "{version}"),
        "active": True,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": -28800000,
        "is_app_installed": True,
    }


@blueprint.route("/id/<org_id>/<path_user_id>", methods=["GET", "POST"])
def identity(org_id: str, path_user_id: str) -> Response:
    session = _session(allow_parameter=True)
    if isinstance(session, Response):
        return session
    emulator = current()
    if not same_id(org_id, session.organization_id):
        return plain_text("Wrong_Org", 403)
    username = next(
        (
            u
            for u in emulator.config.usernames
            if same_id(user_id(emulator.config, u), path_user_id)
        ),
        None,
    )
    if username is None:
        return plain_text("Bad_Id", 404)
    if username != session.username and not _READ_OTHERS_SCOPES & set(session.scope.split()):
        return plain_text("No_Access", 404)
    # Without `version`, URLs keep a literal "{version}" placeholder, as documented.
    version = "{version}"
    if "version" in request.values:
        resolved = resolve_version(request.values["version"])
        if resolved is None:
            return plain_text("Invalid_Version", 406)
        version = resolved
    base, uid = base_url(), user_id(emulator.config, username)
    first, last = names_of(username)
    body = _common(base, session, username, uid)
    body["urls"] = _urls(base, session.organization_id, uid, version)
    return json_response(
        {
            "id": f"{base}/id/{session.organization_id}/{uid}",
            "asserted_user": username == session.username,
            "username": username,
            "nick_name": username.split("@")[0],
            "display_name": f"{first} {last}".strip(),
            "first_name": first,
            "last_name": last,
            "timezone": "America/Los_Angeles",
            "addr_street": None,
            "addr_city": None,
            "addr_state": None,
            "addr_country": "US",
            "addr_zip": None,
            "mobile_phone": None,
            "mobile_phone_verified": False,
            "is_lightning_login_user": False,
            "status": {"created_date": None, "body": None},
            "last_modified_date": "2024-01-01T00:00:00Z",
            **body,
        }
    )


@blueprint.route("/services/oauth2/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    session = _session(allow_parameter=False)
    if isinstance(session, Response):
        return session
    base = base_url()
    first, last = names_of(session.username)
    return json_response(
        {
            "sub": session.identity_url,
            "preferred_username": session.username,
            "nickname": session.username.split("@")[0],
            "name": f"{first} {last}".strip(),
            "given_name": first,
            "family_name": last,
            "zoneinfo": "America/Los_Angeles",
            "profile": f"{base}/{session.user_id}",
            "picture": f"{base}/profilephoto/005/F",
            "address": {"country": "US"},
            "is_salesforce_integration_user": False,
            "updated_at": "2024-01-01T00:00:00Z",
            **_common(base, session, session.username, session.user_id),
        }
    )
