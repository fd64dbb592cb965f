"""What every command shares: global options, output streams, passphrases, key loading.

Only the standard library and typer are imported at module level; rich is loaded when a
table or progress bar is actually drawn.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pqsign.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from pqsign.keys.keyfile import PrivateKey
    from pqsign.keys.keyring import KeyringEntry

JSON_SCHEMA_PREFIX = "https://pqsign.dev/schemas"

# Options shared by many commands, so each flag and its environment variable mean one thing.
SIGNING_KEY = typer.Option(..., "--key", "-k", envvar="PQSIGN_KEY", help="Private key (.key). [env: PQSIGN_KEY]")
PASSWORD_FILE = typer.Option(None, "--password-file", envvar="PQSIGN_PASSWORD_FILE",
                             help="Read the key's passphrase from this file. [env: PQSIGN_PASSWORD_FILE]")
TRUSTED_KEY = typer.Option([], "--key", "-k", help="Trusted public key (.pub); repeatable.")
KEYRING = typer.Option(None, "--keyring", envvar="PQSIGN_KEYRING",
                       help="Keyring of trusted keys. [env: PQSIGN_KEYRING]")
FORCE = typer.Option(False, "--force", "-f", help="Overwrite existing output files.")


@dataclass(slots=True)
class Options:
    """Global options, stored in ``ctx.obj`` by the root callback."""

    json: bool = False
    quiet: bool = False
    debug: bool = False


def options(ctx: typer.Context) -> Options:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Options) else Options()


def emit_json(kind: str, data: dict[str, Any]) -> None:
    """Write one JSON document to stdout, tagged with a versioned schema id."""
    document = {"schema": f"{JSON_SCHEMA_PREFIX}/{kind}/v1", **data}
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def say(ctx: typer.Context, text: str, *, err: bool = False) -> None:
    """A line for people: stdout (stderr with ``err``), silent under --quiet or --json."""
    opts = options(ctx)
    if opts.quiet or (opts.json and not err):
        return
    typer.echo(text, err=err or opts.json)


def warn(ctx: typer.Context, text: str) -> None:
    """A warning for people, on stderr (silenced by --quiet)."""
    if not options(ctx).quiet:
        typer.echo(f"warning: {text}", err=True)


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def read_passphrase(password_file: Path | None, *, what: str, confirm: bool = False) -> bytes | None:
    """The passphrase from --password-file, PQSIGN_PASSWORD, or a prompt on the terminal.

    Returns None when none is available (no file, no variable, no terminal); callers turn that
    into a clear error only if the key really is encrypted.
    """
    if password_file is not None:
        try:
            text = password_file.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read password file {password_file}: {exc.strerror}") from None
        # One line; a trailing newline is not part of the passphrase.
        return text.split(b"\n", 1)[0].rstrip(b"\r")
    env = os.environ.get("PQSIGN_PASSWORD")
    if env is not None:
        return env.encode()
    if not _has_tty():
        return None
    import getpass

    # getpass reads from /dev/tty, so it works even when stdin/stdout are pipes.
    first = getpass.getpass(f"Passphrase for {what}: ")
    if confirm:
        second = getpass.getpass("Repeat the passphrase: ")
        if first != second:
            raise InputError("the passphrases do not match")
        if not first:
            raise InputError("empty passphrase", hint="use --no-password for an unencrypted key")
    return first.encode()


def _has_tty() -> bool:
    try:
        with open("/dev/tty", "rb"):
            return True
    except OSError:
        return False


def load_signing_key(path: Path, password_file: Path | None) -> PrivateKey:
    """Load a private key, asking for its passphrase only if it is encrypted."""
    from pqsign.keys.keyfile import load_private_key

    return load_private_key(path, lambda: read_passphrase(password_file, what=str(path)))


def trusted_keys(keys: list[Path] | None, keyring: Path | None) -> list[KeyringEntry]:
    """The keys a verification trusts: every --key plus every entry of --keyring."""
    from pqsign.keys.keyfile import load_public_key
    from pqsign.keys.keyring import KeyringEntry, load_keyring

    entries: list[KeyringEntry] = []
    for path in keys or []:
        public = load_public_key(path)
        entries.append(KeyringEntry(public, name=public.comment or "", source=str(path)))
    if keyring is not None:
        entries.extend(load_keyring(keyring).entries)
    if not entries:
        raise InputError("no trusted key given",
                         hint="pass --key ALICE.pub (repeatable) or --keyring TEAM.keys "
                              "(or set PQSIGN_KEYRING)")
    return entries


def signer_json(entry: KeyringEntry) -> dict[str, Any]:
    key = entry.public_key
    return {"identity": entry.identity, "name": entry.name, "email": entry.email,
            "keyId": key.key_id, "algorithm": key.algorithm.name}
