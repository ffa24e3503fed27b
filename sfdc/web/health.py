"""``/healthz``: Cloud Foundry's liveness check.

It answers from memory and never calls Salesforce: CF allows it one second,
and a Salesforce outage must not get healthy instances restarted.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
