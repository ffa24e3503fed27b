"""gunicorn hooks (gunicorn reads this file from the app directory by itself).

Prometheus metrics from several workers are summed through files in
PROMETHEUS_MULTIPROC_DIR. prometheus-client picks file-backed values only if
that variable is set when it is first imported, so it is set here, before any
import of it, and before the preloaded app is imported.
"""

import os
import shutil
import tempfile
from pathlib import Path

if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
    _metrics_dir, _owned = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]), False
    _metrics_dir.mkdir(parents=True, exist_ok=True)
    for _stale in _metrics_dir.glob("*.db"):
        _stale.unlink()
else:
    _metrics_dir, _owned = Path(tempfile.mkdtemp(prefix="sfdc-metrics-")), True
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_metrics_dir)

# Imported only now: prometheus-client must see PROMETHEUS_MULTIPROC_DIR first.
import logging
import sys

from gunicorn.glogging import Logger
from prometheus_client import multiprocess

sys.path.insert(0, str(Path(__file__).resolve().parent))  # gunicorn has not added it yet
from sfdc.telemetry.logs import JsonFormatter


class JsonLogger(Logger):  # type: ignore[misc]
    """gunicorn's own lines (start-up, access) as JSON on stdout, like the app's."""

    def setup(self, cfg):  # type: ignore[no-untyped-def]
        super().setup(cfg)
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        self.error_log.handlers[:] = [handler]
        if cfg.accesslog:
            self.access_log.handlers[:] = [handler]


logger_class = JsonLogger


def when_ready(server):  # type: ignore[no-untyped-def]  # gunicorn's hook signature
    # With --preload the master imported the app and so created gauge files at
    # their default 0; it never serves a request, so its values must not count.
    multiprocess.mark_process_dead(os.getpid())


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    # Background jobs (the keep-alive) run in each worker, started after the fork;
    # a lease in the database lets one of them do the work at a time.
    from sfdc.web import start_background

    start_background(worker.wsgi)


def worker_exit(server, worker):  # type: ignore[no-untyped-def]
    from sfdc.web import stop_background

    if getattr(worker, "wsgi", None) is not None:
        stop_background(worker.wsgi, timeout=4.0)  # inside --graceful-timeout 8


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):  # type: ignore[no-untyped-def]
    if _owned:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
