"""A small OCI distribution-spec v1.1 client on oras-py's transport and credential handling.

oras-py 0.2.43 gives pqsign its ``requests`` session and its Docker credential loading
(``~/.docker/config.json``, ``DOCKER_CONFIG``, credential helpers). pqsign does not use its
``do_request`` (it retries with sleeps of up to 83 s, about 131 s in all), its manifest helpers
(they re-serialise JSON, so digests come out wrong) or ``push`` (always to a tag). Instead:

* every request has a timeout and fails with one clear :class:`RegistryError`;
* manifests are sent and hashed as the exact bytes pqsign serialised;
* everything fetched is bounded before it is read and checked against its digest;
* the auth scheme (Basic or Bearer) is taken from the registry's own challenge.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import oras.auth
import oras.container
import oras.provider
import requests

from pqsign.errors import InputError
from pqsign.oci.reference import ImageReference, is_local_registry

__all__ = ["ContentError", "Descriptor", "RegistryClient", "RegistryError", "MANIFEST_TYPES", "INDEX_TYPE",
           "MANIFEST_TYPE"]

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST_TYPE = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES = (MANIFEST_TYPE, INDEX_TYPE, DOCKER_MANIFEST_TYPE, DOCKER_LIST_TYPE)
MAX_MANIFEST_SIZE = 4 << 20
DEFAULT_TIMEOUT = 30.0


class RegistryError(InputError):
    """The registry could not be reached, refused us, or answered something unusable."""


class ContentError(RegistryError):
    """Fetched content broke a rule (too large, wrong digest): the content's fault, not the link's."""


@dataclass(frozen=True, slots=True)
class Descriptor:
    """An OCI content descriptor."""

    media_type: str
    digest: str
    size: int
    artifact_type: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class RegistryClient(oras.provider.Registry):  # type: ignore[misc]
    """One registry host."""

    def __init__(self, registry: str, *, plain_http: bool | None = None, insecure: bool = False,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        use_http = is_local_registry(registry) if plain_http is None else plain_http
        super().__init__(hostname=registry, insecure=use_http, tls_verify=not insecure, auth_backend="basic")
        self.registry = registry
        self.timeout = timeout
        self.auth: Any = self.auth
        self._auth_ready = False
        # credentials from the Docker config ($DOCKER_CONFIG or ~/.docker/config.json), if any;
        # oras-py itself only knows ~/.docker/config.json
        configs = []
        if os.environ.get("DOCKER_CONFIG"):
            configs.append(os.path.join(os.environ["DOCKER_CONFIG"], "config.json"))
        self.auth.load_configs(oras.container.Container(f"{registry}/pqsign:probe"), configs=configs)

    # -- transport -------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"{self.prefix}://{self.registry}{path}"

    def _send(self, method: str, url: str, headers: dict[str, str], data: bytes | None,
              stream: bool) -> requests.Response:
        try:
            response: requests.Response = self.session.request(
                method, url, data=data, headers=headers, stream=stream, timeout=self.timeout,
                verify=self._tls_verify, allow_redirects=True)
            return response
        except requests.exceptions.SSLError:
            raise RegistryError(f"TLS certificate of {self.registry} could not be verified",
                                hint="self-signed certificate: --insecure; plain HTTP: --plain-http") from None
        except requests.exceptions.Timeout:
            raise RegistryError(f"registry {self.registry} did not answer within {self.timeout:.0f} s") from None
        except requests.exceptions.ConnectionError:
            raise RegistryError(f"cannot connect to registry {self.registry}",
                                hint="is it running, and is the address right?") from None

    def request(self, method: str, path_or_url: str, *, headers: dict[str, str] | None = None,
                data: bytes | None = None, stream: bool = False) -> requests.Response:
        """One request, authenticating once if the registry asks (Basic or Bearer)."""
        url = path_or_url if "://" in path_or_url else self.url(path_or_url)
        sent = dict(headers or {})
        sent.update(self._auth_header())
        response = self._send(method, url, sent, data, stream)
        if response.status_code in (401, 403):
            # (re-)authenticate once: a Bearer token's scope is per repository and action
            self._authenticate(response)
            sent.update(self._auth_header())
            response = self._send(method, url, sent, data, stream)
        if response.status_code == 401:
            raise RegistryError(f"registry {self.registry} refused the credentials (401 Unauthorized)",
                                hint="log in with `docker login` (pqsign reads ~/.docker/config.json "
                                     "or $DOCKER_CONFIG)")
        if response.status_code == 403:
            raise RegistryError(f"registry {self.registry} denied access (403 Forbidden) to {url}")
        return response

    def _auth_header(self) -> dict[str, str]:
        if not self._auth_ready:
            return {}
        if isinstance(self.auth, oras.auth.TokenAuth):
            return dict(self.auth.get_auth_header()) if self.auth.token else {}
        return dict(self.auth.get_auth_header()) if self.auth._basic_auth else {}

    def _authenticate(self, response: requests.Response) -> None:
        challenge = response.headers.get("WWW-Authenticate", "")
        basic = getattr(self.auth, "_basic_auth", None)
        if challenge.lower().startswith("bearer"):
            token_auth = oras.auth.get_auth_backend("token", self.session, self.prefix == "http",
                                                    tls_verify=self._tls_verify)
            token_auth._basic_auth = basic
            _, changed = token_auth.authenticate_request(response, {})
            if not changed:
                raise RegistryError(f"could not get a token from {self.registry}",
                                    hint="log in with `docker login`")
            self.auth = token_auth
        elif not basic:
            raise RegistryError(f"registry {self.registry} needs credentials and none were found",
                                hint="log in with `docker login` (pqsign reads ~/.docker/config.json "
                                     "or $DOCKER_CONFIG)")
        self._auth_ready = True

    def _error(self, response: requests.Response, what: str) -> RegistryError:
        detail = ""
        try:
            errors = response.json().get("errors", [])
            detail = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors if isinstance(e, dict))
        except (ValueError, AttributeError):
            detail = response.text[:200].strip()
        return RegistryError(f"{what}: HTTP {response.status_code} from {self.registry}"
                             + (f" ({detail})" if detail else ""))

    @staticmethod
    def read_bounded(response: requests.Response, limit: int, what: str) -> bytes:
        """The body, refusing more than ``limit`` bytes before and while reading."""
        announced = response.headers.get("Content-Length")
        if announced is not None and announced.isdigit() and int(announced) > limit:
            response.close()
            raise ContentError(f"{what} is {announced} bytes, over the {limit}-byte limit")
        chunks, total = [], 0
        for chunk in response.iter_content(65536):
            total += len(chunk)
            if total > limit:
                response.close()
                raise ContentError(f"{what} exceeds the {limit}-byte limit")
            chunks.append(chunk)
        return b"".join(chunks)

    # -- manifests -------------------------------------------------------------------------

    def get_manifest(self, repository: str, reference: str, *,
                     accept: tuple[str, ...] = MANIFEST_TYPES) -> tuple[bytes, str, str] | None:
        """(bytes, media type, digest) of a manifest, or None if it does not exist.

        Raises:
            RegistryError: oversized, a digest that does not match, or any other failure.
        """
        response = self.request("GET", f"/v2/{repository}/manifests/{reference}",
                                headers={"Accept": ", ".join(accept)}, stream=True)
        if response.status_code == 404:
            response.close()
            return None
        if response.status_code != 200:
            raise self._error(response, f"cannot read manifest {repository}:{reference}")
        body = self.read_bounded(response, MAX_MANIFEST_SIZE, f"manifest {repository}@{reference}")
        digest = sha256_digest(body)
        if reference.startswith("sha256:") and digest != reference:
            raise ContentError(f"registry returned a manifest whose digest {digest} is not {reference}")
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        try:
            declared = json.loads(body).get("mediaType")
        except (ValueError, AttributeError):
            raise RegistryError(f"manifest {repository}@{reference} is not JSON") from None
        return body, declared or media_type, digest

    def put_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> requests.Response:
        """PUT exact bytes; the registry must confirm the digest we computed."""
        response = self.request("PUT", f"/v2/{repository}/manifests/{reference}", data=body,
                                headers={"Content-Type": media_type})
        if response.status_code not in (200, 201):
            raise self._error(response, f"cannot push manifest to {repository}:{reference}")
        confirmed = response.headers.get("Docker-Content-Digest")
        if confirmed and confirmed != sha256_digest(body):
            raise RegistryError(f"registry stored digest {confirmed}, expected {sha256_digest(body)}")
        return response

    def resolve_manifest(self, reference: ImageReference) -> tuple[Descriptor, bytes]:
        """What a tag or digest points to: its descriptor and the exact bytes it was hashed from."""
        ref = reference.digest or reference.tag or ""
        found = self.get_manifest(reference.repository, ref)
        if found is None:
            raise RegistryError(f"{reference} not found in the registry")
        body, media_type, digest = found
        return Descriptor(media_type, digest, len(body)), body

    def resolve(self, reference: ImageReference) -> Descriptor:
        """The descriptor of what a tag or digest points to."""
        return self.resolve_manifest(reference)[0]

    # -- blobs -----------------------------------------------------------------------------

    def push_blob(self, repository: str, data: bytes, media_type: str) -> Descriptor:
        digest = sha256_digest(data)
        head = self.request("HEAD", f"/v2/{repository}/blobs/{digest}")
        if head.status_code != 200:
            start = self.request("POST", f"/v2/{repository}/blobs/uploads/")
            if start.status_code != 202 or "Location" not in start.headers:
                raise self._error(start, f"cannot start a blob upload to {repository}")
            location = urljoin(self.url("/"), start.headers["Location"])
            separator = "&" if "?" in location else "?"
            done = self.request("PUT", f"{location}{separator}digest={digest}", data=data,
                                headers={"Content-Type": "application/octet-stream"})
            if done.status_code not in (201, 204):
                raise self._error(done, f"cannot upload blob {digest}")
        return Descriptor(media_type, digest, len(data))

    def get_blob(self, repository: str, descriptor: Descriptor, limit: int) -> bytes:
        """A blob, refused before download when its descriptor announces more than ``limit``."""
        if descriptor.size > limit:
            raise ContentError(f"blob {descriptor.digest} announces {descriptor.size} bytes, over the "
                               f"{limit}-byte limit")
        response = self.request("GET", f"/v2/{repository}/blobs/{descriptor.digest}", stream=True)
        if response.status_code != 200:
            raise self._error(response, f"cannot read blob {descriptor.digest}")
        data = self.read_bounded(response, limit, f"blob {descriptor.digest}")
        if sha256_digest(data) != descriptor.digest or len(data) != descriptor.size:
            raise ContentError(f"blob {descriptor.digest} does not match its digest or size")
        return data
