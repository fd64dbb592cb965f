"""Generate + sign a CycloneDX SBOM of a Python environment with 100+ distributions, vs
`cyclonedx-py environment` (the cyclonedx-bom package) generating one for the same environment,
same run. Needs `pip install cyclonedx-bom` in the interpreter running this script.

    python bench/sbom_generate.py [--python-env PREFIX] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import median, pqsign_executable, run_measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--python-env", type=Path, default=Path(sys.prefix))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    pqsign = pqsign_executable()
    baseline = shutil.which("cyclonedx-py") or str(Path(sys.executable).with_name("cyclonedx-py"))
    if not Path(baseline).exists():
        sys.exit("cyclonedx-py is not installed: pip install cyclonedx-bom")
    python = args.python_env / "bin" / "python"
    with tempfile.TemporaryDirectory(prefix="pqsign-bench-") as tmp:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k != "PQSIGN_PASSWORD"}
        subprocess.run([pqsign, "key", "generate", "-o", "ci", "--no-password", "--quiet"], cwd=work, env=env,
                       check=True)
        (work / "app.tar.gz").write_bytes(os.urandom(1 << 20))
        script = work / "pqsign-sbom.sh"
        script.write_text(f"set -e\n{pqsign} sbom generate --python-env {args.python_env} -o app.cdx.json --force -q\n"
                          f"{pqsign} sbom sign app.cdx.json --subject app.tar.gz --key ci.key --force -q\n")
        ours = ["bash", str(script)]
        theirs = [baseline, "environment", str(python), "-o", "baseline.cdx.json", "--spec-version", "1.6"]
        run_measured(ours, work, env)
        run_measured(theirs, work, env)
        times: dict[str, list[float]] = {"pqsign": [], "cyclonedx-py": []}
        for _ in range(args.runs):
            times["cyclonedx-py"].append(run_measured(theirs, work, env)[0])
            times["pqsign"].append(run_measured(ours, work, env)[0])
        components = [c for c in json.loads((work / "app.cdx.json").read_text())["components"]
                      if c["type"] == "library"]
        baseline_components = json.loads((work / "baseline.cdx.json").read_text()).get("components", [])
        print(f"environment {args.python_env}: {len(components)} distributions "
              f"(cyclonedx-py found {len(baseline_components)}), {args.runs} runs, medians")
        print(f"cyclonedx-py environment (generate only) : {median(times['cyclonedx-py']):.2f} s")
        print(f"pqsign sbom generate + sbom sign         : {median(times['pqsign']):.2f} s")
        print(f"ratio pqsign/cyclonedx-py: {median(times['pqsign']) / median(times['cyclonedx-py']):.2f}")


if __name__ == "__main__":
    main()
