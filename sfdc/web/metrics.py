"""``/metrics``: Prometheus text format, summed over gunicorn workers."""

from __future__ import annotations

from flask import Blueprint, Response

from sfdc.telemetry import metrics
from sfdc.web.extension import token_service

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def scrape() -> Response:
    service = token_service()
    current = service.provider.peek()
    if current is not None:
        age = service.clock() - current.token.issued_at
        metrics.TOKEN_AGE.set(age.total_seconds())
    return Response(metrics.render(), mimetype=None, content_type=metrics.CONTENT_TYPE)
