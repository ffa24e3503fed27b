"""The keep-alive job: use each idle connection's refresh token before Salesforce expires it.

A connected app's refresh token policy may expire a refresh token that goes
unused for some time (a sliding window each use resets; see
``sfdc.settings.keepalive``). A connection nobody called for that long would
need a person to approve it again. So every ``SFDC_KEEPALIVE_INTERVAL`` one
process in the whole space (the ``jobs`` lease) runs a *pass*:

1. Every parked refresh token (``parked``: rotated while the database was
   down) is written back by refreshing its connection at once.
2. Every connected connection whose last refresh (``refreshed_at``, else
   ``connected_at``) is older than ``SFDC_KEEPALIVE_AFTER`` is refreshed,
   the refreshes spread over half the interval (``schedule``) and never more
   than ``MAX_PER_MINUTE``, so a thousand connections turning idle together
   cost Salesforce no burst.

Each refresh goes through ``Refresher``: single-flight with callers by the
refresh lease, writing back a parked token, recording its last refresh or
failure and backing off like any other, raising the needs-consent alert. A
caller's refresh since the connection was picked counts as the keep-alive's.
No transaction stays open across a Salesforce call: the reads, the lease
renewals and each refresh's writes are separate short statements.

Every process's thread also counts connections by status each ``POLL`` for
the ``sfdc_connections`` gauge. ``SFDC_KEEPALIVE_AFTER=off`` stops step 2
only.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from sfdc.errors import ConsentRequired, SfdcError, UnknownConnection
from sfdc.orgs.jobs import JobLease, JobLeases
from sfdc.orgs.records import CONNECTED, NEEDS_CONSENT
from sfdc.orgs.refresh import Refresher
from sfdc.orgs.schema import ConnectionRow
from sfdc.orgs.store import ConnectionStore
from sfdc.settings.keepalive import KeepAliveTiming
from sfdc.telemetry import metrics

log = logging.getLogger(__name__)

JOB = "keepalive"
# How often each process's thread looks whether a pass is due (and counts for the gauge).
POLL = timedelta(minutes=1)
# A pass holds the job's lease this long at a time, renewed every third of it, so a
# holder that dies frees the job within minutes; it outlasts any one refresh.
LEASE = timedelta(minutes=5)
# However many connections are due, Salesforce sees at most this many keep-alive
# refresh grants a minute from the service.
MAX_PER_MINUTE = 10
# A pass spreads its refreshes over this share of the interval, so it ends before
# the next one is due.
SPREAD = 0.5


def schedule(
    names: Sequence[str],
    start: datetime,
    window: timedelta,
    rng: Callable[[], float],
    per_minute: int = MAX_PER_MINUTE,
) -> list[tuple[str, datetime]]:
    """When to refresh each of ``names``: one per equal slot of ``window`` from
    ``start``, at a random point of its slot, never closer than ``per_minute``
    allows (a pass outlasts its window rather than burst)."""
    if not names:
        return []
    gap = timedelta(minutes=1) / per_minute
    slot = max(window / len(names), gap)
    # The jitter stays within the slot's slack, so neighbours stay at least `gap` apart.
    return [(name, start + slot * i + (slot - gap) * rng()) for i, name in enumerate(names)]


@dataclass
class PassReport:
    """What one pass did: idle connections' refreshes by outcome, parked tokens written back."""

    outcomes: Counter[str] = field(default_factory=Counter)
    written_back: int = 0
    complete: bool = True

    def line(self) -> str:
        done = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.outcomes.items()))
        return (
            f"keep-alive pass{'' if self.complete else ' (cut short)'}: idle connections "
            f"refreshed: {done or 'none due'}; parked refresh tokens written back: "
            f"{self.written_back}"
        )


