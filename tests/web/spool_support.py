"""Where a spooled request body's file shows: in its directory, or held open by this process."""

from __future__ import annotations

import os
from pathlib import Path


def spool_files(directory: Path) -> list[str]:
    """Files in ``directory``, and files of it this process holds open.

    A spooled body's file is anonymous on Linux (``O_TMPFILE``): it has no name in the
    directory, and shows only as an open descriptor, ``<directory>/#<inode> (deleted)``.
    Both kinds are listed, so a file left open or left behind is seen either way."""
    held = []
    for descriptor in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:  # closed since the listing (e.g. the listing's own)
            continue
        if target.startswith(f"{directory}{os.sep}"):
            held.append(target)
    return held + [str(path) for path in directory.iterdir()]
