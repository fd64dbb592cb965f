"""Shared fixtures: keys for every algorithm and a runner for the *installed* pqsign."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pqsign.crypto.algorithms import ALGORITHMS, Algorithm
from pqsign.keys.keyfile import PrivateKey, generate_private_key
from tests.registry import REGISTRY_BINARY, Registry, start_registry

VECTORS = Path(__file__).parent / "vectors"
PASSWORD = "correct horse battery staple"

ALGORITHM_PARAMS = [
    pytest.param(alg, id=alg.name, marks=[pytest.mark.slow] if alg.name.endswith("128s") else [])
    for alg in ALGORITHMS
]


_KEY_CACHE: dict[str, PrivateKey] = {}


def key_for(alg: Algorithm) -> PrivateKey:
    """One private key per algorithm per test process (SLH-DSA key generation is slow)."""
    if alg.name not in _KEY_CACHE:
        _KEY_CACHE[alg.name] = generate_private_key(alg, comment=f"test {alg.name}")
    return _KEY_CACHE[alg.name]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def pqsign(tmp_path: Path):
    """Run the installed ``pqsign`` console script in ``tmp_path``, as a user would."""
    executable = shutil.which("pqsign") or str(Path(sys.executable).with_name("pqsign"))
    assert Path(executable).exists(), "pqsign is not installed (pip install -e '.[test]')"

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None,
            cwd: Path | None = None) -> Result:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("PQSIGN_")}
        full_env["PQSIGN_PASSWORD"] = PASSWORD
        full_env.update(env or {})
        full_env = {k: v for k, v in full_env.items() if v is not None}
        proc = subprocess.run([executable, *args], cwd=cwd or tmp_path, env=full_env,
                              input=input, capture_output=True, text=True, timeout=120,
                              start_new_session=True)  # no controlling terminal: no prompts
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    if REGISTRY_BINARY is None:
        pytest.skip("docker-registry is not installed")
    instance = start_registry(tmp_path_factory.mktemp("registry"))
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    if REGISTRY_BINARY is None:
        pytest.skip("docker-registry is not installed")
    instance = start_registry(tmp_path_factory.mktemp("auth-registry"), htpasswd=("ci", "s3cret-pass"))
    yield instance
    instance.stop()


@pytest.fixture
def env_for(tmp_path: Path):
    """Environment for running the CLI against a registry (isolated Docker config)."""
    def build(registry: Registry) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PQSIGN_", "DOCKER_CONFIG"))}
        env["DOCKER_CONFIG"] = str(registry.docker_config or tmp_path / "no-docker-config")
        env["XDG_RUNTIME_DIR"] = str(tmp_path)
        return env
    return build
