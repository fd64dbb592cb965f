"""A real OCI registry (Debian's docker-registry, distribution 2.8) on 127.0.0.1, and test images.

Each registry gets its own config (loopback only, temporary storage) and a free port; one
instance uses htpasswd auth. Test images are built in Python: a deterministic tar layer, a
config and a manifest, and for multi-platform tests an index over two of them.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import shutil
import socket
import subprocess
import tarfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REGISTRY_BINARY = shutil.which("docker-registry")
needs_registry = pytest.mark.skipif(REGISTRY_BINARY is None,
                                    reason="docker-registry is not installed (.ci/run installs it)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Registry:
    address: str
    root: Path
    process: subprocess.Popen[bytes]
    docker_config: Path | None = None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_registry(tmp: Path, *, htpasswd: tuple[str, str] | None = None) -> Registry:
    assert REGISTRY_BINARY is not None
    port = _free_port()
    storage = tmp / "storage"
    storage.mkdir(parents=True)
    config = [
        "version: 0.1",
        "log:", "  level: error", "  accesslog:", "    disabled: true",
        "storage:", "  filesystem:", f"    rootdirectory: {storage}", "  delete:", "    enabled: true",
        "http:", f"  addr: 127.0.0.1:{port}",
    ]
    docker_config = None
    if htpasswd:
        user, password = htpasswd
        line = subprocess.run(["htpasswd", "-nbB", "-C", "4", user, password], capture_output=True,
                              text=True, check=True).stdout.strip()
        (tmp / "htpasswd").write_text(line + "\n")
        config += ["auth:", "  htpasswd:", "    realm: basic-realm", f"    path: {tmp / 'htpasswd'}"]
        docker_config = tmp / "docker"
        docker_config.mkdir()
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        (docker_config / "config.json").write_text(json.dumps({"auths": {f"127.0.0.1:{port}": {"auth": token}}}))
    (tmp / "config.yml").write_text("\n".join(config) + "\n")
    process = subprocess.Popen([REGISTRY_BINARY, "serve", str(tmp / "config.yml")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)  # noqa: S310 - loopback
            break
        except urllib.error.HTTPError:
            break  # 401 from the auth-enabled instance: it is up
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError("docker-registry did not start")
    return Registry(f"127.0.0.1:{port}", tmp, process, docker_config)


def _layer(content: bytes) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("app.txt")
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    raw = buffer.getvalue()
    return gzip.compress(raw, mtime=0), "sha256:" + hashlib.sha256(raw).hexdigest()


def push_image(address: str, repository: str, tag: str, content: bytes = b"hello",
               architecture: str = "amd64", client=None) -> str:
    """Push a one-layer image; returns its manifest digest."""
    from pqsign.oci.registry import MANIFEST_TYPE, RegistryClient, sha256_digest

    client = client or RegistryClient(address)
    layer, diff_id = _layer(content)
    config = json.dumps({"architecture": architecture, "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}},
                        sort_keys=True, separators=(",", ":")).encode()
    layer_desc = client.push_blob(repository, layer, "application/vnd.oci.image.layer.v1.tar+gzip")
    config_desc = client.push_blob(repository, config, "application/vnd.oci.image.config.v1+json")
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST_TYPE, "config": config_desc.to_dict(),
                           "layers": [layer_desc.to_dict()]}, separators=(",", ":")).encode()
    client.put_manifest(repository, tag, manifest, MANIFEST_TYPE)
    return sha256_digest(manifest)


def push_index(address: str, repository: str, tag: str) -> tuple[str, list[str]]:
    """Push a two-platform index; returns (index digest, platform manifest digests)."""
    from pqsign.oci.registry import INDEX_TYPE, MANIFEST_TYPE, RegistryClient, sha256_digest

    client = RegistryClient(address)
    children = []
    for arch in ("amd64", "arm64"):
        digest = push_image(address, repository, f"{tag}-{arch}", f"hello {arch}".encode(), arch, client)
        body = client.get_manifest(repository, digest)
        assert body is not None
        children.append({"mediaType": MANIFEST_TYPE, "digest": digest, "size": len(body[0]),
                         "platform": {"architecture": arch, "os": "linux"}})
    index = json.dumps({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": children},
                       separators=(",", ":")).encode()
    client.put_manifest(repository, tag, index, INDEX_TYPE)
    return sha256_digest(index), [c["digest"] for c in children]
