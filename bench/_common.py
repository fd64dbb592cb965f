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


def median(values: list[float]) -> float:
    return statistics.median(values)
