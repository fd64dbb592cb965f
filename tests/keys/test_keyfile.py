"""Key files: RFC 9881 seed-form PKCS#8, SPKI with the NIST OIDs, PBES2 that OpenSSL reads."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess

import pytest
from asn1crypto import core
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa

from pqsign.crypto.algorithms import ALGORITHMS, Family, by_name
from pqsign.errors import InputError, PassphraseRequiredError, WrongPassphraseError
from pqsign.keys._pbes2 import decrypt_pkcs8, encrypt_pkcs8
from pqsign.keys.keyfile import PrivateKey, PublicKey
from tests.conftest import ALGORITHM_PARAMS, key_for

ML_DSA = [a for a in ALGORITHMS if a.family is Family.ML_DSA]
CRYPTOGRAPHY_CLASS = {"ML-DSA-44": mldsa.MLDSA44PrivateKey, "ML-DSA-65": mldsa.MLDSA65PrivateKey,
                      "ML-DSA-87": mldsa.MLDSA87PrivateKey}


class _AlgorithmIdentifier(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]


class _SPKI(core.Sequence):
    """An independent SPKI declaration (asn1crypto) to cross-check pqsign's fixed encoder."""

    _fields = [("algorithm", _AlgorithmIdentifier), ("subject_public_key", core.OctetBitString)]


def test_rfc_9881_appendix_c_seed_form_matches_cryptography() -> None:
    seed = bytes(range(32))
    ours = PrivateKey(by_name("ML-DSA-44"), seed)
    theirs = mldsa.MLDSA44PrivateKey.from_seed_bytes(seed)
    der = theirs.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption())
    assert ours.pkcs8_der() == der
    assert ours.pkcs8_der().startswith(bytes.fromhex(
        "3034020100300b0609608648016503040311042280 20".replace(" ", "")))
    spki = theirs.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    assert ours.public_key().spki_der == spki
    assert base64.b64encode(ours.pkcs8_der()).startswith(b"MDQCAQAwCwYJYIZIAWUDBAMRBCKAIAAB")


@pytest.mark.parametrize("alg", ALGORITHMS, ids=lambda a: a.name)
def test_spki_encoding_matches_an_independent_asn1_encoder(alg) -> None:
    raw = os.urandom(alg.public_key_size)
    reference = _SPKI({"algorithm": {"algorithm": alg.oid}, "subject_public_key": raw}).dump()
    assert PublicKey(alg, raw).spki_der == reference
    assert PublicKey.from_der(reference) == PublicKey(alg, raw)


def test_key_id_is_sha256_of_spki_der() -> None:
    key = key_for(by_name("ML-DSA-65")).public_key()
    assert key.key_id == hashlib.sha256(key.spki_der).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", key.key_id)


@pytest.mark.parametrize("alg", ML_DSA, ids=lambda a: a.name)
def test_openssl_reads_our_encrypted_private_key_and_public_key(alg) -> None:
    """pyca/cryptography hands PEM to OpenSSL's decoders: this is OpenSSL reading our files."""
    key = key_for(alg)
    loaded = serialization.load_pem_private_key(key.to_pem(b"pw"), password=b"pw")
    assert loaded.private_bytes_raw() == key.secret
    public = serialization.load_pem_public_key(key.public_key().to_pem())
    assert public.public_bytes_raw() == key.public_key().raw


@pytest.mark.parametrize("alg", ML_DSA, ids=lambda a: a.name)
def test_we_read_keys_openssl_encrypted(alg) -> None:
    theirs = CRYPTOGRAPHY_CLASS[alg.name].generate()
    pem = theirs.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.BestAvailableEncryption(b"their pass"))
    ours = PrivateKey.from_pem(pem, b"their pass")
    assert ours.secret == theirs.private_bytes_raw()
    assert ours.public_key().raw == theirs.public_key().public_bytes_raw()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl binary")
def test_openssl_cli_reads_our_keys_when_it_knows_ml_dsa(tmp_path) -> None:
    version = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout
    major, minor = (int(x) for x in re.search(r"OpenSSL (\d+)\.(\d+)", version).groups())
    if (major, minor) < (3, 5):
        pytest.skip(f"{version.strip()} predates ML-DSA (3.5+)")
    key = key_for(by_name("ML-DSA-65"))
    (tmp_path / "k.key").write_bytes(key.to_pem(b"pw"))
    out = subprocess.run(["openssl", "pkey", "-in", str(tmp_path / "k.key"), "-passin", "pass:pw",
                          "-pubout", "-outform", "DER"], capture_output=True, check=True).stdout
    assert out == key.public_key().spki_der


@pytest.mark.parametrize("alg", ALGORITHM_PARAMS)
def test_pem_round_trip_encrypted_and_plain(alg) -> None:
    key = key_for(alg)
    assert PrivateKey.from_pem(key.to_pem(b"secret"), b"secret") == key
    assert PrivateKey.from_pem(key.to_pem(None), None) == key
    assert PublicKey.from_pem(key.public_key().to_pem()) == key.public_key()


