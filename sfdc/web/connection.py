"""``/connection``: the connection test, for callers with an API key."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from sfdc import connection
from sfdc.web.auth import require_api_key
from sfdc.web.extension import token_service

bp = Blueprint("connection", __name__)


@bp.get("/connection")
def test_connection() -> dict[str, Any]:
    service = token_service()
    require_api_key(service.settings.api_keys)
    return connection.check(service, service.transport, service.clock)
