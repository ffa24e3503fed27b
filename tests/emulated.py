"""Helpers for tests that run the service against the emulator over real HTTP."""

from __future__ import annotations

from typing import Any

import requests

from sfdc.emulator import EmulatorConfig
from tests.conftest import CONSUMER_KEY, USERNAME, KeyPair


def emulator_config(pair: KeyPair, **overrides: Any) -> EmulatorConfig:
    """The connected app holding ``pair``'s certificate, with USERNAME pre-authorized."""
    fields: dict[str, Any] = {
        "consumer_key": CONSUMER_KEY,
        "certificate_pem": pair.cert_pem.encode(),
        "usernames": (USERNAME,),
        **overrides,
    }
    return EmulatorConfig(**fields)


def stats(url: str) -> dict[str, Any]:
    """The emulator's counters, read over HTTP as any process could."""
    answer: dict[str, Any] = requests.get(f"{url}/_emulator/stats", timeout=5).json()
    return answer


def fail_next(url: str, mode: str, count: int, **extra: Any) -> None:
    requests.post(
        f"{url}/_emulator/fail", json={"mode": mode, "count": count, **extra}, timeout=5
    ).raise_for_status()
