"""The REST API versions the emulated org serves (REST API Developer Guide, "Versions").

Salesforce lists every version from 31.0 (Summer '14) up to the current release, three a
year: Winter, Spring, Summer. The guide's current pages use v68.0 (Winter '27) in their
examples, so that is the latest version here.
"""

from __future__ import annotations

import re

OLDEST_MAJOR = 31
LATEST_MAJOR = 68
_SEASONS = ("Winter", "Spring", "Summer")


def _label(major: int) -> str:
    """32.0 is Winter '15, 33.0 Spring '15, 34.0 Summer '15, and so on."""
    offset = major - 32
    return f"{_SEASONS[offset % 3]} '{15 + offset // 3:02d}"


# (version, release label), oldest first; the last one is what "latest" means.
API_VERSIONS: tuple[tuple[str, str], ...] = tuple(
    (f"{major}.0", _label(major)) for major in range(OLDEST_MAJOR, LATEST_MAJOR + 1)
)
LATEST_API_VERSION = API_VERSIONS[-1][0]

_VERSION_SEGMENT = re.compile(r"v(\d+\.\d)")


def version_from_segment(segment: str) -> str | None:
    """`v62.0` -> `62.0` when the org serves that version, else None."""
    match = _VERSION_SEGMENT.fullmatch(segment)
    if match is None or match.group(1) not in dict(API_VERSIONS):
        return None
    return match.group(1)


def version_number(version: str) -> float:
    """`62.0` -> 62.0, for version-dependent behaviour and JSON fields like `apiVersion`."""
    return float(version)


def resolve_version(value: str) -> str | None:
    """A `version` parameter (`62.0` or `latest`) as a served version, else None."""
    if value == "latest":
        return LATEST_API_VERSION
    return value if value in dict(API_VERSIONS) else None
