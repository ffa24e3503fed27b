"""The error catalogue: one class per code, held to its docstring tree and the README.

A new error is a new class in ``sfdc/errors/``; these tests fail until the
tree at the top of the package and the README's error table both name it
with its status, so a code cannot reach callers undocumented.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import sfdc.errors
from sfdc.errors import (
    ConfigError,
    ConsentRequired,
    InvalidRequest,
    RequestError,
    SalesforceRefusal,
    SalesforceTimeout,
    SalesforceUnavailable,
    ServiceError,
    SfdcError,
    UpstreamError,
    catalogue,
    restore,
)
from sfdc.salesforce.refusals import advise

README = Path(__file__).resolve().parent.parent / "README.md"
_CODE = re.compile(r"`([A-Za-z][A-Za-z0-9_]*)`")


def _table(heading: str) -> list[list[str]]:
    """The rows (cells stripped) of the first table after ``heading`` in the README."""
    lines = README.read_text().splitlines()
    start = lines.index(heading)
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]  # past the header and its --- line


def _readme_errors() -> list[tuple[int, set[str], str]]:
    """(status, codes, retryable cell) per row of the README's error table."""
    return [
        (int(status), set(_CODE.findall(codes)), retryable)
        for status, codes, retryable, *_ in _table("### Error codes")
    ]


def _salesforce_codes() -> set[str]:
    return {code for row in _table("### Salesforce's refusals") for code in _CODE.findall(row[0])}


def test_every_class_has_a_code_status_retryable_and_hint() -> None:
    for kind in catalogue():
        assert isinstance(kind.code, str), kind
        assert kind.code, kind
        assert isinstance(kind.retryable, bool), kind
        assert kind.hint.strip(), f"{kind.__name__} needs a default hint"
        if issubclass(kind, RequestError):
            assert 400 <= kind.status < 500, kind
        else:
            assert issubclass(kind, ServiceError | UpstreamError), kind
            assert 500 <= kind.status < 600, kind


def test_our_codes_name_one_class_each() -> None:
    ours = [kind.code for kind in catalogue() if not kind.salesforce_code]
    assert len(ours) == len(set(ours))
    salesforce = {kind.code for kind in catalogue() if kind.salesforce_code}
    assert not salesforce & set(ours), "a code of ours that Salesforce also uses"


def test_the_catalogue_is_what_a_caller_can_meet() -> None:
    kinds = set(catalogue())
    assert ConfigError not in kinds, "start-up only: never an HTTP answer"
    assert not kinds & {SfdcError, RequestError, ServiceError, UpstreamError}
    assert {SalesforceRefusal, ConsentRequired, SalesforceTimeout} <= kinds


def test_a_group_cannot_be_raised() -> None:
    for group in (SfdcError, RequestError, ServiceError, UpstreamError):
        with pytest.raises(TypeError, match="group"):
            group("something failed")


def test_the_docstring_tree_lists_every_class_with_code_and_status() -> None:
    doc = sfdc.errors.__doc__ or ""
    for kind in catalogue():
        line = re.search(rf"── {kind.__name__}\s+(\S+?)\*?\s+(\d{{3}})\n", doc)
        assert line, f"{kind.__name__} is missing from the tree in sfdc/errors/__init__.py"
        assert (line[1], int(line[2])) == (kind.code, kind.status), kind.__name__


def test_every_class_is_in_the_readme_error_table_with_its_status() -> None:
    rows = _readme_errors()
    for kind in catalogue():
        found = [(status, flag) for status, codes, flag in rows if kind.code in codes]
        assert found, f"README's error table has no row for `{kind.code}` ({kind.__name__})"
        assert kind.status in {status for status, _ in found}, kind.__name__
        flags = {flag for status, flag in found if status == kind.status}
        if not kind.salesforce_code:
            assert flags == {"yes" if kind.retryable else "no"}, kind.__name__


def test_every_code_in_the_readme_table_is_in_the_catalogue() -> None:
    known = {kind.code for kind in catalogue()} | _salesforce_codes()
    for status, codes, _ in _readme_errors():
        assert codes, f"a {status} row names no code"
        assert codes <= known, codes - known
        ours = {kind.status for kind in catalogue() if kind.code in codes}
        assert status in ours, f"{codes} is not answered with {status}"


def test_every_salesforce_refusal_in_the_readme_has_its_own_advice() -> None:
    generic = advise("no_such_error", "").hint
    for row in _table("### Salesforce's refusals"):
        for error in _CODE.findall(row[0]):
            # invalid_grant's causes differ only in their descriptions: the cell's second part.
            description = row[0].split("`")[3] if error == "invalid_grant" else ""
            assert advise(error, description).hint != generic, row[0]


def test_the_json_body_has_the_contract_shape() -> None:
    error = InvalidRequest("'name' must be a string.")
    assert error.to_dict() == {
        "error": "invalid_request",
        "error_description": "'name' must be a string.",
        "hint": InvalidRequest.hint,
        "retryable": False,
    }
    sharper = InvalidRequest("No name.", hint='Send {"name": "acme"}.')
    assert sharper.to_dict()["hint"] == 'Send {"name": "acme"}.'
    assert InvalidRequest.hint != sharper.hint, "an instance's hint leaves the class's alone"
    assert str(sharper) == 'No name. Fix: Send {"name": "acme"}.'


def test_a_refusal_keeps_salesforces_code() -> None:
    refused = SalesforceRefusal(
        "inactive_user",
        "user is inactive",
        hint="Reactivate.",
        retryable=False,
        upstream_status=400,
    )
    assert (refused.code, refused.status, refused.upstream_status) == ("inactive_user", 502, 400)
    assert SalesforceRefusal.code == "invalid_grant", "the class keeps its example"


@pytest.mark.parametrize("kind", [SalesforceUnavailable, SalesforceTimeout])
def test_restore_brings_our_own_code_back_as_its_class(kind: type[UpstreamError]) -> None:
    again = restore(kind.code, "down", hint="wait (not before 12:00)", retryable=True)
    assert type(again) is kind
    assert (again.status, again.description, again.hint) == (kind.status, "down", again.hint)
    assert again.hint == "wait (not before 12:00)"


def test_restore_brings_any_other_code_back_as_salesforces() -> None:
    again = restore(
        "invalid_grant", "user hasn't approved this consumer", hint="h", retryable=False
    )
    assert type(again) is SalesforceRefusal, "not ConsentRequired: no connection to name"
    assert again.to_dict() == {
        "error": "invalid_grant",
        "error_description": "user hasn't approved this consumer",
        "hint": "h",
        "retryable": False,
    }
    assert again.status == 502
