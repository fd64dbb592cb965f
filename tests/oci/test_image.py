"""Image signatures as OCI referrers, against a real registry on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from pqsign.crypto.algorithms import by_name
from pqsign.envelope.bundle import Bundle, BundleMediaType
from pqsign.errors import InputError, VerificationError
from pqsign.keys.keyfile import generate_private_key
from pqsign.keys.keyring import KeyringEntry, add_to_keyring
from pqsign.oci.reference import is_local_registry, parse_reference
from pqsign.oci.referrers import attach, list_referrers, referrers_tag
from pqsign.oci.registry import INDEX_TYPE, MANIFEST_TYPE, Descriptor, RegistryClient, RegistryError
from pqsign.oci.signing import SIGNATURE_ARTIFACT_TYPE, ReferrerState, check_signatures, sign_image, verify_image
from tests.registry import Registry, push_image, push_index

PQSIGN = str(Path(sys.executable).with_name("pqsign"))


def cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PQSIGN, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def keys(tmp_path: Path):
    found = {}
    for name in ("ci", "other"):
        key = generate_private_key(by_name("ML-DSA-65"), comment=name)
        (tmp_path / f"{name}.key").write_bytes(key.to_pem(None))
        (tmp_path / f"{name}.pub").write_bytes(key.public_key().to_pem())
        found[name] = key
    add_to_keyring(tmp_path / "team.keys", found["ci"].public_key(), name="CI", email="ci@example.com")
    return found


def trusted(key) -> list[KeyringEntry]:
    return [KeyringEntry(key.public_key(), name="CI")]


def test_sign_by_tag_verify_by_digest_and_tag(registry: Registry, keys, tmp_path: Path, env_for) -> None:
    digest = push_image(registry.address, "team/app", "1.4", b"app 1.4")
    env = env_for(registry)
    result = cli(env, tmp_path, "image", "sign", f"{registry.address}/team/app:1.4", "--key", "ci.key")
    assert result.returncode == 0, result.stderr
    assert f"resolved to {digest}" in result.stderr
    for ref in (f"{registry.address}/team/app@{digest}", f"{registry.address}/team/app:1.4"):
        result = cli(env, tmp_path, "image", "verify", ref, "--keyring", "team.keys", "--json")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["digest"] == digest and report["signatures"][0]["signer"]["email"] == "ci@example.com"


def test_unsigned_image_and_untrusted_key_fail(registry: Registry, keys, tmp_path: Path, env_for) -> None:
    push_image(registry.address, "team/unsigned", "1", b"nobody signed me")
    env = env_for(registry)
    result = cli(env, tmp_path, "image", "verify", f"{registry.address}/team/unsigned:1", "--keyring", "team.keys")
    assert result.returncode == 1 and "not signed" in result.stderr
    signed = cli(env, tmp_path, "image", "sign", f"{registry.address}/team/unsigned:1", "--key", "other.key")
    assert signed.returncode == 0
    result = cli(env, tmp_path, "image", "verify", f"{registry.address}/team/unsigned:1", "--keyring", "team.keys")
    assert result.returncode == 1 and "1 signature(s) failed" in result.stderr


def test_tampered_bundle_blob_fails(registry: Registry, keys) -> None:
    ref = parse_reference(f"{registry.address}/team/tamper:1")
    push_image(registry.address, "team/tamper", "1", b"tamper target")
    client = RegistryClient(registry.address)
    signed = sign_image(client, ref, keys["ci"])[0]
    manifest = json.loads(client.get_manifest("team/tamper", signed.signature.digest)[0])
    layer = manifest["layers"][0]
    bundle = json.loads(client.get_blob("team/tamper", Descriptor(layer["mediaType"], layer["digest"], layer["size"]),
                                        1 << 20))
    statement = bundle["dsseEnvelope"]["payload"]
    replacement = "BBBBBBBB" if statement.endswith("AAAAAAAA") else "AAAAAAAA"
    bundle["dsseEnvelope"]["payload"] = statement[:-8] + replacement
    subject = client.resolve(ref)
    attach(client, "team/tamper", subject, SIGNATURE_ARTIFACT_TYPE, json.dumps(bundle).encode(),
           BundleMediaType.V0_3.value, {"dev.pqsign.key.id": "forged"})
    _, results = check_signatures(client, ref, trusted(keys["ci"]))
    states = sorted(r.state.value for r in results)
    assert states == ["failed", "verified"]
    only_tampered = [r for r in results if r.state is ReferrerState.FAILED]
    assert only_tampered and only_tampered[0].detail


def test_signature_for_another_digest_copied_onto_this_image(registry: Registry, keys) -> None:
    client = RegistryClient(registry.address)
    push_image(registry.address, "team/copy", "good", b"the signed image")
    push_image(registry.address, "team/copy", "evil", b"the attacker's image")
    good, evil = (parse_reference(f"{registry.address}/team/copy:{t}") for t in ("good", "evil"))
    signed = sign_image(client, good, keys["ci"])[0]
    manifest = json.loads(client.get_manifest("team/copy", signed.signature.digest)[0])
    layer = manifest["layers"][0]
    bundle = client.get_blob("team/copy", Descriptor(layer["mediaType"], layer["digest"], layer["size"]), 1 << 20)
    attach(client, "team/copy", client.resolve(evil), SIGNATURE_ARTIFACT_TYPE, bundle,
           BundleMediaType.V0_3.value, manifest["annotations"])
    with pytest.raises(VerificationError, match="signed for another image digest"):
        verify_image(client, evil, trusted(keys["ci"]))
    verify_image(client, good, trusted(keys["ci"]))


def test_foreign_referrers_survive_and_are_listed(registry: Registry, keys) -> None:
    """cosign- and notation-shaped entries already in the index are kept, never dropped."""
    client = RegistryClient(registry.address)
    push_image(registry.address, "team/mixed", "1", b"many tools")
    ref = parse_reference(f"{registry.address}/team/mixed:1")
    subject = client.resolve(ref)
    cosign = attach(client, "team/mixed", subject, "application/vnd.dev.sigstore.bundle.v0.3+json",
                    b'{"cosign": true}', "application/vnd.dev.sigstore.bundle.v0.3+json",
                    {"dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1"})
    notation = attach(client, "team/mixed", subject, "application/vnd.cncf.notary.signature",
                      b"jws", "application/jose+json",
                      {"io.cncf.notary.x509chain.thumbprint#S256": '["abc"]'})
    sign_image(client, ref, keys["ci"])
    index = json.loads(client.get_manifest("team/mixed", referrers_tag(subject.digest), accept=(INDEX_TYPE,))[0])
    digests = [m["digest"] for m in index["manifests"]]
    assert cosign.digest in digests and notation.digest in digests and len(digests) == 3
    notary_entry = next(m for m in index["manifests"] if m["digest"] == notation.digest)
    assert notary_entry["annotations"] == {"io.cncf.notary.x509chain.thumbprint#S256": '["abc"]'}
    _, results = check_signatures(client, ref, trusted(keys["ci"]))
    assert sorted(r.state.value for r in results) == ["foreign", "foreign", "verified"]
    only_ours = list_referrers(client, "team/mixed", subject.digest, SIGNATURE_ARTIFACT_TYPE)
    assert len(only_ours) == 1


def test_sixteen_concurrent_signers_leave_sixteen_signatures(registry: Registry, tmp_path: Path, env_for) -> None:
    digest = push_image(registry.address, "team/busy", "1", b"popular image")
    env = env_for(registry)
    ring = tmp_path / "all.keys"
    for i in range(16):
        key = generate_private_key(by_name("ML-DSA-44"))
        (tmp_path / f"k{i}.key").write_bytes(key.to_pem(None))
        add_to_keyring(ring, key.public_key(), name=f"signer {i}")
    procs = [subprocess.Popen([PQSIGN, "image", "sign", f"{registry.address}/team/busy@{digest}", "--key",
                               f"k{i}.key", "--quiet"], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(16)]
    assert [p.wait(timeout=300) for p in procs] == [0] * 16, [p.stderr.read() for p in procs]
    result = cli(env, tmp_path, "image", "signatures", f"{registry.address}/team/busy@{digest}",
                 "--keyring", str(ring), "--json")
    referrers = json.loads(result.stdout)["referrers"]
    assert len(referrers) == 16
    assert {r["state"] for r in referrers} == {"verified"}
    assert len({r["signer"]["keyId"] for r in referrers}) == 16


def test_multi_platform_index(registry: Registry, keys) -> None:
    client = RegistryClient(registry.address)
    index_digest, children = push_index(registry.address, "team/multi", "2.0")
    ref = parse_reference(f"{registry.address}/team/multi:2.0")
    signed = sign_image(client, ref, keys["ci"])
    assert [s.digest for s in signed] == [index_digest]
    verify_image(client, ref, trusted(keys["ci"]))
    platform = parse_reference(f"{registry.address}/team/multi@{children[0]}")
    with pytest.raises(VerificationError):
        verify_image(client, platform, trusted(keys["ci"]))
    signed = sign_image(client, ref, keys["ci"], recursive=True)
    assert [s.digest for s in signed] == [index_digest, *children]
    for child in children:
        verify_image(client, parse_reference(f"{registry.address}/team/multi@{child}"), trusted(keys["ci"]))


def test_auth_needed_and_missing(auth_registry: Registry, keys, tmp_path: Path, env_for) -> None:
    client = RegistryClient(auth_registry.address)
    with pytest.raises(RegistryError, match="needs credentials"):
        client.resolve(parse_reference(f"{auth_registry.address}/team/private:1"))
    env = env_for(auth_registry)
    import os

    os.environ["DOCKER_CONFIG"], saved = str(auth_registry.docker_config), os.environ.get("DOCKER_CONFIG")
    try:
        push_image(auth_registry.address, "team/private", "1", b"secret", client=RegistryClient(auth_registry.address))
    finally:
        os.environ.pop("DOCKER_CONFIG")
        if saved is not None:
            os.environ["DOCKER_CONFIG"] = saved
    ref = f"{auth_registry.address}/team/private:1"
    assert cli(env, tmp_path, "image", "sign", ref, "--key", "ci.key").returncode == 0
    assert cli(env, tmp_path, "image", "verify", ref, "--keyring", "team.keys").returncode == 0
    start = time.monotonic()
    no_creds = {**env, "DOCKER_CONFIG": str(tmp_path / "empty")}
    result = cli(no_creds, tmp_path, "image", "verify", ref, "--keyring", "team.keys")
    assert result.returncode == 2 and "needs credentials" in result.stderr and "docker login" in result.stderr
    assert time.monotonic() - start < 20
    (tmp_path / "wrong").mkdir()
    (tmp_path / "wrong" / "config.json").write_text(json.dumps(
        {"auths": {auth_registry.address: {"auth": "Y2k6d3Jvbmc="}}}))  # ci:wrong
    result = cli({**env, "DOCKER_CONFIG": str(tmp_path / "wrong")}, tmp_path, "image", "verify", ref,
                 "--keyring", "team.keys")
    assert result.returncode == 2 and "refused the credentials" in result.stderr


def test_registry_down_fails_fast_with_one_line(keys, tmp_path: Path, env_for) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    start = time.monotonic()
    env = env_for(Registry("", tmp_path, None))  # type: ignore[arg-type]
    result = cli(env, tmp_path, "image", "verify", f"127.0.0.1:{port}/team/app:1", "--keyring", "team.keys")
    assert result.returncode == 2
    assert "cannot connect to registry" in result.stderr and "Traceback" not in result.stderr
    assert time.monotonic() - start < 20


def test_oversized_blob_is_refused_before_download(registry: Registry, keys) -> None:
    client = RegistryClient(registry.address)
    push_image(registry.address, "team/huge", "1", b"huge referrer")
    ref = parse_reference(f"{registry.address}/team/huge:1")
    subject = client.resolve(ref)
    from pqsign.oci.referrers import artifact_manifest
    from pqsign.oci.registry import sha256_digest

    client.push_blob("team/huge", b"{}", "application/vnd.oci.empty.v1+json")
    real = client.push_blob("team/huge", b"x" * 100, BundleMediaType.V0_3.value)
    lying = Descriptor(real.media_type, real.digest, 50 << 20)  # announces 50 MiB
    body = artifact_manifest(SIGNATURE_ARTIFACT_TYPE, lying, subject, {})
    client.put_manifest("team/huge", sha256_digest(body), body, MANIFEST_TYPE)
    from pqsign.oci.referrers import _fallback_update

    _fallback_update(client, "team/huge", subject, Descriptor(MANIFEST_TYPE, sha256_digest(body), len(body),
                                                              SIGNATURE_ARTIFACT_TYPE))
    _, results = check_signatures(client, ref, trusted(keys["ci"]))
    assert results[0].state is ReferrerState.FAILED and "over the" in results[0].detail


class _HostileRegistry(BaseHTTPRequestHandler):
    """FAKE registry (no real registry serves this): announces a 100 MiB manifest."""

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/v2/":
            self.send_response(200)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", MANIFEST_TYPE)
        self.send_header("Content-Length", str(100 << 20))
        self.end_headers()
        self.wfile.write(b"{" * 1024)

    def log_message(self, *args: object) -> None:
        pass


def test_oversized_manifest_from_a_hostile_registry_is_refused() -> None:
    server = HTTPServer(("127.0.0.1", 0), _HostileRegistry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = RegistryClient(f"127.0.0.1:{server.server_port}", timeout=5)
        with pytest.raises(RegistryError, match="over the 4194304-byte limit"):
            client.resolve(parse_reference(f"127.0.0.1:{server.server_port}/team/app:1"))
    finally:
        server.shutdown()


@pytest.mark.parametrize("text", ["app:1", "team/app", "127.0.0.1:5000/Team/app:1", "ghcr.io/a/b@sha256:zz"])
def test_bad_references(text: str) -> None:
    with pytest.raises(InputError):
        parse_reference(text)


def test_plain_http_only_for_loopback() -> None:
    assert is_local_registry("127.0.0.1:5000") and is_local_registry("localhost:5000")
    assert not is_local_registry("registry.example.com") and not is_local_registry("10.0.0.1:5000")
    assert RegistryClient("registry.example.com").prefix == "https"
    assert RegistryClient("127.0.0.1:5000").prefix == "http"
    ref = parse_reference("ghcr.io/org/app:1.0@sha256:" + "a" * 64)
    assert (ref.registry, ref.repository, ref.tag) == ("ghcr.io", "org/app", "1.0")


def test_bundle_in_registry_is_a_core_bundle(registry: Registry, keys) -> None:
    client = RegistryClient(registry.address)
    push_image(registry.address, "team/core", "1", b"core")
    signed = sign_image(client, parse_reference(f"{registry.address}/team/core:1"), keys["ci"])[0]
    manifest = json.loads(client.get_manifest("team/core", signed.signature.digest)[0])
    assert manifest["artifactType"] == SIGNATURE_ARTIFACT_TYPE
    assert manifest["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    assert manifest["subject"]["digest"] == signed.digest
    assert set(manifest["annotations"]) == {"org.opencontainers.image.created", "dev.pqsign.signature.algorithm",
                                            "dev.pqsign.key.id"}
    layer = manifest["layers"][0]
    bundle = Bundle.from_json(client.get_blob("team/core", Descriptor(layer["mediaType"], layer["digest"],
                                                                      layer["size"]), 1 << 20))
    statement = json.loads(bundle.envelope.payload)
    assert statement["subject"][0]["digest"]["sha256"] == signed.digest.removeprefix("sha256:")
