"""Sign and verify operations per second per algorithm, in process, beside `openssl speed`.

The system `openssl` is the baseline where it knows the algorithm (ML-DSA needs OpenSSL 3.5+;
Ed25519 is always shown as the classical reference point).

    python bench/ops.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import time

from pqsign.crypto.algorithms import ALGORITHMS, Algorithm
from pqsign.crypto.backends import backend_statuses
from pqsign.keys.keyfile import generate_private_key

MESSAGE = b"DSSEv1 28 application/vnd.in-toto+json 300 " + b"x" * 300


def rate(operation, seconds: float, minimum: int = 3) -> float:
    count, start = 0, time.perf_counter()
    while True:
        operation()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and count >= minimum:
            return count / elapsed


def openssl_speed(name: str, seconds: int) -> tuple[float, float] | None:
    """(sign/s, verify/s) from `openssl speed`, or None if this openssl lacks the algorithm."""
    try:
        out = subprocess.run(["openssl", "speed", "-seconds", str(seconds), name],
                             capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.stdout.splitlines():
        match = re.search(r"([\d.]+)s\s+([\d.]+)s\s+([\d.]+)\s+([\d.]+)\s*$", line)
        if match and out.returncode == 0:
            return float(match.group(3)), float(match.group(4))
    return None


def active_backend(alg: Algorithm) -> str:
    return next(s.name for s in backend_statuses(alg) if s.available)


def bench(alg: Algorithm, seconds: float) -> tuple[float, float]:
    key = generate_private_key(alg)
    public = key.public_key()
    signature = key.sign(MESSAGE)
    signs = rate(lambda: key.sign(MESSAGE), seconds)
    verifies = rate(lambda: public.verify(MESSAGE, signature), seconds)
    return signs, verifies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    version = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    print(f"{'algorithm':26s} {'backend':14s} {'sign/s':>10s} {'verify/s':>10s}   openssl speed ({version})")
    for alg in ALGORITHMS:
        signs, verifies = bench(alg, args.seconds)
        backend = active_backend(alg)
        reference = openssl_speed(alg.name.lower(), int(max(1, args.seconds)))
        ref = f"{reference[0]:10.0f} {reference[1]:10.0f}" if reference else "n/a in this openssl"
        print(f"{alg.name:26s} {backend:14s} {signs:10.1f} {verifies:10.1f}   {ref}")
    reference = openssl_speed("ed25519", int(max(1, args.seconds)))
    if reference:
        print(f"{'Ed25519 (classical ref.)':26s} {'openssl':14s} {reference[0]:10.0f} {reference[1]:10.0f}")


if __name__ == "__main__":
    main()
