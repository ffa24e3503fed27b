"""``python -m sfdc ARGS``, run in-process by click's ``CliRunner`` on the command group.

In-process keeps the operator tests fast and lets a failure show its traceback,
while the command still sees what an operator's shell gives it: the arguments,
stdin, and only the service's variables the test passes (any ``SFDC_*``,
``VCAP_*``, ``REDIS_URL`` or ``DATABASE_URL`` of the test run itself is hidden).
stdout and stderr stay apart, as in a terminal (click 8.2 and later). One test
in ``test_cli.py`` still runs ``python -m sfdc`` as a process, for the entry point.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from click.testing import CliRunner, Result

from sfdc.ops.cli import main

SERVICE_VARIABLES = ("SFDC_", "VCAP_", "REDIS_URL", "DATABASE_URL")


def sfdc(*args: str, env: Mapping[str, str] | None = None, stdin: str | None = None) -> Result:
    hidden: dict[str, str | None] = {
        name: None for name in os.environ if name.startswith(SERVICE_VARIABLES)
    }
    return CliRunner().invoke(
        main,
        list(args),
        input=stdin,
        env={**hidden, **(env or {})},
        prog_name="python -m sfdc",
        catch_exceptions=False,
    )
