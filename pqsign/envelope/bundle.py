"""Sigstore bundle v0.3 (``application/vnd.dev.sigstore.bundle.v0.3+json``), the file format of
every pqsign signature: https://github.com/sigstore/protobuf-specs (sigstore_bundle.proto).

    {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
     "verificationMaterial": {"publicKey": {"hint": "<key id>"}},
     "dsseEnvelope": {"payload": ..., "payloadType": "application/vnd.in-toto+json",
                      "signatures": [{"sig": ..., "keyid": "<key id>"}]}}

The ``hint`` (pqsign's key id, the SHA-256 of the SPKI) only picks which trusted key to try
first; it is never trusted. Bundles are bounded in size before they are parsed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pqsign._internal.fs import read_bounded
from pqsign.envelope.dsse import Envelope
from pqsign.errors import InputError

__all__ = ["BundleMediaType", "Bundle", "MAX_BUNDLE_SIZE", "read_bundle"]

#: Largest bundle pqsign reads: far above any signature (SLH-DSA-128f: ~23 KiB of base64).
MAX_BUNDLE_SIZE = 1 << 20


class BundleMediaType(StrEnum):
    """The bundle media types pqsign reads and writes."""

    V0_3 = "application/vnd.dev.sigstore.bundle.v0.3+json"


@dataclass(frozen=True, slots=True)
class Bundle:
    """A Sigstore bundle holding one DSSE envelope and a public-key hint."""

    envelope: Envelope
    key_hint: str

    def to_json(self) -> bytes:
        """Serialized bundle, ending in a newline."""
        document = {
            "mediaType": BundleMediaType.V0_3.value,
            "verificationMaterial": {"publicKey": {"hint": self.key_hint}},
            "dsseEnvelope": self.envelope.to_dict(),
        }
        return (json.dumps(document, indent=2) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes, *, what: str = "bundle", max_size: int = MAX_BUNDLE_SIZE) -> Bundle:
        """Parse a bundle, checking its size, media type and shape.

        Args:
            max_size: the largest bundle accepted (attestations carrying an SBOM need more).

        Raises:
            InputError: oversized, not JSON (e.g. truncated), wrong media type, malformed.
        """
        if len(data) > max_size:
            raise InputError(f"{what} is too large ({len(data)} bytes; limit {max_size})")
        try:
            document: Any = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{what} is not valid JSON ({exc}); is it truncated or corrupted?",
                             hint="re-download it or sign the file again") from None
        if not isinstance(document, dict):
            raise InputError(f"{what} is not a Sigstore bundle (expected a JSON object)")
        media_type = document.get("mediaType")
        if media_type not in {m.value for m in BundleMediaType}:
            raise InputError(f"{what} has media type {media_type!r}, expected {BundleMediaType.V0_3.value}")
        material = document.get("verificationMaterial")
        if not isinstance(material, dict) or not isinstance(material.get("publicKey"), dict):
            raise InputError(f"{what} has no verificationMaterial.publicKey "
                             "(pqsign bundles are signed by keys, not certificates)")
        hint = material["publicKey"].get("hint", "")
        if not isinstance(hint, str):
            raise InputError(f"{what}: verificationMaterial.publicKey.hint must be a string")
        if "dsseEnvelope" not in document:
            raise InputError(f"{what} has no dsseEnvelope")
        try:
            envelope = Envelope.from_dict(document["dsseEnvelope"])
        except InputError as exc:
            raise InputError(f"{what}: {exc.message}") from None
        return cls(envelope, hint)


def read_bundle(path: Path, max_size: int = MAX_BUNDLE_SIZE) -> Bundle:
    """Read and parse a bundle file (bounded before reading)."""
    return Bundle.from_json(read_bounded(path, max_size, "signature bundle"),
                            what=f"signature bundle {path}", max_size=max_size)
