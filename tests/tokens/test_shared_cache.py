"""One token for the whole space: real Redis, the emulator over HTTP, several services.

Each ``TokenService`` stands for one gunicorn worker or CF instance; the
multi-process test uses real processes.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from sfdc.emulator import running_emulator
from sfdc.errors import SalesforceRefusal, UpstreamError
from sfdc.settings.settings import load_settings
from sfdc.tokens.provider import LOCAL_RECHECK, REDIS_RETRY
from sfdc.tokens.sealing import CacheSealer
from sfdc.tokens.service import TokenService
from sfdc.tokens.shared_cache import namespace
from sfdc.tokens.token import REFRESH_AHEAD
from tests.conftest import FakeClock, KeyPair
from tests.emulated import emulator_config, stats
from tests.redis_support import PrivateRedis


@pytest.fixture
def emulator(keypair: KeyPair) -> Iterator[Any]:
    with running_emulator(emulator_config(keypair)) as running:
        yield running


def _env(seed_env: dict[str, str], emulator: Any, url: str, prefix: str) -> dict[str, str]:
    return {
        **seed_env,
        "SFDC_LOGIN_URL": emulator.url,
        "REDIS_URL": url,
        "SFDC_CACHE_PREFIX": prefix,
    }


@pytest.fixture
def env(seed_env: dict[str, str], emulator: Any, shared_redis: tuple[str, str]) -> dict[str, str]:
    return _env(seed_env, emulator, *shared_redis)


@pytest.fixture
def now_clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


def _service(env: dict[str, str], clock: FakeClock | None = None, **kwargs: Any) -> TokenService:
    settings = load_settings(env)
    return TokenService(settings, clock=clock or (lambda: datetime.now(UTC)), **kwargs)


def test_many_threads_in_several_services_make_one_exchange(
    env: dict[str, str], emulator: Any
) -> None:
    services = [_service(env) for _ in range(4)]
    barrier = threading.Barrier(40)
    tokens: list[str] = []

    def call(service: TokenService) -> None:
        barrier.wait()
        tokens.append(service.current().token.access_token)

    threads = [threading.Thread(target=call, args=(services[i % 4],)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(tokens) == 40
    assert len(set(tokens)) == 1
    assert stats(emulator.url)["token_requests"] == 1


def _process_main(env: dict[str, str], barrier: Any, out: Any) -> None:
    service = TokenService(load_settings(env))
    barrier.wait()
    out.put(service.current().token.access_token)


def test_several_processes_on_a_cold_cache_make_one_exchange(
    env: dict[str, str], emulator: Any
) -> None:
    context = multiprocessing.get_context("spawn")
    barrier, out = context.Barrier(4), context.Queue()
    processes = [context.Process(target=_process_main, args=(env, barrier, out)) for _ in range(4)]
    for process in processes:
        process.start()
    tokens = {out.get(timeout=60) for _ in processes}
    for process in processes:
        process.join(30)
    assert len(tokens) == 1
    assert stats(emulator.url)["token_requests"] == 1


def test_tokens_in_redis_are_not_readable(
    env: dict[str, str],
    shared_redis: tuple[str, str],
    keypair: KeyPair,
    other_keypair: KeyPair,
) -> None:
    service = _service(env)
    exchange = service.current()
    client = redis.Redis.from_url(shared_redis[0])
    keys = list(client.scan_iter(f"{shared_redis[1]}:*"))
    assert keys, "the token was stored in Redis"
    for key in keys:
        raw = client.get(key) or b""
        for secret in (
            exchange.token.access_token,
            exchange.assertion.signature,
            "instance_url",
            exchange.token.instance_url,
        ):
            assert secret.encode() not in raw
    token_key = f"{namespace(service.settings)}:token".encode()
    stored = client.get(token_key) or b""
    assert CacheSealer(other_keypair.key).open(stored, context=token_key) is None
    assert CacheSealer(keypair.key).open(stored, context=token_key) is not None


def test_a_rejected_token_is_replaced_once_for_everyone(env: dict[str, str], emulator: Any) -> None:
    first, second = _service(env), _service(env)
    old = first.current()
    assert second.current().token.access_token == old.token.access_token
    emulator.state.expire_all()
    assert first.rejected(first.current())
    assert second.rejected(second.current()), "each drops its own copy"
    new_first, new_second = first.current(), second.current()
    assert new_first.token.access_token == new_second.token.access_token
    assert new_first.token.access_token != old.token.access_token
    assert stats(emulator.url)["token_requests"] == 2


def test_a_refusal_cools_down_every_instance(
    seed_env: dict[str, str], keypair: KeyPair, shared_redis: tuple[str, str]
) -> None:
    config = emulator_config(keypair, usernames=("someone-else@example.com",))
    with running_emulator(config) as refusing:
        env = _env(seed_env, refusing, *shared_redis)
        with pytest.raises(SalesforceRefusal):
            _service(env).current()
        with pytest.raises(UpstreamError) as caught:
            _service(env).current()
        assert caught.value.code == "invalid_grant"
        assert "Not asked again before" in caught.value.hint
        assert stats(refusing.url)["token_requests"] == 1


def test_background_refresh_is_one_exchange_for_the_space(
    env: dict[str, str], emulator: Any, now_clock: FakeClock
) -> None:
    first, second = _service(env, now_clock), _service(env, now_clock)
    old = first.current()
    second.current()
    now_clock.advance(timedelta(hours=1) - REFRESH_AHEAD + timedelta(seconds=1))
    assert first.current() is old, "stale tokens are served at once"
    assert second.current().token.access_token == old.token.access_token
    deadline = time.monotonic() + 10
    while stats(emulator.url)["token_requests"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    now_clock.advance(LOCAL_RECHECK)
    assert first.current().token.access_token == second.current().token.access_token
    assert first.current().token.access_token != old.token.access_token
    assert stats(emulator.url)["token_requests"] == 2


def test_introspection_gives_the_real_expiry(
    seed_env: dict[str, str], keypair: KeyPair, shared_redis: tuple[str, str]
) -> None:
    config = emulator_config(keypair, consumer_secret="s3cret-consumer")
    with running_emulator(config) as emulator:
        env = _env(seed_env, emulator, *shared_redis)
        token = _service({**env, "SFDC_CONSUMER_SECRET": "s3cret-consumer"}).current().token
        assert token.expires_at is not None
        lifetime = token.expires_at - token.issued_at
        assert timedelta(hours=2) - timedelta(seconds=5) < lifetime <= timedelta(hours=2)


def test_wrong_consumer_secret_falls_back_to_max_age(
    seed_env: dict[str, str],
    keypair: KeyPair,
    shared_redis: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = emulator_config(keypair, consumer_secret="s3cret-consumer")
    with running_emulator(config) as emulator:
        env = {
            **_env(seed_env, emulator, *shared_redis),
            "SFDC_CONSUMER_SECRET": "wrong-9f3e1d",
            "SFDC_TOKEN_MAX_AGE": "1800",
        }
        token = _service(env).current().token
    assert token.expires_at is not None
    lifetime = token.expires_at - token.issued_at
    assert (
        timedelta(minutes=30) - timedelta(seconds=2) < lifetime < timedelta(minutes=30, seconds=2)
    )
    assert "introspection failed" in caplog.text
    assert "wrong-9f3e1d" not in caplog.text


# -- Redis trouble is not an outage ------------------------------------------------------


@pytest.fixture
def outage_env(
    seed_env: dict[str, str], emulator: Any, private_redis: PrivateRedis
) -> dict[str, str]:
    return _env(seed_env, emulator, private_redis.url, "sfdc-outage")


def test_redis_stopped_mid_run_changes_nothing_a_caller_sees(
    outage_env: dict[str, str],
    private_redis: PrivateRedis,
    emulator: Any,
    now_clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    service = _service(outage_env, now_clock)
    token = service.current().token.access_token
    private_redis.stop()
    for _ in range(50):
        now_clock.advance(LOCAL_RECHECK)
        assert service.current().token.access_token == token
    assert caplog.text.count("Redis unavailable") == 1, "logged once, not per request"
    assert stats(emulator.url)["token_requests"] == 1
    private_redis.start()
    now_clock.advance(REDIS_RETRY)
    assert service.current().token.access_token
    assert "Redis available again" in caplog.text


def test_frozen_redis_delays_a_request_by_at_most_its_timeout(
    outage_env: dict[str, str], private_redis: PrivateRedis, now_clock: FakeClock
) -> None:
    service = _service(outage_env, now_clock)
    token = service.current().token.access_token
    private_redis.freeze()
    try:
        slowest = 0.0
        for _ in range(6):  # each re-check of a frozen Redis costs its 0.5 s timeout
            now_clock.advance(LOCAL_RECHECK)
            started = time.monotonic()
            assert service.current().token.access_token == token
            slowest = max(slowest, time.monotonic() - started)
    finally:
        private_redis.thaw()
    assert slowest < 2.0


def test_a_token_minted_while_redis_was_away_is_shared_when_it_returns(
    outage_env: dict[str, str],
    private_redis: PrivateRedis,
    emulator: Any,
    now_clock: FakeClock,
) -> None:
    private_redis.stop()
    lonely = _service(outage_env, now_clock)
    token = lonely.current().token.access_token
    private_redis.start()
    now_clock.advance(REDIS_RETRY)
    assert lonely.current().token.access_token == token
    assert _service(outage_env, now_clock).current().token.access_token == token
    assert stats(emulator.url)["token_requests"] == 1


_HOLD_LOCK = """
import json, sys, time
from datetime import timedelta
from sfdc.settings.settings import load_settings
from sfdc.tokens.service import TokenService
service = TokenService(load_settings(json.loads(sys.argv[1])), lock_ttl=timedelta(seconds=2))
with service.provider.store.locked() as lock:
    assert lock is not None
    print("held", flush=True)
    time.sleep(60)
