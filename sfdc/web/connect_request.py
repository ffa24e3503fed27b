"""What ``POST /connections`` reads: the connect request, as JSON or as a form.

One pydantic model both states the fields' constraints in ``/openapi.json``
and reads the body. Each field's validator raises the ``InvalidRequest`` that
says what is wrong with it; the name is checked first, as a link is nothing
without it. The name's pattern is ``check_name``'s, applied when the link is
made.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from flask import request
from pydantic import BeforeValidator, Field, ValidationInfo, model_validator

from sfdc.errors import InvalidRequest
from sfdc.orgs.onboarding import (
    LOGIN_ALIASES,
    MAX_LOGIN_LENGTH,
    MAX_SCOPES_LENGTH,
    SCOPES_PATTERN,
)
from sfdc.orgs.records import NAME_PATTERN
from sfdc.settings.hosts import SALESFORCE_DOMAINS
from sfdc.web.json_body import json_object
from sfdc.web.spec import RequestBody, read_body

_BODY_HINT = (
    'Send {"name": "acme", "login": "production"} with Content-Type: application/json, '
    "or name=acme&login=production as a form."
)


def _body() -> dict[str, Any]:
    """A JSON object (whatever the Content-Type claims, as curl -d sends it) or a form."""
    document = json_object(request.get_data(cache=True), hint=_BODY_HINT)
    if document is not None:
        return document
    return request.form.to_dict()


def _string(value: Any, key: str) -> str | None:
    """A string; empty means absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"'{key}' must be a string.", hint="See GET /openapi.json.")
    return value


def _text(value: Any, info: ValidationInfo) -> str | None:
    return _string(value, info.field_name or "")


_WORDS = {"true": True, "1": True, "on": True, "false": False, "0": False, "off": False}


def _flag(value: Any, info: ValidationInfo) -> bool:
    """A JSON boolean, or a form's true/false/1/0/on/off."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _WORDS:
        return _WORDS[value.strip().lower()]
    raise InvalidRequest(
        f"'{info.field_name}' must be true or false.", hint="See GET /openapi.json."
    )


def _boolean_or_word(schema: dict[str, Any]) -> None:
    """What ``_flag`` takes, for the document."""
    schema.pop("type", None)
    schema["anyOf"] = [{"type": "boolean"}, {"enum": list(_WORDS)}]


# 'production', 'sandbox', or an https URL on a Salesforce host (sfdc.settings.hosts).
_LOGIN_URL = r"^https://([A-Za-z0-9-]+\.)*({})/?$".format(
    "|".join(domain.replace(".", r"\.") for domain in SALESFORCE_DOMAINS)
)


class ConnectRequest(RequestBody):
    """What a connect link is for: the connection's name, and where its person logs in."""

    incomplete: ClassVar[tuple[str, str]] = (
        "A connect link needs the connection's name.",
        'Send {"name": "acme"}; add "login": "sandbox" or a My Domain URL if needed.',
    )

    @model_validator(mode="before")
    @classmethod
    def _name_first(cls, document: Any) -> Any:
        """The name before any other field: a link is nothing without it."""
        if isinstance(document, dict) and _string(document.get("name"), "name") is None:
            description, hint = cls.incomplete
            raise InvalidRequest(description, hint=hint)
        return document

    # Its pattern is check_name's, applied when the link is made (after 501 when orgs are off).
    name: Annotated[
        str,
        Field(
            description="The connection's name, case-sensitive. Connecting an existing name "
            "reconnects it, in the same org unless `replace` is true.",
            json_schema_extra={"pattern": NAME_PATTERN, "examples": ["acme-prod"]},
        ),
    ]
    replace: Annotated[
        bool,
        BeforeValidator(_flag),
        Field(
            description="Let the link point an existing connection at another org; default "
            "false, so a reconnect approved in another org is refused. A form (or a lenient "
            "client) may also spell it as a word.",
            json_schema_extra=_boolean_or_word,
        ),
    ] = False
    login: Annotated[
        str | None,
        BeforeValidator(_text),
        Field(
            description="`production`, `sandbox` or a My Domain URL; default: the "
            "connection's current login host, else `SFDC_LOGIN_URL`.",
            json_schema_extra={
                "anyOf": [
                    {"enum": [*LOGIN_ALIASES, ""]},
                    {
                        "type": "string",
                        "format": "uri",
                        "maxLength": MAX_LOGIN_LENGTH,
                        "pattern": _LOGIN_URL,
                    },
                    {"type": "null"},
                ],
                "examples": ["sandbox"],
            },
        ),
    ] = None
    scopes: Annotated[
        str | None,
        BeforeValidator(_text),
        Field(
            description="OAuth scope names separated by spaces; default `api refresh_token`.",
            json_schema_extra={
                "anyOf": [
                    {"const": ""},
                    {
                        "type": "string",
                        "maxLength": MAX_SCOPES_LENGTH,
                        "pattern": SCOPES_PATTERN,
                    },
                    {"type": "null"},
                ],
                "examples": ["api refresh_token"],
            },
        ),
    ] = None


def connect_request() -> ConnectRequest:
    """This request's body as a ``ConnectRequest``, or the 400 that says what is wrong."""
    return read_body(ConnectRequest, _body())
