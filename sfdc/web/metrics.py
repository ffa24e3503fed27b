"""``/metrics``: Prometheus text format, summed over gunicorn workers."""

from __future__ import annotations

from flask import Blueprint, Response
from pydantic import RootModel

from sfdc.telemetry import metrics
from sfdc.web.extension import token_service
from sfdc.web.spec import documented

bp = Blueprint("metrics", __name__)


class Exposition(RootModel[str]):
    """Prometheus text exposition format; no secrets."""


@bp.get("/metrics")
@documented(Exposition, auth="public", media=metrics.CONTENT_TYPE, tag="operations")
def scrape() -> Response:
    """Prometheus metrics, summed over workers"""
    service = token_service()
    current = service.provider.peek()
    if current is not None:
        age = service.clock() - current.token.issued_at
        metrics.TOKEN_AGE.set(age.total_seconds())
    return Response(metrics.render(), mimetype=None, content_type=metrics.CONTENT_TYPE)
