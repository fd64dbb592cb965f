"""Helpers for the benchmarks: run a command, measure wall time and peak RSS of that child."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def pqsign_executable() -> str:
    """The pqsign installed beside this interpreter (so the comparison is like for like)."""
    beside = Path(sys.executable).with_name("pqsign")
    found = str(beside) if beside.exists() else shutil.which("pqsign") or ""
    if not found:
        sys.exit("pqsign is not installed in this environment (pip install .)")
    return found


def run_measured(argv: list[str], cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS in KiB) of one run; fails loudly on a non-zero exit."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        sys.exit(f"{' '.join(argv)} exited {code}: {stderr}")
    return elapsed, usage.ru_maxrss


def signed_file(pqsign: str, work: Path, name: str, data: bytes | None = None, size_mib: int = 0) -> Path:
    """A key ``bench.key``/``bench.pub`` (unencrypted) and a file ``name`` signed with it."""
    env = {k: v for k, v in os.environ.items() if k != "PQSIGN_PASSWORD"}
    subprocess.run([pqsign, "key", "generate", "-o", "bench", "--no-password", "--quiet"], cwd=work, env=env,
                   check=True)
    path = work / name
    with path.open("wb") as handle:
        if data is not None:
            handle.write(data)
        chunk = os.urandom(1 << 20)
        for _ in range(size_mib):
            handle.write(chunk)
    subprocess.run([pqsign, "sign", name, "--key", "bench.key", "--quiet"], cwd=work, env=env, check=True)
    return path


def median(values: list[float]) -> float:
    return statistics.median(values)
