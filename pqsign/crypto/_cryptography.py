"""ML-DSA (FIPS 204) and composite ML-DSA + Ed25519 through pyca/cryptography (OpenSSL).

ML-DSA: pure mode, hedged signing (cryptography's only mode), context chosen by the caller
(empty for every pqsign format, as RFC 9881/9882 and DSSE interoperability require).

Composite: draft-ietf-lamps-pq-composite-sigs-19, sections 2.1-3.3::

    M'        = Prefix || Label || len(ctx) || ctx || PH(M)
    mldsaSig  = ML-DSA.Sign(mldsaSK, M', ctx=Label)
    tradSig   = Ed25519.Sign(tradSK, M')
    signature = mldsaSig || tradSig            (valid only if both verify)

Keys are concatenations, ML-DSA first: pk = mldsaPK || ed25519PK, sk = mldsaSeed || ed25519SK.
pqsign always uses an empty application context (``ctx``), so ``len(ctx) || ctx`` is one 0 byte.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa

from pqsign.crypto.algorithms import Algorithm, Family, by_name
from pqsign.errors import InputError, VerificationError

MLDSAPrivateKey = mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey
MLDSAPublicKey = mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey

_ML_DSA: dict[str, tuple[type[MLDSAPrivateKey], type[MLDSAPublicKey]]] = {
    "ML-DSA-44": (mldsa.MLDSA44PrivateKey, mldsa.MLDSA44PublicKey),
    "ML-DSA-65": (mldsa.MLDSA65PrivateKey, mldsa.MLDSA65PublicKey),
    "ML-DSA-87": (mldsa.MLDSA87PrivateKey, mldsa.MLDSA87PublicKey),
}

COMPOSITE_PREFIX = b"CompositeAlgorithmSignatures2025"


def _mldsa_private(name: str, seed: bytes) -> MLDSAPrivateKey:
    try:
        return _ML_DSA[name][0].from_seed_bytes(seed)
    except ValueError as exc:
        raise InputError(f"malformed {name} private key: {exc}") from None


def _mldsa_public(name: str, public: bytes) -> MLDSAPublicKey:
    try:
        return _ML_DSA[name][1].from_public_bytes(public)
    except ValueError as exc:
        raise InputError(f"malformed {name} public key: {exc}") from None


def _composite_message(alg: Algorithm, message: bytes, ctx: bytes = b"") -> bytes:
    """M' of draft-ietf-lamps-pq-composite-sigs-19 section 3.2, with PH = SHA-512."""
    return (
        COMPOSITE_PREFIX + alg.label.encode("ascii") + bytes([len(ctx)]) + ctx
        + hashlib.sha512(message).digest()
    )


def _split(alg: Algorithm, blob: bytes, first: int, what: str, total: int) -> tuple[bytes, bytes]:
    if len(blob) != total:
        raise InputError(f"malformed {alg.name} {what}: {len(blob)} bytes, expected {total}")
    return blob[:first], blob[first:]


def generate(alg: Algorithm) -> bytes:
    """A fresh secret: the ML-DSA seed (from OpenSSL's DRBG), plus an Ed25519 key for composites."""
    if alg.family is Family.ML_DSA:
        return _ML_DSA[alg.name][0].generate().private_bytes_raw()
    component = by_name(alg.component)
    return generate(component) + ed25519.Ed25519PrivateKey.generate().private_bytes_raw()


def public_key(alg: Algorithm, secret: bytes) -> bytes:
    """Derive the raw public key from the stored secret."""
    if alg.family is Family.ML_DSA:
        return _mldsa_private(alg.name, secret).public_key().public_bytes_raw()
    seed, trad = _split(alg, secret, 32, "private key", alg.private_key_size)
    component = by_name(alg.component)
    ed_public = ed25519.Ed25519PrivateKey.from_private_bytes(trad).public_key()
    return public_key(component, seed) + ed_public.public_bytes_raw()


def sign(alg: Algorithm, secret: bytes, message: bytes, ctx: bytes = b"") -> bytes:
    """Sign in pure mode (hedged). ``ctx`` is the FIPS 204 / composite application context."""
    if alg.family is Family.ML_DSA:
        return _mldsa_private(alg.name, secret).sign(message, ctx or None)
    seed, trad = _split(alg, secret, 32, "private key", alg.private_key_size)
    m_prime = _composite_message(alg, message, ctx)
    pq_sig = _mldsa_private(alg.component, seed).sign(m_prime, alg.label.encode("ascii"))
    trad_sig = ed25519.Ed25519PrivateKey.from_private_bytes(trad).sign(m_prime)
    return pq_sig + trad_sig


def verify(alg: Algorithm, public: bytes, message: bytes, signature: bytes, ctx: bytes = b"") -> None:
    """Verify; raise :class:`VerificationError` unless the signature (both halves) is valid."""
    if alg.family is Family.ML_DSA:
        key = _mldsa_public(alg.name, public)
        try:
            key.verify(signature, message, ctx or None)
        except InvalidSignature:
            raise VerificationError(f"invalid {alg.name} signature") from None
        return
    component = by_name(alg.component)
    pq_public, ed_public = _split(alg, public, component.public_key_size, "public key",
                                  alg.public_key_size)
    if len(signature) != alg.signature_size:
        raise VerificationError(
            f"invalid {alg.name} signature: {len(signature)} bytes, expected {alg.signature_size}"
        )
    pq_sig, trad_sig = signature[: component.signature_size], signature[component.signature_size:]
    m_prime = _composite_message(alg, message, ctx)
    pq_key = _mldsa_public(component.name, pq_public)
    ed_key = ed25519.Ed25519PublicKey.from_public_bytes(ed_public)
    # Both halves are always checked; the composite is valid only if both are.
    pq_ok = ed_ok = True
    try:
        pq_key.verify(pq_sig, m_prime, alg.label.encode("ascii"))
    except InvalidSignature:
        pq_ok = False
    try:
        ed_key.verify(trad_sig, m_prime)
    except InvalidSignature:
        ed_ok = False
    if not (pq_ok and ed_ok):
        failed = " and ".join(p for p, ok in (("ML-DSA", pq_ok), ("Ed25519", ed_ok)) if not ok)
        raise VerificationError(f"invalid {alg.name} signature ({failed} part failed)")
