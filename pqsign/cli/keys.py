"""``pqsign key ...`` and ``pqsign keyring ...``."""

from __future__ import annotations

from pathlib import Path

import typer

from pqsign.cli._common import (
    FORCE,
    PASSWORD_FILE,
    console,
    emit_json,
    load_signing_key,
    options,
    read_passphrase,
    say,
    signer_json,
    warn,
)
from pqsign.errors import InputError

key_app = typer.Typer(help="Generate, inspect and export keys.", no_args_is_help=True)
keyring_app = typer.Typer(help="Manage keyrings: files of trusted public keys.", no_args_is_help=True)


def _key_paths(output: Path) -> tuple[Path, Path]:
    stem = output.with_suffix("") if output.suffix in (".key", ".pub") else output
    return stem.with_name(stem.name + ".key"), stem.with_name(stem.name + ".pub")


@key_app.command("generate")
def generate(
    ctx: typer.Context,
    output: Path = typer.Option(..., "--output", "-o", help="Path stem: writes STEM.key and STEM.pub."),
    algorithm: str = typer.Option("ML-DSA-65", "--algorithm", "-a",
                                  help="Algorithm (see `pqsign algorithms`)."),
    comment: str | None = typer.Option(None, "--comment", "-c", help="Comment stored in the .pub file."),
    no_password: bool = typer.Option(False, "--no-password",
                                     help="Write the private key unencrypted (ephemeral CI keys only)."),
    password_file: Path | None = PASSWORD_FILE,
    force: bool = FORCE,
) -> None:
    """Generate a key pair: STEM.key (private, encrypted, mode 0600) and STEM.pub."""
    from pqsign._internal.fs import atomic_write
    from pqsign.crypto.algorithms import by_name
    from pqsign.keys.keyfile import generate_private_key

    alg = by_name(algorithm)
    key_path, pub_path = _key_paths(output)
    if not force:
        for path in (key_path, pub_path):
            if path.exists():
                raise InputError(f"{path} already exists", hint="pass --force to overwrite it")
    password = None
    if not no_password:
        password = read_passphrase(password_file, what=f"new key {key_path}", confirm=True)
        if password is None:
            raise InputError("no passphrase for the new key",
                             hint="set PQSIGN_PASSWORD, pass --password-file, run in a terminal, "
                                  "or use --no-password for an unencrypted key")
        if not password:
            raise InputError("empty passphrase", hint="use --no-password for an unencrypted key")
    private = generate_private_key(alg, comment=comment)
    public = private.public_key()
    atomic_write(key_path, private.to_pem(password), mode=0o600, force=force)
    atomic_write(pub_path, public.to_pem(), mode=0o644, force=force)
    if no_password:
        warn(ctx, f"{key_path} is NOT encrypted: anyone who can read it can sign as you")
    if options(ctx).json:
        emit_json("key", {"privateKey": str(key_path), "publicKey": str(pub_path),
                          "algorithm": alg.name, "keyId": public.key_id,
                          "fingerprint": public.fingerprint, "encrypted": password is not None})
        return
    say(ctx, f"Wrote {key_path} (private, {'encrypted' if password else 'UNENCRYPTED'}) "
             f"and {pub_path}")
    say(ctx, f"{alg.name} key {public.key_id}")


@key_app.command("show")
def show(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="A .pub file, or a .key file (asks for its passphrase)."),
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """Show a key's algorithm, key id, creation time and fingerprint."""
    from pqsign._internal.fs import read_bounded
    from pqsign.keys.keyfile import PublicKey

    data = read_bounded(path, 1 << 20, "key")
    if b"PRIVATE KEY-----" in data:
        public = load_signing_key(path, password_file).public_key()
        kind = "private"
    else:
        public = PublicKey.from_pem(data, what=f"public key {path}")
        kind = "public"
    info = {"file": str(path), "type": kind, "algorithm": public.algorithm.name,
            "oid": public.algorithm.oid, "keyId": public.key_id,
            "fingerprint": public.fingerprint, "created": public.created,
            "comment": public.comment}
    if options(ctx).json:
        emit_json("key-info", info)
        return
    say(ctx, f"File:        {path} ({kind} key)")
    say(ctx, f"Algorithm:   {public.algorithm.name} ({public.algorithm.oid})")
    say(ctx, f"Key ID:      {public.key_id}")
    say(ctx, f"Fingerprint: {public.fingerprint}")
    say(ctx, f"Created:     {public.created or 'unknown'}")
    if public.comment:
        say(ctx, f"Comment:     {public.comment}")


@key_app.command("public")
def export_public(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="Private key (.key)."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the public key."),
    password_file: Path | None = PASSWORD_FILE,
    force: bool = FORCE,
) -> None:
    """Write the public key (SPKI PEM) of a private key."""
    from pqsign._internal.fs import atomic_write

    public = load_signing_key(path, password_file).public_key()
    atomic_write(output, public.to_pem(), force=force)
    say(ctx, f"Wrote {output} ({public.algorithm.name}, key {public.key_id})")


@keyring_app.command("add")
def keyring_add(
    ctx: typer.Context,
    keyring: Path = typer.Argument(..., help="Keyring file (created if missing)."),
    public_key: Path = typer.Argument(..., help="Public key (.pub) to trust."),
    name: str = typer.Option("", "--name", "-n", help="Who the key belongs to."),
    email: str = typer.Option("", "--email", "-e", help="Their email (git signing matches it)."),
) -> None:
    """Add a public key to a keyring."""
    from pqsign.keys.keyfile import load_public_key
    from pqsign.keys.keyring import add_to_keyring

    entry = add_to_keyring(keyring, load_public_key(public_key), name=name, email=email)
    if options(ctx).json:
        emit_json("keyring-add", {"keyring": str(keyring), "key": signer_json(entry)})
        return
    say(ctx, f"Added {entry.identity} ({entry.public_key.algorithm.name}, key {entry.key_id}) "
             f"to {keyring}")


@keyring_app.command("list")
def keyring_list(
    ctx: typer.Context,
    keyring: Path = typer.Argument(..., help="Keyring file."),
) -> None:
    """List the keys in a keyring."""
    from pqsign.keys.keyring import load_keyring

    ring = load_keyring(keyring)
    if options(ctx).json:
        emit_json("keyring", {"keyring": str(keyring), "keys": [signer_json(e) for e in ring]})
        return
    from rich.table import Table

    table = Table(title=f"{keyring}: {len(ring)} key(s)")
    for column in ("Name", "Email", "Algorithm", "Key ID"):
        table.add_column(column, overflow="fold")
    for entry in ring:
        table.add_row(entry.name, entry.email, entry.public_key.algorithm.name, entry.key_id)
    console().print(table)
