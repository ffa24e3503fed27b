"""gunicorn's configuration (gunicorn reads this file from the app directory by itself).

Workers are gevent's: each connection costs a greenlet, not a thread, so
clients that send slowly, or calls to Salesforce that take 25 s, leave the
other connections served (README, "Slow clients"). gevent must patch the
standard library before anything imports socket, ssl or threading: with
``--preload`` the master imports the app before it forks, and gunicorn's
worker would patch only after that, too late (psycopg picks its blocking C
wait at import, locks made at start-up stay real ones, ssl patched late is
unsafe). This file is the first code gunicorn runs, so the patch comes first,
and the worker class is set here, beside it, so that the two cannot disagree.

Prometheus metrics from several workers are summed through files in
PROMETHEUS_MULTIPROC_DIR. prometheus-client picks file-backed values only if
that variable is set when it is first imported, so it is set here, before any
import of it, and before the preloaded app is imported.
"""

from gevent import monkey

monkey.patch_all()

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
import gc
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

worker_class = "gevent"
# Connections one worker serves at once; past that it stops accepting until
# one closes. gorouter opens at most 500 to an instance (router.backends.max_conns).
worker_connections = 1000
# Seconds an idle kept-alive connection stays open and, under gevent, all the
# time a connection has to send a request's line and headers: a client that
# sends its headers a byte at a time is dropped after this (gunicorn's default).
keepalive = 2
# Request size limits. gunicorn refuses a request over them itself, with its
# own HTML page, not the service's JSON (README, "Endpoints"). Salesforce takes
# a URI and headers of up to 16,384 bytes; 8190 is the longest request line
# gunicorn allows, so SOQL queries up to about 8 KB pass (its default cut at 4 KB).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190


def on_starting(server):  # type: ignore[no-untyped-def]  # gunicorn's hook signature
    # The patch above is right only for gevent's workers: refuse `-k gthread` and the like.
    if not server.cfg.worker_class_str.startswith("gevent"):
        raise RuntimeError(
            f"gunicorn.conf.py patches for gevent; worker class "
            f"{server.cfg.worker_class_str!r} would run patched. Remove -k/--worker-class."
        )


def when_ready(server):  # type: ignore[no-untyped-def]  # gunicorn's hook signature
    # With --preload the master imported the app and so created gauge files at
    # their default 0; it never serves a request, so its values must not count.
    multiprocess.mark_process_dead(os.getpid())
    # Before the workers fork: what the imports and the app made lives as long as the
    # process, so the garbage collector stops walking it. A full collection in a worker
    # then looks at what requests made, not the ~120,000 objects behind Flask, SQLAlchemy
    # and pydantic (about 0.1 s each time on a busy machine: a p99 outlier), and the
    # workers keep sharing those pages with the master instead of copying them.
    gc.freeze()


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
