"""Sign and verify container images; signatures live in the registry as OCI referrers.

A signature is a core bundle (Sigstore bundle v0.3, DSSE, in-toto Statement) whose statement
subject is the image **manifest digest** with the name ``registry/repository``, pushed as an
artifact of type :data:`SIGNATURE_ARTIFACT_TYPE` whose one layer is the bundle
(``application/vnd.dev.sigstore.bundle.v0.3+json``). The artifact's OCI ``subject`` field is not
signed, so verification trusts only the digest inside the signed statement.

Annotations (copied into referrers indexes, so a signature can be picked without fetching it):
``org.opencontainers.image.created``, ``dev.pqsign.signature.algorithm``, ``dev.pqsign.key.id``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pqsign import __version__
from pqsign.envelope.bundle import MAX_BUNDLE_SIZE, Bundle, BundleMediaType
from pqsign.envelope.statement import Statement, Subject
from pqsign.errors import PqsignError, VerificationError
from pqsign.files import sign_statement, verify_bundle
from pqsign.keys.keyfile import PrivateKey
from pqsign.keys.keyring import KeyringEntry
from pqsign.oci.reference import ImageReference
from pqsign.oci.referrers import attach, list_referrers
from pqsign.oci.registry import (
    DOCKER_LIST_TYPE,
    INDEX_TYPE,
    MANIFEST_TYPE,
    ContentError,
    Descriptor,
    RegistryClient,
    RegistryError,
)

__all__ = ["SIGNATURE_ARTIFACT_TYPE", "IMAGE_PREDICATE", "SIGNATURES", "SignedImage", "ReferrerKind",
           "ReferrerState", "ReferrerCheck", "attach_statement", "sign_image", "check_signatures", "verify_image"]

SIGNATURE_ARTIFACT_TYPE = "application/vnd.pqsign.signature.v1+json"
IMAGE_PREDICATE = "https://pqsign.dev/attestation/image-signature/v1"


@dataclass(frozen=True, slots=True)
class SignedImage:
    """One manifest that was signed, and the signature artifact pushed for it."""

    reference: str
    digest: str
    media_type: str
    signature: Descriptor


def _children(index_body: bytes) -> list[Descriptor]:
    """The platform manifests an image index lists (from the bytes resolve already hashed)."""
    index = json.loads(index_body)
    return [Descriptor(m["mediaType"], m["digest"], m["size"]) for m in index.get("manifests", [])
            if isinstance(m, dict) and {"mediaType", "digest", "size"} <= m.keys()]


def attach_statement(client: RegistryClient, reference: ImageReference, target: Descriptor, key: PrivateKey,
                     predicate_type: str, predicate: dict[str, Any], artifact_type: str,
                     annotations: dict[str, str] | None = None) -> SignedImage:
    """Sign a statement about ``target``'s digest and push it as a referrer of ``target``."""
    public = key.public_key()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    statement = Statement((Subject(reference.name, {"sha256": target.digest.removeprefix("sha256:")}),),
                          predicate_type, predicate)
    bundle = sign_statement(statement, key)
    tags = {"org.opencontainers.image.created": now, "dev.pqsign.signature.algorithm": public.algorithm.name,
            "dev.pqsign.key.id": public.key_id, **(annotations or {})}
    artifact = attach(client, reference.repository, target, artifact_type, bundle.to_json(),
                      BundleMediaType.V0_3.value, tags)
    return SignedImage(str(reference.with_digest(target.digest)), target.digest, target.media_type, artifact)