@pytest.mark.parametrize("name", ["ML-DSA-65", "MLDSA65-Ed25519-SHA512", "SLH-DSA-SHA2-128f"])
def test_wrong_passphrase(name: str) -> None:
    pem = key_for(by_name(name)).to_pem(b"right")
    with pytest.raises(WrongPassphraseError, match="wrong passphrase"):
        PrivateKey.from_pem(pem, b"wrong")


def test_encrypted_key_without_passphrase_says_how_to_give_one() -> None:
    with pytest.raises(PassphraseRequiredError) as info:
        PrivateKey.from_pem(key_for(by_name("ML-DSA-65")).to_pem(b"pw"), None)
    assert "PQSIGN_PASSWORD" in (info.value.hint or "")


def test_encrypted_key_is_pbes2_aes256_with_many_iterations() -> None:
    from asn1crypto.keys import EncryptedPrivateKeyInfo

    pem = key_for(by_name("ML-DSA-65")).to_pem(b"pw")
    der = base64.b64decode(b"".join(pem.splitlines()[1:-1]))
    params = EncryptedPrivateKeyInfo.load(der)["encryption_algorithm"]["parameters"].native
    assert params["encryption_scheme"]["algorithm"] == "aes256_cbc"
    assert params["key_derivation_func"]["parameters"]["prf"]["algorithm"] == "sha256"
    assert params["key_derivation_func"]["parameters"]["iteration_count"] >= 600_000


def test_absurd_iteration_count_is_refused_before_deriving() -> None:
    der = encrypt_pkcs8(b"0" * 40, b"pw", 2048)
    with pytest.raises(InputError, match="implausible"):
        decrypt_pkcs8(der, b"pw", max_iterations=1000, what="key")


def test_expanded_only_ml_dsa_key_is_refused_with_advice() -> None:
    from dilithium_py.ml_dsa import ML_DSA_44

    _, expanded = ML_DSA_44.key_derive(bytes(range(32)))
    der = _pkcs8("2.16.840.1.101.3.4.3.17", core.OctetString(expanded).dump())
    with pytest.raises(InputError, match="only the expanded form"):
        PrivateKey.from_der(der)


def test_both_form_is_accepted_when_consistent_and_refused_when_not() -> None:
    from dilithium_py.ml_dsa import ML_DSA_44

    seed = bytes(range(32))
    _, expanded = ML_DSA_44.key_derive(seed)

    class Both(core.Sequence):
        _fields = [("seed", core.OctetString), ("expanded", core.OctetString)]

    good = _pkcs8("2.16.840.1.101.3.4.3.17", Both({"seed": seed, "expanded": expanded}).dump())
    assert PrivateKey.from_der(good).secret == seed
    _, other = ML_DSA_44.key_derive(bytes(32))
    bad = _pkcs8("2.16.840.1.101.3.4.3.17", Both({"seed": seed, "expanded": other}).dump())
    with pytest.raises(InputError, match="does not match the seed"):
        PrivateKey.from_der(bad)


def _pkcs8(oid: str, payload: bytes) -> bytes:
    class Info(core.Sequence):
        _fields = [("version", core.Integer), ("algorithm", _AlgorithmIdentifier),
                   ("key", core.OctetString)]

    return Info({"version": 0, "algorithm": {"algorithm": oid}, "key": payload}).dump()


def test_classical_key_is_refused_with_a_hint() -> None:
    spki = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(InputError, match="not a post-quantum public key") as info:
        PublicKey.from_der(spki)
    assert "classical" in (info.value.hint or "")


@pytest.mark.parametrize("mutate", [
    lambda d: d[:-1],                                    # truncated
    lambda d: d + b"\x00",                                # trailing data
    lambda d: d[:2] + b"\x30\x0d" + d[4:15] + b"\x05\x00" + d[15:],  # NULL parameters added
], ids=["truncated", "trailing", "parameters"])
def test_malformed_spki_is_refused(mutate) -> None:
    der = key_for(by_name("ML-DSA-65")).public_key().spki_der
    with pytest.raises(InputError):
        PublicKey.from_der(mutate(der))


def test_explanatory_text_is_information_only() -> None:
    key = key_for(by_name("ML-DSA-44")).public_key()
    forged = key.to_pem().replace(key.key_id.encode(), b"0" * 64).replace(b"ML-DSA-44", b"ML-DSA-87", 1)
    parsed = PublicKey.from_pem(forged)
    assert parsed.algorithm is by_name("ML-DSA-44")
    assert parsed.key_id == key.key_id


def test_private_key_repr_hides_the_secret() -> None:
    key = key_for(by_name("ML-DSA-65"))
    assert key.secret.hex() not in repr(key)
    assert "secret" not in repr(key)


def test_pem_with_bad_base64_and_wrong_label() -> None:
    with pytest.raises(InputError, match="not valid base64"):
        PublicKey.from_pem(b"-----BEGIN PUBLIC KEY-----\nab=d\n-----END PUBLIC KEY-----\n")
    with pytest.raises(InputError, match="no '-----BEGIN PUBLIC KEY-----' block"):
        PublicKey.from_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
