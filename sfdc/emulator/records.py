"""The emulated org's data: sObject rows kept in memory.

Emulates what the REST API Developer Guide's sObject Rows resource reads and writes, and
what SOQL sees. Every row carries the system fields Salesforce stamps (`CreatedDate`,
`LastModifiedDate`, `SystemModstamp`, `CreatedById`, `IsDeleted`). A deleted row goes to
the Recycle Bin: gone for reads and `query`, still returned by `queryAll` with
`IsDeleted: true`. The org starts with a few canned accounts plus its users and its
Organization row. `fields` holds only what clients set, so a test can check exactly which
values arrived.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from .ids import ACCOUNT_PREFIX, case_safe, random_id, same_id, stable_id
from .schema import SOBJECTS

CANNED_ACCOUNTS = ("Edge Communications", "Burlington Textiles Corp of America", "GenePoint")
# When the canned rows were "created".
ORG_CREATED = datetime(2024, 1, 1, tzinfo=UTC)
# The user canned rows are stamped with before any user exists (an automated process).
AUTOMATED_PROCESS_ID = case_safe(stable_id("005", "automated-process"))


def format_datetime(moment: datetime) -> str:
    """Salesforce's JSON dateTime: `2024-01-01T00:00:00.000+0000`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}+0000"
    )


@dataclass(frozen=True)
class SObjectRecord:
    """One row: its type, 18-character ID, the field values clients set (without `Id`)
    and the system stamps."""

    sobject: str
    id: str
    fields: dict[str, Any]
    created: datetime = ORG_CREATED
    modified: datetime = ORG_CREATED
    created_by: str = AUTOMATED_PROCESS_ID
    deleted: bool = False

    def values(self) -> dict[str, Any]:
        """Every field of the row's type, unset ones as None, system fields stamped."""
        stamps = {
            "Id": self.id,
            "IsDeleted": self.deleted,
            "CreatedDate": format_datetime(self.created),
            "CreatedById": self.created_by,
            "LastModifiedDate": format_datetime(self.modified),
            "LastModifiedById": self.created_by,
            "SystemModstamp": format_datetime(self.modified),
            "OwnerId": self.created_by,
        }
        described = SOBJECTS[self.sobject].fields
        row = {f.name: stamps.get(f.name) for f in described}
        row.update(self.fields)
        return row

    def attributes(self, api_version: str) -> dict[str, str]:
        url = f"/services/data/v{api_version}/sobjects/{self.sobject}/{self.id}"
        return {"type": self.sobject, "url": url}

    def as_json(self, api_version: str, names: Iterable[str] | None = None) -> dict[str, Any]:
        """The row as the REST API returns it: `attributes`, then the fields asked for
        (all of them when `names` is None)."""
        values = self.values()
        chosen = values if names is None else {name: values.get(name) for name in names}
        return {"attributes": self.attributes(api_version), **chosen}


def canned_accounts() -> list[SObjectRecord]:
    return [
        SObjectRecord("Account", case_safe(stable_id(ACCOUNT_PREFIX, name)), {"Name": name})
        for name in CANNED_ACCOUNTS
    ]


class RecordStore:
    """Thread-safe rows by ID; starts with the canned accounts and the org's own rows."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, SObjectRecord] = {}
        self._org_rows: list[SObjectRecord] = []
        self.reset()

    def install_org(self, rows: Iterable[SObjectRecord]) -> None:
        """Add the org's own rows (users, Organization); `reset` keeps them."""
        with self._lock:
            self._org_rows = list(rows)
            self._rows.update({row.id: row for row in self._org_rows})

    def reset(self) -> None:
        """Forget every created row and restore the canned and org rows."""
        with self._lock:
            self._rows = {row.id: row for row in [*canned_accounts(), *self._org_rows]}

    def create(
        self,
        sobject: str,
        fields: dict[str, Any],
        now: datetime = ORG_CREATED,
        created_by: str = AUTOMATED_PROCESS_ID,
    ) -> SObjectRecord:
        """Insert a row of a known type and return it with its new ID."""
        record_id = case_safe(random_id(SOBJECTS[sobject].key_prefix))
        row = SObjectRecord(sobject, record_id, dict(fields), now, now, created_by)
        with self._lock:
            self._rows[row.id] = row
        return row

    def get(self, sobject: str, record_id: str) -> SObjectRecord | None:
        """The live row of that type with that ID (15 or 18 characters), if any."""
        with self._lock:
            return self._find(sobject, record_id)

    def update(
        self, sobject: str, record_id: str, fields: dict[str, Any], now: datetime = ORG_CREATED
    ) -> bool:
        """Merge `fields` into the row; False if there is no such live row."""
        with self._lock:
            row = self._find(sobject, record_id)
            if row is None:
                return False
            modified = max(now, row.modified)
            self._rows[row.id] = replace(row, fields={**row.fields, **fields}, modified=modified)
            return True

    def delete(self, sobject: str, record_id: str, now: datetime = ORG_CREATED) -> bool:
        """Move the row to the Recycle Bin; False if there is no such live row."""
        with self._lock:
            row = self._find(sobject, record_id)
            if row is None:
                return False
            self._rows[row.id] = replace(row, deleted=True, modified=max(now, row.modified))
            return True

    def all_of(self, sobject: str, *, include_deleted: bool = False) -> list[SObjectRecord]:
        """Every row of that type, oldest first; deleted ones only when asked."""
        with self._lock:
            return [
                row
                for row in self._rows.values()
                if row.sobject == sobject and (include_deleted or not row.deleted)
            ]

    def find_by(self, sobject: str, field: str, value: Any) -> list[SObjectRecord]:
        """Live rows of that type whose `field` equals `value` (external-ID lookups)."""
        return [row for row in self.all_of(sobject) if row.values().get(field) == value]

    def _find(self, sobject: str, record_id: str) -> SObjectRecord | None:
        for row in self._rows.values():
            if row.sobject == sobject and not row.deleted and same_id(row.id, record_id):
                return row
        return None
