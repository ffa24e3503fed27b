"""A large binary download: `GET .../sobjects/Document/{id}/Body`.

Emulates the REST API's blob retrieval ("Get Blob Data", REST API Developer Guide), which
streams a file's bytes as `application/octet-stream`. The emulator invents the bytes: the
`size` query parameter (not a Salesforce parameter) says how many, and the content is
deterministic so a client can check integrity without the emulator holding it in memory.

Content definition, so tests can recompute it independently: the body is cut into chunks of
`CHUNK_SIZE` bytes; chunk `k` (from 0) is the first bytes of
`SHAKE-256(f"{document_id}:{k}")`, and the last chunk is truncated to fit `size`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from flask import Response

CHUNK_SIZE = 64 * 1024
DEFAULT_SIZE = 1024 * 1024
# Large enough for any download test, small enough that a typo cannot run for hours.
MAX_SIZE = 16 * 1024**3


def document_chunks(document_id: str, size: int) -> Iterator[bytes]:
    """The body of document `document_id` at `size` bytes, one chunk at a time."""
    remaining = size
    index = 0
    while remaining > 0:
        length = min(CHUNK_SIZE, remaining)
        yield hashlib.shake_256(f"{document_id}:{index}".encode()).digest(CHUNK_SIZE)[:length]
        remaining -= length
        index += 1


def parse_size(value: str | None) -> int | None:
    """The `size` parameter as a byte count, None if it is not one we serve."""
    if value is None:
        return DEFAULT_SIZE
    if not value.isascii() or not value.isdigit():
        return None
    size = int(value)
    return size if size <= MAX_SIZE else None


def document_body(document_id: str, size: int) -> Response:
    """A streamed response of exactly `size` bytes with a matching Content-Length."""
    response = Response(
        document_chunks(document_id, size),
        200,
        content_type="application/octet-stream",
        direct_passthrough=True,
    )
    response.content_length = size
    return response
