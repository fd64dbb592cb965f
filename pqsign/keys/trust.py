"""Matching signatures to trusted keys. Trust comes only from keys the verifier supplies.

Thresholds count *distinct trusted keys whose signature verified*, identified by the key id
computed from the trusted key material, never by an id claimed next to a signature.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pqsign.errors import InputError, VerificationError
from pqsign.keys.keyring import KeyringEntry

__all__ = ["find_signer", "distinct_signers"]


def find_signer(message: bytes, signature: bytes, trusted: Sequence[KeyringEntry],
                hint: str = "") -> KeyringEntry | None:
    """The trusted key that verifies ``signature`` over ``message``, if any.

    Each key verifies with its own algorithm (from its SPKI OID). ``hint`` (an unauthenticated
    key id) only decides which key is tried first.
    """
    for entry in sorted(trusted, key=lambda e: e.key_id != hint):
        if len(signature) > entry.public_key.algorithm.signature_size:
            continue
        try:
            entry.public_key.verify(message, signature)
        except (VerificationError, InputError):
            continue
        return entry
    return None


def distinct_signers(message: bytes, signatures: Iterable[tuple[bytes, str]],
                     trusted: Sequence[KeyringEntry]) -> dict[str, KeyringEntry]:
    """Trusted keys (by key id) that verified at least one of ``(signature, hint)`` over ``message``.

    A key that signed twice, or is listed twice among ``trusted``, still counts once.
    """
    signers: dict[str, KeyringEntry] = {}
    for signature, hint in signatures:
        remaining = [e for e in trusted if e.key_id not in signers]
        entry = find_signer(message, signature, remaining, hint)
        if entry is not None:
            signers[entry.key_id] = entry
    return signers
