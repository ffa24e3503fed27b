"""Running the Node clients: Node 22 and the packages `make clients` installed.

jsforce and the sf CLI need Node 22 or later; the machine's Node may be older, so the npm
package `node` (locked in tests/clients/js/package-lock.json) supplies the binary.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

JS = Path(__file__).resolve().parent / "js"
BIN = JS / "node_modules" / ".bin"
NODE = BIN / "node"
SF = BIN / "sf"
RUN_WITHIN = 300  # seconds: far above a scenario's run, even on a loaded 2-core machine


def _installed(path: Path) -> Path:
    if not path.exists():
        raise AssertionError(f"{path} is missing: run `make clients`")
    return path


def node_env(extra: Mapping[str, str], home: Path) -> dict[str, str]:
    """A clean environment: Node 22 first on PATH, a private HOME, nothing inherited that
    could point a client at a real org or leak the user's config."""
    return {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        **extra,
    }


def run_node_json(script: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """Run a scenario script with Node 22; its stdout is one JSON document."""
    done = subprocess.run(
        [str(_installed(NODE)), str(script)],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=RUN_WITHIN,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer
