"""How an operator command fails: one line on stderr, exit status 1, no traceback.

Shared by the commands in ``cli`` and ``keys``: a catalogued ``SfdcError`` (sfdc/errors/)
is printed as ``error: <what happened> Fix: <what to do>``; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from sfdc.errors import SfdcError

F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(command: F) -> F:
    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SfdcError as exc:
            click.echo(f"error: {exc.one_line()}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]
