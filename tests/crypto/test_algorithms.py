"""The registry: one entry per algorithm, real sizes, no substitution."""

from __future__ import annotations

import pytest

from pqsign.crypto.algorithms import ALGORITHMS, DEFAULT_ALGORITHM, Family, by_name, by_oid
from pqsign.errors import UnsupportedAlgorithmError
from tests.conftest import ALGORITHM_PARAMS, key_for


def test_names_and_oids_are_unique() -> None:
    assert len({a.name for a in ALGORITHMS}) == len(ALGORITHMS)
    assert len({a.oid for a in ALGORITHMS}) == len(ALGORITHMS)


def test_default_is_ml_dsa_65() -> None:
    assert DEFAULT_ALGORITHM == "ML-DSA-65"
    assert by_name(DEFAULT_ALGORITHM).oid == "2.16.840.1.101.3.4.3.18"


@pytest.mark.parametrize("spelling, name", [
    ("ml-dsa-65", "ML-DSA-65"), ("MLDSA87", "ML-DSA-87"), ("hybrid", "MLDSA65-Ed25519-SHA512"),
    ("ML-DSA-65+Ed25519", "MLDSA65-Ed25519-SHA512"), ("slh-dsa", "SLH-DSA-SHA2-128s"),
])
def test_aliases(spelling: str, name: str) -> None:
    assert by_name(spelling).name == name


def test_unknown_name_and_oid_raise() -> None:
    with pytest.raises(UnsupportedAlgorithmError, match="unknown algorithm"):
        by_name("RSA-2048")
    with pytest.raises(UnsupportedAlgorithmError):
        by_oid("1.3.101.112")  # Ed25519 alone is not a post-quantum algorithm


@pytest.mark.parametrize("alg", ALGORITHM_PARAMS)
def test_sizes_match_what_the_backend_produces(alg) -> None:
    key = key_for(alg)
    assert len(key.secret) == alg.private_key_size
    assert len(key.public_key().raw) == alg.public_key_size
    assert len(key.sign(b"size check")) == alg.signature_size


def test_composite_entries_name_their_components() -> None:
    for alg in ALGORITHMS:
        if alg.family is Family.COMPOSITE:
            component = by_name(alg.component)
            assert alg.public_key_size == component.public_key_size + 32
            assert alg.signature_size == component.signature_size + 64
            assert alg.label == alg.name.replace("MLDSA", "COMPSIG-MLDSA", 1)
