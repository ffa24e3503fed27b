"""`make bench`: performance figures as ratios taken in one run.

This machine is shared and noisy, so absolute numbers mean little; each figure
compares two things measured side by side, interleaved, in the same run.

1. Signing one assertion vs a bare RSA-SHA256 signature with the same key
   (target <= 1.2x), and, for scale, passing the PEM to PyJWT on every call.
2. Cached `/` throughput vs `/healthz` in the same gunicorn (Procfile command).
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from datetime import UTC, datetime
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sfdc.assertion import Signer, claims  # noqa: E402
from sfdc.emulator import EmulatorConfig, running_emulator  # noqa: E402
from sfdc.keygen import generate  # noqa: E402

API_KEY = "bench-api-key-0123456789abcdef"
CONSUMER_KEY = "bench-consumer-key"
USERNAME = "bench@example.com"


def _best(statement: object, number: int, repeat: int = 7) -> float:
    return min(timeit.repeat(statement, number=number, repeat=repeat)) / number  # type: ignore[arg-type]


def bench_signing() -> None:
    pair = generate("bench", datetime.now(UTC))
    key = serialization.load_pem_private_key(pair.private_key_pem.encode(), password=None)
    signer = Signer(key)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    claim_set = claims(
        now, issuer=CONSUMER_KEY, subject=USERNAME, audience="https://login.salesforce.com"
    )
    message = signer.sign(claim_set).claim.encode()

    def bare() -> None:
        key.sign(message, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[call-arg, union-attr]

    def ours() -> None:
        signer.sign(
            claims(
                now, issuer=CONSUMER_KEY, subject=USERNAME, audience="https://login.salesforce.com"
            )
        )

    def pem_each_time() -> None:
        jwt.encode(claim_set, pair.private_key_pem, algorithm="RS256")

    ratios, bare_times = [], []
    for _ in range(5):  # interleave so drift hits both sides alike
        b, o = _best(bare, 200), _best(ours, 200)
        ratios.append(o / b)
        bare_times.append(b)
    pem_ratio = _best(pem_each_time, 20, repeat=3) / min(bare_times)
    ratio = statistics.median(ratios)
    print(
        f"signing: one assertion costs {ratio:.2f}x a bare RSA-SHA256 signature "
        f"(target <= 1.2x; bare {min(bare_times) * 1e3:.2f} ms); "
        f"PEM passed to PyJWT per call: {pem_ratio:.0f}x"
    )


def _load(
    port: int, path: str, headers: dict[str, str], seconds: float, out: multiprocessing.Queue[int]
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    done, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{path} answered {response.status}")
        done += 1
    out.put(done)


def throughput(
    port: int, path: str, headers: dict[str, str], seconds: float = 3.0, clients: int = 4
) -> float:
    """Requests per second from ``clients`` keep-alive connections in separate processes."""
    queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_load, args=(port, path, headers, seconds, queue))
        for _ in range(clients)
    ]
    for worker in workers:
        worker.start()
    total = sum(queue.get(timeout=seconds + 30) for _ in workers)
    for worker in workers:
        worker.join()
    return total / seconds


def _web_command() -> str:
    return next(
        line.removeprefix("web:").strip()
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )


def _wait(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the app exited during start-up")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the app did not start")


def bench_root_vs_healthz() -> None:
    pair = generate("bench", datetime.now(UTC))
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_emulator(
            EmulatorConfig(
                consumer_key=CONSUMER_KEY,
                certificate_pem=pair.certificate_pem.encode(),
                usernames=(USERNAME,),
            )
        ) as emulator,
    ):
        Path(tmp, "key.pem").write_text(pair.private_key_pem)
        Path(tmp, "cert.pem").write_text(pair.certificate_pem)
        port = 18000 + os.getpid() % 1000
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "PORT": str(port),
            "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",
            "SFDC_CONSUMER_KEY": CONSUMER_KEY,
            "SFDC_USERNAME": USERNAME,
            "SFDC_LOGIN_URL": emulator.url,
            "SFDC_PRIVATE_KEY_FILE": f"{tmp}/key.pem",
            "SFDC_CERTIFICATE_FILE": f"{tmp}/cert.pem",
            "SFDC_API_KEYS": API_KEY,
        }
        app = subprocess.Popen(
            ["bash", "-c", _web_command()],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(port, app)
            throughput(port, "/", {}, seconds=1.0)  # warm every worker's cache
            ratios = []
            for _ in range(3):
                health = throughput(port, "/healthz", {})
                root = throughput(port, "/", {})
                ratios.append(root / health)
            print(
                f"cached /: {statistics.median(ratios):.2f}x the throughput of /healthz "
                f"(last run {root:.0f} vs {health:.0f} req/s; "
                f"{emulator.state.token_requests} token exchange(s) for all of it)"
            )
        finally:
            app.terminate()
            app.wait(15)


if __name__ == "__main__":
    bench_signing()
    bench_root_vs_healthz()
