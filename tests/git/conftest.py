"""Real git repositories in temporary directories, with the installed pqsign-git as the program."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from pqsign.crypto.algorithms import by_name
from pqsign.keys.keyfile import generate_private_key

PASSWORD = "git test passphrase"


@dataclass
class Repo:
    path: Path
    home: Path
    env: dict[str, str]

    def git(self, *args: str, check: bool = True, input: bytes | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
        full = {**self.env, **(env or {})}
        full = {k: v for k, v in full.items() if v is not None}
        out = subprocess.run(["git", *args], cwd=self.path, env=full, input=input, capture_output=True,
                             timeout=120, start_new_session=True)
        if check and out.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {out.stderr.decode()}")
        return out

    def text(self, *args: str) -> str:
        return self.git(*args).stdout.decode().strip()

    def pqsign(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        full = {**self.env, **(env or {})}
        return subprocess.run([str(Path(sys.executable).with_name("pqsign")), *args], cwd=self.path,
                              env=full, capture_output=True, text=True, timeout=120, start_new_session=True)

    def commit(self, message: str, *flags: str, filename: str = "file.txt") -> str:
        with (self.path / filename).open("a") as handle:
            handle.write(message + "\n")
        self.git("add", filename)
        self.git("commit", "-q", *flags, "-m", message)
        return self.text("rev-parse", "HEAD")

    def letters(self, rev: str = "HEAD") -> dict[str, str]:
        lines = self.text("log", "--format=%H %G?", rev).splitlines()
        return dict(line.split() for line in lines)


def make_key(home: Path, name: str, algorithm: str = "ML-DSA-65", password: str | None = PASSWORD) -> Path:
    key = generate_private_key(by_name(algorithm), comment=name)
    home.mkdir(parents=True, exist_ok=True)
    (home / f"{name}.key").write_bytes(key.to_pem(password.encode() if password else None))
    (home / f"{name}.pub").write_bytes(key.public_key().to_pem())
    return home / f"{name}.key"


def _new_repo(tmp_path: Path, object_format: str = "sha1") -> Repo:
    home = tmp_path / "home"
    pqsign_home = home / ".pqsign"
    path = tmp_path / "repo"
    env = {
        "HOME": str(home), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "PQSIGN_HOME": str(pqsign_home), "PQSIGN_PASSWORD": PASSWORD, "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "A U Thor", "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "A U Thor", "GIT_COMMITTER_EMAIL": "author@example.com",
        "LANG": "C.UTF-8", "TMPDIR": str(tmp_path),
    }
    home.mkdir()
    subprocess.run(["git", "init", "-q", f"--object-format={object_format}", "-b", "main", str(path)],
                   check=True, env=env)
    repo = Repo(path, pqsign_home, env)
    repo.git("config", "user.name", "A U Thor")
    repo.git("config", "user.email", "author@example.com")
    alice = make_key(pqsign_home, "alice")
    ring = tmp_path / "team.keys"
    result = subprocess.run([str(Path(sys.executable).with_name("pqsign")), "keyring", "add", str(ring),
                             str(alice.with_suffix(".pub")), "--name", "A U Thor", "--email",
                             "author@example.com"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    result = repo.pqsign("git", "setup", "--key", str(alice), "--keyring", str(ring))
    assert result.returncode == 0, result.stderr
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return _new_repo(tmp_path)


@pytest.fixture
def sha256_repo(tmp_path: Path) -> Repo:
    return _new_repo(tmp_path, "sha256")
