"""in-toto Statement v1: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md

    {"_type": "https://in-toto.io/Statement/v1",
     "subject": [{"name": "<NAME>", "digest": {"sha256": "<lowercase hex>"}}],
     "predicateType": "<URI>", "predicate": {...}}

pqsign's own predicate types are versioned URIs under ``https://pqsign.dev/``; see
:class:`PredicateType`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pqsign.errors import InputError

__all__ = ["STATEMENT_TYPE", "PAYLOAD_TYPE", "PredicateType", "Subject", "Statement"]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
#: DSSE payloadType of an in-toto statement (Sigstore client spec section 4.5).
PAYLOAD_TYPE = "application/vnd.in-toto+json"

_HEX = re.compile(r"^[0-9a-f]+$")
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


class PredicateType(StrEnum):
    """What a pqsign statement attests. Each verifier accepts only its own types."""

    ARTIFACT_SIGNATURE = "https://pqsign.dev/attestation/artifact-signature/v1"


@dataclass(frozen=True, slots=True)
class Subject:
    """A named artifact and its digests (lowercase hex, keyed by algorithm)."""

    name: str
    digest: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "digest": dict(sorted(self.digest.items()))}

    @classmethod
    def from_dict(cls, data: Any) -> Subject:
        if not isinstance(data, dict):
            raise InputError("statement subject must be a JSON object")
        name = data.get("name", "")
        digest = data.get("digest")
        if not isinstance(name, str):
            raise InputError("statement subject name must be a string")
        if not isinstance(digest, dict) or not digest:
            raise InputError("statement subject has no digest (in-toto requires one)")
        for algorithm, value in digest.items():
            if not isinstance(value, str) or not _HEX.match(value):
                raise InputError(f"statement subject digest {algorithm} is not lowercase hex")
            expected = _DIGEST_LENGTHS.get(algorithm)
            if expected is not None and len(value) != expected:
                raise InputError(f"statement subject {algorithm} digest has the wrong length")
        return cls(name, dict(digest))


@dataclass(frozen=True, slots=True)
class Statement:
    """An in-toto v1 Statement."""

    subjects: tuple[Subject, ...]
    predicate_type: str
    predicate: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        """Serialized payload bytes (compact, sorted keys: stable for the same content)."""
        document = {
            "_type": STATEMENT_TYPE,
            "subject": [s.to_dict() for s in self.subjects],
            "predicateType": self.predicate_type,
            "predicate": self.predicate,
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, payload: bytes) -> Statement:
        """Parse a statement from the *verified* payload bytes.

        Raises:
            InputError: not JSON, wrong ``_type``, no subjects, malformed fields.
        """
        try:
            document = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            raise InputError("signed payload is not a JSON in-toto statement") from None
        if not isinstance(document, dict) or document.get("_type") != STATEMENT_TYPE:
            raise InputError(f"signed payload is not an in-toto Statement v1 ({STATEMENT_TYPE})")
        subjects = document.get("subject")
        if not isinstance(subjects, list) or not subjects:
            raise InputError("in-toto statement has no subject")
        predicate_type = document.get("predicateType")
        if not isinstance(predicate_type, str) or not predicate_type:
            raise InputError("in-toto statement has no predicateType")
        predicate = document.get("predicate", {})
        if not isinstance(predicate, dict):
            raise InputError("in-toto statement predicate must be a JSON object")
        return cls(tuple(Subject.from_dict(s) for s in subjects), predicate_type, predicate)
