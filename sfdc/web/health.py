"""``/healthz``: Cloud Foundry's liveness check.

It answers from memory and never calls Salesforce: CF allows it one second,
and a Salesforce outage must not get healthy instances restarted.
"""

from __future__ import annotations

from typing import Literal

from flask import Blueprint
from pydantic import BaseModel, ConfigDict

from sfdc.web.spec import documented

bp = Blueprint("health", __name__)


class Health(BaseModel):
    """Configured and serving."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ok"]


@bp.get("/healthz")
@documented(Health, auth="public", tag="operations")
def healthz() -> dict[str, str]:
    """Liveness: never calls Salesforce"""
    return {"status": "ok"}
