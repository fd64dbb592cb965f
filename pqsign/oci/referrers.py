"""OCI 1.1 referrers: push an artifact that refers to an image, and list an image's referrers.

Push (distribution-spec v1.1 "Pushing Manifests with Subject"): upload the empty config blob
and the layer, PUT the artifact manifest **by digest**; if the registry answers ``OCI-Subject``
it maintains the referrers list itself. Otherwise pqsign maintains the referrers tag schema
index at ``sha256-<hex>``: read (404 = empty), keep every entry (cosign, notation and oras
entries included), add its own with artifactType and all annotations, write back.

That read-modify-write races (the spec warns it loses data; registries here ignore If-Match).
pqsign takes a local lock per subject (so processes on one machine never interleave), then
writes, re-reads after a jittered pause and re-merges until its entry has been seen twice in a
row, with bounded retries. Another machine writing in the same instant can still drop an
entry in theory; the second read-back makes that window small.

List ("Listing Referrers"): ``GET /v2/<name>/referrers/<digest>?artifactType=``; on 404 or a
non-index answer, the tag. Follows ``Link`` pages; filters client-side unless the registry
says ``OCI-Filters-Applied: artifactType``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pqsign.oci.registry import (
    INDEX_TYPE,
    MANIFEST_TYPE,
    MAX_MANIFEST_SIZE,
    Descriptor,
    RegistryClient,
    RegistryError,
    sha256_digest,
)

__all__ = ["EMPTY_CONFIG", "artifact_manifest", "attach", "list_referrers", "referrers_tag"]

EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_CONFIG = Descriptor(EMPTY_TYPE, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", 2)
MAX_REFERRER_PAGES = 100
FALLBACK_ATTEMPTS = 12


def referrers_tag(digest: str) -> str:
    """The referrers tag schema tag for a subject digest: ``sha256-<hex>``."""
    algorithm, _, hex_digest = digest.partition(":")
    return f"{algorithm}-{hex_digest}"[:128]


def artifact_manifest(artifact_type: str, layer: Descriptor, subject: Descriptor,
                      annotations: dict[str, str]) -> bytes:
    """Exact bytes of an image manifest for an artifact (image-spec v1.1 "artifact without config")."""
    document = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "artifactType": artifact_type,
        "config": EMPTY_CONFIG.to_dict(),
        "layers": [layer.to_dict()],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": subject.size},
        "annotations": annotations,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


@contextmanager
def _local_lock(client: RegistryClient, repository: str, digest: str) -> Iterator[None]:
    """Serialise fallback updates of one subject among processes on this machine."""
    name = hashlib.sha256(f"{client.registry}/{repository}@{digest}".encode()).hexdigest()[:32]
    directory = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / "pqsign-locks"
    directory.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(directory / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _read_tag_index(client: RegistryClient, repository: str, tag: str) -> dict[str, Any]:
    found = client.get_manifest(repository, tag, accept=(INDEX_TYPE,))
    if found is None:
        return {"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": []}
    body, media_type, _ = found
    index: dict[str, Any] = json.loads(body)
    if media_type != INDEX_TYPE or not isinstance(index.get("manifests"), list):
        raise RegistryError(f"tag {tag} in {repository} is not an OCI image index; refusing to overwrite it",
                            hint="something else uses the referrers tag; inspect it with `crane manifest`")
    return index


def _entry_present(index: dict[str, Any], digest: str) -> bool:
    return any(isinstance(m, dict) and m.get("digest") == digest for m in index["manifests"])


def _fallback_update(client: RegistryClient, repository: str, subject: Descriptor, entry: Descriptor) -> None:
    tag = referrers_tag(subject.digest)
    confirmations = 0
    with _local_lock(client, repository, subject.digest):
        for attempt in range(FALLBACK_ATTEMPTS):
            index = _read_tag_index(client, repository, tag)
            if _entry_present(index, entry.digest):
                confirmations += 1
                if confirmations >= 2:
                    return
            else:
                confirmations = 0
                index["manifests"] = [m for m in index["manifests"]
                                      if not (isinstance(m, dict) and m.get("digest") == entry.digest)]
                index["manifests"].append(entry.to_dict())
                body = json.dumps(index, separators=(",", ":")).encode()
                client.put_manifest(repository, tag, body, INDEX_TYPE)
            time.sleep(random.uniform(0.02, 0.08) * (1 + attempt))
    raise RegistryError(f"could not record the referrer in {repository}:{tag} after {FALLBACK_ATTEMPTS} attempts",
                        hint="another client keeps rewriting the referrers index; try again")


def attach(client: RegistryClient, repository: str, subject: Descriptor, artifact_type: str,
           layer_data: bytes, layer_type: str, annotations: dict[str, str]) -> Descriptor:
    """Push an artifact referring to ``subject``; returns the artifact manifest's descriptor."""
    client.push_blob(repository, b"{}", EMPTY_TYPE)
    layer = client.push_blob(repository, layer_data, layer_type)
    body = artifact_manifest(artifact_type, layer, subject, annotations)
    digest = sha256_digest(body)
    response = client.put_manifest(repository, digest, body, MANIFEST_TYPE)
    entry = Descriptor(MANIFEST_TYPE, digest, len(body), artifact_type, annotations)
    if response.headers.get("OCI-Subject") != subject.digest:
        _fallback_update(client, repository, subject, entry)
    return entry


def _descriptors(index: dict[str, Any]) -> list[Descriptor]:
    found = []
    for item in index.get("manifests", []):
        if not isinstance(item, dict):
            continue
        digest, size, media_type = item.get("digest"), item.get("size"), item.get("mediaType")
        if not (isinstance(digest, str) and isinstance(size, int) and isinstance(media_type, str)):
            continue
        raw_annotations = item.get("annotations")
        annotations = raw_annotations if isinstance(raw_annotations, dict) else {}
        found.append(Descriptor(media_type, digest, size, item.get("artifactType"),
                                {str(k): str(v) for k, v in annotations.items()}))
    return found


def list_referrers(client: RegistryClient, repository: str, digest: str,
                   artifact_type: str | None = None) -> list[Descriptor]:
    """Every referrer of ``digest`` (of ``artifact_type`` if given), by API or tag schema."""
    path = f"/v2/{repository}/referrers/{digest}"
    if artifact_type:
        path += f"?artifactType={quote(artifact_type, safe='')}"
    response = client.request("GET", path, headers={"Accept": INDEX_TYPE}, stream=True)
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    if response.status_code == 200 and content_type == INDEX_TYPE:
        filtered = "artifactType" in response.headers.get("OCI-Filters-Applied", "")
        found: list[Descriptor] = []
        for _ in range(MAX_REFERRER_PAGES):
            index = json.loads(client.read_bounded(response, MAX_MANIFEST_SIZE, "referrers list"))
            found.extend(_descriptors(index))
            link = response.links.get("next", {}).get("url")
            if not link:
                break
            response = client.request("GET", link if "://" in link else client.url(link),
                                      headers={"Accept": INDEX_TYPE}, stream=True)
        descriptors = found
    else:
        response.close()
        filtered = False
        descriptors = _descriptors(_read_tag_index(client, repository, referrers_tag(digest)))
    if artifact_type and not filtered:
        descriptors = [d for d in descriptors if d.artifact_type == artifact_type]
    return descriptors
