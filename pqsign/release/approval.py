"""Approvals: each release manager's detached signature over a release manifest.

An approval is a Sigstore bundle (the core format) whose in-toto Statement has predicateType
:data:`APPROVAL_PREDICATE`, names the manifest by the SHA-256 of its exact bytes, and repeats
the project and version. Approvals live one file per approver, named by key id, in a directory
beside the manifest (``release-1.4.0.json`` -> ``release-1.4.0.approvals/<keyid>.pqsig``), so
co-signers never write the same file and can hand theirs over by any channel.

Verification counts **distinct approver keys of the policy** whose approval verifies: a second
approval by the same key, a key outside the policy, an approval of another manifest or another
version, a malformed or truncated file: none of these count, and none stops the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from pqsign._internal.fs import atomic_write
from pqsign.envelope.bundle import Bundle, read_bundle
from pqsign.envelope.statement import PAYLOAD_TYPE, Statement, Subject
from pqsign.errors import InputError, PqsignError, VerificationError
from pqsign.files import hash_file, sign_statement
from pqsign.keys.keyfile import PrivateKey
from pqsign.keys.keyring import KeyringEntry
from pqsign.keys.trust import find_signer
from pqsign.release.manifest import Manifest
from pqsign.release.policy import ReleasePolicy

__all__ = [
    "APPROVAL_PREDICATE",
    "ApprovalState",
    "ApprovalFile",
    "ReleaseStatus",
    "approvals_dir",
    "approve_release",
    "evaluate_release",
    "verify_release",
]

APPROVAL_PREDICATE = "https://pqsign.dev/attestation/release-approval/v1"
MAX_APPROVAL_FILES = 1000


def approvals_dir(manifest_path: Path | str) -> Path:
    """``release-1.4.0.json`` -> ``release-1.4.0.approvals``."""
    path = Path(manifest_path)
    return path.with_name(path.stem + ".approvals")


def _folder(manifest: Manifest, directory: Path | None) -> Path:
    """The approvals directory: the one given, or the one beside the manifest file."""
    if directory is not None:
        return directory
    if not manifest.path:
        raise InputError("a manifest that was not read from a file needs an explicit approvals directory")
    return approvals_dir(manifest.path)


def approve_release(manifest: Manifest, key: PrivateKey, *, directory: Path | None = None,
                    force: bool = False) -> Path:
    """Sign an approval of ``manifest`` and write it to ``<approvals>/<keyid>.pqsig``.

    Raises:
        InputError: this key already approved (without ``force``), or the file there belongs
            to another key (never overwritten, even with ``force``).
    """
    from datetime import UTC, datetime

    public = key.public_key()
    target_dir = _folder(manifest, directory)
    target = target_dir / f"{public.key_id}.pqsig"
    if target.exists():
        try:
            existing_hint = read_bundle(target).key_hint
        except InputError:
            existing_hint = ""
        if existing_hint != public.key_id:
            raise InputError(f"{target} exists and is not this key's approval; refusing to touch it")
        if not force:
            raise InputError(f"key {public.key_id[:16]} already approved this release ({target})",
                             hint="pass --force to replace your own approval")
    statement = Statement(
        (Subject(Path(manifest.path).name or "release-manifest", {"sha256": manifest.digest}),),
        APPROVAL_PREDICATE,
        {"project": manifest.project, "version": manifest.version,
         "approvedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")},
    )
    bundle = sign_statement(statement, key)
    target_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(target, bundle.to_json(), force=force)
    return target


class ApprovalState(StrEnum):
    VALID = "valid"              # counts towards the threshold
    DUPLICATE = "duplicate"      # a valid approval by a key that already counted
    UNTRUSTED = "untrusted"      # not signed by any approver of the policy
    MISMATCH = "mismatch"        # signed by an approver, but for another manifest or version
    MALFORMED = "malformed"      # unreadable, truncated, not a bundle


@dataclass(frozen=True, slots=True)
class ApprovalFile:
    """What one file in the approvals directory turned out to be."""

    path: str
    state: ApprovalState
    detail: str = ""
    approver: KeyringEntry | None = None
    approved_at: str = ""


@dataclass(frozen=True, slots=True)
class ReleaseStatus:
    """The threshold evaluation of one release against one policy."""

    manifest: Manifest
    policy: ReleasePolicy
    files: tuple[ApprovalFile, ...]
    approved_by: tuple[KeyringEntry, ...]
    artifacts_checked: tuple[str, ...] = field(default=())

    @property
    def missing(self) -> tuple[KeyringEntry, ...]:
        counted = {a.key_id for a in self.approved_by}
        return tuple(a for a in self.policy.approvers if a.key_id not in counted)

    @property
    def approved(self) -> bool:
        return len(self.approved_by) >= self.policy.threshold

    def summary(self) -> str:
        verdict = "APPROVED" if self.approved else \
            f"NOT APPROVED, {self.policy.threshold - len(self.approved_by)} more approval(s) needed"
        return f"{len(self.approved_by)} of {self.policy.threshold} required: {verdict}"


def _check_approval(path: Path, manifest: Manifest, policy: ReleasePolicy) -> ApprovalFile:
    """Steps (a)-(c) for one approval file."""
    try:
        bundle: Bundle = read_bundle(path)
    except PqsignError as exc:
        return ApprovalFile(str(path), ApprovalState.MALFORMED, exc.message)
    envelope = bundle.envelope
    # (a) signed by an approver of the policy (each key verifies with its own algorithm)
    signer = None
    if envelope.payload_type == PAYLOAD_TYPE:
        signer = find_signer(envelope.pae(), envelope.signature, policy.approvers, bundle.key_hint)
    if signer is None:
        return ApprovalFile(str(path), ApprovalState.UNTRUSTED,
                            f"not signed by an approver of policy v{policy.version}")
    try:
        statement = Statement.from_json(envelope.payload)
    except InputError as exc:
        return ApprovalFile(str(path), ApprovalState.MALFORMED, exc.message, signer)
    if statement.predicate_type != APPROVAL_PREDICATE:
        return ApprovalFile(str(path), ApprovalState.MISMATCH,
                            f"not a release approval ({statement.predicate_type})", signer)
    predicate = statement.predicate
    approved_at = str(predicate.get("approvedAt", ""))
    # (b) for exactly this manifest (its bytes' SHA-256)
    digests = {s.digest.get("sha256") for s in statement.subjects}
    if manifest.digest not in digests:
        return ApprovalFile(str(path), ApprovalState.MISMATCH, "approves another manifest",
                            signer, approved_at)
    # (c) and the same project and version (defence in depth: the digest already binds them)
    if predicate.get("version") != manifest.version or predicate.get("project") != manifest.project:
        return ApprovalFile(str(path), ApprovalState.MISMATCH,
                            f"approves version {predicate.get('version')!r}", signer, approved_at)
    return ApprovalFile(str(path), ApprovalState.VALID, "", signer, approved_at)


def evaluate_release(manifest: Manifest, policy: ReleasePolicy,
                     directory: Path | None = None) -> ReleaseStatus:
    """Check every file in the approvals directory and count distinct approver keys.

    Steps, per file: (a) a bundle whose signature verifies under an approver key of the policy;
    (b) approving this manifest's SHA-256; (c) with its project and version. Then (d) only the
    first valid approval per key id counts.

    Raises:
        InputError: the approvals directory holds more than :data:`MAX_APPROVAL_FILES` files.
    """
    folder = _folder(manifest, directory)
    paths = sorted(folder.glob("*.pqsig")) if folder.is_dir() else []
    if len(paths) > MAX_APPROVAL_FILES:
        raise InputError(f"{folder} holds {len(paths)} approval files; the limit is {MAX_APPROVAL_FILES}")
    results: list[ApprovalFile] = []
    counted: dict[str, KeyringEntry] = {}
    for path in paths:
        result = _check_approval(path, manifest, policy)
        approver = result.approver
        # (d)
        if result.state is ApprovalState.VALID and approver is not None:
            if approver.key_id in counted:
                result = ApprovalFile(result.path, ApprovalState.DUPLICATE,
                                      "this key's approval was already counted", approver,
                                      result.approved_at)
            else:
                counted[approver.key_id] = approver
        results.append(result)
    approved_by = tuple(a for a in policy.approvers if a.key_id in counted)
    return ReleaseStatus(manifest, policy, tuple(results), approved_by)


def verify_release(manifest: Manifest, policy: ReleasePolicy, artifacts: Sequence[Path] = (),
                   directory: Path | None = None) -> ReleaseStatus:
    """Verify a release: the threshold of distinct approvers, then each artifact given.

    Steps: :func:`evaluate_release`; (e) the threshold is met; (f) each artifact's SHA-256
    equals the manifest entry of its name; (g) no artifact of the manifest is missing from
    ``artifacts`` (when any are given).

    Raises:
        VerificationError: the threshold is not met, an artifact differs, is unknown or missing.
    """
    status = evaluate_release(manifest, policy, directory)
    # (e)
    if not status.approved:
        names = ", ".join(a.identity for a in status.missing) or "none"
        raise VerificationError(f"release {manifest.version}: {status.summary()}",
                                hint=f"approvers who have not approved: {names}")
    if not artifacts:
        return status
    expected = {s.name: s.digest["sha256"] for s in manifest.statement.subjects}
    checked: list[str] = []
    for path in artifacts:
        name = Path(path).name
        # (f)
        if name not in expected:
            raise VerificationError(f"{path} is not part of release {manifest.version}")
        if hash_file(Path(path)).sha256 != expected[name]:
            raise VerificationError(f"{path} does not match the approved release manifest",
                                    hint="the artifact was modified after the release was approved")
        checked.append(name)
    # (g)
    missing = sorted(set(expected) - set(checked))
    if missing:
        raise VerificationError(f"{len(missing)} artifact(s) of release {manifest.version} were not "
                                f"given: {', '.join(missing)}")
    return ReleaseStatus(status.manifest, status.policy, status.files, status.approved_by, tuple(checked))
