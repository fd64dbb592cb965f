"""``pqsign image sign|verify|signatures``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pqsign.cli._common import (
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

if TYPE_CHECKING:
    from pqsign.oci.reference import ImageReference
    from pqsign.oci.registry import RegistryClient
    from pqsign.oci.signing import ReferrerCheck

image_app = typer.Typer(help="Sign and verify container images; signatures are OCI 1.1 referrers.",
                        no_args_is_help=True)

PLAIN_HTTP = typer.Option(None, "--plain-http/--https",
                          help="Plain HTTP (default: only for localhost/127.0.0.1 registries).")
INSECURE = typer.Option(False, "--insecure", help="Accept a self-signed TLS certificate.")
TIMEOUT = typer.Option(30.0, "--timeout", help="Seconds to wait for each registry answer.")


def _client(reference: str, plain_http: bool | None, insecure: bool,
            timeout: float) -> tuple[ImageReference, RegistryClient]:
    from pqsign.oci.reference import parse_reference
    from pqsign.oci.registry import RegistryClient

    ref = parse_reference(reference)
    return ref, RegistryClient(ref.registry, plain_http=plain_http, insecure=insecure, timeout=timeout)


def _check_json(check: ReferrerCheck) -> dict[str, Any]:
    d = check.descriptor
    return {"digest": d.digest, "artifactType": d.artifact_type, "annotations": d.annotations,
            "state": check.state.value, "detail": check.detail,
            "signer": signer_json(check.signer) if check.signer else None}


@image_app.command("sign")
def sign(
    ctx: typer.Context,
    reference: str = typer.Argument(..., help="Image, e.g. 127.0.0.1:5000/team/app:1.4 or ...@sha256:..."),
    key: Path = SIGNING_KEY,
    recursive: bool = typer.Option(False, "--recursive", "-r",
                                   help="For a multi-platform index, also sign each platform manifest."),
    password_file: Path | None = PASSWORD_FILE,
    plain_http: bool | None = PLAIN_HTTP,
    insecure: bool = INSECURE,
    timeout: float = TIMEOUT,
) -> None:
    """Resolve the tag to a digest once, sign the digest, push the signature as a referrer."""
    from pqsign.oci.signing import sign_image

    private = load_signing_key(key, password_file)
    ref, client = _client(reference, plain_http, insecure, timeout)
    signed = sign_image(client, ref, private, recursive=recursive)
    if options(ctx).json:
        emit_json("image-sign", {"signed": [{"reference": s.reference, "digest": s.digest,
                                             "mediaType": s.media_type, "signature": s.signature.digest}
                                            for s in signed]})
        return
    if ref.tag and not ref.digest:
        say(ctx, f"{ref} resolved to {signed[0].digest}; signing the digest", err=True)
    for item in signed:
        say(ctx, f"Signed {item.reference} (signature {item.signature.digest[:19]}...)")


@image_app.command("verify")
def verify(
    ctx: typer.Context,
    reference: str = typer.Argument(..., help="Image by tag or digest."),
    key: list[Path] = TRUSTED_KEY,
    keyring: Path | None = KEYRING,
    plain_http: bool | None = PLAIN_HTTP,
    insecure: bool = INSECURE,
    timeout: float = TIMEOUT,
) -> None:
    """Exit 0 only if a trusted key signed this image's digest."""
    from pqsign.oci.signing import ReferrerState, verify_image

    trusted = trusted_keys(key, keyring)
    ref, client = _client(reference, plain_http, insecure, timeout)
    subject, results = verify_image(client, ref, trusted)
    good = [r for r in results if r.state is ReferrerState.VERIFIED]
    if options(ctx).json:
        emit_json("image-verify", {"verified": True, "reference": str(ref), "digest": subject.digest,
                                   "signatures": [_check_json(r) for r in results
                                                  if r.state is not ReferrerState.FOREIGN]})
        return
    signers = ", ".join(sorted({r.signer.identity for r in good if r.signer}))
    say(ctx, f"Verified OK {ref.name}@{subject.digest}: signed by {signers}")


@image_app.command("signatures")
def signatures(
    ctx: typer.Context,
    reference: str = typer.Argument(..., help="Image by tag or digest."),
    key: list[Path] = TRUSTED_KEY,
    keyring: Path | None = KEYRING,
    plain_http: bool | None = PLAIN_HTTP,
    insecure: bool = INSECURE,
    timeout: float = TIMEOUT,
) -> None:
    """List every referrer of an image; pqsign signatures are verified when keys are given."""
    from pqsign.oci.signing import check_signatures

    trusted = trusted_keys(key, keyring) if (key or keyring) else []
    ref, client = _client(reference, plain_http, insecure, timeout)
    subject, results = check_signatures(client, ref, trusted)
    if options(ctx).json:
        emit_json("image-signatures", {"reference": str(ref), "digest": subject.digest,
                                       "referrers": [_check_json(r) for r in results]})
        return
    from rich.table import Table

    table = Table(title=f"{ref.name}@{subject.digest[:19]}...: {len(results)} referrer(s)")
    for column in ("Referrer", "Type", "State", "Signer / detail"):
        table.add_column(column, overflow="fold")
    for r in results:
        who = r.signer.identity if r.signer else r.detail
        table.add_row(r.descriptor.digest[:19] + "...", r.descriptor.artifact_type or "", r.state.value, who)
    console().print(table)
