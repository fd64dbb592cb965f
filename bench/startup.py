"""Cold start: `pqsign verify` of a small file vs `python -c pass` with the same interpreter.

Goal: pqsign verify <= 100 ms median (wall time, 2-core machine).

    python bench/startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from _common import median, pqsign_executable, run_measured, signed_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    pqsign = pqsign_executable()
    with tempfile.TemporaryDirectory(prefix="pqsign-bench-") as tmp:
        work = Path(tmp)
        signed_file(pqsign, work, "small.txt", data=b"hello\n")
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import typer'": [sys.executable, "-c", "import typer"],
            "pqsign --version": [pqsign, "--version"],
            "pqsign verify small.txt": [pqsign, "verify", "small.txt", "--key", "bench.pub"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for argv in commands.values():
            run_measured(argv, work)  # warm the page cache and .pyc files
        for _ in range(args.runs):
            for name, argv in commands.items():
                times[name].append(run_measured(argv, work)[0])
        base = median(times["python -c pass"])
        print(f"{args.runs} runs each, median wall time ({sys.executable}, {os.cpu_count()} CPUs)")
        for name, values in times.items():
            extra = (median(values) - base) * 1000
            print(f"{name:28s} {median(values) * 1000:7.1f} ms   (+{extra:6.1f} ms over bare python)")
        verify = median(times["pqsign verify small.txt"]) * 1000
        print(f"pqsign verify: {verify:.1f} ms (goal <= 100 ms)")


if __name__ == "__main__":
    main()
