"""A proxied request body, kept for one replay in bounded memory.

The API proxy may send a caller's body twice: once, and again after a new login
when Salesforce answers that the session is dead. So the body is read whole
before the first send, but not into memory: up to ``MEMORY_LIMIT`` it stays in
memory, past that it goes to an anonymous temporary file (``tempfile``'s
``SpooledTemporaryFile``: on Linux the file never has a name in the directory,
and its disk space is freed when it is closed). Each send reads it from the start
with its ``Content-Length``, a chunked body's included, so Salesforce always gets
a framed body of a known size.

The size limit is enforced while reading: a ``Content-Length`` over it is refused
before a byte is read, a chunked body as soon as it passes the limit; either way
nothing reaches Salesforce. ``BodyDeadline`` (``sfdc.web.request_body``) governs
the reads, so a body that trickles or stops short ends in 408/400 here too. The
file is closed when the request is done with it, whichever way that ends.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from sfdc.errors import BadRequest, PayloadTooLarge

# A body up to this size stays in memory: REST calls' JSON bodies (composite
# requests included) are far smaller; uploads (Bulk CSV, blobs) go to disk.
MEMORY_LIMIT = 1024 * 1024  # bytes
_CHUNK = 64 * 1024
# The app's config key for the directory of spooled bodies (``create_app(spool_dir=...)``).
SPOOL_DIR = "SFDC_SPOOL_DIR"


class Body:
    """A spooled request body: its size, and its bytes from the start for each send."""

    def __init__(self, file: IO[bytes], size: int) -> None:
        self._file = file
        self.size = size

    def rewound(self) -> IO[bytes]:
        """The body, positioned at its first byte (a replay follows a whole send)."""
        self._file.seek(0)
        return self._file


def _mib(size: int) -> str:
    return f"{size / (1 << 20):g} MiB"


def _copy(stream: IO[bytes], file: IO[bytes], most: int) -> int:
    """Copy up to ``most`` bytes of ``stream`` into ``file``; how many there were."""
    size = 0
    while size < most and (part := stream.read(min(_CHUNK, most - size))):
        file.write(part)  # a stream may return less than asked: read to its end
        size += len(part)
    return size


@contextmanager
def spooled(
    stream: IO[bytes],
    length: int | None,
    limit: int,
    *,
    directory: str | None = None,
    memory: int = MEMORY_LIMIT,
) -> Iterator[Body | None]:
    """The request body in ``stream`` (``length`` bytes; None: chunked, to its end),
    or None when there is none; its file is closed when the block ends.

    Raises ``PayloadTooLarge`` for a body over ``limit`` bytes and ``BadRequest`` for
    one that ends before its ``Content-Length``; ``directory`` holds the file of a
    body over ``memory`` bytes (default: the system's temporary directory)."""
    if length is not None and length > limit:
        raise PayloadTooLarge(
            f"The request body ({length} bytes) is over the {_mib(limit)} limit; nothing "
            "was sent to Salesforce."
        )
    if length == 0:
        yield None
        return
    with tempfile.SpooledTemporaryFile(max_size=memory, dir=directory) as file:
        size = _copy(stream, file, limit + 1 if length is None else length)
        if length is None and size > limit:
            raise PayloadTooLarge(
                f"The chunked request body is over the {_mib(limit)} limit; nothing was "
                "sent to Salesforce."
            )
        if length is not None and size < length:
            raise BadRequest("The request body ended before its Content-Length.")
        yield Body(file, size) if size else None