"""


def _orphan_the_lock(env: dict[str, str]) -> None:
    """Another process takes the cluster lock and dies holding it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, json.dumps(env)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait(10)
    holder.stdout.close()


def test_a_dead_lock_holder_blocks_others_only_until_the_lock_expires(
    env: dict[str, str], emulator: Any
) -> None:
    _orphan_the_lock(env)
    started = time.monotonic()
    token = _service(env, lock_ttl=timedelta(seconds=2)).current()
    waited = time.monotonic() - started
    assert token.token.access_token
    assert waited < 2 + 1.5, f"waited {waited:.1f} s, past the lock's 2 s expiry"
    assert stats(emulator.url)["token_requests"] == 1


def test_logs_from_redis_trouble_hold_no_password(
    seed_env: dict[str, str], emulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = PrivateRedis().port  # nothing listens there
    env = {
        **seed_env,
        "SFDC_LOGIN_URL": emulator.url,
        "REDIS_URL": f"redis://:hunter2-redis-pass@127.0.0.1:{port}/0",
    }
    service = _service(env)
    assert service.current().token.access_token
    assert "Redis unavailable" in caplog.text
    assert "hunter2-redis-pass" not in caplog.text
    assert "hunter2-redis-pass" not in repr(service.settings)


def test_lock_outlives_the_longest_exchange() -> None:
    from sfdc.tokens.shared_cache import LOCK_TTL, lock_ttl

    assert lock_ttl(10, 25) == LOCK_TTL == timedelta(seconds=40)
    assert lock_ttl(25, 25) == timedelta(seconds=55)


def test_an_orphaned_lock_does_not_delay_a_token_already_in_redis(
    env: dict[str, str], emulator: Any
) -> None:
    _service(env).current()  # the token is in Redis
    _orphan_the_lock(env)
    started = time.monotonic()
    assert _service(env).current().token.access_token
    assert time.monotonic() - started < 1.0
    assert stats(emulator.url)["token_requests"] == 1


def test_a_rejection_missed_by_a_frozen_redis_is_never_undone(
    outage_env: dict[str, str],
    private_redis: PrivateRedis,
    emulator: Any,
    now_clock: FakeClock,
) -> None:
    first, second = _service(outage_env, now_clock), _service(outage_env, now_clock)
    old = first.current()
    private_redis.freeze()
    try:
        first.rejected(old)  # Redis does not answer: the rejection stays local for now
        new = first.current()
    finally:
        private_redis.thaw()
    assert new.token.access_token != old.token.access_token
    now_clock.advance(REDIS_RETRY)
    assert first.current().token.access_token == new.token.access_token, "not re-adopted"
    now_clock.advance(LOCAL_RECHECK)
    assert second.current().token.access_token == new.token.access_token, "shared once back"
    assert stats(emulator.url)["token_requests"] == 2


def test_redis_losing_its_data_costs_no_exchange(
    outage_env: dict[str, str],
    private_redis: PrivateRedis,
    emulator: Any,
    now_clock: FakeClock,
) -> None:
    services = [_service(outage_env, now_clock) for _ in range(3)]
    token = {s.current().token.access_token for s in services}
    private_redis.stop()
    private_redis.start()  # empty: it keeps nothing on disk
    now_clock.advance(LOCAL_RECHECK)
    assert {s.current().token.access_token for s in services} == token
    assert stats(emulator.url)["token_requests"] == 1


def test_backoff_continues_across_instances(
    seed_env: dict[str, str],
    keypair: KeyPair,
    shared_redis: tuple[str, str],
    now_clock: FakeClock,
) -> None:
    with running_emulator(emulator_config(keypair)) as emulator:
        env = _env(seed_env, emulator, *shared_redis)
        services = [_service(env, now_clock) for _ in range(4)]
        emulator.state.fail_next(count=1000, mode="error", status=503)
        waits, asked = [], stats(emulator.url)["token_requests"]
        for failure in range(5):
            waited = timedelta(0)
            while True:
                with pytest.raises(UpstreamError):
                    services[failure % 4].current()
                now = stats(emulator.url)["token_requests"]
                if now != asked:
                    asked = now
                    break
                now_clock.advance(timedelta(milliseconds=250))
                waited += timedelta(milliseconds=250)
            waits.append(waited)
    assert waits[2:] == [timedelta(seconds=2), timedelta(seconds=4), timedelta(seconds=8)], waits


def test_an_unreadable_shared_block_is_ignored(
    env: dict[str, str], shared_redis: tuple[str, str]
) -> None:
    from sfdc.tokens.cooldown import Blocked

    service = _service(env)
    store = service.provider.store
    assert store is not None
    future = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    document = {
        "code": "x",
        "description": "d",
        "hint": "h",
        "retryable": True,
        "status": 503,
        "until": future,
        "from_a_newer_version": 1,
    }
    assert Blocked.from_dict(document) is not None, "unknown fields are ignored"
    assert Blocked.from_dict({"until": "not a date"}) is None
    sealed = store.sealer.seal(b"not json", context=store.blocked_key.encode())
    redis.Redis.from_url(shared_redis[0]).set(store.blocked_key, sealed)
    assert store.load_blocked() is None
    assert service.current().token.access_token
