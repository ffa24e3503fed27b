"""Slow clients starve no one: the Procfile's server keeps answering beside them.

The app runs as Cloud Foundry runs it (the Procfile's command, 2 workers) and
faces 100 connections sending their headers a byte a second and 50 keyed
uploads announcing a large body and sending it a byte a second (each one the
server drops is opened again at once). Meanwhile the health check and a keyed
``/token`` must answer, as CF's health check and callers need. How fast they
answer is the bench's business (``make bench``); here they must answer at all.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import requests

from sfdc.emulator import running_emulator
from tests.conftest import API_KEY, CONSUMER_KEY, USERNAME, KeyPair, seed_vcap
from tests.deploy import ROOT, free_port, start, stop, wait_healthy
from tests.emulated import emulator_config
from tests.slow_clients import SlowClients

# A few seconds: far above an answer's time even on a loaded 2-core machine, and the
# checks end before the slow uploads reach their own deadline (10 s of grace), which
# would free the server whatever its workers do.
ANSWER_WITHIN = 5  # seconds
CHECKS = 4
PAUSE = 1.5  # seconds between checks


def test_health_and_token_answer_beside_slow_clients(keypair: KeyPair, tmp_path: Path) -> None:
    port = free_port()
    with running_emulator(emulator_config(keypair)) as emulator:
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "PORT": str(port),
            "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",
            "VCAP_SERVICES": seed_vcap(keypair),
            "SFDC_CONSUMER_KEY": CONSUMER_KEY,
            "SFDC_USERNAME": USERNAME,
            "SFDC_LOGIN_URL": emulator.url,
            "SFDC_API_KEYS": API_KEY,
        }
        process = start(ROOT, env)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base, process)
            answers: list[tuple[str, int]] = []
            with SlowClients(port, headers=100, bodies=50, api_key=API_KEY) as slow:
                for _ in range(CHECKS):
                    time.sleep(PAUSE)
                    health = requests.get(f"{base}/healthz", timeout=ANSWER_WITHIN)
                    token = requests.get(
                        f"{base}/token",
                        headers={"Authorization": f"Bearer {API_KEY}"},
                        timeout=ANSWER_WITHIN,
                    )
                    answers += [("/healthz", health.status_code), ("/token", token.status_code)]
                held = slow.counts.opened
        finally:
            status, output, _ = stop(process)
    assert held >= 150, "all the slow clients were connected"
    assert answers == [("/healthz", 200), ("/token", 200)] * CHECKS
    assert status == 0, output
    assert "Traceback" not in output
