"""``/token``: the current access token, for callers with an API key.

``GET`` returns it. A caller whose Salesforce call was refused with
``INVALID_SESSION_ID`` (or ``Bad_OAuth_Token``) ``POST``s the token back as
``rejected``; if it is still the current token it is dropped everywhere and
the answer is a fresh one. A token younger than ``REPORT_GRACE`` is not
replaced on a caller's word: a client looping on an error that is not about
the session would otherwise spend a login per call.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from flask import Blueprint, request

from sfdc.errors import RequestError
from sfdc.web.auth import require_api_key
from sfdc.web.extension import token_service

bp = Blueprint("tokens", __name__)

REPORT_GRACE = timedelta(seconds=30)


@bp.get("/token")
def token() -> dict[str, Any]:
    service = token_service()
    require_api_key(service.settings.api_keys)
    return service.current().token.to_dict()


@bp.post("/token")
def report_rejected() -> dict[str, Any]:
    service = token_service()
    require_api_key(service.settings.api_keys)
    document = request.get_json(silent=True)
    rejected = document.get("rejected") if isinstance(document, dict) else None
    rejected = rejected or request.form.get("rejected")
    if not isinstance(rejected, str) or not rejected:
        raise RequestError(
            "POST /token reports a token Salesforce refused, but no 'rejected' token was sent.",
            hint="Send the refused access token as rejected=<token> (form) or "
            '{"rejected": "<token>"} (JSON); use GET /token to just read the token.',
        )
    current = service.current()
    young = service.clock() - current.token.issued_at < REPORT_GRACE
    if hmac.compare_digest(current.token.access_token.encode(), rejected.encode()) and not young:
        service.rejected(current)
    return service.current().token.to_dict()
