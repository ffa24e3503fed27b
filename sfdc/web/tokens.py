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
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar

from flask import Blueprint, Response, jsonify, request
from pydantic import AnyUrl, BaseModel, ConfigDict, Field

from sfdc.telemetry import audit
from sfdc.web.auth import target
from sfdc.web.extension import CONNECTION, UPSTREAM, token_source
from sfdc.web.json_body import parse_json
from sfdc.web.spec import RequestBody, documented, read_body

bp = Blueprint("tokens", __name__)

REPORT_GRACE = timedelta(seconds=30)


class Token(BaseModel):
    """The current access token."""

    model_config = ConfigDict(extra="forbid")

    access_token: Annotated[str, Field(description="Send as `Authorization: Bearer`.")]
    instance_url: Annotated[
        AnyUrl,
        Field(description="The org's instance: REST calls go to `{instance_url}/services/`."),
    ]
    id: Annotated[AnyUrl, Field(description="The identity URL.")]
    token_type: Annotated[str, Field(examples=["Bearer"])]
    issued_at: datetime
    expires_at: Annotated[
        datetime | None,
        Field(
            description="When the service stops handing this token out (from introspection, "
            "or `SFDC_TOKEN_MAX_AGE` after `issued_at`)."
        ),
    ]


class ReportedToken(Token):
    """The current access token, after a reported rejection."""

    replaced: Annotated[
        bool,
        Field(
            description="Whether this is a different token from the one reported. False when "
            "the reported token is no longer current, or is younger than "
            f"{REPORT_GRACE.seconds} s (see Retry-After)."
        ),
    ]


class RejectedToken(RequestBody):
    """The access token Salesforce refused, as JSON or as a form."""

    incomplete: ClassVar[tuple[str, str]] = (
        "POST /token reports a token Salesforce refused, but no 'rejected' token was sent.",
        "Send the refused access token as rejected=<token> (form) or "
        '{"rejected": "<token>"} (JSON); use GET /token to just read the token.',
    )

    rejected: Annotated[
        str, Field(strict=True, min_length=1, description="The access token Salesforce refused.")
    ]


@bp.get("/token")
@documented(Token, raises=UPSTREAM, params=(CONNECTION,))
def token() -> dict[str, Any]:
    """The current access token

    Needs the scope `token:<connection>` (or `token:jwt` without `X-Sfdc-Connection`).
    """
    caller, name = target("token")
    answer = token_source(name).current().token.to_dict()
    audit.record("token", client=caller.client, connection=name, key_id=caller.key_id)
    return answer


@bp.post("/token")
@documented(
    ReportedToken,
    raises=UPSTREAM,
    params=(CONNECTION,),
    body=RejectedToken,
    answer_headers={
        "Retry-After": {
            "description": "Present when the reported token was not replaced for being younger "
            f"than {REPORT_GRACE.seconds} s: seconds until a report is taken.",
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
        }
    },
)
def report_rejected() -> Response:
    """Report a token Salesforce refused; answers with a fresh one

    If `rejected` is still the current token and it is older than the grace period, it is
    dropped everywhere and a new one obtained; otherwise the current token is returned.
    """
    caller, name = target("token")
    service = token_source(name)
    document = (
        parse_json(request.get_data(), hint=RejectedToken.incomplete[1])
        if request.is_json
        else None
    )
    fields = document if isinstance(document, dict) and document.get("rejected") else request.form
    rejected = read_body(RejectedToken, fields).rejected
    current = service.current()
    age = service.clock() - current.token.issued_at
    same = hmac.compare_digest(current.token.access_token.encode(), rejected.encode())
    if same and age >= REPORT_GRACE:
        service.rejected(current)
    fresh = service.current().token
    audit.record("token", client=caller.client, connection=name, key_id=caller.key_id)
    answer = jsonify({**fresh.to_dict(), "replaced": fresh.access_token != rejected})
    if same and age < REPORT_GRACE:
        # Not replaced: say when a report would be taken, instead of failing silently.
        answer.headers["Retry-After"] = str(int((REPORT_GRACE - age).total_seconds()) + 1)
    return answer
