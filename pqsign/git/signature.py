"""Sign git payloads and judge git signatures, the same way for git's program and for CI.

:func:`judge` is the one place that decides a signature's outcome, as the letter git shows in
``%G?``; the program git runs (:mod:`pqsign.git.program`) and ``pqsign git verify`` (which reads
whole commit ranges in one process) both call it, so they cannot disagree.

Steps of :func:`judge`:
    (0) the armor and the CMS SignedData are well formed (else E);
    (1) the signer's key: the keyring entry with the signer's key id, else the key of the
        embedded certificate, which proves only that the signature is valid (U at best);
        with neither, the key is unknown (E);
    (2) the signature algorithm, and CMSAlgorithmProtection if present, equal the key's
        algorithm and the digest pqsign expects for it (else B);
    (3) content-type is id-data and message-digest equals the payload's digest (else B);
    (4) the signature over the signed attributes verifies under the key (else B);
    (5) the key is in the keyring (else U) and, when asked, its email equals the committer's
        or tagger's (else U);
    then G.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pqsign.errors import InputError, VerificationError
from pqsign.keys.keyfile import PrivateKey, PublicKey
from pqsign.keys.keyring import KeyringEntry

__all__ = ["GitResult", "Verdict", "sign_payload", "judge", "payload_identity_email"]


class GitResult(StrEnum):
    """The outcome, as git's ``%G?`` letters."""

    GOOD = "G"
    BAD = "B"
    UNTRUSTED = "U"
    ERROR = "E"
    UNSIGNED = "N"


@dataclass(frozen=True, slots=True)
class Verdict:
    """One signature's outcome and what git's status lines need to tell it."""

    result: GitResult
    key_id: str = ""
    signer: str = ""
    reason: str = ""
    signing_time: datetime | None = None
    algorithm: str = ""


def sign_payload(payload: bytes, key: PrivateKey, identity: str) -> bytes:
    """An armored detached CMS signature of ``payload`` (ends with a newline, as git needs)."""
    from pqsign.git.cms import armor, sign_detached

    return armor(sign_detached(payload, key, identity or key.public_key().key_id))


_IDENTITY_RE = re.compile(rb"^(?:committer|tagger) [^<\n]*<([^>\n]*)>", re.M)


def payload_identity_email(payload: bytes) -> str:
    """The committer's (commit) or tagger's (tag) email in a git object's headers."""
    header = payload.split(b"\n\n", 1)[0]
    match = _IDENTITY_RE.search(header)
    return match.group(1).decode("utf-8", "replace") if match else ""


def judge(payload: bytes, signature: bytes, keyring: Mapping[str, KeyringEntry], *,
          require_email: str | None = None) -> Verdict:
    """The outcome of ``signature`` over ``payload`` given trusted keys (by key id)."""
    from pqsign.git.cms import dearmor, parse_detached

    # (0)
    try:
        parsed = parse_detached(dearmor(signature))
    except InputError as exc:
        return Verdict(GitResult.ERROR, reason=exc.message)
    # (1)
    entry = keyring.get(parsed.key_id)
    if entry is not None:
        key: PublicKey | None = entry.public_key
        signer = entry.identity
    else:
        key, signer = parsed.certificate_key()
    if key is None:
        return Verdict(GitResult.ERROR, parsed.key_id, reason=f"unknown key {parsed.key_id[:16]}: "
                       "not in the keyring and no certificate in the signature")
    signer = signer.replace("\n", " ").replace("\r", " ") or parsed.key_id

    def bad(reason: str) -> Verdict:
        return Verdict(GitResult.BAD, parsed.key_id, signer, reason, parsed.signing_time, key.algorithm.name)

    # (2)
    if parsed.signature_oid != key.algorithm.oid:
        return bad(f"signature algorithm {parsed.signature_oid} is not the key's ({key.algorithm.name})")
    if parsed.digest_name != key.algorithm.cms_digest:
        return bad(f"digest {parsed.digest_name} is not {key.algorithm.cms_digest} for {key.algorithm.name}")
    if parsed.protection is not None and parsed.protection != (key.algorithm.cms_digest, key.algorithm.oid):
        return bad("CMSAlgorithmProtection does not match the signature's algorithms")
    # (3)
    if not parsed.content_type_is_data or not parsed.digest_matches(payload):
        return bad("the signed content differs from this commit or tag (modified after signing)")
    # (4)
    try:
        key.verify(parsed.signed_attributes, parsed.signature)
    except (VerificationError, InputError):
        return bad("the signature does not verify")
    # (5)
    if entry is None:
        return Verdict(GitResult.UNTRUSTED, parsed.key_id, signer,
                       f"valid signature, but key {parsed.key_id[:16]} is not in the keyring",
                       parsed.signing_time, key.algorithm.name)
    if require_email is not None and entry.email.lower() != require_email.lower():
        return Verdict(GitResult.UNTRUSTED, parsed.key_id, signer,
                       f"signer {entry.identity} is not the committer <{require_email}>",
                       parsed.signing_time, key.algorithm.name)
    return Verdict(GitResult.GOOD, parsed.key_id, signer, "", parsed.signing_time, key.algorithm.name)
