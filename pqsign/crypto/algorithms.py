"""The algorithm registry: the one place that names every signature algorithm pqsign knows.

Each :class:`Algorithm` maps a canonical name to its OID, its key and signature sizes, its
NIST security category and the backends that can run it, in order of preference. Adding an
algorithm means adding one entry to :data:`ALGORITHMS` (and, for a new family, a backend).

Sources: FIPS 204 and RFC 9881 (ML-DSA), FIPS 205 and RFC 9909 (SLH-DSA),
draft-ietf-lamps-pq-composite-sigs-19 (composite ML-DSA).

Algorithm substitution is impossible by construction: a signature is always checked with the
algorithm of the *trusted public key* (its SPKI OID), never with anything a signature file says.

This module imports nothing heavy, so ``pqsign verify`` can consult it on its start-up path.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pqsign.errors import UnsupportedAlgorithmError

__all__ = ["Algorithm", "Family", "ALGORITHMS", "DEFAULT_ALGORITHM", "by_name", "by_oid"]


class Family(StrEnum):
    """Algorithm families; each family has one implementation module per backend."""

    ML_DSA = "ML-DSA"
    SLH_DSA = "SLH-DSA"
    COMPOSITE = "Composite ML-DSA"


@dataclass(frozen=True, slots=True)
class Algorithm:
    """One signature algorithm and everything pqsign needs to know about it.

    Attributes:
        name: canonical name, as FIPS 204/205 or the composite draft spell it.
        oid: dotted OID used in SubjectPublicKeyInfo and PKCS#8 AlgorithmIdentifier.
        family: which implementation family runs it.
        public_key_size: raw public key length in bytes.
        private_key_size: length of the secret pqsign stores (ML-DSA: the 32-byte seed).
        signature_size: signature length in bytes (an upper bound where it varies).
        nist_level: NIST post-quantum security category (1, 3 or 5).
        backends: backend names able to run it, most preferred first.
        aliases: other accepted spellings (compared case-insensitively).
        label: composite only: the draft's Label, used as the ML-DSA context.
        component: composite only: the ML-DSA parameter set of the post-quantum half.
        cms_digest: digest for CMS signed attributes (RFC 9882 section 3.3: SHA-512 for ML-DSA;
            RFC 9814: SHA-256 for SLH-DSA-SHA2-128*; the composite CMS draft: SHA-512).
    """

    name: str
    oid: str
    family: Family
    public_key_size: int
    private_key_size: int
    signature_size: int
    nist_level: int
    backends: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    label: str = ""
    component: str = ""
    cms_digest: str = "sha512"

    def __str__(self) -> str:
        return self.name


_NIST_SIG = "2.16.840.1.101.3.4.3"
_COMPOSITE = "1.3.6.1.5.5.7.6"

ALGORITHMS: tuple[Algorithm, ...] = (
    Algorithm("ML-DSA-44", f"{_NIST_SIG}.17", Family.ML_DSA, 1312, 32, 2420, 2, ("cryptography",),
              aliases=("mldsa44", "ml-dsa44")),
    Algorithm("ML-DSA-65", f"{_NIST_SIG}.18", Family.ML_DSA, 1952, 32, 3309, 3, ("cryptography",),
              aliases=("mldsa65", "ml-dsa65")),
    Algorithm("ML-DSA-87", f"{_NIST_SIG}.19", Family.ML_DSA, 2592, 32, 4627, 5, ("cryptography",),
              aliases=("mldsa87", "ml-dsa87")),
    # Composite sizes: ML-DSA part first, then Ed25519 (32-byte key, 64-byte signature).
    Algorithm("MLDSA65-Ed25519-SHA512", f"{_COMPOSITE}.48", Family.COMPOSITE,
              1952 + 32, 32 + 32, 3309 + 64, 3, ("cryptography",),
              aliases=("ML-DSA-65+Ed25519", "ML-DSA-65-Ed25519", "hybrid"),
              label="COMPSIG-MLDSA65-Ed25519-SHA512", component="ML-DSA-65"),
    Algorithm("MLDSA44-Ed25519-SHA512", f"{_COMPOSITE}.39", Family.COMPOSITE,
              1312 + 32, 32 + 32, 2420 + 64, 2, ("cryptography",),
              aliases=("ML-DSA-44+Ed25519", "ML-DSA-44-Ed25519"),
              label="COMPSIG-MLDSA44-Ed25519-SHA512", component="ML-DSA-44"),
    # SLH-DSA: the private key is SK.seed || SK.prf || PK.seed || PK.root (RFC 9909).
    Algorithm("SLH-DSA-SHA2-128s", f"{_NIST_SIG}.20", Family.SLH_DSA, 32, 64, 7856, 1,
              ("liboqs", "slh-dsa"), aliases=("slh-dsa", "slhdsa-sha2-128s"), cms_digest="sha256"),
    Algorithm("SLH-DSA-SHA2-128f", f"{_NIST_SIG}.21", Family.SLH_DSA, 32, 64, 17088, 1,
              ("liboqs", "slh-dsa"), aliases=("slhdsa-sha2-128f",), cms_digest="sha256"),
)

DEFAULT_ALGORITHM = "ML-DSA-65"

_BY_NAME: dict[str, Algorithm] = {}
for _alg in ALGORITHMS:
    for _spelling in (_alg.name, *_alg.aliases):
        _BY_NAME[_spelling.lower()] = _alg
_BY_OID: dict[str, Algorithm] = {alg.oid: alg for alg in ALGORITHMS}


def by_name(name: str) -> Algorithm:
    """Look an algorithm up by its name or an alias, case-insensitively.

    Raises:
        UnsupportedAlgorithmError: no algorithm has that name.
    """
    try:
        return _BY_NAME[name.strip().lower()]
    except KeyError:
        known = ", ".join(alg.name for alg in ALGORITHMS)
        raise UnsupportedAlgorithmError(
            f"unknown algorithm {name!r}", hint=f"choose one of: {known} (see `pqsign algorithms`)"
        ) from None


def by_oid(oid: str) -> Algorithm:
    """Look an algorithm up by the dotted OID of a key's AlgorithmIdentifier.

    Raises:
        UnsupportedAlgorithmError: pqsign does not know that OID.
    """
    try:
        return _BY_OID[oid]
    except KeyError:
        raise UnsupportedAlgorithmError(
            f"key algorithm OID {oid} is not a post-quantum signature algorithm pqsign supports",
            hint="see `pqsign algorithms` for the supported algorithms and their OIDs",
        ) from None
