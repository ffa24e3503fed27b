"""gunicorn hooks (gunicorn reads this file from the app directory by itself).

Prometheus metrics from several workers are summed through files in
PROMETHEUS_MULTIPROC_DIR, which must exist, empty, before the app is imported
(``--preload`` imports it in the master), and must forget workers that exit.
"""

import os
import tempfile
from pathlib import Path

from prometheus_client import multiprocess

_metrics_dir = Path(
    os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR",
        str(Path(tempfile.gettempdir()) / f"sfdc-metrics-{os.getpid()}"),
    )
)
_metrics_dir.mkdir(parents=True, exist_ok=True)
for stale in _metrics_dir.glob("*.db"):
    stale.unlink()


def child_exit(server, worker):  # type: ignore[no-untyped-def]  # gunicorn's hook signature
    multiprocess.mark_process_dead(worker.pid)


def when_ready(server):  # type: ignore[no-untyped-def]
    # With --preload the master imported the app and so created gauge files at
    # their default 0; it never serves a request, so its values must not count.
    multiprocess.mark_process_dead(os.getpid())
