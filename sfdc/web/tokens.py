"""``/token``: the current access token, for callers with an API key."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from sfdc.web.auth import require_api_key
from sfdc.web.extension import token_service

bp = Blueprint("tokens", __name__)


@bp.get("/token")
def token() -> dict[str, Any]:
    service = token_service()
    require_api_key(service.settings.api_keys)
    return service.current().token.to_dict()
