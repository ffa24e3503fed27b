"""The emulated org's data: a few sObject records kept in memory.

Emulates what the REST API Developer Guide's sObject Rows resource reads and writes.
Created and patched records are kept so a test can check that a request body arrived.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from .ids import ACCOUNT_PREFIX, CONTACT_PREFIX, case_safe, random_id, same_id, stable_id

# The sObject types whose rows the emulator stores, with their key prefixes.
KEY_PREFIXES = {"Account": ACCOUNT_PREFIX, "Contact": CONTACT_PREFIX}

CANNED_ACCOUNTS = ("Edge Communications", "Burlington Textiles Corp of America", "GenePoint")


@dataclass(frozen=True)
class SObjectRecord:
    """One row: its type, 18-character ID and field values (without `Id`)."""

    sobject: str
    id: str
    fields: dict[str, Any]

    def as_json(self, api_version: str) -> dict[str, Any]:
        """The row as the REST API returns it, with its `attributes`."""
        url = f"/services/data/v{api_version}/sobjects/{self.sobject}/{self.id}"
        return {"attributes": {"type": self.sobject, "url": url}, "Id": self.id, **self.fields}


class RecordStore:
    """Thread-safe rows by ID; starts with a few canned accounts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, SObjectRecord] = {}
        self.reset()

    def reset(self) -> None:
        """Forget every created row and restore the canned accounts."""
        canned = [
            SObjectRecord("Account", case_safe(stable_id(ACCOUNT_PREFIX, name)), {"Name": name})
            for name in CANNED_ACCOUNTS
        ]
        with self._lock:
            self._rows = {row.id: row for row in canned}

    def create(self, sobject: str, fields: dict[str, Any]) -> SObjectRecord:
        """Insert a row of a supported type and return it with its new ID."""
        row = SObjectRecord(sobject, case_safe(random_id(KEY_PREFIXES[sobject])), dict(fields))
        with self._lock:
            self._rows[row.id] = row
        return row

    def get(self, sobject: str, record_id: str) -> SObjectRecord | None:
        """The row of that type with that ID (15 or 18 characters), if any."""
        with self._lock:
            return self._find(sobject, record_id)

    def update(self, sobject: str, record_id: str, fields: dict[str, Any]) -> bool:
        """Merge `fields` into the row; False if there is no such row."""
        with self._lock:
            row = self._find(sobject, record_id)
            if row is None:
                return False
            self._rows[row.id] = SObjectRecord(sobject, row.id, {**row.fields, **fields})
            return True

    def delete(self, sobject: str, record_id: str) -> bool:
        """Remove the row; False if there is no such row."""
        with self._lock:
            row = self._find(sobject, record_id)
            if row is None:
                return False
            del self._rows[row.id]
            return True

    def all_of(self, sobject: str) -> list[SObjectRecord]:
        """Every row of that type, oldest first."""
        with self._lock:
            return [row for row in self._rows.values() if row.sobject == sobject]

    def _find(self, sobject: str, record_id: str) -> SObjectRecord | None:
        for row in self._rows.values():
            if row.sobject == sobject and same_id(row.id, record_id):
                return row
        return None
