"""pqsign verify of a large file vs `openssl dgst -sha256` of the same file, same run.

Goal: wall-time ratio <= 1.15 and peak RSS <= 64 MiB. Both commands read the same file from the
page cache (a warm-up run of each comes first), alternating, and the medians are compared.

    python bench/verify_large.py [--size-mib 1024] [--runs 5]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from _common import median, pqsign_executable, run_measured, signed_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    pqsign = pqsign_executable()
    with tempfile.TemporaryDirectory(prefix="pqsign-bench-") as tmp:
        work = Path(tmp)
        data = signed_file(pqsign, work, "model.bin", size_mib=args.size_mib)
        verify = [pqsign, "verify", data.name, "--key", "bench.pub", "--quiet"]
        openssl = ["openssl", "dgst", "-sha256", data.name]
        run_measured(openssl, work)
        run_measured(verify, work)
        times: dict[str, list[float]] = {"pqsign": [], "openssl": []}
        rss: dict[str, list[int]] = {"pqsign": [], "openssl": []}
        for _ in range(args.runs):
            for name, argv in (("openssl", openssl), ("pqsign", verify)):
                seconds, peak = run_measured(argv, work)
                times[name].append(seconds)
                rss[name].append(peak)
        version = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
        ratio = median(times["pqsign"]) / median(times["openssl"])
        print(f"file: {args.size_mib} MiB, {args.runs} alternating runs, medians; baseline: {version}")
        for label, name in (("openssl dgst -sha256", "openssl"), ("pqsign verify", "pqsign")):
            print(f"{label:21s}: {median(times[name]):.3f} s, peak RSS {max(rss[name]) / 1024:.1f} MiB")
        print(f"ratio pqsign/openssl : {ratio:.3f}  (goal <= 1.15)")
        print(f"pqsign throughput    : {args.size_mib / median(times['pqsign']):.0f} MiB/s")


if __name__ == "__main__":
    main()
