"""Configure git to sign and verify with pqsign (``gpg.format=x509``).

Writes, for one repository or ``--global``::

    gpg.format        = x509
    gpg.x509.program  = <absolute path of the pqsign-git program>
    user.signingKey   = <absolute path of the private key>
    pqsign.keyring    = <absolute path of the keyring verification trusts>

Without a keyring, a personal one (``$PQSIGN_HOME/git.keys``) holding the user's own key is
created, so their own commits verify. Another x509 signer already configured (gitsign,
smimesign) is only replaced with ``force``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pqsign.errors import InputError
from pqsign.git.keys import pqsign_home
from pqsign.keys.keyfile import load_public_key
from pqsign.keys.keyring import add_to_keyring, load_keyring

__all__ = ["GitSetup", "program_path", "setup_git", "unset_git"]

_KEYS = ("gpg.format", "gpg.x509.program", "user.signingKey", "pqsign.keyring")


@dataclass(frozen=True, slots=True)
class GitSetup:
    scope: str
    program: str
    key: str
    keyring: str
    key_id: str


def program_path() -> str:
    """Absolute path of the installed ``pqsign-git`` (git runs it without a shell)."""
    beside = Path(sys.executable).with_name("pqsign-git")
    if beside.exists():
        return str(beside)
    found = shutil.which("pqsign-git")
    if not found:
        raise InputError("the pqsign-git program is not installed", hint="reinstall pqsign")
    return str(Path(found).resolve())


def _config(scope: str, repo: Path, *args: str, check: bool = True) -> str:
    out = subprocess.run(["git", "-C", str(repo), "config", f"--{scope}", *args],
                         capture_output=True, text=True, timeout=30)
    if check and out.returncode not in (0, 1, 5):
        raise InputError(f"git config failed: {out.stderr.strip()}",
                         hint="run inside a git repository, or pass --global")
    return out.stdout.strip()


def setup_git(key: Path, *, keyring: Path | None = None, scope: str = "local", repo: Path = Path("."),
              force: bool = False) -> GitSetup:
    """Write the configuration; returns what was configured.

    Raises:
        InputError: key or its .pub missing, another x509 program configured (without
            ``force``), not a repository (local scope).
    """
    key = key.expanduser().resolve()
    if not key.is_file():
        raise InputError(f"private key {key} does not exist")
    pub = key.with_suffix(".pub")
    if not pub.is_file():
        raise InputError(f"{pub} (the public key beside {key.name}) does not exist",
                         hint=f"recreate it with `pqsign key public {key} -o {pub}`")
    public = load_public_key(pub)
    program = program_path()
    existing = _config(scope, repo, "--get", "gpg.x509.program")
    if existing and existing != program and not force:
        raise InputError(f"git already uses {existing} as its x509 signing program",
                         hint="pass --force to replace it with pqsign")
    if keyring is None:
        keyring = pqsign_home() / "git.keys"
        keyring.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not keyring.exists() or load_keyring(keyring).find(public.key_id) is None:
            name = _config(scope, repo, "--get", "user.name", check=False) or \
                _config("global", repo, "--get", "user.name", check=False)
            email = _config(scope, repo, "--get", "user.email", check=False) or \
                _config("global", repo, "--get", "user.email", check=False)
            add_to_keyring(keyring, public, name=name or public.comment or "", email=email)
    else:
        keyring = keyring.expanduser().resolve()
        load_keyring(keyring)  # refuse a missing or malformed keyring now, not at first verify
    for name, value in zip(_KEYS, ("x509", program, str(key), str(keyring.resolve())), strict=True):
        _config(scope, repo, name, value)
    return GitSetup(scope, program, str(key), str(keyring.resolve()), public.key_id)


def unset_git(*, scope: str = "local", repo: Path = Path(".")) -> list[str]:
    """Remove pqsign's settings (only if the x509 program is pqsign's); returns what was removed."""
    program = _config(scope, repo, "--get", "gpg.x509.program")
    if program and Path(program).name != "pqsign-git":
        raise InputError(f"git's x509 program is {program}, not pqsign; leaving it alone")
    removed = []
    for name in _KEYS:
        if _config(scope, repo, "--get", name):
            _config(scope, repo, "--unset", name)
            removed.append(name)
    return removed
