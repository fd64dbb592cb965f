"""Verify every commit of a range (and annotated tags) in one process, for CI.

Objects are read with one ``git rev-list`` and one ``git cat-file --batch``; signatures are split
out exactly as git does (commit.c ``parse_buffer_signed_by_header``: every ``gpgsig`` and
``gpgsig-sha256`` header is removed from the payload and the one for the repository's hash
algorithm is the signature; tag.c / gpg-interface.c ``parse_signed_buffer``: a tag's signature
starts at the last line that begins a known armor). Each signature is judged by
:func:`pqsign.git.signature.judge`, the function git's own program uses, so the letters agree
with ``git log --format=%G?``.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pqsign.errors import InputError
from pqsign.git.signature import GitResult, Verdict, judge, payload_identity_email
from pqsign.keys.keyring import KeyringEntry

__all__ = ["ObjectVerdict", "split_commit_signature", "split_tag_signature", "verify_history"]

_ARMORS = (b"-----BEGIN PGP SIGNATURE-----", b"-----BEGIN PGP MESSAGE-----",
           b"-----BEGIN SIGNED MESSAGE-----", b"-----BEGIN SSH SIGNATURE-----")


@dataclass(frozen=True, slots=True)
class ObjectVerdict:
    """One commit or tag and its outcome."""

    oid: str
    kind: str           # "commit" or "tag"
    author: str
    subject: str
    parents: int
    verdict: Verdict
    allowed: bool       # passes the CI gate


def split_commit_signature(raw: bytes, object_format: str = "sha1") -> tuple[bytes, bytes | None]:
    """(payload, signature or None) of a raw commit object, as git computes them."""
    own = b"gpgsig" if object_format == "sha1" else b"gpgsig-sha256"
    header, sep, body = raw.partition(b"\n\n")
    payload_lines: list[bytes] = []
    signature_lines: list[bytes] | None = None
    current: bytes | None = None
    for line in header.split(b"\n"):
        if line.startswith(b" ") and current is not None:
            if current == own and signature_lines is not None:
                signature_lines.append(line[1:])
            if current in (b"gpgsig", b"gpgsig-sha256"):
                continue
            payload_lines.append(line)
            continue
        current = line.split(b" ", 1)[0]
        if current in (b"gpgsig", b"gpgsig-sha256"):
            if current == own:
                signature_lines = [line[len(own) + 1:]]
            continue
        payload_lines.append(line)
    payload = b"\n".join(payload_lines) + sep + body
    signature = b"\n".join(signature_lines) + b"\n" if signature_lines is not None else None
    return payload, signature


def split_tag_signature(raw: bytes) -> tuple[bytes, bytes | None]:
    """(payload, signature or None) of a raw tag object: split at the last armor line."""
    start = -1
    offset = 0
    for line in raw.splitlines(keepends=True):
        if line.startswith(_ARMORS):
            start = offset
        offset += len(line)
    if start < 0:
        return raw, None
    return raw[:start], raw[start:]


def _git(repo: Path, *args: str) -> str:
    try:
        out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=300)
    except FileNotFoundError:
        raise InputError("git is not installed") from None
    if out.returncode != 0:
        raise InputError(f"git {' '.join(args)} failed: {out.stderr.strip()}")
    return out.stdout


def _read_objects(repo: Path, oids: Sequence[str]) -> Iterator[tuple[str, str, bytes]]:
    """(oid, type, raw bytes) for each oid, from one ``git cat-file --batch``."""
    proc = subprocess.Popen(["git", "-C", str(repo), "cat-file", "--batch"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    def feed() -> None:
        try:
            stdin.write("".join(f"{oid}\n" for oid in oids).encode())
        finally:
            stdin.close()

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        for _ in oids:
            header = stdout.readline().split()
            if len(header) != 3:
                raise InputError(f"git cat-file could not read {header[0].decode() if header else 'an object'}")
            size = int(header[2])
            raw = stdout.read(size)
            stdout.read(1)
            yield header[0].decode(), header[1].decode(), raw
    finally:
        writer.join()
        stdout.close()
        proc.wait()


def _field(raw: bytes, name: bytes) -> str:
    for line in raw.split(b"\n\n", 1)[0].split(b"\n"):
        if line.startswith(name + b" "):
            value = line[len(name) + 1:].decode("utf-8", "replace")
            return value.rsplit(" ", 2)[0] if name in (b"author", b"tagger") else value
    return ""


def verify_history(repo: Path, revisions: Sequence[str], keyring: Mapping[str, KeyringEntry], *,
                   tags: Sequence[str] = (), allow_unsigned_merges: bool = False,
                   match_committer: bool = False) -> list[ObjectVerdict]:
    """Verify every commit ``git rev-list REVISIONS`` lists, and each named annotated tag.

    A commit passes the gate only if its letter is G; with ``allow_unsigned_merges`` an unsigned
    merge commit passes too (its signed parents are checked in their own right).

    Raises:
        InputError: not a repository, or a revision/tag git does not know.
    """
    object_format = _git(repo, "rev-parse", "--show-object-format").strip() or "sha1"
    oids = _git(repo, "rev-list", *revisions, "--").split() if revisions else []
    tag_oids = [_git(repo, "rev-parse", "--verify", f"refs/tags/{tag}").strip() for tag in tags]
    results: list[ObjectVerdict] = []
    for oid, kind, raw in _read_objects(repo, [*oids, *tag_oids]):
        if kind == "commit":
            payload, signature = split_commit_signature(raw, object_format)
            author, parents = _field(raw, b"author"), raw.count(b"\nparent ") + raw.startswith(b"parent ")
        elif kind == "tag":
            payload, signature = split_tag_signature(raw)
            author, parents = _field(raw, b"tagger"), 0
        else:
            raise InputError(f"{oid} is a {kind}, not a commit or an annotated tag")
        subject = raw.split(b"\n\n", 1)[1].split(b"\n", 1)[0].decode("utf-8", "replace") if b"\n\n" in raw else ""
        if signature is None:
            verdict = Verdict(GitResult.UNSIGNED, reason="not signed")
        else:
            require = payload_identity_email(payload) if match_committer else None
            verdict = judge(payload, signature, keyring, require_email=require)
        allowed = verdict.result is GitResult.GOOD or (
            allow_unsigned_merges and kind == "commit" and parents > 1 and verdict.result is GitResult.UNSIGNED)
        results.append(ObjectVerdict(oid, kind, author, subject, parents, verdict, allowed))
    return results
