"""CSV as the Bulk APIs read and write it ("Bulk API 2.0 and Bulk API Developer Guide",
"Valid CSV Record Rows" and "Get Job Successful/Failed Record Results").

Uploads name fields in a header row; `columnDelimiter` is one of `COMMA`, `TAB`, `PIPE`,
`SEMICOLON`, `CARET`, `BACKQUOTE` and `lineEnding` `LF` or `CRLF`. Results quote every
non-empty value in double quotes; a null value is an empty cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}


class CsvError(ValueError):
    """Upload data Salesforce could not read."""


def read_rows(text: str, delimiter: str = "COMMA") -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows of an upload, each row keyed by header name."""
    reader = csv.reader(io.StringIO(text), delimiter=DELIMITERS.get(delimiter, ","))
    lines = [line for line in reader if line]
    if not lines:
        raise CsvError("no header row")
    header = [name.strip() for name in lines[0]]
    rows = []
    for line in lines[1:]:
        if len(line) != len(header):
            raise CsvError(f"row has {len(line)} columns, header has {len(header)}")
        rows.append(dict(zip(header, line, strict=True)))
    return header, rows


def _cell(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return '"' + str(value).replace('"', '""') + '"'


def write_rows(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    delimiter: str = "COMMA",
    line_ending: str = "LF",
) -> str:
    """A results file: quoted header, then one line per row."""
    separator = DELIMITERS.get(delimiter, ",")
    newline = LINE_ENDINGS.get(line_ending, "\n")
    lines = [separator.join(_cell(name) for name in header)]
    lines += [separator.join(_cell(value) for value in row) for row in rows]
    return newline.join(lines) + newline
