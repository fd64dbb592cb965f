"""SBOMs as signed attestations: the core bundle, or an embedded JSF signature.

Attestation (the default): a core bundle whose in-toto Statement has predicateType
``https://cyclonedx.org/bom``, the SBOM as predicate, and the described artifact as subject
(a file's SHA-256, or an image manifest digest). Verification checks, in order:
(1) a trusted key signed it; (2) it attests a CycloneDX BOM (``…/bom`` or ``…/bom/v1.x``);
(3) its subject is the artifact the user names; (4) the SBOM the user has is the one signed;
(5) the signed SBOM validates against the CycloneDX schema.

Embedded (``--embed``): a JSF 0.82 ``signature`` on the BOM root, algorithm given as the URI
``urn:oid:<OID>`` (CycloneDX's schema accepts URIs; names like "ML-DSA-65" fail validation),
the key named by ``keyId``, the value the raw signature in base64url over the RFC 8785 (JCS)
canonical form of the BOM with the signature object minus its ``value``. Other CycloneDX tools
cannot verify ML-DSA JSF signatures yet; ``pqsign sbom verify`` can.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pqsign.envelope.bundle import Bundle
from pqsign.envelope.statement import Statement, Subject
from pqsign.errors import InputError, VerificationError
from pqsign.files import sign_statement, verify_bundle
from pqsign.keys.keyfile import PrivateKey
from pqsign.keys.keyring import KeyringEntry
from pqsign.keys.trust import find_signer
from pqsign.sbom.cyclonedx import MAX_SBOM_SIZE, validate

__all__ = ["SBOM_PREDICATE", "SBOM_PREDICATES", "MAX_ATTESTATION_SIZE", "VerifiedSbom", "sign_sbom",
           "verify_sbom", "embed_signature", "verify_embedded"]

SBOM_PREDICATE = "https://cyclonedx.org/bom"
SBOM_PREDICATES = (SBOM_PREDICATE, *(f"https://cyclonedx.org/bom/v1.{minor}" for minor in range(2, 8)))
#: A bundle carries the SBOM base64-encoded inside a JSON statement.
MAX_ATTESTATION_SIZE = MAX_SBOM_SIZE * 3 // 2


@dataclass(frozen=True, slots=True)
class VerifiedSbom:
    signer: KeyringEntry
    document: dict[str, Any]
    subjects: tuple[Subject, ...] = ()


def sign_sbom(sbom: bytes, subjects: Sequence[Subject], key: PrivateKey) -> Bundle:
    """Validate ``sbom`` (an invalid one is refused with the schema error) and sign it as an
    attestation about ``subjects``."""
    document = validate(sbom)
    if not subjects:
        raise InputError("an SBOM attestation needs the artifact it describes (--subject)")
    return sign_statement(Statement(tuple(subjects), SBOM_PREDICATE, document), key)


def verify_sbom(bundle: Bundle, trusted: Iterable[KeyringEntry], *, subject_sha256: str,
                sbom: bytes | None = None) -> VerifiedSbom:
    """Steps (1)-(5) of the module docstring.

    Raises:
        VerificationError: any step fails.
    """
    # (1) + (2)
    verified = verify_bundle(bundle, trusted, SBOM_PREDICATES)
    statement = verified.statement
    # (3)
    if subject_sha256 not in {s.digest.get("sha256") for s in statement.subjects}:
        names = ", ".join(s.name for s in statement.subjects)
        raise VerificationError(f"the SBOM attestation describes {names}, not the artifact given",
                                hint="this SBOM was signed for another artifact (or the artifact changed)")
    # (4)
    if sbom is not None:
        try:
            given = json.loads(sbom)
        except (ValueError, UnicodeDecodeError):
            raise InputError("the SBOM file is not JSON") from None
        if given != statement.predicate:
            raise VerificationError("the SBOM file differs from the SBOM that was signed (modified after signing)")
    # (5)
    try:
        validate(json.dumps(statement.predicate).encode(), what="signed SBOM")
    except InputError as exc:
        raise VerificationError(exc.message) from None
    return VerifiedSbom(verified.signer, statement.predicate, statement.subjects)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _canonical(document: dict[str, Any]) -> bytes:
    import rfc8785

    return bytes(rfc8785.dumps(document))


def embed_signature(sbom: bytes, key: PrivateKey) -> bytes:
    """The SBOM with a JSF signature on its root (see the module docstring)."""
    document = validate(sbom)
    if "signature" in document:
        raise InputError("the SBOM already carries a signature", hint="sign the unsigned SBOM")
    public = key.public_key()
    signer: dict[str, Any] = {"algorithm": f"urn:oid:{public.algorithm.oid}", "keyId": public.key_id}
    document["signature"] = signer
    signer["value"] = _b64url(key.sign(_canonical(document)))
    data = (json.dumps(document, indent=2) + "\n").encode()
    validate(data, what="signed SBOM")
    return data


def verify_embedded(sbom: bytes, trusted: Sequence[KeyringEntry]) -> VerifiedSbom:
    """Verify a root JSF signature made by :func:`embed_signature`.

    Raises:
        InputError: no or malformed signature object, invalid SBOM.
        VerificationError: no trusted key verifies it, or its algorithm is not the key's.
    """
    document = validate(sbom)
    signature = document.get("signature")
    if not isinstance(signature, dict) or not isinstance(signature.get("value"), str):
        raise InputError("the SBOM carries no embedded signature and no bundle was found",
                         hint="pass --bundle FILE, or sign with `pqsign sbom sign --embed`")
    unsigned = copy.deepcopy(document)
    value = unsigned["signature"].pop("value")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise InputError("the embedded signature value is not base64url") from None
    algorithm = signature.get("algorithm")
    candidates = [e for e in trusted if algorithm == f"urn:oid:{e.public_key.algorithm.oid}"]
    signer = find_signer(_canonical(unsigned), raw, candidates, str(signature.get("keyId", "")))
    if signer is None:
        raise VerificationError(f"the embedded {algorithm} signature was not made by a trusted key, "
                                "or the SBOM was modified after signing")
    del document["signature"]
    return VerifiedSbom(signer, document)
