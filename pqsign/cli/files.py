"""``pqsign sign``, ``pqsign verify`` and ``pqsign algorithms``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pqsign.cli._common import (
    FORCE,
    KEYRING,
    PASSWORD_FILE,
    SIGNING_KEY,
    TRUSTED_KEY,
    console,
    emit_json,
    load_signing_key,
    options,
    say,
    signer_json,
    trusted_keys,
)
from pqsign.errors import InputError, PqsignError, VerificationError

if TYPE_CHECKING:
    from collections.abc import Iterator

PROGRESS_THRESHOLD = 64 << 20  # show a progress bar for files of 64 MiB and more


@contextmanager
def _progress(ctx: typer.Context, path: Path, verb: str) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar on stderr for large files on a terminal; otherwise nothing."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if options(ctx).quiet or size < PROGRESS_THRESHOLD or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), console=console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"{verb} {path.name}", total=size)
        yield lambda count: bar.advance(task, count)


def sign(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., metavar="FILE...", help="Files to sign.", show_default=False),
    key: Path = SIGNING_KEY,
    output: Path | None = typer.Option(None, "--output", "-o",
                                       help="Bundle path (one file only). Default: FILE.pqsig"),
    name: str | None = typer.Option(None, "--name",
                                    help="Subject name to sign (default: the file's base name)."),
    force: bool = FORCE,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """Sign files: writes a detached Sigstore-format bundle FILE.pqsig next to each."""
    from pqsign._internal.fs import atomic_write
    from pqsign.files import SIGNATURE_SUFFIX, hash_file, sign_digest

    if output is not None and len(files) != 1:
        raise InputError("--output works with exactly one file")
    private = load_signing_key(key, password_file)
    public = private.public_key()
    results: list[dict[str, Any]] = []
    for path in files:
        target = output or path.with_name(path.name + SIGNATURE_SUFFIX)
        if target.exists() and not force:
            raise InputError(f"{target} already exists", hint="pass --force to overwrite it")
        with _progress(ctx, path, "hashing") as progress:
            digest = hash_file(path, progress)
        atomic_write(target, sign_digest(name or path.name, digest, private).to_json(), force=force)
        results.append({"file": str(path), "bundle": str(target), "sha256": digest.sha256})
        say(ctx, f"Signed {path} -> {target} ({public.algorithm.name}, key {public.key_id[:16]})")
    if options(ctx).json:
        emit_json("sign", {"keyId": public.key_id, "algorithm": public.algorithm.name,
                           "results": results})


def verify(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., metavar="FILE...", help="Files to verify.", show_default=False),
    key: list[Path] = TRUSTED_KEY,
    keyring: Path | None = KEYRING,
    bundle_path: Path | None = typer.Option(None, "--bundle", "-b",
                                            help="Bundle path (one file only). Default: FILE.pqsig"),
    name: str | None = typer.Option(None, "--name", help="Also require the signed subject name."),
) -> None:
    """Verify files against their bundles and trusted keys. Exit 0 only if every file verifies."""
    from pqsign.envelope.bundle import read_bundle
    from pqsign.files import SIGNATURE_SUFFIX, verify_file

    if bundle_path is not None and len(files) != 1:
        raise InputError("--bundle works with exactly one file")
    trusted = trusted_keys(key, keyring)
    results: list[dict[str, Any]] = []
    worst = 0
    for path in files:
        bundle_file = bundle_path or path.with_name(path.name + SIGNATURE_SUFFIX)
        record: dict[str, Any] = {"file": str(path), "bundle": str(bundle_file)}
        try:
            if not bundle_file.exists() and path.exists():
                raise InputError(f"no signature bundle for {path} (looked for {bundle_file})",
                                 hint="pass --bundle PATH, or sign the file first")
            bundle = read_bundle(bundle_file)
            with _progress(ctx, path, "verifying") as progress:
                result = verify_file(path, bundle, trusted, expected_name=name, progress=progress)
        except PqsignError as exc:
            failed = isinstance(exc, VerificationError)
            worst = max(worst, 1 if failed else 2)
            record.update(verified=False, status="failed" if failed else "error",
                          error=exc.message, hint=exc.hint)
            typer.echo(f"FAILED {path}: {exc.message}" if failed else f"error: {path}: {exc.message}",
                       err=True)
            if exc.hint and not options(ctx).quiet:
                typer.echo(f"hint: {exc.hint}", err=True)
        else:
            record.update(verified=True, status="verified", sha256=result.digest.sha256,
                          size=result.digest.size, signer=signer_json(result.signer))
            say(ctx, f"Verified OK {path}: signed by {result.signer.identity} "
                     f"({result.signer.public_key.algorithm.name}, key {result.signer.key_id[:16]})")
        results.append(record)
    if options(ctx).json:
        emit_json("verify", {"verified": worst == 0, "results": results})
    if worst:
        raise typer.Exit(worst)


def algorithms(ctx: typer.Context) -> None:
    """List the signature algorithms, their sizes and which backends can run them here."""
    from pqsign.crypto.algorithms import ALGORITHMS, DEFAULT_ALGORITHM
    from pqsign.crypto.backends import backend_statuses

    rows: list[dict[str, Any]] = []
    for alg in ALGORITHMS:
        statuses = backend_statuses(alg)
        active = next((s for s in statuses if s.available), None)
        rows.append({
            "name": alg.name, "oid": alg.oid, "family": alg.family.value,
            "nistLevel": alg.nist_level, "publicKeySize": alg.public_key_size,
            "privateKeySize": alg.private_key_size, "signatureSize": alg.signature_size,
            "default": alg.name == DEFAULT_ALGORITHM, "available": active is not None,
            "backend": active.name if active else None,
            "backends": [{"name": s.name, "available": s.available, "detail": s.detail}
                         for s in statuses],
        })
    if options(ctx).json:
        emit_json("algorithms", {"algorithms": rows})
        return
    from rich.table import Table

    table = Table(title="Signature algorithms")
    for column in ("Algorithm", "OID", "Level", "Public key", "Signature", "Backend"):
        table.add_column(column)
    for row in rows:
        name = row["name"] + (" (default)" if row["default"] else "")
        backend = row["backend"] or "[red]unavailable[/red]"
        table.add_row(name, row["oid"], str(row["nistLevel"]), f"{row['publicKeySize']} B",
                      f"{row['signatureSize']} B", backend)
    out = console()
    out.print(table)
    for row in rows:
        for status in row["backends"]:
            if not status["available"]:
                out.print(f"  {row['name']}: {status['name']} unavailable: {status['detail']}")


COMMANDS: dict[str, Callable[..., None]] = {"sign": sign, "verify": verify, "algorithms": algorithms}


def register(app: typer.Typer) -> None:
    """Add these commands to the root app."""
    for name, function in COMMANDS.items():
        app.command(name)(function)
