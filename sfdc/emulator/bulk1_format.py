"""Bulk API 1.0's wire formats: XML in the `asyncapi/dataload` namespace, or JSON.

Emulates the "Bulk API 2.0 and Bulk API Developer Guide" (Bulk API 1.0 reference:
JobInfo, BatchInfo, batch results, errors). A request whose `Content-Type` (or `Accept`)
mentions JSON gets JSON back, anything else XML. Errors are
`<error xmlns="http://www.force.com/2009/06/asyncapi/dataload"><exceptionCode>...`
`</exceptionCode><exceptionMessage>...</exceptionMessage></error>` or
`{"exceptionCode": ..., "exceptionMessage": ...}`, with HTTP 400 (also for a dead
session, as Salesforce is observed to answer `InvalidSessionId`).

XML bodies are parsed with the standard library's expat parser, which does not fetch
external entities and (expat 2.4.1 and later) limits entity expansion; this emulator
only listens on loopback for tests.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from flask import Response, request

NAMESPACE = "http://www.force.com/2009/06/asyncapi/dataload"
XML_CONTENT_TYPE = "application/xml"
JSON_CONTENT_TYPE = "application/json"


class FormatError(ValueError):
    """A body that is not the XML or JSON the Bulk API expects."""


def wants_json() -> bool:
    """Whether this request speaks JSON (by its Content-Type or Accept header)."""
    kinds = f"{request.headers.get('Content-Type', '')} {request.headers.get('Accept', '')}"
    return "json" in kinds.lower()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _fill(element: ET.Element, value: Any) -> ET.Element:
    """Children for a dict (a list value repeats its key's element), text otherwise."""
    if not isinstance(value, dict):
        element.text = _text(value)
        return element
    for key, inner in value.items():
        for entry in inner if isinstance(inner, list) else [inner]:
            element.append(_fill(ET.Element(key), entry))
    return element


def to_xml(root: str, body: dict[str, Any] | list[dict[str, Any]], item: str = "") -> bytes:
    """`body` as an XML document whose root is `root` in the dataload namespace; a list
    body becomes one `item` element per entry."""
    document = ET.Element(root, {"xmlns": NAMESPACE})
    if isinstance(body, list):
        for entry in body:
            document.append(_fill(ET.Element(item), entry))
    else:
        _fill(document, body)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(document)


def answer(root: str, body: Any, status: int = 200, item: str = "") -> Response:
    """`body` in the request's format; `root` and `item` name the XML elements."""
    if wants_json():
        return Response(json.dumps(body), status, content_type=JSON_CONTENT_TYPE)
    return Response(to_xml(root, body, item), status, content_type=XML_CONTENT_TYPE)


def error(code: str, message: str, status: int = 400) -> Response:
    """A Bulk API 1.0 error, e.g. `InvalidSessionId`, `InvalidJob`, `InvalidBatch`."""
    return answer("error", {"exceptionCode": code, "exceptionMessage": message}, status)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def parse_xml(data: bytes) -> ET.Element:
    try:
        return ET.fromstring(data)  # noqa: S314 - see the module docstring
    except ET.ParseError as problem:
        raise FormatError(f"Failed to parse XML: {problem}") from None


def read_object(data: bytes) -> dict[str, str]:
    """A `jobInfo`-style body (flat XML or a JSON object) as a dict of strings."""
    if wants_json():
        try:
            body = json.loads(data or b"null")
        except ValueError as problem:
            raise FormatError(f"Failed to parse JSON: {problem}") from None
        if not isinstance(body, dict):
            raise FormatError("Expected a JSON object")
        return {key: _text(value) for key, value in body.items()}
    return {_local(child.tag): child.text or "" for child in parse_xml(data)}


def read_records(data: bytes, content_type: str) -> list[dict[str, str]]:
    """A JSON array or XML `sObjects` batch as records of text values."""
    if content_type == "JSON":
        try:
            body = json.loads(data or b"null")
        except ValueError as problem:
            raise FormatError(f"Failed to parse JSON: {problem}") from None
        if not isinstance(body, list) or not all(isinstance(row, dict) for row in body):
            raise FormatError("Expected a JSON array of records")
        return [{key: _text(value) for key, value in row.items()} for row in body]
    return [
        {_local(field.tag): field.text or "" for field in record}
        for record in parse_xml(data)
        if _local(record.tag) == "sObject"
    ]
