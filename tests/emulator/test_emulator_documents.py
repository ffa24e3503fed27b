"""The streamed Document body: exact size, deterministic content, no buffering."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from sfdc.emulator import RunningEmulator
from tests.emulator.emulator_support import bearer

DOCUMENT = "015000000000001AAA"
CHUNK = 64 * 1024


def expected_sha256(document_id: str, size: int) -> str:
    """The documented content, recomputed here: chunk k is SHAKE-256("{id}:{k}")."""
    digest = hashlib.sha256()
    for index, start in enumerate(range(0, size, CHUNK)):
        chunk = hashlib.shake_256(f"{document_id}:{index}".encode()).digest(CHUNK)
        digest.update(chunk[: min(CHUNK, size - start)])
    return digest.hexdigest()


@pytest.fixture
def token(get_token: Callable[..., dict[str, Any]]) -> str:
    access_token: str = get_token()["access_token"]
    return access_token


def body_url(emulator: RunningEmulator, document_id: str = DOCUMENT) -> str:
    return f"{emulator.url}/services/data/v62.0/sobjects/Document/{document_id}/Body"


@pytest.mark.parametrize("size", [0, 1, CHUNK, 3 * CHUNK + 17, 5_000_003])
def test_download_has_exactly_the_requested_bytes(
    http: requests.Session, emulator: RunningEmulator, token: str, size: int
) -> None:
    digest = hashlib.sha256()
    received = 0
    with http.get(
        body_url(emulator), params={"size": size}, headers=bearer(token), stream=True, timeout=30
    ) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert response.headers["Content-Length"] == str(size)
        for piece in response.iter_content(chunk_size=256 * 1024):
            digest.update(piece)
            received += len(piece)
    assert received == size
    assert digest.hexdigest() == expected_sha256(DOCUMENT, size)


def test_same_document_gives_the_same_bytes_and_others_differ(
    http: requests.Session, emulator: RunningEmulator, token: str
) -> None:
    def fetch(document_id: str) -> bytes:
        response = http.get(
            body_url(emulator, document_id),
            params={"size": 1000},
            headers=bearer(token),
            timeout=10,
        )
        return response.content

    assert fetch(DOCUMENT) == fetch(DOCUMENT)
    assert fetch(DOCUMENT) != fetch("015000000000002AAA")


def test_chunks_do_not_repeat(
    http: requests.Session, emulator: RunningEmulator, token: str
) -> None:
    content = http.get(
        body_url(emulator), params={"size": 2 * CHUNK}, headers=bearer(token), timeout=10
    ).content
    assert content[:CHUNK] != content[CHUNK:]


def test_default_size_is_one_mebibyte(
    http: requests.Session, emulator: RunningEmulator, token: str
) -> None:
    response = http.get(body_url(emulator), headers=bearer(token), timeout=10)
    assert len(response.content) == 1024 * 1024


def test_huge_download_starts_streaming_at_once(
    http: requests.Session, emulator: RunningEmulator, token: str
) -> None:
    eight_gib = 8 * 1024**3
    started = time.monotonic()
    with http.get(
        body_url(emulator),
        params={"size": eight_gib},
        headers=bearer(token),
        stream=True,
        timeout=10,
    ) as response:
        assert response.headers["Content-Length"] == str(eight_gib)
        first = next(response.iter_content(chunk_size=CHUNK))
    assert len(first) == CHUNK
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("size", ["-1", "ten", "1e6", str(64 * 1024**3)])
def test_invalid_size_is_400(
    http: requests.Session, emulator: RunningEmulator, token: str, size: str
) -> None:
    response = http.get(
        body_url(emulator), params={"size": size}, headers=bearer(token), timeout=10
    )
    assert response.status_code == 400


def test_download_needs_a_live_token(http: requests.Session, emulator: RunningEmulator) -> None:
    response = http.get(body_url(emulator), headers=bearer("00Dxx0000001gPL!forged"), timeout=10)
    assert response.status_code == 401
    assert response.json()[0]["errorCode"] == "INVALID_SESSION_ID"
