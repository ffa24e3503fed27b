"""A proxied body is kept for one replay: small ones in memory, large ones in a temporary
file that is gone when the request is; over the limit nothing is kept at all."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from sfdc.errors import BadRequest, PayloadTooLarge
from sfdc.web.spool import MEMORY_LIMIT, spooled
from tests.web.spool_support import spool_files

LIMIT = 4 * MEMORY_LIMIT


def _data(size: int) -> bytes:
    return hashlib.shake_256(b"spool").digest(size)


def test_a_small_body_stays_in_memory_and_reads_whole_each_time(tmp_path: Path) -> None:
    data = _data(MEMORY_LIMIT)
    with spooled(io.BytesIO(data), len(data), LIMIT, directory=str(tmp_path)) as body:
        assert body is not None
        assert spool_files(tmp_path) == []
        assert (body.size, body.rewound().read()) == (len(data), data)
        assert body.rewound().read() == data, "a replay sends the same bytes"


@pytest.mark.parametrize("length", ["content-length", "chunked"])
def test_a_large_body_goes_to_a_file_that_is_gone_after(tmp_path: Path, length: str) -> None:
    data = _data(MEMORY_LIMIT + 1)
    announced = len(data) if length == "content-length" else None
    with spooled(io.BytesIO(data), announced, LIMIT, directory=str(tmp_path)) as body:
        assert body is not None
        assert len(spool_files(tmp_path)) == 1
        assert (body.size, body.rewound().read()) == (len(data), data)
        assert body.rewound().read() == data
    assert spool_files(tmp_path) == []


def _send_and_fail(directory: Path, data: bytes) -> None:
    with spooled(io.BytesIO(data), len(data), LIMIT, directory=str(directory)):
        assert len(spool_files(directory)) == 1
        raise ConnectionError("Salesforce went away mid-send")


def test_the_file_is_gone_when_the_send_fails(tmp_path: Path) -> None:
    with pytest.raises(ConnectionError):
        _send_and_fail(tmp_path, _data(2 * MEMORY_LIMIT))
    assert spool_files(tmp_path) == []


def test_a_length_over_the_limit_is_refused_before_a_byte_is_read(tmp_path: Path) -> None:
    stream = io.BytesIO(_data(16))
    with pytest.raises(PayloadTooLarge) as refused, spooled(stream, LIMIT + 1, LIMIT):
        pass
    assert stream.tell() == 0
    assert "over the 4 MiB limit; nothing was sent to Salesforce" in refused.value.description


def test_a_chunked_body_over_the_limit_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    stream = io.BytesIO(_data(LIMIT + 1))
    with (
        pytest.raises(PayloadTooLarge) as refused,
        spooled(stream, None, LIMIT, directory=str(tmp_path)),
    ):
        pass
    assert "chunked request body is over the 4 MiB limit" in refused.value.description
    assert stream.tell() == LIMIT + 1, "read only one byte past the limit"
    assert spool_files(tmp_path) == []


def test_a_chunked_body_of_exactly_the_limit_is_taken(tmp_path: Path) -> None:
    data = _data(LIMIT)
    with spooled(io.BytesIO(data), None, LIMIT, directory=str(tmp_path)) as body:
        assert body is not None
        assert body.size == LIMIT


def test_a_body_shorter_than_its_length_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    data = _data(2 * MEMORY_LIMIT)
    with (
        pytest.raises(BadRequest) as refused,
        spooled(io.BytesIO(data), len(data) + 1, LIMIT, directory=str(tmp_path)),
    ):
        pass
    assert "ended before its Content-Length" in refused.value.description
    assert spool_files(tmp_path) == []


@pytest.mark.parametrize("length", [0, None])
def test_no_body_is_none(tmp_path: Path, length: int | None) -> None:
    with spooled(io.BytesIO(b""), length, LIMIT, directory=str(tmp_path)) as body:
        assert body is None
    assert spool_files(tmp_path) == []
