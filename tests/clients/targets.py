"""What a client scenario runs against: an instance URL behind the TLS front and a token.

Two targets, one shape. ``emulator``: the front forwards to the emulator itself and the
client holds a real emulator access token; this checks the harness and the emulator's
fidelity to what the clients expect. ``service``: the front forwards to the service,
served as Cloud Foundry serves it (the Procfile's command), and the client holds an API
key; the service holds the real credentials. Either way the emulator's own address is
for the test's knobs only (``/_emulator/...``), never for the client.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import requests

from tests.conftest import CONSUMER_KEY, USERNAME, KeyPair

# The named-key form of the shared contract: `00Dsfk` + 10-char key id + `!` + a 43-char
# secret. The `sf` CLI accepts only access tokens shaped `^00D\w{12,15}![.\w]*$`.
API_KEY = "00Dsfkclienttest!Cl1entScenar1osTestOnlyKeyXyZ0123456789abcd"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOGIN_AUDIENCE = "https://login.salesforce.com"


@dataclass(frozen=True)
class Target:
    """An instance URL and token for a client, and the emulator behind it."""

    name: str
    url: str
    token: str
    ca_file: Path
    emulator_url: str

    @property
    def reauthenticates(self) -> bool:
        """Whether a call after the session ended must still succeed (only the service
        holds credentials to log in again; a bare access token cannot)."""
        return self.name == "service"

    def client_env(self) -> dict[str, str]:
        """What makes Python's requests and Node trust the front's CA."""
        return {"REQUESTS_CA_BUNDLE": str(self.ca_file), "NODE_EXTRA_CA_CERTS": str(self.ca_file)}

    def end_sessions(self) -> None:
        """End every access token the emulator issued, as a session timeout would."""
        answer = requests.post(f"{self.emulator_url}/_emulator/expire", timeout=10)
        answer.raise_for_status()

    def credentials_seen(self) -> list[dict[str, Any]]:
        """Every credential that reached the emulator and that it never issued."""
        answer = requests.get(f"{self.emulator_url}/_emulator/credentials-seen", timeout=10)
        answer.raise_for_status()
        seen: list[dict[str, Any]] = answer.json()["credentials"]
        return seen


def emulator_access_token(front_url: str, ca_file: Path, pair: KeyPair) -> str:
    """A real access token, from the JWT bearer flow through the front."""
    assertion = jwt.encode(
        {
            "iss": CONSUMER_KEY,
            "sub": USERNAME,
            "aud": LOGIN_AUDIENCE,
            "exp": int(time.time()) + 180,
        },
        pair.key,
        "RS256",
    )
    answer = requests.post(
        f"{front_url}/services/oauth2/token",
        data={"grant_type": JWT_BEARER, "assertion": assertion},
        verify=str(ca_file),
        timeout=10,
    )
    answer.raise_for_status()
    body = answer.json()
    assert body["instance_url"] == front_url, "the emulator names itself by the front"
    token: str = body["access_token"]
    return token
