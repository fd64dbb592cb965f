"""SLH-DSA (FIPS 205) through the pure-Python `slh-dsa` package, the fallback without liboqs.

Only ``sign_pure``/``verify_pure`` are used: the package's ``sign``/``verify`` are FIPS 205's
internal functions without the pure-mode prefix and do not interoperate (checked against
OpenSSL 3.6.5 vectors in tests/vectors). Signing is randomized (hedged), context empty
(RFC 9909 specifies only the empty context).
"""

from __future__ import annotations

import slhdsa
from slhdsa.lowlevel.parameters import sha2_128f, sha2_128s

from pqsign.crypto.algorithms import Algorithm
from pqsign.errors import InputError, VerificationError

_PARAMETERS = {
    "SLH-DSA-SHA2-128s": sha2_128s,
    "SLH-DSA-SHA2-128f": sha2_128f,
}


def _check(alg: Algorithm, blob: bytes, size: int, what: str) -> None:
    if len(blob) != size:
        raise InputError(f"malformed {alg.name} {what}: {len(blob)} bytes, expected {size}")


def generate(alg: Algorithm) -> bytes:
    """A fresh 4n-byte secret key SK.seed || SK.prf || PK.seed || PK.root."""
    return bytes(slhdsa.KeyPair.gen(_PARAMETERS[alg.name]).sec.digest())


def public_key(alg: Algorithm, secret: bytes) -> bytes:
    """PK.seed || PK.root: the second half of the secret key (FIPS 205 section 9.1)."""
    _check(alg, secret, alg.private_key_size, "private key")
    return secret[alg.private_key_size // 2:]


def sign(alg: Algorithm, secret: bytes, message: bytes) -> bytes:
    """Pure SLH-DSA, randomized, empty context."""
    _check(alg, secret, alg.private_key_size, "private key")
    key = slhdsa.SecretKey.from_digest(secret, _PARAMETERS[alg.name])
    return bytes(key.sign_pure(message, randomize=True, ctx=b""))


def verify(alg: Algorithm, public: bytes, message: bytes, signature: bytes) -> None:
    """Raise :class:`VerificationError` unless ``signature`` is a valid pure SLH-DSA signature."""
    _check(alg, public, alg.public_key_size, "public key")
    if len(signature) != alg.signature_size:
        raise VerificationError(
            f"invalid {alg.name} signature: {len(signature)} bytes, expected {alg.signature_size}"
        )
    key = slhdsa.PublicKey.from_digest(public, _PARAMETERS[alg.name])
    if not key.verify_pure(message, signature, ctx=b""):
        raise VerificationError(f"invalid {alg.name} signature")
