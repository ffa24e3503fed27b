"""What a view declares about itself, once, beside it: read by ``/openapi.json`` and by the view.

``@documented(...)`` attaches an ``Operation`` to a view: the pydantic model of
its answer, the model of its request body, the errors it may raise (classes of
the error catalogue, ``sfdc.errors``), who may call it, the headers it reads.
The summary and description are the view's docstring. ``sfdc.web.openapi``
walks the app's URL map and turns each rule's declaration into the document, so
a route, an error or a field cannot be added without the document knowing.

A body model is also what the view reads its body with (``read_body``): the
document states exactly the constraints the view enforces. A field's
validator may raise ``InvalidRequest`` itself, to say precisely what is wrong;
anything else the model refuses (a required field missing) is the model's
``incomplete`` error.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from sfdc import errors
from sfdc.errors import InvalidRequest, SfdcError

Auth = Literal["api_key", "api_key_optional", "public"]
View = TypeVar("View", bound=Callable[..., Any])
Body = TypeVar("Body", bound="RequestBody")


class RequestBody(BaseModel):
    """A request body a view reads; ``incomplete`` is the answer when the model refuses it."""

    incomplete: ClassVar[tuple[str, str]] = ("The request body is incomplete.", "")


def read_body(model: type[Body], document: Mapping[str, Any]) -> Body:
    """``document`` (a JSON object or a form) as ``model``, or the 400 that says why not."""
    try:
        return model.model_validate({key: document[key] for key in document})  # a form's first
    except ValidationError:
        description, hint = model.incomplete
        raise InvalidRequest(description, hint=hint) from None


@dataclass(frozen=True)
class Param:
    """A header or query parameter a view reads, and the errors a bad value brings."""

    name: str
    where: Literal["header", "query", "path"]
    description: str
    schema: dict[str, Any]
    raises: tuple[type[Exception], ...] = ()


@dataclass(frozen=True)
class Operation:
    """One view's declaration. ``answer`` is None for an answer that is not ours (a proxy)."""

    answer: type[BaseModel] | None
    raises: tuple[type[Exception], ...] = ()
    auth: Auth = "api_key"
    status: int = 200
    media: str = "application/json"
    body: type[RequestBody] | None = None
    opaque_body: bool = False  # any content type, passed on untouched
    params: tuple[Param, ...] = ()
    answer_headers: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    pages: bool = False  # also answers HTML pages, success and error, for browsers
    passthrough: bool = False  # any other answer is Salesforce's, relayed unchanged
    head: bool = False  # answers HEAD itself (else HEAD is Flask's GET without a body)
    tag: str = "tokens"
    summary: str = ""
    description: str = ""


_DECLARED: dict[Callable[..., Any], Operation] = {}


def documented(answer: type[BaseModel] | None, **declared: Any) -> Callable[[View], View]:
    """Declare ``view``'s operation; its docstring's first line is the summary."""

    def declare(view: View) -> View:
        summary, _, description = (inspect.getdoc(view) or "").partition("\n")
        _DECLARED[view] = Operation(
            answer, summary=summary.strip(), description=description.strip(), **declared
        )
        return view

    return declare


def declaration(view: Callable[..., Any]) -> Operation | None:
    return _DECLARED.get(view)


# -- the error catalogue, as the document needs it -------------------------------------


@dataclass(frozen=True)
class Refusal:
    """One error an operation may answer with; ``code`` None: Salesforce's own code."""

    status: int
    code: str | None
    summary: str
    hint: str
    retryable: bool


def paragraph(doc: str | None) -> str:
    """A docstring's first paragraph, on one line."""
    return " ".join(inspect.cleandoc(doc or "").split("\n\n")[0].split())


def refusal(kind: type[Exception]) -> Refusal:
    """What ``kind`` answers, read from its class attributes only."""
    assert issubclass(kind, SfdcError), kind
    summary = paragraph(vars(kind).get("__doc__"))  # its own: a parent's would mislead
    code = None if kind.salesforce_code else kind.code
    return Refusal(kind.status, code, summary, kind.hint, kind.retryable)


def catalogue() -> list[type[SfdcError]]:
    """Every error class the service answers with (``sfdc.errors.catalogue()``)."""
    return list(errors.catalogue())
