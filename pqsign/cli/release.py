"""``pqsign release ...``: M-of-N co-signing of releases by release managers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pqsign.cli._common import (
    FORCE,
    PASSWORD_FILE,
    SIGNING_KEY,
    console,
    emit_json,
    load_signing_key,
    options,
    say,
    signer_json,
)
from pqsign.errors import InputError

if TYPE_CHECKING:
    from pqsign.keys.keyring import KeyringEntry
    from pqsign.release.approval import ReleaseStatus
    from pqsign.release.policy import ReleasePolicy

release_app = typer.Typer(help="M-of-N release approval: policies, manifests, approvals.",
                          no_args_is_help=True)
policy_app = typer.Typer(help="Create, co-sign, rotate and inspect release policies.", no_args_is_help=True)
release_app.add_typer(policy_app, name="policy")



def _approvers(paths: list[Path]) -> tuple[KeyringEntry, ...]:
    from pqsign.keys.keyfile import load_public_key
    from pqsign.keys.keyring import KeyringEntry

    entries = []
    for path in paths:
        key = load_public_key(path)
        entries.append(KeyringEntry(key, name=key.comment or path.stem, source=str(path)))
    return tuple(entries)


def _expiry(expires: str | None, expires_in_days: int | None) -> Any:
    from datetime import UTC, datetime, timedelta

    if expires and expires_in_days is not None:
        raise InputError("give --expires or --expires-in-days, not both")
    if expires_in_days is not None:
        return datetime.now(UTC) + timedelta(days=expires_in_days)
    if expires:
        try:
            moment = datetime.fromisoformat(expires.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"--expires {expires!r} is not an ISO 8601 date or time") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _policy_json(policy: ReleasePolicy) -> dict[str, Any]:
    return {"name": policy.name, "version": policy.version, "threshold": policy.threshold,
            "expires": policy.expires.isoformat() if policy.expires else None,
            "approvers": [signer_json(a) for a in policy.approvers]}


@policy_app.command("init")
def policy_init(
    ctx: typer.Context,
    threshold: int = typer.Option(..., "--threshold", "-t", help="Approvals required (M)."),
    approver: list[Path] = typer.Option(..., "--approver", "-a", help="Approver public key; repeat for each."),
    name: str = typer.Option(..., "--name", "-n", help="Project name."),
    output: Path = typer.Option(..., "--output", "-o", help="Policy file to write."),
    expires: str | None = typer.Option(None, "--expires", help="Expiry, ISO 8601 (e.g. 2027-12-31)."),
    expires_in_days: int | None = typer.Option(None, "--expires-in-days", help="Expiry in days from now."),
    force: bool = FORCE,
) -> None:
    """Write version 1 of a release policy; then a threshold of its approvers sign it."""
    from pqsign.release.policy import ReleasePolicy, SignedPolicy, save_policy

    policy = ReleasePolicy(name, 1, threshold, _approvers(approver), _expiry(expires, expires_in_days))
    save_policy(output, SignedPolicy.unsigned(policy), force=force)
    if options(ctx).json:
        emit_json("release-policy", {"file": str(output), "policy": _policy_json(policy)})
        return
    say(ctx, f"Wrote {output}: {name} v1, {threshold} of {len(policy.approvers)} approvers")
    say(ctx, f"Next: {threshold} approver(s) run `pqsign release policy sign {output} --key KEY`")


@policy_app.command("rotate")
def policy_rotate(
    ctx: typer.Context,
    policy_file: Path = typer.Argument(..., help="The current policy."),
    threshold: int = typer.Option(..., "--threshold", "-t", help="Approvals required (M)."),
    approver: list[Path] = typer.Option(..., "--approver", "-a", help="Approver public key; repeat for each."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the next version."),
    expires: str | None = typer.Option(None, "--expires", help="Expiry, ISO 8601."),
    expires_in_days: int | None = typer.Option(None, "--expires-in-days", help="Expiry in days from now."),
    force: bool = FORCE,
) -> None:
    """Write the next policy version; a threshold of the CURRENT approvers must sign it."""
    from pqsign.release.policy import ReleasePolicy, SignedPolicy, load_policy, save_policy

    current = load_policy(policy_file).policy
    policy = ReleasePolicy(current.name, current.version + 1, threshold, _approvers(approver),
                           _expiry(expires, expires_in_days))
    save_policy(output, SignedPolicy.unsigned(policy), force=force)
    say(ctx, f"Wrote {output}: {policy.name} v{policy.version}; {current.threshold} of version "
             f"{current.version}'s approvers must sign it (`pqsign release policy sign {output}`)")


@policy_app.command("sign")
def policy_sign(
    ctx: typer.Context,
    policy_file: Path = typer.Argument(..., help="Policy file to co-sign (updated in place)."),
    key: Path = SIGNING_KEY,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """Add your signature to a policy file."""
    from pqsign.release.policy import sign_policy

    signed = sign_policy(policy_file, load_signing_key(key, password_file))
    result = signed.self_result()
    say(ctx, f"Signed {policy_file} (v{signed.policy.version}); its own approvers: {result.describe()}")


@policy_app.command("show")
def policy_show(
    ctx: typer.Context,
    policy_file: Path = typer.Argument(..., help="Policy file."),
) -> None:
    """Show a policy and which of its approvers have signed it."""
    from pqsign.release.policy import load_policy

    signed = load_policy(policy_file)
    policy, result = signed.policy, signed.self_result()
    signed_ids = {a.key_id for a in result.signed}
    if options(ctx).json:
        emit_json("release-policy", {"file": str(policy_file), "policy": _policy_json(policy),
                                     "signedBy": [a.key_id for a in result.signed]})
        return
    say(ctx, f"{policy.name} v{policy.version}: {policy.threshold} of {len(policy.approvers)} approvers"
             + (f", expires {policy.expires:%Y-%m-%d}" if policy.expires else ""))
    for approver in policy.approvers:
        mark = "signed" if approver.key_id in signed_ids else "not signed"
        say(ctx, f"  {approver.identity:30s} {approver.key_id[:16]} "
                 f"{approver.public_key.algorithm.name:22s} {mark}")
    if policy.duplicates:
        say(ctx, f"  note: {policy.duplicates} repeated key(s) listed; each key counts once")


@release_app.command("manifest")
def manifest(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., metavar="ARTIFACT...", help="The release's artifacts."),
    version: str = typer.Option(..., "--version", "-v", help="Release version, e.g. 1.4.0."),
    project: str = typer.Option("", "--project", "-p", help="Project name (should match the policy)."),
    output: Path = typer.Option(..., "--output", "-o", help="Manifest file to write."),
    force: bool = FORCE,
) -> None:
    """Write a release manifest: every artifact's name and SHA-256."""
    from pqsign._internal.fs import atomic_write
    from pqsign.release.manifest import create_manifest

    if output.exists() and not force:
        raise InputError(f"{output} already exists", hint="pass --force to overwrite it")
    created = create_manifest(files, version, project)
    atomic_write(output, created.raw, force=force)
    if options(ctx).json:
        emit_json("release-manifest", {"file": str(output), "sha256": created.digest,
                                       "artifacts": len(created.statement.subjects)})
        return
    say(ctx, f"Wrote {output}: release {version}, {len(created.statement.subjects)} artifact(s)")


