"""Log lines: one JSON object each, with the request id and structured Salesforce-call fields."""

from __future__ import annotations

import io
import json
import logging

import pytest
from flask.testing import FlaskClient

from sfdc.telemetry import logs


def _capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("test.logs")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_a_record_is_one_json_line_with_time_level_event_and_request_id() -> None:
    logger, stream = _capture()
    token = logs.REQUEST_ID.set("req-7")
    try:
        logger.info(
            "salesforce call",
            extra={"endpoint": "h/p", "status": 200, "duration_ms": 3.2, "outcome": "ok"},
        )
    finally:
        logs.REQUEST_ID.reset(token)
    line = stream.getvalue()
    assert line.count("\n") == 1
    entry = json.loads(line)
    assert entry["event"] == "salesforce call"
    assert entry["level"] == "info"
    assert entry["request_id"] == "req-7"
    assert (entry["endpoint"], entry["status"], entry["outcome"]) == ("h/p", 200, "ok")
    assert entry["time"].endswith("+00:00")


def test_a_traceback_stays_inside_one_line() -> None:
    logger, stream = _capture()
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert "ValueError: boom" in json.loads(lines[0])["exception"]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("abc-123", "abc-123"),
        ("a\r\nX-Evil: 1", "aX-Evil:1"),
        ("", None),
        (None, None),
        ("x" * 500, "x" * 128),
    ],
)
def test_request_ids_are_cleaned_before_logs_and_headers(
    raw: str | None, clean: str | None
) -> None:
    assert logs.clean_request_id(raw) == clean


def test_the_routers_request_id_is_echoed_and_one_is_made_otherwise(client: FlaskClient) -> None:
    given = client.get("/healthz", headers={"X-Vcap-Request-Id": "f9a8-router"})
    assert given.headers["X-Request-Id"] == "f9a8-router"
    made = client.get("/healthz").headers["X-Request-Id"]
    assert len(made) == 32
    assert client.get("/healthz").headers["X-Request-Id"] != made
