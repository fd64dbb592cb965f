"""Image references: ``registry[:port]/repository[:tag][@sha256:<hex>]``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pqsign.errors import InputError

__all__ = ["ImageReference", "parse_reference", "is_local_registry"]

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_REPOSITORY = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True, slots=True)
class ImageReference:
    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    @property
    def name(self) -> str:
        """``registry/repository``, the subject name pqsign signs."""
        return f"{self.registry}/{self.repository}"

    def with_digest(self, digest: str) -> ImageReference:
        return ImageReference(self.registry, self.repository, None, digest)


def parse_reference(text: str) -> ImageReference:
    """Parse an image reference; the registry part is required (no implicit Docker Hub).

    Raises:
        InputError: malformed reference.
    """
    rest, _, digest = text.partition("@")
    if digest and not _DIGEST.match(digest):
        raise InputError(f"{text!r}: digest must be sha256:<64 lowercase hex>")
    registry, slash, path = rest.partition("/")
    if not slash or not ("." in registry or ":" in registry or registry == "localhost"):
        raise InputError(f"{text!r} does not name a registry",
                         hint="write it in full, e.g. 127.0.0.1:5000/team/app:1.4 or ghcr.io/org/app@sha256:...")
    tag = None
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, tag = path.rsplit(":", 1)
        if not _TAG.match(tag):
            raise InputError(f"{text!r}: invalid tag {tag!r}")
    if not _REPOSITORY.match(path):
        raise InputError(f"{text!r}: invalid repository name {path!r}")
    if tag is None and not digest:
        raise InputError(f"{text!r} names neither a tag nor a digest",
                         hint="add :TAG or @sha256:DIGEST (pqsign never assumes :latest)")
    return ImageReference(registry, path, tag, digest or None)


def is_local_registry(registry: str) -> bool:
    """Loopback registries get plain HTTP automatically; nothing else does."""
    host = registry.rsplit(":", 1)[0] if not registry.startswith("[") else registry.split("]")[0] + "]"
    return host in ("localhost", "[::1]") or host.startswith("127.")
