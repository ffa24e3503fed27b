"""Query locators: the server-side cursors behind `nextRecordsUrl`.

The REST API Developer Guide ("Query", "Query More Results") pages a large result: the
response holds the first batch, `done: false` and `nextRecordsUrl`
`/services/data/vXX.X/query/01gXXXXXXXXXXXXXXX-2000`, whose tail is the locator ID and the
position of the next batch. The rows are fixed when the query runs, as in Salesforce.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from .ids import case_safe, random_id

LOCATOR_PREFIX = "01g"
# Locators a test run may leave behind; the oldest is forgotten beyond this.
_MAX_LOCATORS = 200


@dataclass(frozen=True)
class Cursor:
    """A query's full result (records as JSON) and the batch size it is paged by."""

    records: tuple[dict[str, Any], ...]
    batch_size: int


class QueryLocators:
    """Thread-safe locator ID -> cursor."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cursors: dict[str, Cursor] = {}

    def open(self, cursor: Cursor) -> str:
        locator = case_safe(random_id(LOCATOR_PREFIX))
        with self._lock:
            self._cursors[locator] = cursor
            while len(self._cursors) > _MAX_LOCATORS:
                del self._cursors[next(iter(self._cursors))]
        return locator

    def get(self, locator: str) -> Cursor | None:
        with self._lock:
            return self._cursors.get(locator)

    def reset(self) -> None:
        with self._lock:
            self._cursors.clear()