@release_app.command("approve")
def approve(
    ctx: typer.Context,
    manifest_file: Path = typer.Argument(..., help="The release manifest."),
    key: Path = SIGNING_KEY,
    directory: Path | None = typer.Option(None, "--dir", help="Approvals directory (default: MANIFEST.approvals)."),
    force: bool = FORCE,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """Approve a release: writes MANIFEST.approvals/<your key id>.pqsig."""
    from pqsign.release.approval import approve_release
    from pqsign.release.manifest import load_manifest

    loaded = load_manifest(manifest_file)
    path = approve_release(loaded, load_signing_key(key, password_file), directory=directory, force=force)
    if options(ctx).json:
        emit_json("release-approval", {"file": str(path), "manifest": str(manifest_file),
                                       "version": loaded.version})
        return
    say(ctx, f"Approved release {loaded.version}: wrote {path}")


def _status_json(status: ReleaseStatus) -> dict[str, Any]:
    files_by_key = {f.approver.key_id: f for f in status.files
                    if f.approver is not None and f.state == "valid"}
    return {
        "approved": status.approved,
        "threshold": status.policy.threshold,
        "approvals": len(status.approved_by),
        "summary": status.summary(),
        "release": {"version": status.manifest.version, "project": status.manifest.project,
                    "sha256": status.manifest.digest},
        "policy": {"name": status.policy.name, "version": status.policy.version},
        "approvers": [{**signer_json(a),
                       "state": "valid" if a.key_id in files_by_key else "missing",
                       "approvedAt": files_by_key[a.key_id].approved_at if a.key_id in files_by_key else None}
                      for a in status.policy.approvers],
        "files": [{"path": f.path, "state": f.state.value, "detail": f.detail,
                   "keyId": f.approver.key_id if f.approver else None} for f in status.files],
        "artifactsVerified": list(status.artifacts_checked),
    }


def _render_status(status: ReleaseStatus) -> None:
    from rich.table import Table

    valid = {f.approver.key_id: f for f in status.files if f.approver is not None and f.state == "valid"}
    table = Table(title=f"Release {status.manifest.version} under policy "
                        f"{status.policy.name} v{status.policy.version}")
    for column in ("Approver", "Key ID", "Algorithm", "Signed at", "State"):
        table.add_column(column)
    for approver in status.policy.approvers:
        found = valid.get(approver.key_id)
        state = "[green]valid[/green]" if found else "[yellow]missing[/yellow]"
        table.add_row(approver.identity, approver.key_id[:16], approver.public_key.algorithm.name,
                      found.approved_at if found else "", state)
    out = console()
    out.print(table)
    for f in status.files:
        if f.state != "valid":
            out.print(f"  [red]{f.state}[/red] {f.path}: {f.detail}")
    colour = "green" if status.approved else "red"
    out.print(f"[bold {colour}]{status.summary()}[/bold {colour}]")


def _effective_policy(policy_file: Path, updates: list[Path]) -> ReleasePolicy:
    from pqsign.release.policy import load_policy, verify_policy_chain

    return verify_policy_chain(load_policy(policy_file), [load_policy(u) for u in updates])


POLICY_OPTION = typer.Option(..., "--policy", envvar="PQSIGN_RELEASE_POLICY",
                             help="The release policy you trust.")
UPDATES_OPTION = typer.Option([], "--policy-update", "-u",
                              help="Newer policy versions, each signed by the previous one's approvers.")


@release_app.command("status")
def status(
    ctx: typer.Context,
    manifest_file: Path = typer.Argument(..., help="The release manifest."),
    policy_file: Path = POLICY_OPTION,
    updates: list[Path] = UPDATES_OPTION,
    directory: Path | None = typer.Option(None, "--dir", help="Approvals directory."),
) -> None:
    """Who approved, who is missing, and whether the threshold is met (exit 0 either way)."""
    from pqsign.release.approval import evaluate_release
    from pqsign.release.manifest import load_manifest

    result = evaluate_release(load_manifest(manifest_file), _effective_policy(policy_file, updates), directory)
    if options(ctx).json:
        emit_json("release-status", _status_json(result))
    elif not options(ctx).quiet:
        _render_status(result)


@release_app.command("verify")
def verify(
    ctx: typer.Context,
    manifest_file: Path = typer.Argument(..., help="The release manifest."),
    artifacts: list[Path] = typer.Argument(None, metavar="[ARTIFACT]...",
                                           help="Artifacts to check against the manifest."),
    policy_file: Path = POLICY_OPTION,
    updates: list[Path] = UPDATES_OPTION,
    directory: Path | None = typer.Option(None, "--dir", help="Approvals directory."),
) -> None:
    """Exit 0 only if a threshold of distinct policy approvers approved this release."""
    from pqsign.release.approval import verify_release
    from pqsign.release.manifest import load_manifest

    result = verify_release(load_manifest(manifest_file), _effective_policy(policy_file, updates),
                            artifacts or [], directory)
    if options(ctx).json:
        emit_json("release-verify", _status_json(result))
        return
    names = ", ".join(a.identity for a in result.approved_by)
    say(ctx, f"Verified OK release {result.manifest.version}: {result.summary()} ({names})")
    if result.artifacts_checked:
        say(ctx, f"All {len(result.artifacts_checked)} artifact(s) match the approved manifest")
