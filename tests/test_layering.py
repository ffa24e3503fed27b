"""The core never imports Flask: it must be usable from a plain Python app or the CLI."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_core_does_not_import_flask() -> None:
    probe = "import sys, sfdc, sfdc.cli; print('flask' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
