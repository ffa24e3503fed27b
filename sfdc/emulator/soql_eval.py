"""Running a parsed SOQL query against the emulated org's rows.

Semantics from the "SOQL and SOSL Reference": text comparisons (`=`, `!=`, `LIKE`, `IN`)
ignore letter case, except for IDs, which are case-sensitive and match in their 15- or
18-character form; `LIKE` takes `%` (any run of characters) and `_` (one character);
a comparison with `null` only matches through `=`/`!=`; ORDER BY sorts nulls first for
ASC and last for DESC unless `NULLS FIRST|LAST` says otherwise; OFFSET is capped at 2,000
(`NUMBER_OUTSIDE_VALID_RANGE`). Unknown objects are `INVALID_TYPE`, unknown fields
`INVALID_FIELD`, with Salesforce's observed messages.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from .records import SObjectRecord
from .schema import SObjectType, sobject_type
from .soql import Comparison, Condition, Logical, Negation, Query

MAX_OFFSET = 2000


class QueryError(ValueError):
    """A query Salesforce refuses after parsing: `error_code` and message."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code


def _invalid_field(name: str, sobject: str) -> QueryError:
    return QueryError(
        "INVALID_FIELD",
        f"No such column '{name}' on entity '{sobject}'. If you are attempting to use a "
        "custom field, be sure to append the '__c' after the custom field name. Please "
        "reference your WSDL or the describe call for the appropriate names.",
    )


def _conditions(condition: Condition | None) -> list[Comparison]:
    if condition is None:
        return []
    if isinstance(condition, Comparison):
        return [condition]
    if isinstance(condition, Negation):
        return _conditions(condition.part)
    return [c for part in condition.parts for c in _conditions(part)]


def resolve(query: Query) -> tuple[SObjectType, Query]:
    """The queried type and the query with canonical field names, or raise QueryError."""
    sobject = sobject_type(query.sobject)
    if sobject is None:
        raise QueryError(
            "INVALID_TYPE",
            f"sObject type '{query.sobject}' is not supported. If you are attempting to use "
            "a custom object, be sure to append the '__c' after the entity name. Please "
            "reference your WSDL or the describe call for the appropriate names.",
        )

    def canonical(name: str) -> str:
        field = sobject.field(name)
        if field is None:
            raise _invalid_field(name, sobject.name)
        return field.name

    for name in [*query.fields, *(c.field for c in _conditions(query.where))]:
        canonical(name)
    for ordering in query.order_by:
        canonical(ordering.field)
    if query.offset is not None and query.offset > MAX_OFFSET:
        raise QueryError(
            "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}"
        )
    fields = tuple(dict.fromkeys(canonical(name) for name in query.fields))
    return sobject, Query(fields, sobject.name, query.where, query.order_by, query.limit,
                          query.offset)  # fmt: skip


def _fold(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _key(kind: str, value: Any) -> Any:
    """What `=`/`IN` compare: IDs by their case-sensitive 15-character form (so a 15- and
    an 18-character ID match), other text without letter case."""
    if kind in {"id", "reference"} and isinstance(value, str) and len(value) in (15, 18):
        return value[:15]
    return _fold(value)


def _like(pattern: str) -> re.Pattern[str]:
    parts = ("." if c == "_" else ".*" if c == "%" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _compare(comparison: Comparison, values: dict[str, Any], sobject: SObjectType) -> bool:
    field = sobject.field(comparison.field)
    actual = values.get(field.name) if field is not None else None
    kind = field.type if field is not None else ""
    operator, wanted = comparison.operator, comparison.value
    if operator in {"IN", "NOT IN"}:
        found = _key(kind, actual) in {_key(kind, v) for v in wanted}
        return found if operator == "IN" else (actual is not None and not found)
    if operator == "LIKE":
        return (
            isinstance(actual, str)
            and isinstance(wanted, str)
            and bool(_like(wanted).fullmatch(actual))
        )
    if operator == "=":
        return bool(_key(kind, actual) == _key(kind, wanted))
    if operator == "!=":
        return bool(_key(kind, actual) != _key(kind, wanted))
    if actual is None or wanted is None or isinstance(actual, str) != isinstance(wanted, str):
        return False
    left, right = _fold(actual), _fold(wanted)
    return bool(
        {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[operator]
    )


def matches(condition: Condition | None, values: dict[str, Any], sobject: SObjectType) -> bool:
    if condition is None:
        return True
    if isinstance(condition, Comparison):
        return _compare(condition, values, sobject)
    if isinstance(condition, Negation):
        return not matches(condition.part, values, sobject)
    assert isinstance(condition, Logical)
    results = (matches(part, values, sobject) for part in condition.parts)
    return all(results) if condition.operator == "AND" else any(results)


def _sorted(rows: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
    def compare(left: dict[str, Any], right: dict[str, Any]) -> int:
        for ordering in query.order_by:
            a, b = _fold(left.get(ordering.field)), _fold(right.get(ordering.field))
            if a == b:
                continue
            if a is None or b is None:
                return (1 if a is None else -1) * (1 if ordering.nulls_last else -1)
            result = -1 if a < b else 1
            return -result if ordering.descending else result
        return 0

    return sorted(rows, key=functools.cmp_to_key(compare))


def run(query: Query, sobject: SObjectType, rows: list[SObjectRecord]) -> list[SObjectRecord]:
    """The rows a resolved query selects, in order, after OFFSET and LIMIT."""
    by_id = {row.id: row for row in rows}
    kept = [row.values() for row in rows if matches(query.where, row.values(), sobject)]
    ordered = _sorted(kept, query)
    start = query.offset or 0
    end = None if query.limit is None else start + query.limit
    return [by_id[values["Id"]] for values in ordered[start:end]]
