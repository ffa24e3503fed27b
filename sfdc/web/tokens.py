"""``/token``: the current access token, for callers with an API key.

``GET`` returns it. A caller whose Salesforce call was refused with
``INVALID_SESSION_ID`` (or ``Bad_OAuth_Token``) ``POST``s the token back as
``rejected``; if it is still the current token it is dropped everywhere and
the answer is a fresh one, with ``replaced`` saying whether it is a different
token. A token younger than ``REPORT_GRACE`` is not
replaced on a caller's word: a client looping on an error that is not about
the session would otherwise spend a login per call; the answer then carries
``Retry-After`` with the seconds until a report would be taken.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sfdc.errors import InvalidRequest
from sfdc.web.auth import require_api_key
from sfdc.web.extension import token_service, token_source

bp = Blueprint("tokens", __name__)

REPORT_GRACE = timedelta(seconds=30)


@bp.get("/token")
def token() -> dict[str, Any]:
    require_api_key(token_service().settings.api_keys)
    return token_source().current().token.to_dict()


@bp.post("/token")
def report_rejected() -> Response:
    require_api_key(token_service().settings.api_keys)
    service = token_source()
    document = request.get_json(silent=True)
    rejected = document.get("rejected") if isinstance(document, dict) else None
    rejected = rejected or request.form.get("rejected")
    if not isinstance(rejected, str) or not rejected:
        raise InvalidRequest(
            "POST /token reports a token Salesforce refused, but no 'rejected' token was sent.",
            hint="Send the refused access token as rejected=<token> (form) or "
            '{"rejected": "<token>"} (JSON); use GET /token to just read the token.',
        )
    current = service.current()
    age = service.clock() - current.token.issued_at
    same = hmac.compare_digest(current.token.access_token.encode(), rejected.encode())
    if same and age >= REPORT_GRACE:
        service.rejected(current)
    fresh = service.current().token
    answer = jsonify({**fresh.to_dict(), "replaced": fresh.access_token != rejected})
    if same and age < REPORT_GRACE:
        # Not replaced: say when a report would be taken, instead of failing silently.
        answer.headers["Retry-After"] = str(int((REPORT_GRACE - age).total_seconds()) + 1)
    return answer
