"""The README stays true: its demo runs, its commands exist, its exit codes are the CLI's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pqsign.cli import app as cli_app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_demo_script_runs_end_to_end(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop("PQSIGN_PASSWORD", None)
    out = subprocess.run(["bash", str(ROOT / "examples" / "demo.sh")], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300, start_new_session=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Verified OK" in out.stdout
    assert "demo OK" in out.stdout
    assert "does not match its signature" in out.stderr


def test_exactly_two_setup_commands_and_ci_runs_the_second() -> None:
    setup = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)\n```", setup, re.S)
    assert len(blocks) == 2
    assert "examples/demo.sh" in blocks[0]
    assert "pytest" in blocks[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "test-command" in ci  # .ci/run extracts and runs exactly that block


def _usage_commands() -> list[list[str]]:
    usage = README.split("## Usage", 1)[1].split("```", 2)[1]
    commands = []
    for line in usage.strip().splitlines():
        words = line.split("#")[0].split()
        assert words[0] == "pqsign"
        path = []
        for word in words[1:]:
            if word.startswith("-") or "." in word or "/" in word or word.isupper():
                break
            path.append(word)
        commands.append(path)
    return commands


@pytest.mark.parametrize("command", _usage_commands(), ids=lambda c: " ".join(c))
def test_every_usage_command_exists(command: list[str]) -> None:
    out = subprocess.run([sys.executable, "-m", "pqsign", *command, "--help"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_exit_code_table_matches_the_cli() -> None:
    table = dict(re.findall(r"^\| (\d) \| ([^|]+) \|$", README, re.M))
    assert set(table) == {"0", "1", "2", "3"}
    assert (cli_app.EXIT_OK, cli_app.EXIT_FAILED, cli_app.EXIT_INPUT, cli_app.EXIT_INTERNAL) == (0, 1, 2, 3)
    assert "verification failed" in table["1"] and "input error" in table["2"]
    for code in "0123":
        assert f"{code} " in cli_app.EXIT_CODES_HELP
