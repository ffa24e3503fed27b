"""``/connection``: the connection test, for callers with an API key.

It tests the JWT connection, or the stored connection named in ``X-Sfdc-Connection``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from sfdc.tokens import identity
from sfdc.web.auth import require_api_key
from sfdc.web.extension import token_service, token_source

bp = Blueprint("connection", __name__)


@bp.get("/connection")
def test_connection() -> dict[str, Any]:
    require_api_key(token_service().settings.api_keys)
    source = token_source()
    return identity.check(source, source.transport, source.clock)
