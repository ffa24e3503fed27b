"""Background jobs that one process in the whole space runs at a time: a lease in ``jobs``.

Every gunicorn worker of every instance runs the same job thread; the lease
decides which of them works. It is a connection's refresh lease again
(``store.ConnectionStore.claim``), on a row per job: ``claim`` takes it in
one short statement, only if it is free or expired, so a holder that dies
frees it by expiring; the holder ``renew``s it while it works and learns
that it lost it (a pause longer than the lease) when the renewal, fenced by
the epoch it claimed at, finds another. Each call is its own short
transaction: none stays open while the job talks to Salesforce.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite

from sfdc.orgs.schema import JobRow
from sfdc.orgs.store import ConnectionStore


@dataclass(frozen=True)
class JobLease:
    """A claimed lease: the job's name, the epoch that fences it, when it last ran."""

    name: str
    epoch: int
    last_run: datetime | None


class JobLeases:
    def __init__(self, store: ConnectionStore) -> None:
        self.store = store
        self._known: set[str] = set()

    def claim(self, name: str, now: datetime, until: datetime) -> JobLease | None:
        """The lease of job ``name`` until ``until``, or None while another holds it."""
        self._ensure(name)
        with self.store.session(write=True) as session:
            row = session.scalars(
                update(JobRow)
                .where(
                    JobRow.name == name,
                    or_(JobRow.lease_until.is_(None), JobRow.lease_until <= now),
                )
                .values(epoch=JobRow.epoch + 1, lease_until=until)
                .returning(JobRow),
                execution_options={"synchronize_session": False},
            ).one_or_none()
            return None if row is None else JobLease(row.name, row.epoch, row.last_run)

    def renew(self, lease: JobLease, until: datetime) -> bool:
        """Hold ``lease`` until ``until``: False if it was lost to another process."""
        return self._update(lease, lease_until=until)

    def ran(self, lease: JobLease, at: datetime) -> bool:
        """Record that the job (still holding ``lease``) started a run at ``at``."""
        return self._update(lease, last_run=at)

    def release(self, lease: JobLease) -> bool:
        return self._update(lease, lease_until=None)

    def _update(self, lease: JobLease, **values: Any) -> bool:
        with self.store.session(write=True) as session:
            result = session.execute(
                update(JobRow)
                .where(JobRow.name == lease.name, JobRow.epoch == lease.epoch)
                .values(**values),
                execution_options={"synchronize_session": False},
            )
            return bool(getattr(result, "rowcount", 0))

    def _ensure(self, name: str) -> None:
        """The job's row, inserted by whichever process first looks (once per process)."""
        if name in self._known:
            return
        dialect = sqlite if self.store.binding.is_sqlite else postgresql
        with self.store.session(write=True) as session:
            session.execute(
                dialect.insert(JobRow).values(name=name, epoch=0).on_conflict_do_nothing()
            )
        self._known.add(name)
