"""Logs an operator can use: one JSON object per line, on stdout.

Cloud Foundry's log stream takes a process's stdout line by line, so each
record is one line of JSON: ``time``, ``level``, ``logger``, ``event``, the
``request_id`` of the request being served (CF's ``X-Vcap-Request-Id`` when
the router sent one), and whatever structured fields the call site passed
(a Salesforce call adds ``endpoint``, ``method``, ``status``,
``duration_ms``, ``outcome``). gunicorn's access lines become JSON too. Call
sites never pass secrets; fields are values we chose, not request dumps.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

REQUEST_ID: ContextVar[str | None] = ContextVar("sfdc_request_id", default=None)

# Structured fields a call site may attach with ``extra=``.
FIELDS = (
    "endpoint",
    "method",
    "path",
    "status",
    "duration_ms",
    "outcome",
    "attempt",
    "alert",
    "connection",
    "org_id",
    "reason",
    "audit",
    "client",
    "key_id",
)
_SAFE_ID = re.compile(r"[^A-Za-z0-9._:-]")


def clean_request_id(raw: str | None) -> str | None:
    """A request id fit for logs and headers: no control characters, bounded length."""
    if not raw:
        return None
    cleaned = _SAFE_ID.sub("", raw)[:128]
    return cleaned or None


def _access_fields(record: logging.LogRecord) -> dict[str, Any]:
    """gunicorn's access record: its atoms, mapped to our names (path without query)."""
    atoms = record.args if isinstance(record.args, dict) else {}

    def atom(key: str) -> Any:
        value = atoms.get(key, "-")
        return None if value == "-" else value

    status = atom("s")
    duration = atom("D")  # microseconds
    return {
        "event": "request",
        "method": atom("m"),
        "path": atom("U"),
        "status": int(status) if str(status).isdigit() else status,
        "duration_ms": round(int(duration) / 1000, 1) if str(duration).isdigit() else None,
        "request_id": clean_request_id(atom("{x-request-id}o") or atom("{x-vcap-request-id}i")),
    }


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if record.name == "gunicorn.access":
            document.update(_access_fields(record))
        else:
            document["event"] = record.getMessage()
            document["request_id"] = REQUEST_ID.get()
            given = record.__dict__  # where extra= puts them; hasattr would raise for each absent
            for name in FIELDS:
                if name in given:
                    document[name] = given[name]
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)


def configure(stream: IO[str] | None = None, level: int = logging.INFO) -> None:
    """Send every log record, as JSON lines, to ``stream`` (stdout by default)."""
    # The JSON lines carry none of what logging collects by default about the caller's
    # thread, process and source line; skipping it is the logging HOWTO's "Optimization"
    # advice, and a proxied call logs one line each.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
