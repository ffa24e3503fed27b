"""JSON bodies a hostile or careless client may send: each a clear 4xx, never a 500."""

from __future__ import annotations

import pytest

from sfdc.errors import InvalidRequest, PayloadTooLarge
from sfdc.web.json_body import MAX_BYTES, MAX_DEPTH, parse_json

HINT = "Send a JSON object."


def test_a_plain_object_is_read() -> None:
    assert parse_json(b'{"name": "acme", "replace": true}', hint=HINT) == {
        "name": "acme",
        "replace": True,
    }


def test_thirty_thousand_levels_of_nesting_are_refused_not_a_recursion_error() -> None:
    deep = b"[" * 30_000 + b"]" * 30_000  # json.loads alone would raise RecursionError
    with pytest.raises(InvalidRequest, match=f"deeper than {MAX_DEPTH} levels"):
        parse_json(b'{"rejected": ' + deep + b"}", hint=HINT)


def test_brackets_inside_strings_are_not_nesting() -> None:
    text = '{"name": "' + "[{" * 100 + '\\"]"}'
    assert parse_json(text.encode(), hint=HINT) == {"name": "[{" * 100 + '"]'}


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "a\\udc00b"])
def test_a_lone_surrogate_is_refused_as_not_text(escape: str) -> None:
    with pytest.raises(InvalidRequest, match="lone UTF-16 surrogate"):
        parse_json(('{"rejected": "' + escape + '"}').encode(), hint=HINT)
    with pytest.raises(InvalidRequest, match="lone UTF-16 surrogate"):
        parse_json(('{"' + escape + '": 1}').encode(), hint=HINT)


def test_a_surrogate_pair_is_one_character_and_fine() -> None:
    assert parse_json(b'{"name": "\\ud83d\\ude00"}', hint=HINT) == {"name": "\U0001f600"}


def test_bytes_that_are_not_utf8_or_not_json_say_so() -> None:
    with pytest.raises(InvalidRequest, match="not UTF-8"):
        parse_json(b'{"name": "\xff"}', hint=HINT)
    with pytest.raises(InvalidRequest, match="not valid JSON"):
        parse_json(b'{"name": ', hint=HINT)


def test_a_body_over_the_limit_is_413() -> None:
    with pytest.raises(PayloadTooLarge) as refused:
        parse_json(b" " * (MAX_BYTES + 1), hint=HINT)
    assert refused.value.status == 413
