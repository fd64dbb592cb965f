"""Release manifests: the list of artifacts (name and SHA-256) that make up one release.

A manifest is an in-toto Statement v1 with predicateType :data:`MANIFEST_PREDICATE`; its
predicate names the project and version::

    {"_type": "https://in-toto.io/Statement/v1",
     "subject": [{"name": "app-1.4.0.tar.gz", "digest": {"sha256": "..."}}, ...],
     "predicateType": "https://pqsign.dev/attestation/release-manifest/v1",
     "predicate": {"project": "myproject", "version": "1.4.0", "createdAt": "..."}}

Approvers sign the SHA-256 of the exact manifest bytes, so the file is never re-serialised.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pqsign._internal.fs import read_bounded
from pqsign.envelope.statement import Statement, Subject
from pqsign.errors import InputError
from pqsign.files import hash_file

__all__ = ["MANIFEST_PREDICATE", "Manifest", "create_manifest", "load_manifest"]

MANIFEST_PREDICATE = "https://pqsign.dev/attestation/release-manifest/v1"
MAX_MANIFEST_SIZE = 64 << 20


@dataclass(frozen=True, slots=True)
class Manifest:
    """A parsed manifest and the exact bytes it was read from."""

    raw: bytes
    statement: Statement
    path: str = ""

    @property
    def digest(self) -> str:
        """SHA-256 of the manifest bytes: what approvals sign."""
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def version(self) -> str:
        return str(self.statement.predicate.get("version", ""))

    @property
    def project(self) -> str:
        return str(self.statement.predicate.get("project", ""))

    @classmethod
    def from_bytes(cls, raw: bytes, *, what: str = "release manifest") -> Manifest:
        """Parse a manifest.

        Raises:
            InputError: not a release-manifest statement, no version, repeated artifact names.
        """
        try:
            statement = Statement.from_json(raw)
        except InputError as exc:
            raise InputError(f"{what}: {exc.message}") from None
        if statement.predicate_type != MANIFEST_PREDICATE:
            raise InputError(f"{what} has predicateType {statement.predicate_type!r}, "
                             f"expected {MANIFEST_PREDICATE}")
        if not isinstance(statement.predicate.get("version"), str) or not statement.predicate["version"]:
            raise InputError(f"{what} names no release version")
        names = [s.name for s in statement.subjects]
        if len(set(names)) != len(names):
            raise InputError(f"{what} lists an artifact name twice")
        for subject in statement.subjects:
            if "sha256" not in subject.digest:
                raise InputError(f"{what}: artifact {subject.name!r} has no sha256 digest")
        return cls(raw, statement, what)


def create_manifest(files: Sequence[Path], version: str, project: str = "") -> Manifest:
    """Hash each file (streaming) and build the manifest; artifacts are named by base name.

    Raises:
        InputError: no files, unreadable files, two files with the same base name, no version.
    """
    from datetime import UTC, datetime

    if not files:
        raise InputError("a release manifest needs at least one artifact")
    if not version:
        raise InputError("a release manifest needs a --version")
    subjects = []
    seen: set[str] = set()
    for path in files:
        name = Path(path).name
        if name in seen:
            raise InputError(f"two artifacts are named {name!r}; names must be unique in a release")
        seen.add(name)
        subjects.append(Subject(name, {"sha256": hash_file(Path(path)).sha256}))
    statement = Statement(
        tuple(subjects), MANIFEST_PREDICATE,
        {"project": project, "version": version,
         "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")},
    )
    return Manifest.from_bytes(statement.to_json() + b"\n")


def load_manifest(path: Path | str) -> Manifest:
    """Read a manifest file (bounded in size)."""
    raw = read_bounded(Path(path), MAX_MANIFEST_SIZE, "release manifest")
    manifest = Manifest.from_bytes(raw, what=f"release manifest {path}")
    return Manifest(manifest.raw, manifest.statement, str(path))
