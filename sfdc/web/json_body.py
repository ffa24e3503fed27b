"""Reading a JSON request body that any client, hostile or careless, may have sent.

Python's ``json`` accepts two things the rest of the service cannot use: a
document nested deeper than the interpreter's recursion limit (``json.loads``
itself then raises ``RecursionError``), and ``\\ud800``-style escapes that
decode to lone surrogates, which are not text: encoding them to UTF-8 for a
log line, a hash or the database raises ``UnicodeEncodeError``. Both would be
500s. Here each is a 400 that says what was wrong, before any view sees the
document. RFC 8259 §8.2 leaves lone surrogates' meaning unpredictable; RFC
7493 (I-JSON) forbids them.
"""

from __future__ import annotations

import json
from typing import Any

from sfdc.errors import InvalidRequest, PayloadTooLarge

# Deeper than any body this service takes (its objects are flat), far below the
# interpreter's recursion limit.
MAX_DEPTH = 32
# The service's own JSON bodies (POST /token, POST /connections) are a few hundred
# bytes; proxied bodies never come through here.
MAX_BYTES = 64 * 1024


def parse_json(raw: bytes, *, hint: str) -> Any:
    """The document in ``raw``, or a 400 (413 if too large) naming the problem."""
    if len(raw) > MAX_BYTES:
        raise PayloadTooLarge(
            f"The request body is {len(raw)} bytes; this endpoint takes JSON of at most "
            f"{MAX_BYTES} bytes.",
            hint=hint,
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("The request body is not UTF-8 text.", hint=hint) from None
    if _depth(text) > MAX_DEPTH:
        raise InvalidRequest(
            f"The request body nests JSON deeper than {MAX_DEPTH} levels.", hint=hint
        )
    try:
        document = json.loads(text)
    except ValueError:
        raise InvalidRequest("The request body is not valid JSON.", hint=hint) from None
    if not _is_text(document):
        raise InvalidRequest(
            "The request body holds a \\u escape that is not a character (a lone UTF-16 "
            "surrogate).",
            hint=hint,
        )
    return document


def json_object(raw: bytes, *, hint: str) -> dict[str, Any] | None:
    """The JSON object in ``raw`` when it reads as JSON (whatever the Content-Type claims,
    as curl -d sends it); None when it does not (a form, for the caller to read); a 400
    when it is JSON but not an object."""
    if not raw.lstrip().startswith((b"{", b"[")):
        return None
    document = parse_json(raw, hint=hint)
    if not isinstance(document, dict):
        raise InvalidRequest("The request body is not a JSON object.", hint=hint)
    return document


def _depth(text: str) -> int:
    """The deepest nesting of brackets outside strings: counted, not parsed, so that a
    hostile document cannot exhaust the stack before it is refused."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _is_text(value: Any) -> bool:
    """Whether every string (and key) in a parsed document encodes to UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_is_text(k) and _is_text(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_text(item) for item in value)
    return True