class KeepAlive:
    """The job, for one process: ``start`` its thread, or ``run_once`` (the CLI)."""

    def __init__(
        self,
        timing: KeepAliveTiming,
        store: ConnectionStore,
        refresher: Refresher,
        *,
        clock: Callable[[], datetime],
        wait: Callable[[float], bool] | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.timing = timing
        self.store = store
        self.refresher = refresher
        self.leases = JobLeases(store)
        self.clock = clock
        self._stopping = threading.Event()
        # Waits up to N seconds between refreshes; True once the job is stopping.
        self._wait = wait or self._stopping.wait
        self._rng = rng
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"KeepAlive(after={self.timing.after}, interval={self.timing.interval})"

    def start(self) -> None:
        """Run ``tick`` every ``POLL`` in a daemon thread (gunicorn: once per worker)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="sfdc-keepalive", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to stop and wait up to ``timeout`` s; a refresh in flight ends
        by itself (its lease lapses if the process goes first)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def tick(self) -> PassReport | None:
        """Run a pass if one is due and no other process is running it; count connections."""
        try:
            lease = self._claim()
            if lease is None:
                return None
            try:
                last = lease.last_run
                if last is not None and self.clock() - last < self.timing.interval:
                    return None
                return self._pass(lease, self.timing.interval * SPREAD)
            finally:
                self.leases.release(lease)
        finally:
            self.count()

    def run_once(self) -> PassReport | None:
        """One pass now, due or not, at the fastest allowed pace; None if another process
        is running one."""
        lease = self._claim()
        if lease is None:
            return None
        try:
            return self._pass(lease, timedelta(0))
        finally:
            self.leases.release(lease)
            self.count()

    def count(self) -> None:
        """Set the ``sfdc_connections`` gauge from the database."""
        with self.store.session() as session:
            counted = session.execute(
                select(ConnectionRow.status, func.count()).group_by(ConnectionRow.status)
            )
            found: dict[str, int] = {status: count for status, count in counted}
        for status in {CONNECTED, NEEDS_CONSENT, *found}:
            metrics.CONNECTIONS.labels(status).set(found.get(status, 0))

    def idle(self, before: datetime) -> list[str]:
        """Connected connections not refreshed since ``before``, the longest idle first."""
        last = func.coalesce(ConnectionRow.refreshed_at, ConnectionRow.connected_at)
        with self.store.session() as session:
            return list(
                session.scalars(
                    select(ConnectionRow.name)
                    .where(ConnectionRow.status == CONNECTED, last < before)
                    .order_by(last, ConnectionRow.name)
                )
            )

    def _claim(self) -> JobLease | None:
        now = self.clock()
        return self.leases.claim(JOB, now, now + LEASE)

    def _pass(self, lease: JobLease, window: timedelta) -> PassReport:
        start = self.clock()
        self.leases.ran(lease, start)
        report = PassReport()
        for name in self.refresher.parked.names():
            if not self._hold(lease):
                report.complete = False
                break
            if self._refresh(name, since=self.clock(), parked=True) == "ok":
                report.written_back += 1
        after = self.timing.after
        if after is not None and report.complete:
            for name, at in schedule(self.idle(start - after), start, window, self._rng):
                if not self._wait_until(at, lease):
                    report.complete = False
                    break
                report.outcomes[self._refresh(name, since=self.clock() - after)] += 1
        log.info("%s", report.line())
        return report

    def _refresh(self, name: str, *, since: datetime, parked: bool = False) -> str:
        """One forced refresh (a refresh at or after ``since`` will do): its outcome."""
        try:
            self.refresher.refresh(name, frozenset(), since=since)
            outcome = "ok"
        except ConsentRequired:
            outcome = "needs_consent"
        except UnknownConnection:
            if parked:  # deleted while Redis was away: its parked token is no one's
                found = self.refresher.parked.find(name)
                if found is not None:
                    self.refresher.parked.drop(name, found)
            return "gone"
        except SfdcError as exc:
            outcome = "failed"
            log.warning("keep-alive refresh of connection %s failed: %s", name, exc.one_line())
        metrics.KEEPALIVE_REFRESHES.labels(outcome).inc()
        return outcome

    def _wait_until(self, at: datetime, lease: JobLease) -> bool:
        """Hold the lease until ``at``: False if it was lost or the job is stopping."""
        while self._hold(lease):
            left = (at - self.clock()).total_seconds()
            if left <= 0:
                return True
            if self._wait(min(left, LEASE.total_seconds() / 3)):
                return False
        return False

    def _hold(self, lease: JobLease) -> bool:
        if self.leases.renew(lease, self.clock() + LEASE):
            return True
        log.warning("keep-alive: the job's lease was lost (a pause longer than %s)", LEASE)
        return False

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
            except SfdcError as exc:
                log.warning("keep-alive: %s", exc.one_line())
            except Exception:
                log.exception("keep-alive failed unexpectedly; it runs again in %s", POLL)
            if self._stopping.wait(POLL.total_seconds()):
                return
