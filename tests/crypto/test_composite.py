"""Composite ML-DSA + Ed25519 against the draft's own vectors (draft-ietf-lamps-pq-composite-sigs-19)."""

from __future__ import annotations

import base64
import json

import pytest

from pqsign.crypto import _cryptography as backend
from pqsign.crypto.algorithms import by_name
from pqsign.errors import VerificationError
from pqsign.keys.keyfile import PrivateKey, PublicKey
from tests.conftest import VECTORS

DATA = json.loads((VECTORS / "composite-sigs.json").read_text())
M = base64.b64decode(DATA["m"])
CTX = base64.b64decode(DATA["ctx"])
CASES = {t["tcId"]: t for t in DATA["tests"]}
COMPOSITES = ["MLDSA65-Ed25519-SHA512", "MLDSA44-Ed25519-SHA512"]


def _case(name: str) -> dict[str, str]:
    return CASES[f"id-{name}"]


def _public(name: str) -> PublicKey:
    """The vector's raw public key, round-tripped through our SPKI encoding."""
    raw = PublicKey(by_name(name), base64.b64decode(_case(name)["pk"]))
    return PublicKey.from_der(raw.spki_der)


@pytest.mark.parametrize("name", COMPOSITES)
def test_vector_public_key_parses_under_its_oid(name: str) -> None:
    assert _public(name).algorithm is by_name(name)


@pytest.mark.parametrize("name", COMPOSITES)
def test_vector_signatures_verify(name: str) -> None:
    alg, public = by_name(name), _public(name).raw
    backend.verify(alg, public, M, base64.b64decode(_case(name)["s"]))
    backend.verify(alg, public, M, base64.b64decode(_case(name)["sWithContext"]), CTX)


@pytest.mark.parametrize("name", COMPOSITES)
@pytest.mark.parametrize("where", ["ML-DSA", "Ed25519"])
def test_flipping_a_byte_in_either_half_fails(name: str, where: str) -> None:
    alg, public = by_name(name), _public(name).raw
    signature = bytearray(base64.b64decode(_case(name)["s"]))
    position = 10 if where == "ML-DSA" else len(signature) - 10
    signature[position] ^= 1
    with pytest.raises(VerificationError, match=f"{where} part failed"):
        backend.verify(alg, public, M, bytes(signature))


@pytest.mark.parametrize("name", COMPOSITES)
def test_context_is_bound(name: str) -> None:
    alg, public = by_name(name), _public(name).raw
    with pytest.raises(VerificationError):
        backend.verify(alg, public, M, base64.b64decode(_case(name)["sWithContext"]))


@pytest.mark.parametrize("name", COMPOSITES)
def test_vector_private_key_derives_the_vector_public_key(name: str) -> None:
    alg = by_name(name)
    key = PrivateKey(alg, base64.b64decode(_case(name)["sk"]))
    assert key.public_key() == _public(name)
    # and our signatures verify under the vector key
    _public(name).verify(M, key.sign(M))


@pytest.mark.parametrize("name", COMPOSITES)
def test_vector_pkcs8_round_trips(name: str) -> None:
    der = base64.b64decode(_case(name)["sk_pkcs8"])
    key = PrivateKey.from_der(der)
    assert key.algorithm is by_name(name)
    assert key.pkcs8_der() == der


def test_ml_dsa_65_vector_pkcs8_is_seed_form_we_write() -> None:
    case = CASES["id-ML-DSA-65"]
    key = PrivateKey.from_der(base64.b64decode(case["sk_pkcs8"]))
    assert key.secret == base64.b64decode(case["sk"])
    assert key.pkcs8_der() == base64.b64decode(case["sk_pkcs8"])
    assert key.public_key().raw == base64.b64decode(case["pk"])
    key.public_key().verify(M, base64.b64decode(case["s"]))
