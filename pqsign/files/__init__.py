"""Sign and verify files with detached signature bundles.

A file signature is a Sigstore bundle whose DSSE envelope carries an in-toto Statement
naming the file and its SHA-256 (predicateType
:attr:`~pqsign.envelope.statement.PredicateType.ARTIFACT_SIGNATURE`). Files are hashed in one
streaming pass in constant memory, whatever their size.

Example::

    bundle = sign_file(Path("app.tar.gz"), private_key)
    Path("app.tar.gz.pqsig").write_bytes(bundle.to_json())
    result = verify_file(Path("app.tar.gz"), bundle, load_keyring("team.keys"))
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pqsign import __version__
from pqsign.envelope.bundle import Bundle
from pqsign.envelope.dsse import Envelope, Signature
from pqsign.envelope.statement import PAYLOAD_TYPE, PredicateType, Statement, Subject
from pqsign.errors import InputError, VerificationError
from pqsign.keys.keyfile import PrivateKey
from pqsign.keys.keyring import KeyringEntry
from pqsign.keys.trust import find_signer

__all__ = [
    "SIGNATURE_SUFFIX",
    "FileDigest",
    "FileVerification",
    "hash_file",
    "sign_digest",
    "sign_file",
    "sign_statement",
    "verify_bundle",
    "verify_file",
]

#: Default detached-signature file name: ``<file>.pqsig``.
SIGNATURE_SUFFIX = ".pqsig"
_CHUNK = 1 << 20

ProgressCallback = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class FileDigest:
    """A file's SHA-256 (lowercase hex) and size in bytes."""

    sha256: str
    size: int


def hash_file(path: Path, progress: ProgressCallback | None = None) -> FileDigest:
    """SHA-256 of a file in one streaming pass with a fixed 1 MiB buffer.

    Args:
        path: the file.
        progress: called with the number of bytes read after each chunk.

    Raises:
        InputError: missing, unreadable or not a regular file.
    """
    digest = hashlib.sha256()
    size = 0
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the type is checked on the fd.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError(path)
            raise InputError(f"{path} is not a regular file (a pipe or device?)")
        os.set_blocking(fd, True)
        with open(fd, "rb", buffering=0) as handle:
            # Small files get a small buffer: a release of 1,000 wheels should not zero 1 GB.
            view = memoryview(bytearray(max(4096, min(_CHUNK, info.st_size + 1))))
            while count := handle.readinto(view):
                digest.update(view[:count])
                size += count
                if progress is not None:
                    progress(count)
    except FileNotFoundError:
        raise InputError(f"file {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory; pass the files inside it") from None
    except PermissionError:
        raise InputError(f"cannot read {path}: permission denied") from None
    return FileDigest(digest.hexdigest(), size)


def sign_statement(statement: Statement, key: PrivateKey) -> Bundle:
    """Sign a statement: DSSE over its JSON, empty ML-DSA context, in a Sigstore bundle."""
    public = key.public_key()
    envelope = Envelope(PAYLOAD_TYPE, statement.to_json())
    signature = Signature(key.sign(envelope.pae()), public.key_id)
    return Bundle(envelope.with_signature(signature), public.key_id)


def sign_file(path: Path, key: PrivateKey, *, name: str | None = None,
              progress: ProgressCallback | None = None) -> Bundle:
    """Hash ``path`` and sign a statement naming it (``name`` defaults to its base name)."""
    return sign_digest(name or Path(path).name, hash_file(path, progress), key)


def sign_digest(name: str, digest: FileDigest, key: PrivateKey) -> Bundle:
    """Sign an artifact-signature statement for a file already hashed with :func:`hash_file`."""
    from datetime import UTC, datetime

    public = key.public_key()
    statement = Statement(
        subjects=(Subject(name, {"sha256": digest.sha256}),),
        predicate_type=PredicateType.ARTIFACT_SIGNATURE.value,
        predicate={
            "algorithm": public.algorithm.name,
            "keyId": public.key_id,
            "signedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "size": digest.size,
            "tool": f"pqsign {__version__}",
        },
    )
    return sign_statement(statement, key)