def sign_image(client: RegistryClient, reference: ImageReference, key: PrivateKey, *,
               recursive: bool = False) -> list[SignedImage]:
    """Resolve ``reference`` once, sign its digest (and, with ``recursive``, each platform
    manifest of an index), and push the signatures as referrers."""
    subject, body = client.resolve_manifest(reference)
    targets = [subject]
    if recursive and subject.media_type in (INDEX_TYPE, DOCKER_LIST_TYPE):
        targets += _children(body)
    public = key.public_key()
    return [attach_statement(client, reference, target, key, IMAGE_PREDICATE,
                             {"mediaType": target.media_type, "algorithm": public.algorithm.name,
                              "keyId": public.key_id, "signedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                              "tool": f"pqsign {__version__}"},
                             SIGNATURE_ARTIFACT_TYPE)
            for target in targets]


class ReferrerState(StrEnum):
    VERIFIED = "verified"        # a trusted key signed this very digest
    FAILED = "failed"            # a pqsign signature that does not verify here (why: detail)
    UNCHECKED = "unchecked"      # a pqsign signature, but no trusted keys were given
    FOREIGN = "foreign"          # another tool's referrer (cosign, notation, SBOM...): left alone


@dataclass(frozen=True, slots=True)
class ReferrerCheck:
    descriptor: Descriptor
    state: ReferrerState
    detail: str = ""
    signer: KeyringEntry | None = None
    statement: Statement | None = None


@dataclass(frozen=True, slots=True)
class ReferrerKind:
    """Which referrers a check is about, and what their signed statements must attest."""

    artifact_type: str
    predicate_types: tuple[str, ...]
    max_bundle_size: int


SIGNATURES = ReferrerKind(SIGNATURE_ARTIFACT_TYPE, (IMAGE_PREDICATE,), MAX_BUNDLE_SIZE)


def _check_one(client: RegistryClient, reference: ImageReference, subject: Descriptor,
               descriptor: Descriptor, trusted: Sequence[KeyringEntry], kind: ReferrerKind) -> ReferrerCheck:
    """Steps (a)-(e) for one referrer."""
    # (a) the artifact manifest: bounded, digest-checked, the expected media and artifact types
    found = client.get_manifest(reference.repository, descriptor.digest, accept=(MANIFEST_TYPE,))
    if found is None:
        return ReferrerCheck(descriptor, ReferrerState.FAILED, "listed but missing from the registry")
    manifest = json.loads(found[0])
    layers = manifest.get("layers")
    if (found[1] != MANIFEST_TYPE or manifest.get("artifactType") != kind.artifact_type
            or not isinstance(layers, list) or len(layers) != 1
            or layers[0].get("mediaType") != BundleMediaType.V0_3.value):
        return ReferrerCheck(descriptor, ReferrerState.FAILED, f"not a {kind.artifact_type} manifest")
    layer = Descriptor(layers[0]["mediaType"], str(layers[0].get("digest")), int(layers[0].get("size", -1)))
    # (b) the bundle blob: size announced before download, digest checked after
    bundle = Bundle.from_json(client.get_blob(reference.repository, layer, kind.max_bundle_size),
                              what=f"referrer {descriptor.digest[:19]}", max_size=kind.max_bundle_size)
    if not trusted:
        return ReferrerCheck(descriptor, ReferrerState.UNCHECKED, f"key {bundle.key_hint[:16]} (no keyring given)")
    # (c)+(d) a trusted key's signature over a statement of the expected predicate type
    verified = verify_bundle(bundle, trusted, kind.predicate_types)
    # (e) for exactly this manifest digest (the OCI subject field is not signed)
    digests = {f"sha256:{s.digest.get('sha256')}" for s in verified.statement.subjects}
    if subject.digest not in digests:
        return ReferrerCheck(descriptor, ReferrerState.FAILED,
                             f"signed for another image digest ({', '.join(sorted(digests))[:80]})")
    return ReferrerCheck(descriptor, ReferrerState.VERIFIED, "", verified.signer, verified.statement)


def check_signatures(client: RegistryClient, reference: ImageReference, trusted: Sequence[KeyringEntry] = (),
                     kind: ReferrerKind = SIGNATURES) -> tuple[Descriptor, list[ReferrerCheck]]:
    """Every referrer of the image; those of ``kind`` are checked against ``trusted``."""
    subject = client.resolve(reference)
    if reference.digest and subject.digest != reference.digest:
        raise RegistryError(f"registry resolved {reference} to {subject.digest}")
    results = []
    for descriptor in list_referrers(client, reference.repository, subject.digest):
        if descriptor.artifact_type != kind.artifact_type:
            results.append(ReferrerCheck(descriptor, ReferrerState.FOREIGN, descriptor.artifact_type or ""))
            continue
        try:
            results.append(_check_one(client, reference, subject, descriptor, trusted, kind))
        except ContentError as exc:  # this referrer is oversized or corrupt: it fails, the rest count
            results.append(ReferrerCheck(descriptor, ReferrerState.FAILED, exc.message))
        except RegistryError:
            raise  # the registry itself failed: no verdict is possible
        except PqsignError as exc:
            results.append(ReferrerCheck(descriptor, ReferrerState.FAILED, exc.message))
    return subject, results


def verify_image(client: RegistryClient, reference: ImageReference,
                 trusted: Sequence[KeyringEntry]) -> tuple[Descriptor, list[ReferrerCheck]]:
    """Pass if at least one signature by a trusted key names this image's digest.

    Raises:
        VerificationError: no such signature (the message says what was found instead).
    """
    subject, results = check_signatures(client, reference, trusted)
    if not any(r.state is ReferrerState.VERIFIED for r in results):
        failed = [r for r in results if r.state is ReferrerState.FAILED]
        detail = "; ".join(r.detail for r in failed[:3])
        raise VerificationError(
            f"{reference} ({subject.digest[:19]}...) has no valid signature by a trusted key"
            + (f": {len(failed)} signature(s) failed: {detail}" if failed else ": it is not signed"),
            hint="sign it with `pqsign image sign`, or check the keyring")
    return subject, results
