"""Signing one assertion vs a bare RSA-SHA256 signature with the same key."""

from __future__ import annotations

import statistics
import timeit
from datetime import UTC, datetime

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from bench.harness import CONSUMER_KEY, USERNAME
from sfdc.ops.keygen import generate
from sfdc.tokens.assertion import Signer, claims


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
