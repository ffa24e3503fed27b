"""Starting and stopping the emulator: in a thread, in the foreground, in-process."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from sfdc.emulator import EmulatorConfig, EmulatorState, create_emulator_app, running_emulator
from tests.emulator.emulator_support import JWT_BEARER, post_token

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_url_is_loopback_with_a_real_port_and_no_trailing_slash(
    make_config: Callable[..., EmulatorConfig],
) -> None:
    with running_emulator(make_config()) as running:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", running.url)
        assert requests.get(f"{running.url}/services/data/", timeout=5).status_code == 200


def test_starts_and_stops_quickly_and_releases_the_port(
    make_config: Callable[..., EmulatorConfig],
) -> None:
    started = time.monotonic()
    for _ in range(10):
        with running_emulator(make_config()) as running:
            url = running.url
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{url}/services/data/", timeout=2)
    assert time.monotonic() - started < 5


def test_two_emulators_keep_separate_state(
    make_config: Callable[..., EmulatorConfig], make_assertion: Callable[..., str]
) -> None:
    with running_emulator(make_config()) as first, running_emulator(make_config()) as second:
        with requests.Session() as http:
            post_token(http, first.url, make_assertion())
        assert first.state.token_requests == 1
        assert second.state.token_requests == 0


def test_shutdown_releases_a_hung_token_request(
    make_config: Callable[..., EmulatorConfig], make_assertion: Callable[..., str]
) -> None:
    outcome: list[int | str] = []

    def call(url: str) -> None:
        try:
            response = requests.post(
                f"{url}/services/oauth2/token",
                data={"grant_type": JWT_BEARER, "assertion": make_assertion()},
                timeout=10,
            )
            outcome.append(response.status_code)
        except requests.RequestException as error:
            outcome.append(type(error).__name__)

    with running_emulator(make_config()) as running:
        running.state.fail_next(mode="hang", seconds=60)
        caller = threading.Thread(target=call, args=(running.url,))
        caller.start()
        deadline = time.monotonic() + 5
        while running.state.token_requests == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 2
    caller.join(5)
    assert not caller.is_alive()
    assert outcome


def test_create_emulator_app_in_process_shares_the_given_state(
    make_config: Callable[..., EmulatorConfig], make_assertion: Callable[..., str]
) -> None:
    state = EmulatorState()
    client = create_emulator_app(make_config(), state).test_client()
    response = client.post(
        "/services/oauth2/token",
        data={"grant_type": JWT_BEARER, "assertion": make_assertion()},
    )
    assert response.status_code == 200
    assert response.get_json()["instance_url"] == "http://localhost"
    assert state.tokens_issued == 1


SERVE_SCRIPT = """
import sys
from pathlib import Path
from sfdc.emulator import EmulatorConfig, serve
config = EmulatorConfig("key", Path(sys.argv[1]).read_bytes(), ("a@example.com",))
serve(config, "127.0.0.1", 0)
"""


def test_serve_prints_its_url_serves_and_stops_on_ctrl_c(
    tmp_path: Path, certificate_pem: bytes
) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_bytes(certificate_pem)
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_SCRIPT, str(cert)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match is not None, line
        response = requests.get(f"{match.group(0)}/services/data/", timeout=5)
        assert response.status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
