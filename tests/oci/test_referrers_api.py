"""The referrers API path (distribution-spec v1.1 "Listing Referrers", OCI-Subject).

FAKE registry: no registry installable here serves the referrers API (Debian's distribution 2.8
and 3.x do not; zot is not packaged), so this module runs a minimal in-process registry that
implements just what the spec says about it: ``OCI-Subject`` on a manifest PUT with a subject,
``GET /v2/<name>/referrers/<digest>`` with ``Link`` pagination, and ``OCI-Filters-Applied`` when
it filters. Everything else pqsign does is tested against the real registry in test_image.py.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlparse

import pytest

from pqsign.crypto.algorithms import by_name
from pqsign.keys.keyfile import generate_private_key
from pqsign.keys.keyring import KeyringEntry
from pqsign.oci.reference import parse_reference
from pqsign.oci.referrers import list_referrers
from pqsign.oci.registry import INDEX_TYPE, MANIFEST_TYPE, RegistryClient
from pqsign.oci.signing import SIGNATURE_ARTIFACT_TYPE, ReferrerState, check_signatures, sign_image, verify_image

PAGE_SIZE = 2


class FakeReferrersRegistry(ThreadingHTTPServer):
    """FAKE: an in-memory registry with the OCI 1.1 referrers API."""

    def __init__(self, filters: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.filters = filters
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[tuple[str, str], tuple[bytes, str]] = {}
        self.referrers: dict[str, list[dict[str, object]]] = {}
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: FakeReferrersRegistry

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _parts(self) -> tuple[str, str, str]:
        path = urlparse(self.path).path
        for kind in ("/manifests/", "/blobs/uploads/", "/blobs/", "/referrers/"):
            if kind in path:
                name, _, rest = path.removeprefix("/v2/").partition(kind)
                return name, kind.strip("/"), rest
        return "", "", ""

    def do_GET(self) -> None:  # noqa: N802
        if urlparse(self.path).path == "/v2/":
            return self._reply(200, b"{}")
        name, kind, ref = self._parts()
        if kind == "manifests":
            found = self.server.manifests.get((name, ref))
            if found is None:
                return self._reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            body, media_type = found
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
            return self._reply(200, body, {"Content-Type": media_type, "Docker-Content-Digest": digest})
        if kind == "blobs":
            data = self.server.blobs.get(ref)
            return self._reply(200, data) if data is not None else self._reply(404)
        if kind == "referrers":
            query = parse_qs(urlparse(self.path).query)
            entries = list(self.server.referrers.get(ref, []))
            headers = {"Content-Type": INDEX_TYPE}
            if self.server.filters and "artifactType" in query:
                entries = [e for e in entries if e.get("artifactType") == query["artifactType"][0]]
                headers["OCI-Filters-Applied"] = "artifactType"
            start = int(query.get("n_start", ["0"])[0])
            page = entries[start:start + PAGE_SIZE]
            if start + PAGE_SIZE < len(entries):
                base = urlparse(self.path).path
                extra = f"&artifactType={quote(query['artifactType'][0], safe='')}" if "artifactType" in query else ""
                headers["Link"] = f'<{base}?n_start={start + PAGE_SIZE}{extra}>; rel="next"'
            body = json.dumps({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": page}).encode()
            return self._reply(200, body, headers)
        return self._reply(404)

    def do_HEAD(self) -> None:  # noqa: N802
        name, kind, ref = self._parts()
        if kind == "blobs":
            return self._reply(200 if ref in self.server.blobs else 404)
        return self.do_GET()

    def do_POST(self) -> None:  # noqa: N802
        name, kind, _ = self._parts()
        return self._reply(202, headers={"Location": f"/v2/{name}/blobs/uploads/session"})

    def do_PUT(self) -> None:  # noqa: N802
        name, kind, ref = self._parts()
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if kind == "blobs/uploads":
            self.server.blobs[parse_qs(urlparse(self.path).query)["digest"][0]] = body
            return self._reply(201)
        media_type = self.headers["Content-Type"]
        with self.server.lock:
            self.server.manifests[(name, ref)] = (body, media_type)
            self.server.manifests[(name, digest)] = (body, media_type)
            headers = {"Docker-Content-Digest": digest}
            manifest = json.loads(body)
            subject = manifest.get("subject")
            if subject:
                self.server.referrers.setdefault(subject["digest"], []).append({
                    "mediaType": media_type, "digest": digest, "size": len(body),
                    "artifactType": manifest.get("artifactType"), "annotations": manifest.get("annotations", {})})
                headers["OCI-Subject"] = subject["digest"]
        return self._reply(201, headers=headers)


@pytest.fixture(params=[True, False], ids=["registry-filters", "client-filters"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeReferrersRegistry]:
    server = FakeReferrersRegistry(filters=request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def _image(client: RegistryClient, address: str) -> str:
    config = client.push_blob("team/app", b'{"architecture":"amd64","os":"linux"}',
                              "application/vnd.oci.image.config.v1+json")
    layer = client.push_blob("team/app", b"layer", "application/vnd.oci.image.layer.v1.tar")
    body = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST_TYPE, "config": config.to_dict(),
                       "layers": [layer.to_dict()]}).encode()
    client.put_manifest("team/app", "1", body, MANIFEST_TYPE)
    return f"{address}/team/app:1"


def test_signing_uses_the_api_and_writes_no_fallback_tag(fake: FakeReferrersRegistry) -> None:
    address = f"127.0.0.1:{fake.server_port}"
    client = RegistryClient(address)
    ref = parse_reference(_image(client, address))
    key = generate_private_key(by_name("ML-DSA-44"))
    signed = sign_image(client, ref, key)[0]
    assert not any(r.startswith("sha256-") for _, r in fake.manifests)  # OCI-Subject: no tag index
    assert [e["digest"] for e in fake.referrers[signed.digest]] == [signed.signature.digest]
    verify_image(client, ref, [KeyringEntry(key.public_key(), name="ci")])


def test_listing_follows_link_pages_and_filters(fake: FakeReferrersRegistry) -> None:
    address = f"127.0.0.1:{fake.server_port}"
    client = RegistryClient(address)
    ref = parse_reference(_image(client, address))
    keys = [generate_private_key(by_name("ML-DSA-44")) for _ in range(5)]
    for key in keys:
        sign_image(client, ref, key)
    subject = client.resolve(ref)
    fake.referrers[subject.digest].insert(1, {"mediaType": MANIFEST_TYPE, "digest": "sha256:" + "0" * 64,
                                              "size": 10, "artifactType": "application/vnd.example.sbom"})
    everything = list_referrers(client, "team/app", subject.digest)
    assert len(everything) == 6  # three pages of two
    ours = list_referrers(client, "team/app", subject.digest, SIGNATURE_ARTIFACT_TYPE)
    assert len(ours) == 5 and {d.artifact_type for d in ours} == {SIGNATURE_ARTIFACT_TYPE}
    _, results = check_signatures(client, ref, [KeyringEntry(k.public_key(), name=str(i))
                                                for i, k in enumerate(keys)])
    assert sorted(r.state.value for r in results) == ["foreign"] + ["verified"] * 5
    foreign = [r for r in results if r.state is ReferrerState.FOREIGN]
    assert foreign[0].descriptor.artifact_type == "application/vnd.example.sbom"
