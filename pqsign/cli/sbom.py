"""``pqsign sbom generate|sign|verify|attach|verify-image``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pqsign.cli._common import (
    FORCE,
    KEYRING,
    PASSWORD_FILE,
    SIGNING_KEY,
    TRUSTED_KEY,
    emit_json,
    load_signing_key,
    options,
    say,
    signer_json,
    trusted_keys,
)
from pqsign.cli.image import INSECURE, PLAIN_HTTP, TIMEOUT, _client
from pqsign.errors import InputError

if TYPE_CHECKING:
    from pqsign.crypto.algorithms import Algorithm

sbom_app = typer.Typer(help="CycloneDX SBOMs: generate, sign as attestations, attach to images, verify.",
                       no_args_is_help=True)


def _signing_algorithm(algorithm: str | None, key: Path | None) -> Algorithm:
    from pqsign.crypto.algorithms import DEFAULT_ALGORITHM, by_name
    from pqsign.keys.keyfile import load_public_key

    if key is not None:
        return load_public_key(key).algorithm
    return by_name(algorithm or DEFAULT_ALGORITHM)


def _summary(ctx: typer.Context, document: dict[str, Any]) -> None:
    from pqsign.sbom.cyclonedx import summarise

    if not sys.stdout.isatty() or options(ctx).quiet or options(ctx).json:
        return
    summary = summarise(document)
    say(ctx, f"  {summary.components} components, {len(summary.licenses)} licenses"
             + (f" ({', '.join(summary.licenses[:6])}{', ...' if len(summary.licenses) > 6 else ''})"
                if summary.licenses else ""))
    say(ctx, f"  crypto assets: {', '.join(summary.crypto_assets) or 'none'}")


@sbom_app.command("generate")
def generate(
    ctx: typer.Context,
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the SBOM (CycloneDX JSON)."),
    python_env: Path | None = typer.Option(None, "--python-env", help="A virtualenv (or site-packages) to describe."),
    requirements: Path | None = typer.Option(None, "--requirements", "-r", help="A requirements or lock file."),
    directory: Path | None = typer.Option(None, "--dir", help="A directory of artifacts (one component per file)."),
    name: str | None = typer.Option(None, "--name", help="Name of the described component."),
    spec_version: str = typer.Option("1.6", "--spec-version", help="CycloneDX version: 1.6 or 1.7."),
    algorithm: str | None = typer.Option(None, "--algorithm", help="Signature algorithm to declare in the CBOM part "
                                         "(default ML-DSA-65)."),
    signing_key: Path | None = typer.Option(None, "--signing-key", help="Take the algorithm from this public key."),
    force: bool = FORCE,
) -> None:
    """Generate a CycloneDX SBOM, validated against the schema before it is written."""
    from pqsign._internal.fs import atomic_write
    from pqsign.sbom.cyclonedx import from_directory, from_python_env, from_requirements, serialise

    sources = [s for s in (python_env, requirements, directory) if s is not None]
    if len(sources) != 1:
        raise InputError("give exactly one of --python-env, --requirements, --dir")
    if output.exists() and not force:
        raise InputError(f"{output} already exists", hint="pass --force to overwrite it")
    alg = _signing_algorithm(algorithm, signing_key)
    if python_env is not None:
        bom = from_python_env(python_env, alg, name=name)
    elif requirements is not None:
        bom = from_requirements(requirements, alg, name=name)
    else:
        assert directory is not None
        bom = from_directory(directory, alg, name=name)
    data = serialise(bom, spec_version)
    atomic_write(output, data, force=force)
    if options(ctx).json:
        emit_json("sbom-generate", {"file": str(output), "specVersion": spec_version,
                                    "components": len(bom.components)})
        return
    say(ctx, f"Wrote {output} (CycloneDX {spec_version}, {len(bom.components)} components, schema-valid)")


@sbom_app.command("sign")
def sign(
    ctx: typer.Context,
    sbom: Path = typer.Argument(..., help="CycloneDX JSON SBOM."),
    subject: list[Path] = typer.Option([], "--subject", "-s", help="The artifact the SBOM describes; repeatable."),
    key: Path = SIGNING_KEY,
    output: Path | None = typer.Option(None, "--output", "-o",
                                       help="Default: SBOM.pqsig (SBOM.signed.json with --embed)."),
    embed: bool = typer.Option(False, "--embed", help="Embed a JSF signature in the SBOM instead of an attestation."),
    password_file: Path | None = PASSWORD_FILE,
    force: bool = FORCE,
) -> None:
    """Sign an SBOM as an in-toto attestation about an artifact (or embed a JSF signature)."""
    from pqsign._internal.fs import atomic_write, read_bounded
    from pqsign.envelope.statement import Subject
    from pqsign.files import hash_file
    from pqsign.sbom.attestation import embed_signature, sign_sbom
    from pqsign.sbom.cyclonedx import MAX_SBOM_SIZE

    data = read_bounded(sbom, MAX_SBOM_SIZE, "SBOM")
    target = output or sbom.with_name(sbom.name + (".signed.json" if embed else ".pqsig"))
    if target.exists() and not force:
        raise InputError(f"{target} already exists", hint="pass --force to overwrite it")
    private = load_signing_key(key, password_file)
    if embed:
        atomic_write(target, embed_signature(data, private), force=force)
    else:
        subjects = [Subject(p.name, {"sha256": hash_file(p).sha256}) for p in subject]
        atomic_write(target, sign_sbom(data, subjects, private).to_json(), force=force)
    if options(ctx).json:
        emit_json("sbom-sign", {"sbom": str(sbom), "output": str(target), "embedded": embed})
        return
    say(ctx, f"Signed {sbom} -> {target}")


@sbom_app.command("verify")
def verify(
    ctx: typer.Context,
    sbom: Path = typer.Argument(..., help="CycloneDX JSON SBOM."),
    subject: Path | None = typer.Option(None, "--subject", "-s", help="The artifact the SBOM must describe."),
    bundle: Path | None = typer.Option(None, "--bundle", "-b", help="Attestation bundle (default: SBOM.pqsig)."),
    key: list[Path] = TRUSTED_KEY,
    keyring: Path | None = KEYRING,
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the verified SBOM here."),
    force: bool = FORCE,
) -> None:
    """Verify an SBOM attestation (or embedded signature): trusted key, subject, content, schema."""
    import json

    from pqsign._internal.fs import atomic_write, read_bounded
    from pqsign.envelope.bundle import read_bundle
    from pqsign.files import hash_file
    from pqsign.sbom.attestation import MAX_ATTESTATION_SIZE, verify_embedded, verify_sbom
    from pqsign.sbom.cyclonedx import MAX_SBOM_SIZE

    trusted = trusted_keys(key, keyring)
    data = read_bounded(sbom, MAX_SBOM_SIZE, "SBOM")
    bundle_path = bundle or sbom.with_name(sbom.name + ".pqsig")
    if bundle_path.exists():
        if subject is None:
            raise InputError("--subject is required: name the artifact this SBOM must describe")
        verified = verify_sbom(read_bundle(bundle_path, MAX_ATTESTATION_SIZE), trusted,
                               subject_sha256=hash_file(subject).sha256, sbom=data)
    elif bundle is None:
        verified = verify_embedded(data, trusted)
    else:
        raise InputError(f"bundle {bundle} does not exist")
    if output is not None:
        atomic_write(output, (json.dumps(verified.document, indent=2) + "\n").encode(), force=force)
    if options(ctx).json:
        emit_json("sbom-verify", {"verified": True, "sbom": str(sbom), "signer": signer_json(verified.signer),
                                  "subjects": [s.to_dict() for s in verified.subjects]})
        return
    about = f" for {subject.name}" if subject else " (embedded signature)"
    say(ctx, f"Verified OK {sbom}{about}: signed by {verified.signer.identity}")
    _summary(ctx, verified.document)


@sbom_app.command("attach")
def attach(
    ctx: typer.Context,
    reference: str = typer.Argument(..., help="Image, e.g. 127.0.0.1:5000/team/app:1.4."),
    sbom: Path = typer.Argument(..., help="CycloneDX JSON SBOM."),
    key: Path = SIGNING_KEY,
    password_file: Path | None = PASSWORD_FILE,
    plain_http: bool | None = PLAIN_HTTP,
    insecure: bool = INSECURE,
    timeout: float = TIMEOUT,
) -> None:
    """Sign an SBOM as an attestation about an image digest and attach it as a referrer."""
    from pqsign._internal.fs import read_bounded
    from pqsign.sbom.cyclonedx import MAX_SBOM_SIZE
    from pqsign.sbom.image import attach_sbom

    data = read_bounded(sbom, MAX_SBOM_SIZE, "SBOM")
    private = load_signing_key(key, password_file)
    ref, client = _client(reference, plain_http, insecure, timeout)
    attached = attach_sbom(client, ref, data, private)
    if options(ctx).json:
        emit_json("sbom-attach", {"reference": attached.reference, "attestation": attached.signature.digest})
        return
    say(ctx, f"Attached {sbom} to {attached.reference} (attestation {attached.signature.digest[:19]}...)")


@sbom_app.command("verify-image")
def verify_image(
    ctx: typer.Context,
    reference: str = typer.Argument(..., help="Image by tag or digest."),
    key: list[Path] = TRUSTED_KEY,
    keyring: Path | None = KEYRING,
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the newest verified SBOM here."),
    force: bool = FORCE,
    plain_http: bool | None = PLAIN_HTTP,
    insecure: bool = INSECURE,
    timeout: float = TIMEOUT,
) -> None:
    """Find, verify and output an image's SBOM attestations (newest first)."""
    import json

    from pqsign._internal.fs import atomic_write
    from pqsign.oci.signing import ReferrerState
    from pqsign.sbom.image import verify_image_sboms

    trusted = trusted_keys(key, keyring)
    ref, client = _client(reference, plain_http, insecure, timeout)
    subject, results = verify_image_sboms(client, ref, trusted)
    newest = next(r for r in results if r.state is ReferrerState.VERIFIED)
    assert newest.statement is not None
    if output is not None:
        atomic_write(output, (json.dumps(newest.statement.predicate, indent=2) + "\n").encode(), force=force)
    if options(ctx).json:
        emit_json("sbom-verify-image", {"reference": str(ref), "digest": subject.digest, "attestations": [
            {"digest": r.descriptor.digest, "state": r.state.value, "detail": r.detail,
             "created": r.descriptor.annotations.get("org.opencontainers.image.created"),
             "signer": signer_json(r.signer) if r.signer else None} for r in results]})
        return
    for r in results:
        created = r.descriptor.annotations.get("org.opencontainers.image.created", "?")
        who = r.signer.identity if r.signer else r.detail
        say(ctx, f"{r.state.value:9s} {created} {r.descriptor.digest[:19]}... {who}")
    say(ctx, f"Verified OK: newest SBOM signed by {newest.signer.identity if newest.signer else '?'}"
             + (f", written to {output}" if output else ""))
    _summary(ctx, newest.statement.predicate)
