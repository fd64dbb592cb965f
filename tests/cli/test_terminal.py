"""What a person at a terminal sees: passphrase prompts and progress bars (real pseudo-terminals)."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path

PQSIGN = str(Path(sys.executable).with_name("pqsign"))


def run_in_terminal(args: list[str], cwd: Path, answers: list[tuple[bytes, bytes]],
                    timeout: float = 60) -> tuple[int, bytes]:
    """Run pqsign with a pseudo-terminal as its controlling terminal, stdin, stdout and stderr;
    answer each prompt (a byte string it prints) with a line. Returns (exit code, everything shown)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PQSIGN_")}
    env.update(COLUMNS="100", TERM="xterm")
    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is its controlling terminal
        os.chdir(cwd)
        os.execve(PQSIGN, [PQSIGN, *args], env)
    shown, pending, deadline = b"", list(answers), time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        if pending and pending[0][0] in shown.split(b"\n")[-1]:
            os.write(fd, pending.pop(0)[1] + b"\n")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), shown


def test_generate_asks_twice_and_the_key_is_encrypted(tmp_path: Path) -> None:
    code, shown = run_in_terminal(["key", "generate", "-o", "alice"], tmp_path,
                                  [(b"Passphrase for", b"tty secret"), (b"Repeat", b"tty secret")])
    assert code == 0, shown
    assert shown.count(b"tty secret") == 0  # never echoed
    assert (tmp_path / "alice.key").read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    (tmp_path / "f").write_bytes(b"data")
    code, shown = run_in_terminal(["sign", "f", "--key", "alice.key"], tmp_path, [(b"Passphrase for", b"tty secret")])
    assert code == 0, shown


def test_generate_refuses_mismatched_passphrases(tmp_path: Path) -> None:
    code, shown = run_in_terminal(["key", "generate", "-o", "bob"], tmp_path,
                                  [(b"Passphrase for", b"one"), (b"Repeat", b"two")])
    assert code == 2
    assert b"do not match" in shown
    assert not (tmp_path / "bob.key").exists()


def test_progress_bar_on_a_terminal_for_large_files(tmp_path: Path) -> None:
    big = tmp_path / "model.bin"
    with big.open("wb") as handle:
        handle.truncate(512 << 20)
    code, shown = run_in_terminal(["key", "generate", "-o", "k", "--no-password"], tmp_path, [])
    assert code == 0
    code, shown = run_in_terminal(["sign", "model.bin", "--key", "k.key"], tmp_path, [])
    assert code == 0, shown
    assert b"hashing model.bin" in shown  # the progress bar's label
    code, shown = run_in_terminal(["verify", "model.bin", "--key", "k.pub"], tmp_path, [])
    assert code == 0 and b"verifying model.bin" in shown and b"Verified OK" in shown
