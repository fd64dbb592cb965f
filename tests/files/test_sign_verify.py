"""File signatures, library level: one test per verification step and per hostile input."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from pqsign.crypto.algorithms import by_name
from pqsign.envelope.bundle import Bundle
from pqsign.envelope.dsse import Envelope, Signature
from pqsign.envelope.statement import PAYLOAD_TYPE, Statement, Subject
from pqsign.errors import InputError, VerificationError
from pqsign.files import hash_file, sign_file, sign_statement, verify_file
from pqsign.keys.keyring import KeyringEntry
from tests.conftest import ALGORITHM_PARAMS, key_for

ML_DSA_65 = by_name("ML-DSA-65")


def trusted(*algs: str) -> list[KeyringEntry]:
    return [KeyringEntry(key_for(by_name(a)).public_key(), name=a) for a in algs]


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    path = tmp_path / "app-1.0.tar.gz"
    path.write_bytes(b"release contents\n" * 1000)
    return path


@pytest.mark.parametrize("alg", ALGORITHM_PARAMS)
def test_round_trip_every_algorithm(alg, artifact: Path) -> None:
    bundle = sign_file(artifact, key_for(alg))
    result = verify_file(artifact, Bundle.from_json(bundle.to_json()), trusted(alg.name))
    assert result.signer.public_key.algorithm is alg
    assert result.digest == hash_file(artifact)
    assert result.statement.subjects[0].name == "app-1.0.tar.gz"


def test_step0_no_trusted_keys_is_an_input_error(artifact: Path) -> None:
    with pytest.raises(InputError, match="no trusted keys"):
        verify_file(artifact, sign_file(artifact, key_for(ML_DSA_65)), [])


def test_step1_signature_reused_under_another_payload_type_fails(artifact: Path) -> None:
    bundle = sign_file(artifact, key_for(ML_DSA_65))
    env = bundle.envelope
    for payload_type in ("application/json", "application/vnd.in-toto+json; charset=x"):
        moved = Bundle(Envelope(payload_type, env.payload, env.signatures), bundle.key_hint)
        with pytest.raises(VerificationError):
            verify_file(artifact, moved, trusted("ML-DSA-65"))


def test_step2_wrong_key_fails(artifact: Path) -> None:
    bundle = sign_file(artifact, key_for(ML_DSA_65))
    with pytest.raises(VerificationError, match="not made by any of the 1 trusted key"):
        verify_file(artifact, bundle, trusted("ML-DSA-87"))


def test_step2_key_of_another_algorithm_with_the_same_hint_fails(artifact: Path) -> None:
    """The algorithm comes from the trusted key: an ML-DSA-44 signature never passes as 65."""
    bundle = sign_file(artifact, key_for(by_name("ML-DSA-44")))
    with pytest.raises(VerificationError):
        verify_file(artifact, bundle, trusted("ML-DSA-65", "ML-DSA-87", "MLDSA44-Ed25519-SHA512"))


def test_step2_tampered_payload_fails(artifact: Path) -> None:
    bundle = sign_file(artifact, key_for(ML_DSA_65))
    statement = json.loads(bundle.envelope.payload)
    statement["subject"][0]["digest"]["sha256"] = "0" * 64
    payload = json.dumps(statement).encode()
    env = bundle.envelope
    forged = Bundle(Envelope(env.payload_type, payload, env.signatures), bundle.key_hint)
    with pytest.raises(VerificationError, match="signed content was modified"):
        verify_file(artifact, forged, trusted("ML-DSA-65"))


def test_step2_flipped_signature_bit_fails(artifact: Path) -> None:
    bundle = sign_file(artifact, key_for(ML_DSA_65))
    env = bundle.envelope
    sig = bytearray(env.signature)
    sig[100] ^= 0x01
    forged = Bundle(Envelope(env.payload_type, env.payload, (Signature(bytes(sig)),)),
                    bundle.key_hint)
    with pytest.raises(VerificationError):
        verify_file(artifact, forged, trusted("ML-DSA-65"))


def test_step2_hint_is_not_trusted(artifact: Path) -> None:
    """A lying hint only changes the order of attempts, never the outcome."""
    bundle = sign_file(artifact, key_for(ML_DSA_65))
    lying = Bundle(bundle.envelope, "f" * 64)
    result = verify_file(artifact, lying, trusted("ML-DSA-87", "ML-DSA-65"))
    assert result.signer.name == "ML-DSA-65"


def test_step3_other_predicate_type_signed_by_a_trusted_key_fails(artifact: Path) -> None:
    digest = hash_file(artifact)
    statement = Statement((Subject(artifact.name, {"sha256": digest.sha256}),),
                          "https://slsa.dev/provenance/v1", {})
    bundle = sign_statement(statement, key_for(ML_DSA_65))
    with pytest.raises(VerificationError, match="signature attests .*slsa"):
        verify_file(artifact, bundle, trusted("ML-DSA-65"))


def test_step4_tampered_file_fails(artifact: Path) -> None:
    bundle = sign_file(artifact, key_for(ML_DSA_65))
    with artifact.open("r+b") as handle:
        handle.seek(500)
        handle.write(b"X")
    with pytest.raises(VerificationError, match="does not match its signature"):
        verify_file(artifact, bundle, trusted("ML-DSA-65"))


def test_step4_bundle_of_another_file_fails(artifact: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.tar.gz"
    other.write_bytes(b"something else")
    bundle = sign_file(other, key_for(ML_DSA_65), name=artifact.name)  # swapped subject
    with pytest.raises(VerificationError, match="does not match its signature"):
        verify_file(artifact, bundle, trusted("ML-DSA-65"))


def test_step5_subject_name_is_checked_when_asked(artifact: Path) -> None:
    bundle = sign_file(artifact, key_for(ML_DSA_65))
    verify_file(artifact, bundle, trusted("ML-DSA-65"), expected_name="app-1.0.tar.gz")
    with pytest.raises(VerificationError, match="not 'app-2.0.tar.gz'"):
        verify_file(artifact, bundle, trusted("ML-DSA-65"), expected_name="app-2.0.tar.gz")


def test_bundle_is_independently_verifiable_with_dilithium_py(artifact: Path) -> None:
    """Anyone with an ML-DSA verifier and the public key can check it: PAE bytes, empty ctx."""
    from dilithium_py.ml_dsa import ML_DSA_65 as reference

    bundle = json.loads(sign_file(artifact, key_for(ML_DSA_65)).to_json())
    envelope = bundle["dsseEnvelope"]
    payload = base64.b64decode(envelope["payload"])
    pae = b"DSSEv1 %d %s %d %s" % (len(envelope["payloadType"]), envelope["payloadType"].encode(),
                                    len(payload), payload)
    signature = base64.b64decode(envelope["signatures"][0]["sig"])
    public = key_for(ML_DSA_65).public_key().raw
    assert reference.verify(public, pae, signature, ctx=b"")
    assert not reference.verify(public, pae + b" ", signature, ctx=b"")
    assert envelope["payloadType"] == PAYLOAD_TYPE
    statement = json.loads(payload)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["subject"] == [{"name": artifact.name,
                                     "digest": {"sha256": hash_file(artifact).sha256}}]


def test_hash_file_streams_in_chunks(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "three-mib-and-a-bit"
    data = bytes(range(256)) * (3 * 4096 + 7)
    path.write_bytes(data)
    seen: list[int] = []
    digest = hash_file(path, seen.append)
    assert digest.sha256 == hashlib.sha256(data).hexdigest()
    assert sum(seen) == len(data) == digest.size
    assert max(seen) <= 1 << 20 and len(seen) >= 3


def test_missing_file_and_directory_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        hash_file(tmp_path / "nope")
    with pytest.raises(InputError, match="directory"):
        hash_file(tmp_path)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        hash_file(fifo)  # would block forever in open() if it were opened for blocking reads
