"""SLH-DSA through liboqs-python, preferred over the pure-Python package when present.

Imported only by :func:`pqsign.crypto.backends.get_backend` after
:func:`pqsign.crypto._liboqs_probe.probe_liboqs` found the shared library, so the
``import oqs`` below can never trigger liboqs-python's download-and-build fallback.

liboqs stores SLH-DSA secret keys in the FIPS 205 layout SK.seed || SK.prf || PK.seed || PK.root,
the same bytes the pure-Python backend and RFC 9909 PKCS#8 use, so keys move between backends.
"""

from __future__ import annotations

import oqs  # noqa: E402  (safe: the probe ran first)

from pqsign.crypto.algorithms import Algorithm
from pqsign.errors import InputError, VerificationError

# liboqs names for pure-mode (empty-context) SLH-DSA, stable since liboqs 0.14.
_NAMES = {
    "SLH-DSA-SHA2-128s": "SLH_DSA_PURE_SHA2_128S",
    "SLH-DSA-SHA2-128f": "SLH_DSA_PURE_SHA2_128F",
}


def _check(alg: Algorithm, blob: bytes, size: int, what: str) -> None:
    if len(blob) != size:
        raise InputError(f"malformed {alg.name} {what}: {len(blob)} bytes, expected {size}")


def generate(alg: Algorithm) -> bytes:
    """A fresh secret key from liboqs."""
    with oqs.Signature(_NAMES[alg.name]) as signer:
        signer.generate_keypair()
        return bytes(signer.export_secret_key())


def public_key(alg: Algorithm, secret: bytes) -> bytes:
    """PK.seed || PK.root: the second half of the secret key (FIPS 205 section 9.1)."""
    _check(alg, secret, alg.private_key_size, "private key")
    return secret[alg.private_key_size // 2:]


def sign(alg: Algorithm, secret: bytes, message: bytes) -> bytes:
    """Pure SLH-DSA with an empty context."""
    _check(alg, secret, alg.private_key_size, "private key")
    with oqs.Signature(_NAMES[alg.name], secret_key=secret) as signer:
        return bytes(signer.sign(message))


def verify(alg: Algorithm, public: bytes, message: bytes, signature: bytes) -> None:
    """Raise :class:`VerificationError` unless ``signature`` is valid."""
    _check(alg, public, alg.public_key_size, "public key")
    with oqs.Signature(_NAMES[alg.name]) as verifier:
        if not verifier.verify(message, signature, public):
            raise VerificationError(f"invalid {alg.name} signature")
