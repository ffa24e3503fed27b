"""Salesforce's addresses out of answers: links point at the service, never at the org.

A client that is given the service's URL as its instance URL must never learn the
org's own address, or it would follow a link there with our API key as its token. So
``Location`` headers, and the absolute URLs Salesforce writes into small JSON documents
(the version resource's ``identity``, the identity document's ``id`` and ``urls``,
UserInfo's ``urls``, ``profile`` and ``photos``), are rewritten from the token's origins
(its instance URL and the host of its identity URL) to the service's public URL.

Only a JSON string that *starts* with one of those origins, followed by ``/``, ``?``,
``#`` or the string's end, is touched: the text is rewritten in place, so the document
keeps its formatting, and an origin inside other text, or a longer host that merely
begins like it (``acme.my.salesforce.com.evil.example``), stays as it is. Documents
over ``REWRITE_LIMIT`` bytes (query results, downloads) stream through untouched.
Pure functions: the web layer does the I/O.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

# Salesforce's documents that carry links (versions, identity, UserInfo, job infos)
# are a few KiB; query pages and downloads, which are larger, carry relative URLs.
REWRITE_LIMIT = 256 * 1024
_JSON = re.compile(r"^application/([a-z0-9.+-]*\+)?json\s*(;|$)", re.IGNORECASE)


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, in lower case; empty for a relative URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


@lru_cache(maxsize=64)
def _pattern(origins: tuple[str, ...]) -> re.Pattern[bytes]:
    alternatives = b"|".join(re.escape(o.encode()) for o in sorted(origins, key=len, reverse=True))
    # An opening quote (not an escaped one) directly before the origin, and the origin
    # ending where a URL's host ends.
    return re.compile(rb'(?<!\\)"(?:' + alternatives + rb')(?=[/?#"])', re.IGNORECASE)


@dataclass(frozen=True)
class Addresses:
    """Rewrites links to any of ``origins`` into links to ``public`` (no trailing slash)."""

    origins: tuple[str, ...]
    public: str

    @classmethod
    def of(cls, urls: Iterable[str], public: str) -> Addresses:
        found = tuple(dict.fromkeys(o for o in map(origin, urls) if o))
        return cls(found, public.rstrip("/"))

    def location(self, value: str) -> str:
        """A ``Location`` header pointing at the service instead of the org."""
        lowered = value.lower()
        for known in self.origins:
            if lowered.startswith(known) and lowered[len(known) : len(known) + 1] in "/?#":
                return self.public + value[len(known) :]
        return value

    def body(self, document: bytes) -> bytes | None:
        """``document`` with its links rewritten, or None when it holds none."""
        if not self.origins:
            return None
        rewritten, count = _pattern(self.origins).subn(b'"' + self.public.encode(), document)
        return rewritten if count else None


def rewritable(content_type: str | None, length: int | None) -> bool:
    """Whether an answer may carry links to rewrite: JSON, and small or of unknown size."""
    if not content_type or not _JSON.match(content_type):
        return False
    return length is None or length <= REWRITE_LIMIT


def decoded(raw: bytes, content_encoding: str) -> bytes | None:
    """``raw`` without its gzip/deflate encoding (None if undecodable or over the limit)."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding not in ("gzip", "deflate", "x-gzip"):
        return None
    try:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
        out = inflater.decompress(raw, REWRITE_LIMIT + 1)
    except zlib.error:
        try:  # 'deflate' sent as a raw stream, as some servers do
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            out = inflater.decompress(raw, REWRITE_LIMIT + 1)
        except zlib.error:
            return None
    return None if len(out) > REWRITE_LIMIT or inflater.unconsumed_tail else out
