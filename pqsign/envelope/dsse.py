"""DSSE envelopes: https://github.com/secure-systems-lab/dsse/blob/v1.0.2/protocol.md

    SIGNATURE = Sign(PAE(UTF8(PAYLOAD_TYPE), SERIALIZED_BODY))
    PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body

pqsign envelopes carry exactly one signature (the Sigstore bundle rule). The ``keyid`` in an
envelope is unauthenticated and never used for a security decision.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from pqsign.errors import InputError

__all__ = ["pae", "Envelope", "b64decode_any"]


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


@dataclass(frozen=True, slots=True)
class Envelope:
    """A DSSE envelope with exactly one signature."""

    payload_type: str
    payload: bytes
    signature: bytes
    keyid: str = ""

    def pae(self) -> bytes:
        """The bytes the signature covers."""
        return pae(self.payload_type, self.payload)

    def to_dict(self) -> dict[str, Any]:
        """Sigstore's JSON mapping of the envelope (standard base64)."""
        return {
            "payload": base64.b64encode(self.payload).decode(),
            "payloadType": self.payload_type,
            "signatures": [{"sig": base64.b64encode(self.signature).decode(), "keyid": self.keyid}],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Envelope:
        """Parse and check the envelope's shape.

        Raises:
            InputError: missing fields, wrong types, bad base64, or not exactly one signature.
        """
        if not isinstance(data, dict):
            raise InputError("DSSE envelope must be a JSON object")
        payload_type = data.get("payloadType")
        if not isinstance(payload_type, str) or not payload_type:
            raise InputError("DSSE envelope has no payloadType")
        payload = b64decode_any(data.get("payload"), "DSSE payload")
        signatures = data.get("signatures")
        if not isinstance(signatures, list) or len(signatures) != 1:
            count = len(signatures) if isinstance(signatures, list) else 0
            raise InputError(f"DSSE envelope must carry exactly one signature, found {count}")
        entry = signatures[0]
        if not isinstance(entry, dict):
            raise InputError("DSSE signature entry must be a JSON object")
        signature = b64decode_any(entry.get("sig"), "DSSE signature")
        keyid = entry.get("keyid", "")
        if not isinstance(keyid, str):
            raise InputError("DSSE keyid must be a string")
        return cls(payload_type, payload, signature, keyid)
