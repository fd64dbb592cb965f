"""Verify a release of 1,000 small artifacts approved 5-of-7: wall time and peak memory.

Baseline in the same run: `sha256sum` over the same 1,000 files (the hashing any verifier must do).

    python bench/release_verify.py [--artifacts 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from pathlib import Path

from _common import median, pqsign_executable, run_measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--artifacts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    pqsign = pqsign_executable()
    with tempfile.TemporaryDirectory(prefix="pqsign-bench-") as tmp:
        work = Path(tmp)
        env = {**os.environ}
        env.pop("PQSIGN_PASSWORD", None)

        def run(*argv: str) -> None:
            subprocess.run([pqsign, *argv], cwd=work, env=env, check=True, stdout=subprocess.DEVNULL)

        approvers = [f"rm{i}" for i in range(7)]
        for name in approvers:
            run("key", "generate", "-o", name, "--no-password", "--quiet")
        dist = work / "dist"
        dist.mkdir()
        names = []
        for i in range(args.artifacts):
            (dist / f"pkg{i:04d}-1.0-py3-none-any.whl").write_bytes(os.urandom(4096))
            names.append(f"dist/pkg{i:04d}-1.0-py3-none-any.whl")
        init = ["release", "policy", "init", "--threshold", "5", "--name", "bench", "-o", "policy.json"]
        for name in approvers:
            init += ["--approver", f"{name}.pub"]
        run(*init)
        for name in approvers[:5]:
            run("release", "policy", "sign", "policy.json", "--key", f"{name}.key")
        run("release", "manifest", *names, "--version", "1.0", "--project", "bench", "-o", "release.json")
        for name in approvers[:5]:
            run("release", "approve", "release.json", "--key", f"{name}.key")
        verify = [pqsign, "release", "verify", "release.json", "--policy", "policy.json", *names]
        baseline = ["sha256sum", *names]
        run_measured(verify, work, env)
        run_measured(baseline, work, env)
        times: dict[str, list[float]] = {"pqsign": [], "sha256sum": []}
        peak = {"pqsign": 0, "sha256sum": 0}
        for _ in range(args.runs):
            for label, argv in (("sha256sum", baseline), ("pqsign", verify)):
                seconds, rss = run_measured(argv, work, env)
                times[label].append(seconds)
                peak[label] = max(peak[label], rss)
        print(f"release of {args.artifacts} artifacts x 4 KiB, 5-of-7 ML-DSA-65 approvals, {args.runs} runs")
        for label in ("sha256sum", "pqsign"):
            print(f"{label:10s}: {median(times[label]) * 1000:7.1f} ms median, peak RSS {peak[label] / 1024:.1f} MiB")
        print(f"ratio pqsign release verify / sha256sum: {median(times['pqsign']) / median(times['sha256sum']):.2f}")


if __name__ == "__main__":
    main()