@dataclass(frozen=True, slots=True)
class BundleVerification:
    """A bundle whose signature a trusted key verified, and the statement it signed."""

    signer: KeyringEntry
    statement: Statement


def verify_bundle(bundle: Bundle, trusted: Iterable[KeyringEntry],
                  predicate_types: Iterable[str]) -> BundleVerification:
    """Check a bundle's signature against trusted keys and return its verified statement.

    Steps:
        (0) at least one trusted key was supplied;
        (1) the envelope's payloadType is the in-toto one (a signature reused under another
            payloadType does not verify, since PAE binds the type);
        (2) some trusted key verifies the signature over PAE(payloadType, payload), with the
            algorithm of that key (the bundle's hint only orders the attempts);
        (3) the verified payload is an in-toto Statement v1 of an accepted predicateType.

    Raises:
        InputError: no trusted keys.
        VerificationError: any step fails.
    """
    keys = list(trusted)
    # (0)
    if not keys:
        raise InputError("no trusted keys given", hint="pass --key KEY.pub or --keyring FILE")
    envelope = bundle.envelope
    # (1)
    if envelope.payload_type != PAYLOAD_TYPE:
        raise VerificationError(f"unexpected DSSE payloadType {envelope.payload_type!r}; "
                                f"pqsign signs {PAYLOAD_TYPE}")
    # (2)
    signer = find_signer(envelope.pae(), envelope.signature, keys, bundle.key_hint)
    if signer is None:
        hinted = next((e for e in keys if e.key_id == bundle.key_hint), None)
        if hinted is not None:
            raise VerificationError(f"signature is not valid for key {hinted.identity} "
                                    f"({hinted.key_id[:16]}): the signed content was modified")
        raise VerificationError(
            f"signature was not made by any of the {len(keys)} trusted key(s)",
            hint=f"the bundle names key {bundle.key_hint[:16] or '(none)'}; is it in your keyring?",
        )
    # (3)
    try:
        statement = Statement.from_json(envelope.payload)
    except InputError as exc:
        raise VerificationError(f"signed payload is not usable: {exc.message}") from None
    accepted = set(predicate_types)
    if statement.predicate_type not in accepted:
        raise VerificationError(
            f"signature attests {statement.predicate_type!r}, not one of {sorted(accepted)}",
            hint="this signature was made for another purpose and cannot stand in for this one",
        )
    return BundleVerification(signer, statement)


@dataclass(frozen=True, slots=True)
class FileVerification:
    """A verified file: who signed it, its digest, and the statement they signed."""

    path: str
    digest: FileDigest
    signer: KeyringEntry
    statement: Statement


def verify_file(path: Path, bundle: Bundle, trusted: Iterable[KeyringEntry], *,
                expected_name: str | None = None,
                progress: ProgressCallback | None = None) -> FileVerification:
    """Verify a file against its detached signature bundle.

    Steps:
        (0)-(3) :func:`verify_bundle` with the artifact-signature predicate type;
        (4) the file's SHA-256, streamed, equals a subject's ``sha256`` digest;
        (5) if ``expected_name`` is given, that subject bears this name.

    Raises:
        InputError: unreadable file, no trusted keys.
        VerificationError: any step fails.
    """
    verified = verify_bundle(bundle, trusted, [PredicateType.ARTIFACT_SIGNATURE.value])
    # (4)
    digest = hash_file(path, progress)
    matching = [s for s in verified.statement.subjects if s.digest.get("sha256") == digest.sha256]
    if not matching:
        raise VerificationError(
            f"{path} does not match its signature: its SHA-256 is not the signed digest",
            hint="the file was modified, or this signature belongs to another file",
        )
    # (5)
    if expected_name is not None and all(s.name != expected_name for s in matching):
        names = ", ".join(repr(s.name) for s in matching)
        raise VerificationError(f"signature names {names}, not {expected_name!r}")
    return FileVerification(str(path), digest, verified.signer, verified.statement)
