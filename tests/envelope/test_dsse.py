"""DSSE v1.0.2 PAE and envelope shape, Sigstore bundle parsing limits."""

from __future__ import annotations

import base64
import json

import pytest

from pqsign.envelope.bundle import MAX_BUNDLE_SIZE, Bundle
from pqsign.envelope.dsse import Envelope, Signature, b64decode_any, pae
from pqsign.errors import InputError


def test_pae_matches_the_spec_vector() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_pae_counts_bytes_not_characters() -> None:
    assert pae("t\u00e9", b"\xff") == b"DSSEv1 3 t\xc3\xa9 1 \xff"


@pytest.mark.parametrize("encoded, expected", [
    ("+/+/", b"\xfb\xff\xbf"), ("-_-_", b"\xfb\xff\xbf"), ("+/8=", b"\xfb\xff"), ("-_8", b"\xfb\xff"),
], ids=["standard", "url-safe", "padded", "unpadded"])
def test_standard_and_url_safe_base64_both_decode(encoded: str, expected: bytes) -> None:
    assert b64decode_any(encoded, "x") == expected


def test_bad_base64_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not valid base64"):
        b64decode_any("@@@@", "DSSE signature")


def _envelope_dict(signatures: list[dict[str, str]]) -> dict[str, object]:
    return {"payload": base64.b64encode(b"{}").decode(), "payloadType": "application/vnd.in-toto+json",
            "signatures": signatures}


@pytest.mark.parametrize("signatures", [[], [{"sig": "AA=="}, {"sig": "AQ=="}]], ids=["none", "two"])
def test_envelope_needs_exactly_one_signature(signatures: list[dict[str, str]]) -> None:
    with pytest.raises(InputError, match="exactly one signature"):
        Envelope.from_dict(_envelope_dict(signatures))


def test_bundle_round_trips() -> None:
    bundle = Bundle(Envelope("application/vnd.in-toto+json", b"{}", (Signature(b"\x01\x02", "abc"),)), "abc")
    assert Bundle.from_json(bundle.to_json()) == bundle


@pytest.mark.parametrize("data, message", [
    (b"", "not valid JSON"),
    (b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verif', "truncated"),
    (b"[1, 2]", "expected a JSON object"),
    (b'{"mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1"}', "media type"),
    (b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}', "verificationMaterial"),
    (b"\xff\xfe garbage", "not valid JSON"),
], ids=["empty", "truncated", "array", "old-media-type", "no-key-material", "garbage"])
def test_malformed_bundles_are_input_errors(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        Bundle.from_json(data)


def test_oversized_bundle_is_refused_before_parsing() -> None:
    huge = b'{"x": "' + b"A" * MAX_BUNDLE_SIZE + b'"}'
    with pytest.raises(InputError, match="too large"):
        Bundle.from_json(huge)


def test_bundle_json_is_sigstore_v0_3_shape() -> None:
    bundle = Bundle(Envelope("application/vnd.in-toto+json", b"{}", (Signature(b"sig", "kid"),)), "kid")
    document = json.loads(bundle.to_json())
    assert document["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert document["verificationMaterial"] == {"publicKey": {"hint": "kid"}}
    assert document["dsseEnvelope"]["signatures"] == [{"sig": "c2ln", "keyid": "kid"}]
