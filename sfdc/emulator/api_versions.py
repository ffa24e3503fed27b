"""The REST API versions the emulated org serves (REST API Developer Guide, "Versions")."""

from __future__ import annotations

import re

# (version, release label), oldest first; the last one is what "latest" means.
API_VERSIONS: tuple[tuple[str, str], ...] = (
    ("58.0", "Summer '23"),
    ("59.0", "Winter '24"),
    ("60.0", "Spring '24"),
    ("61.0", "Summer '24"),
    ("62.0", "Winter '25"),
    ("63.0", "Spring '25"),
    ("64.0", "Summer '25"),
    ("65.0", "Winter '26"),
    ("66.0", "Spring '26"),
)
LATEST_API_VERSION = API_VERSIONS[-1][0]

_VERSION_SEGMENT = re.compile(r"v(\d+\.\d)")


def version_from_segment(segment: str) -> str | None:
    """`v62.0` -> `62.0` when the org serves that version, else None."""
    match = _VERSION_SEGMENT.fullmatch(segment)
    if match is None or match.group(1) not in dict(API_VERSIONS):
        return None
    return match.group(1)


def resolve_version(value: str) -> str | None:
    """A `version` parameter (`62.0` or `latest`) as a served version, else None."""
    if value == "latest":
        return LATEST_API_VERSION
    return value if value in dict(API_VERSIONS) else None
