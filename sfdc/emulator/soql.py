"""A small SOQL parser: a tokenizer and a recursive-descent parser for the subset the
emulator runs.

Follows the "SOQL and SOSL Reference" (SELECT, Condition Expression, ORDER BY, LIMIT,
OFFSET, COUNT()): keywords and names in any letter case; string literals in single
quotes with backslash escapes; numbers, `true`, `false`, `null`; comparison operators
`= != <> < <= > >=`, `LIKE`, `IN`, `NOT IN`; `AND`, `OR`, `NOT` and parentheses. As in
SOQL, AND and OR cannot be mixed at one level without parentheses. Relationship fields,
aggregates other than `COUNT()`, GROUP BY and date literals are not supported and are
refused as malformed.

Grammar:

    query      := SELECT selection FROM name [WHERE or_expr] [ORDER BY order (, order)*]
                  [LIMIT number] [OFFSET number]
    selection  := COUNT ( ) | name (, name)*
    or_expr    := and_expr (OR and_expr)*       -- but not mixed with AND
    and_expr   := unary (AND unary)*
    unary      := NOT unary | ( or_expr ) | name operator value | name [NOT] IN ( values )
    order      := name [ASC | DESC] [NULLS FIRST | NULLS LAST]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

KEYWORDS = frozenset(
    [
        "select",
        "from",
        "where",
        "and",
        "or",
        "not",
        "in",
        "like",
        "order",
        "by",
        "asc",
        "desc",
        "nulls",
        "first",
        "last",
        "limit",
        "offset",
        "count",
        "true",
        "false",
        "null",
    ]
)
COMPARISONS = frozenset({"=", "!=", "<>", "<", "<=", ">", ">="})

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<op><=|>=|!=|<>|[=<>(),])|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<bad>\S))"
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


class SoqlError(ValueError):
    """A query Salesforce would answer with MALFORMED_QUERY."""


@dataclass(frozen=True)
class Token:
    kind: str  # string, number, op, name, keyword, end
    text: str
    value: Any = None


@dataclass(frozen=True)
class Comparison:
    field: str
    operator: str  # = != < <= > >= LIKE IN NOT IN
    value: Any  # a literal, or a tuple of literals for IN / NOT IN


@dataclass(frozen=True)
class Logical:
    operator: str  # AND, OR
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Negation:
    part: Condition


Condition = Comparison | Logical | Negation


@dataclass(frozen=True)
class Ordering:
    field: str
    descending: bool
    nulls_last: bool


@dataclass(frozen=True)
class Query:
    fields: tuple[str, ...]  # empty for SELECT COUNT()
    sobject: str
    where: Condition | None = None
    order_by: tuple[Ordering, ...] = ()
    limit: int | None = None
    offset: int | None = None

    @property
    def is_count(self) -> bool:
        return not self.fields


def _unescape(literal: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), literal[1:-1])


def tokenize(text: str) -> list[Token]:
    tokens = []
    for match in _TOKEN.finditer(text.rstrip()):
        kind = match.lastgroup or "bad"
        raw = match.group(kind)
        if kind == "bad":
            raise SoqlError(f"unexpected token: '{raw}'")
        if kind == "string":
            tokens.append(Token(kind, raw, _unescape(raw)))
        elif kind == "number":
            tokens.append(Token(kind, raw, float(raw) if "." in raw else int(raw)))
        elif kind == "name" and raw.lower() in KEYWORDS:
            tokens.append(Token("keyword", raw.lower()))
        else:
            tokens.append(Token(kind, raw))
    tokens.append(Token("end", "<EOF>"))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.at = 0

    def peek(self) -> Token:
        return self.tokens[self.at]

    def take(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def accept(self, *texts: str) -> bool:
        if self.peek().kind in {"keyword", "op"} and self.peek().text in texts:
            self.at += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise SoqlError(f"unexpected token: '{self.peek().text}'")

    def name(self) -> str:
        token = self.take()
        if token.kind != "name":
            raise SoqlError(f"unexpected token: '{token.text}'")
        return token.text

    def number(self) -> int:
        token = self.take()
        if token.kind != "number" or not isinstance(token.value, int) or token.value < 0:
            raise SoqlError(f"unexpected token: '{token.text}'")
        return token.value

    def literal(self) -> Any:
        token = self.take()
        if token.kind in {"string", "number"}:
            return token.value
        if token.kind == "keyword" and token.text in {"true", "false", "null"}:
            return {"true": True, "false": False, "null": None}[token.text]
        raise SoqlError(f"unexpected token: '{token.text}'")

    def query(self) -> Query:
        self.expect("select")
        fields: list[str] = []
        if self.accept("count"):
            self.expect("(")
            self.expect(")")
        else:
            fields.append(self.name())
            while self.accept(","):
                fields.append(self.name())
        self.expect("from")
        sobject = self.name()
        where = self.or_expr() if self.accept("where") else None
        order_by: list[Ordering] = []
        if self.accept("order"):
            self.expect("by")
            order_by.append(self.ordering())
            while self.accept(","):
                order_by.append(self.ordering())
        limit = self.number() if self.accept("limit") else None
        offset = self.number() if self.accept("offset") else None
        if self.peek().kind != "end":
            raise SoqlError(f"unexpected token: '{self.peek().text}'")
        return Query(tuple(fields), sobject, where, tuple(order_by), limit, offset)

    def ordering(self) -> Ordering:
        field = self.name()
        descending = self.accept("desc")
        if not descending:
            self.accept("asc")
        nulls_last = descending
        if self.accept("nulls"):
            if self.accept("last"):
                nulls_last = True
            else:
                self.expect("first")
                nulls_last = False
        return Ordering(field, descending, nulls_last)

    def or_expr(self) -> Condition:
        first, mixed = self.and_expr()
        parts = [first]
        while self.accept("or"):
            part, has_and = self.and_expr()
            parts.append(part)
            mixed |= has_and
        if len(parts) > 1 and mixed:
            raise SoqlError("unexpected token: 'OR'")  # AND and OR mixed without parentheses
        return parts[0] if len(parts) == 1 else Logical("OR", tuple(parts))

    def and_expr(self) -> tuple[Condition, bool]:
        """The conjunction, and whether it had an AND at this level (not in parentheses)."""
        parts = [self.unary()]
        while self.accept("and"):
            parts.append(self.unary())
        if len(parts) == 1:
            return parts[0], False
        if self.peek().kind == "keyword" and self.peek().text == "or":
            raise SoqlError("unexpected token: 'OR'")  # AND and OR mixed without parentheses
        return Logical("AND", tuple(parts)), True

    def unary(self) -> Condition:
        if self.accept("not"):
            return Negation(self.unary())
        if self.accept("("):
            inner = self.or_expr()
            self.expect(")")
            return inner
        field = self.name()
        if self.accept("not"):
            self.expect("in")
            return Comparison(field, "NOT IN", self.values())
        if self.accept("in"):
            return Comparison(field, "IN", self.values())
        if self.accept("like"):
            return Comparison(field, "LIKE", self.literal())
        token = self.take()
        if token.kind != "op" or token.text not in COMPARISONS:
            raise SoqlError(f"unexpected token: '{token.text}'")
        return Comparison(field, "!=" if token.text == "<>" else token.text, self.literal())

    def values(self) -> tuple[Any, ...]:
        self.expect("(")
        values = [self.literal()]
        while self.accept(","):
            values.append(self.literal())
        self.expect(")")
        return tuple(values)


def parse(text: str) -> Query:
    """Parse one SOQL statement, or raise `SoqlError`."""
    if not text.strip():
        raise SoqlError("unexpected token: <EOF>")
    return _Parser(text).query()
