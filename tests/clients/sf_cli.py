"""Running the `sf` CLI as a CI job would: non-interactive, JSON out, nothing shared.

Each run gets its own HOME (the CLI keeps its auth files and config in ``~/.sf`` and
``~/.sfdx``), so nothing reaches the user's config and no user config reaches the test.
Telemetry, update checks and release notes are off (Salesforce CLI Setup Guide,
"Environment Variables"); the generic keychain keeps secrets in HOME instead of a desktop
keyring. The access token goes in by ``SF_ACCESS_TOKEN`` with
``sf org login access-token --no-prompt``, the documented way for CI scripts.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.clients.node import SF, node_env

ALIAS = "service"
RUN_WITHIN = 180  # seconds: far above one command's run (about 3 s), on a loaded machine
QUIET = {
    "SF_DISABLE_TELEMETRY": "true",
    "SF_AUTOUPDATE_DISABLE": "true",
    "SF_SKIP_NEW_VERSION_CHECK": "true",
    "SF_HIDE_RELEASE_NOTES": "true",
    "SF_HIDE_RELEASE_NOTES_FOOTER": "true",
    "SF_DISABLE_DNS_CHECK": "true",
    "SF_USE_GENERIC_UNIX_KEYCHAIN": "true",
    "SF_LOG_LEVEL": "error",
}


@dataclass(frozen=True)
class Answer:
    """One command's exit status and its parsed ``--json`` document."""

    status: int
    document: dict[str, Any]

    def ok(self) -> Any:
        """The ``result`` of a command that succeeded."""
        assert self.status == 0, self.document
        return self.document["result"]


@dataclass(frozen=True)
class SfCli:
    """The CLI with a private HOME, logged in (or not yet) to one instance URL."""

    home: Path
    env: Mapping[str, str]

    @classmethod
    def create(cls, home: Path, extra: Mapping[str, str]) -> SfCli:
        # The compile cache spares each run part of Node's start-up (Node 22's own cache).
        env = node_env({**QUIET, "NODE_COMPILE_CACHE": str(home / ".node-cache"), **extra}, home)
        return cls(home, env)

    def run(self, *arguments: str, env: Mapping[str, str] | None = None) -> Answer:
        done = subprocess.run(
            [str(SF), *arguments, "--json"],
            env={**self.env, **(env or {})},
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=RUN_WITHIN,
            check=False,
        )
        try:
            document: dict[str, Any] = json.loads(done.stdout)
        except json.JSONDecodeError as error:
            raise AssertionError(f"sf {arguments[:3]} printed no JSON:\n{done.stderr}") from error
        return Answer(done.returncode, document)

    def login(self, instance_url: str, token: str) -> Answer:
        return self.run(
            "org", "login", "access-token",
            "--instance-url", instance_url,
            "--alias", ALIAS,
            "--no-prompt",
            env={"SF_ACCESS_TOKEN": token},
        )  # fmt: skip

    def on_org(self, *arguments: str) -> Answer:
        return self.run(*arguments, "--target-org", ALIAS)
