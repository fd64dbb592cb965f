"""SBOM attestations attached to container images as OCI referrers.

``attach`` signs the SBOM as an attestation about the image's manifest digest and pushes it as
a referrer of artifactType :data:`ATTESTATION_ARTIFACT_TYPE` (annotation
``dev.pqsign.predicateType: https://cyclonedx.org/bom``), with the referrer code and the
race-safe index update of :mod:`pqsign.oci`. ``verify_image_sboms`` finds, verifies and returns
every SBOM attestation of the image, newest first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pqsign.errors import InputError, VerificationError
from pqsign.keys.keyfile import PrivateKey
from pqsign.keys.keyring import KeyringEntry
from pqsign.oci.reference import ImageReference
from pqsign.oci.registry import Descriptor, RegistryClient
from pqsign.oci.signing import (
    ReferrerCheck,
    ReferrerKind,
    ReferrerState,
    SignedImage,
    attach_statement,
    check_signatures,
)
from pqsign.sbom.attestation import MAX_ATTESTATION_SIZE, SBOM_PREDICATE, SBOM_PREDICATES
from pqsign.sbom.cyclonedx import validate

__all__ = ["ATTESTATION_ARTIFACT_TYPE", "SBOM_ATTESTATIONS", "attach_sbom", "verify_image_sboms"]

ATTESTATION_ARTIFACT_TYPE = "application/vnd.pqsign.attestation.v1+json"
SBOM_ATTESTATIONS = ReferrerKind(ATTESTATION_ARTIFACT_TYPE, SBOM_PREDICATES, MAX_ATTESTATION_SIZE)


def attach_sbom(client: RegistryClient, reference: ImageReference, sbom: bytes, key: PrivateKey) -> SignedImage:
    """Validate ``sbom``, sign it about the image digest ``reference`` resolves to, push it."""
    document = validate(sbom)
    subject = client.resolve(reference)
    return attach_statement(client, reference, subject, key, SBOM_PREDICATE, document, ATTESTATION_ARTIFACT_TYPE,
                            {"dev.pqsign.predicateType": SBOM_PREDICATE})


def _schema_checked(check: ReferrerCheck) -> ReferrerCheck:
    """A verified attestation whose SBOM fails the CycloneDX schema does not count."""
    if check.state is not ReferrerState.VERIFIED or check.statement is None:
        return check
    try:
        validate(json.dumps(check.statement.predicate).encode(), what="signed SBOM")
    except InputError as exc:
        return ReferrerCheck(check.descriptor, ReferrerState.FAILED, exc.message, check.signer, check.statement)
    return check


def verify_image_sboms(client: RegistryClient, reference: ImageReference,
                       trusted: Sequence[KeyringEntry]) -> tuple[Descriptor, list[ReferrerCheck]]:
    """The image's descriptor and every SBOM attestation of it, newest first; raises unless one verifies."""
    subject, results = check_signatures(client, reference, trusted, SBOM_ATTESTATIONS)
    ours = [_schema_checked(r) for r in results if r.state is not ReferrerState.FOREIGN]
    ours.sort(key=lambda r: r.descriptor.annotations.get("org.opencontainers.image.created", ""), reverse=True)
    if not any(r.state is ReferrerState.VERIFIED for r in ours):
        detail = "; ".join(r.detail for r in ours[:3] if r.detail)
        raise VerificationError(f"{reference} has no SBOM attestation by a trusted key"
                                + (f" ({detail})" if detail else ""))
    return subject, ours
