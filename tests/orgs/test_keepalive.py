"""The keep-alive job: idle connections are used before Salesforce expires them, once.

Against the emulator with refresh-token rotation on, on SQLite and
PostgreSQL: a refresh that reached Salesforce but not the database would
leave a dead token stored, which the tests would notice when they use it.
Time between refreshes passes on a fake clock (``ticking``), never in sleeps.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import REGISTRY

from sfdc.orgs.connections import Connections
from sfdc.orgs.keepalive import MAX_PER_MINUTE, SPREAD, KeepAlive, PassReport, schedule
from sfdc.settings.settings import Settings, load_settings
from sfdc.telemetry.fingerprints import secret_fingerprint as fingerprint
from tests.conftest import CONSUMER_KEY, CONSUMER_SECRET, FakeClock
from tests.deploy import ROOT
from tests.emulated import stats
from tests.orgs.upkeep_support import (
    column,
    connect,
    idle_since,
    worker,
)
from tests.orgs_support import refresh_at, stored_refresh_token

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
GAP = timedelta(minutes=1) / MAX_PER_MINUTE


# -- the schedule: inputs in, times out --------------------------------------------------


def test_refreshes_are_spread_evenly_over_the_window() -> None:
    times = schedule(["a", "b", "c", "d"], T0, timedelta(minutes=30), rng=lambda: 0.0)
    assert times == [(name, T0 + timedelta(minutes=7.5) * i) for i, name in enumerate("abcd")]


def test_jitter_keeps_each_refresh_in_its_slot_and_neighbours_apart() -> None:
    names = [f"c{i}" for i in range(7)]
    slot = timedelta(minutes=30) / 7
    seeded = random.Random(7).random  # noqa: S311 - jitter, not a secret
    for rng in (lambda: 0.0, lambda: 0.999999, seeded):
        times = [at for _name, at in schedule(names, T0, timedelta(minutes=30), rng=rng)]
        for i, at in enumerate(times):
            assert T0 + slot * i <= at < T0 + slot * (i + 1)
        assert all(later - earlier >= GAP for earlier, later in itertools.pairwise(times))


def test_many_due_at_once_never_burst_past_the_rate() -> None:
    names = [f"c{i}" for i in range(25)]
    for window in (timedelta(0), timedelta(minutes=1)):
        times = [at for _name, at in schedule(names, T0, window, rng=random.random)]
        assert times == sorted(times)
        for at in times:
            assert sum(at <= t < at + timedelta(minutes=1) for t in times) <= MAX_PER_MINUTE
        assert times[-1] - times[0] >= GAP * 24  # the pass outlasts its window instead


def test_nothing_due_schedules_nothing() -> None:
    assert schedule([], T0, timedelta(minutes=30), rng=random.random) == []


# -- the job against the emulator --------------------------------------------------------


def ticking(clock: FakeClock) -> Any:
    """A wait that lets the time pass on ``clock`` at once."""

    def wait(seconds: float) -> bool:
        clock.advance(timedelta(seconds=seconds))
        return False

    return wait


def job_of(connections: Connections, settings: Settings, clock: FakeClock, **kw: Any) -> KeepAlive:
    return KeepAlive(
        settings.keepalive, connections.store, connections.refresher, clock=clock, **kw
    )


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_idle_connections_are_refreshed_and_fresh_ones_are_not(
    env: dict[str, str], org: Any, workers: list[Connections], database_url: str
) -> None:
    clock = FakeClock(datetime.now(UTC))
    settings = load_settings(env)
    one = worker(workers, settings, clock)
    for name in ("idle-week", "idle-month", "fresh"):
        connect(one, name)
    start = clock()
    idle_since(database_url, "idle-week", start - timedelta(days=7, minutes=1))
    idle_since(database_url, "idle-month", start - timedelta(days=30))
    idle_since(database_url, "fresh", start - timedelta(days=6, hours=23))
    grants = stats(org.url)["refresh_grants"]
    ok = metric("sfdc_keepalive_refreshes_total", outcome="ok")

    report = job_of(one, settings, clock, wait=ticking(clock)).run_once()

    assert report is not None
    assert report.outcomes == {"ok": 2}
    assert stats(org.url)["refresh_grants"] - grants == 2
    assert metric("sfdc_keepalive_refreshes_total", outcome="ok") - ok == 2
    for name in ("idle-week", "idle-month"):
        assert _aware(column(database_url, name, "refreshed_at")) >= start
        assert column(database_url, name, "failures") == 0
    untouched = _aware(column(database_url, "fresh", "refreshed_at"))
    assert untouched == start - timedelta(days=6, hours=23)
    _raw, stored = stored_refresh_token(database_url, "idle-month")
    assert refresh_at(org.url, stored, CONSUMER_SECRET, CONSUMER_KEY).status_code == 200
    assert metric("sfdc_connections", status="connected") == 3
    assert metric("sfdc_connections", status="needs_consent") == 0


def test_a_pass_spreads_its_refreshes_over_half_the_interval_instead_of_bursting(
    env: dict[str, str], org: Any, workers: list[Connections], database_url: str
) -> None:
    clock = FakeClock(datetime.now(UTC))
    settings = load_settings(env)
    one = worker(workers, settings, clock)
    names = [f"idle-{i}" for i in range(4)]
    for i, name in enumerate(names):
        connect(one, name)
        idle_since(database_url, name, clock() - timedelta(days=20 - i))  # idle-0 longest
    start = clock()

    report = job_of(one, settings, clock, wait=ticking(clock), rng=lambda: 0.5).tick()

    assert report is not None
    assert report.outcomes == {"ok": 4}
    window = settings.keepalive.interval * SPREAD
    slot = window / len(names)
    when = [_aware(column(database_url, name, "refreshed_at")) for name in names]
    for i, at in enumerate(when):  # each in its own slot of the window, at its middle
        assert abs(at - (start + slot * i + (slot - GAP) * 0.5)) < timedelta(seconds=1)
    assert when[-1] - when[0] >= slot * 3  # one refresh per slot, not four at once
    assert when[-1] < start + window


def test_two_workers_running_the_job_at_once_do_the_work_once(
    env: dict[str, str], org: Any, workers: list[Connections], database_url: str
) -> None:
    settings = load_settings(env)
    clocks = [FakeClock(datetime.now(UTC)) for _ in range(2)]
    both = [worker(workers, settings, clock) for clock in clocks]
    for name in ("idle-1", "idle-2"):
        connect(both[0], name)
        idle_since(database_url, name, clocks[0]() - timedelta(days=8))
    jobs = [job_of(w, settings, c, wait=ticking(c)) for w, c in zip(both, clocks, strict=True)]
    grants = stats(org.url)["refresh_grants"]
    barrier = threading.Barrier(2)
    reports: list[PassReport | None] = [None, None]

    def tick(i: int) -> None:
        barrier.wait()
        reports[i] = jobs[i].tick()

    threads = [threading.Thread(target=tick, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    done = [report for report in reports if report is not None]
    assert len(done) == 1, reports
    assert done[0].outcomes == {"ok": 2}
    assert stats(org.url)["refresh_grants"] - grants == 2
    # Neither runs again within the interval; after it, a pass finds nothing idle.
    assert [job.tick() for job in jobs] == [None, None]
    clocks[1].advance(settings.keepalive.interval)
    again = jobs[1].tick()
    assert again is not None
    assert again.outcomes == {}
    assert stats(org.url)["refresh_grants"] - grants == 2


def test_a_pass_under_way_holds_the_job_against_every_other_process(
    env: dict[str, str], org: Any, workers: list[Connections], database_url: str
) -> None:
    settings = load_settings(env)
    clocks = [FakeClock(datetime.now(UTC)) for _ in range(2)]
    first, second = (worker(workers, settings, clock) for clock in clocks)
    connect(first, "idle")
    idle_since(database_url, "idle", clocks[0]() - timedelta(days=8))
    waiting, go = threading.Event(), threading.Event()

    def paused(seconds: float) -> bool:
        waiting.set()
        go.wait(30)
        clocks[0].advance(timedelta(seconds=seconds))
        return False

    running = threading.Thread(target=job_of(first, settings, clocks[0], wait=paused).tick)
    running.start()
    try:
        assert waiting.wait(30), "the pass never waited for its first slot"
        grants = stats(org.url)["refresh_grants"]
        assert job_of(second, settings, clocks[1], wait=ticking(clocks[1])).run_once() is None
        assert stats(org.url)["refresh_grants"] == grants
    finally:
        go.set()
        running.join(60)
    assert _aware(column(database_url, "idle", "refreshed_at")) > clocks[1]()


def test_a_parked_refresh_token_is_written_back_by_the_job(
    env: dict[str, str], org: Any, workers: list[Connections], database_url: str
) -> None:
    settings = load_settings(env)
    clock = FakeClock(datetime.now(UTC))
    crashed = worker(workers, settings, clock)
    connect(crashed, "acme")
    # Salesforce rotated the refresh token, and the database never heard: the new one
    # was parked in Redis (as ``Refresher`` parks it when the write fails).
    _raw, stored = stored_refresh_token(database_url, "acme")
    answer = refresh_at(org.url, stored, CONSUMER_SECRET, CONSUMER_KEY).json()
    crashed.refresher.parked.park("acme", answer["refresh_token"], replaces=fingerprint(stored))

    later = FakeClock(datetime.now(UTC))
    other = worker(workers, settings, later)  # another process
    assert other.refresher.parked.names() == ["acme"]
    report = job_of(other, settings, later, wait=ticking(later)).run_once()

    assert report is not None
    assert report.written_back == 1
    assert report.outcomes == {}  # not idle: only the write-back refreshed it
    assert other.refresher.parked.names() == []
    _raw, now_stored = stored_refresh_token(database_url, "acme")
    assert now_stored != stored
    assert refresh_at(org.url, now_stored, CONSUMER_SECRET, CONSUMER_KEY).status_code == 200


def test_keepalive_once_from_the_command_line(
    env: dict[str, str], org: Any, workers: list[Connections], database_url: str
) -> None:
    settings = load_settings(env)
    connect(worker(workers, settings, FakeClock(datetime.now(UTC))), "idle")
    idle_since(database_url, "idle", datetime.now(UTC) - timedelta(days=8))

    def run(**extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sfdc", "keepalive", "--once"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={"PATH": os.environ["PATH"], "HOME": "/tmp", **env, **extra},
            timeout=120,
            check=False,
        )

    off = run(SFDC_KEEPALIVE_AFTER="off")
    assert off.returncode == 0, off.stderr
    assert "idle connections refreshed: none due" in off.stdout
    grants = stats(org.url)["refresh_grants"]
    done = run()
    assert done.returncode == 0, done.stderr
    assert "idle connections refreshed: 1 ok" in done.stdout
    assert stats(org.url)["refresh_grants"] - grants == 1
    assert all(json.loads(line) for line in done.stderr.splitlines())  # JSON log lines
    _raw, stored = stored_refresh_token(database_url, "idle")
    assert stored not in done.stdout + done.stderr

    disabled = subprocess.run(
        [sys.executable, "-m", "sfdc", "keepalive", "--once"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "HOME": "/tmp", **_without_orgs(env)},
        timeout=120,
        check=False,
    )
    assert disabled.returncode == 1
    assert disabled.stderr.startswith("error: Connected orgs are not enabled")


def _without_orgs(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k != "SFDC_ENCRYPTION_KEY"}


def _aware(value: Any) -> datetime:
    """A timestamp column as read back raw: SQLite gives naive UTC text, PostgreSQL aware."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
