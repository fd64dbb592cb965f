"""DSSE envelopes: https://github.com/secure-systems-lab/dsse/blob/v1.0.2/protocol.md

    SIGNATURE = Sign(PAE(UTF8(PAYLOAD_TYPE), SERIALIZED_BODY))
    PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body

An envelope may carry several signatures (a co-signed release policy has one per approver);
inside a Sigstore bundle it carries exactly one. A ``keyid`` is unauthenticated and never used
for a security decision: thresholds count distinct *trusted keys that verified*.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from pqsign.errors import InputError

__all__ = ["pae", "Envelope", "Signature", "b64decode_any", "MAX_SIGNATURES"]


def pae(payload_type: str, payload: bytes) -> bytes:
    """The DSSE v1 Pre-Authentication Encoding of ``payload_type`` and ``payload``."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


def b64decode_any(text: Any, what: str) -> bytes:
    """Decode standard or URL-safe base64, padded or not (DSSE verifiers MUST accept both).

    Raises:
        InputError: not a string, or not base64.
    """
    if not isinstance(text, str):
        raise InputError(f"{what} must be a base64 string")
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{what} is not valid base64") from None


#: Most signatures pqsign reads from one envelope (a co-signed policy has one per approver).
MAX_SIGNATURES = 256


@dataclass(frozen=True, slots=True)
class Signature:
    """One DSSE signature. ``keyid`` is a hint only, never trusted."""

    sig: bytes
    keyid: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"sig": base64.b64encode(self.sig).decode(), "keyid": self.keyid}


@dataclass(frozen=True, slots=True)
class Envelope:
    """A DSSE envelope: a typed payload and the signatures over its PAE."""

    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...] = ()

    def pae(self) -> bytes:
        """The bytes every signature covers."""
        return pae(self.payload_type, self.payload)

    @property
    def signature(self) -> bytes:
        """The only signature of a single-signature envelope (as in a Sigstore bundle)."""
        if len(self.signatures) != 1:
            raise InputError(f"expected exactly one DSSE signature, found {len(self.signatures)}")
        return self.signatures[0].sig

    def with_signature(self, signature: Signature) -> Envelope:
        """A copy with ``signature`` added, replacing an earlier one with the same keyid."""
        kept = tuple(s for s in self.signatures if not (signature.keyid and s.keyid == signature.keyid))
        return Envelope(self.payload_type, self.payload, (*kept, signature))

    def to_dict(self) -> dict[str, Any]:
        """Sigstore's JSON mapping of the envelope (standard base64)."""
        return {
            "payload": base64.b64encode(self.payload).decode(),
            "payloadType": self.payload_type,
            "signatures": [s.to_dict() for s in self.signatures],
        }

    @classmethod
    def from_dict(cls, data: Any, *, exactly_one: bool = True) -> Envelope:
        """Parse and check the envelope's shape.

        Args:
            data: the decoded JSON object.
            exactly_one: require exactly one signature (Sigstore bundles); otherwise accept
                zero to :data:`MAX_SIGNATURES`.

        Raises:
            InputError: missing fields, wrong types, bad base64, or a wrong signature count.
        """
        if not isinstance(data, dict):
            raise InputError("DSSE envelope must be a JSON object")
        payload_type = data.get("payloadType")
        if not isinstance(payload_type, str) or not payload_type:
            raise InputError("DSSE envelope has no payloadType")
        payload = b64decode_any(data.get("payload"), "DSSE payload")
        entries = data.get("signatures")
        if not isinstance(entries, list):
            raise InputError("DSSE envelope has no signatures list")
        if exactly_one and len(entries) != 1:
            raise InputError(f"DSSE envelope must carry exactly one signature, found {len(entries)}")
        if len(entries) > MAX_SIGNATURES:
            raise InputError(f"DSSE envelope carries {len(entries)} signatures; "
                             f"the limit is {MAX_SIGNATURES}")
        signatures = []
        for entry in entries:
            if not isinstance(entry, dict):
                raise InputError("DSSE signature entry must be a JSON object")
            keyid = entry.get("keyid", "")
            if not isinstance(keyid, str):
                raise InputError("DSSE keyid must be a string")
            signatures.append(Signature(b64decode_any(entry.get("sig"), "DSSE signature"), keyid))
        return cls(payload_type, payload, tuple(signatures))
