"""The root of the tree and its groups: what every error carries, and where it belongs.

A class that sets ``code`` is concrete: it is one error a caller can meet, with
one ``code`` and one ``status``. The groups below set no ``code``; they exist to
be caught (``except UpstreamError``), never raised, and raising one is a
``TypeError`` so that a new kind of error gets its own class, not a code string.
"""

from __future__ import annotations

from typing import Any, ClassVar


class SfdcError(Exception):
    """Base of every error this package raises on purpose.

    Class attributes, shared by every instance: ``code`` (the JSON ``error``),
    ``status`` (the HTTP status answered), ``retryable`` (whether the same
    request later can succeed) and ``hint`` (what to change). An instance has its
    own ``description`` and may carry a more specific ``hint``.
    """

    code: str  # set by each concrete class, and by nothing else
    status: int = 500
    retryable: bool = False
    hint: str = ""
    # True where the ``error`` is Salesforce's word, not this service's: each
    # instance then carries Salesforce's code, and the class's is an example.
    salesforce_code: ClassVar[bool] = False
    # Set on an error a cool-down raises again without asking Salesforce: the record it
    # repeats (a ``sfdc.tokens.cooldown.Blocked``), so no one counts it as a new failure.
    replays: object | None = None

    def __init__(self, description: str, *, hint: str | None = None) -> None:
        if not hasattr(self, "code"):
            raise TypeError(f"{type(self).__name__} is a group: raise one of its classes")
        super().__init__(description)
        self.description = description
        if hint is not None:
            self.hint = hint

    def to_dict(self) -> dict[str, Any]:
        """The contract's error body."""
        return {
            "error": self.code,
            "error_description": self.description,
            "hint": self.hint,
            "retryable": self.retryable,
        }

    def one_line(self) -> str:
        """For logs and the CLI: what happened, then what to do."""
        return f"{self.description} Fix: {self.hint}" if self.hint else self.description

    def __str__(self) -> str:
        return self.one_line()


class RequestError(SfdcError):
    """A caller's request that we refuse (4xx): asking again unchanged cannot help."""

    status = 400


class ServiceError(SfdcError):
    """This service cannot answer, through no fault of the caller's or Salesforce's (5xx)."""


class UpstreamError(SfdcError):
    """Base for everything that went wrong talking to Salesforce (5xx)."""

    status = 502
