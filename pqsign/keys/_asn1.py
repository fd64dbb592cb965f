"""DER structures for private keys: OneAsymmetricKey (RFC 5958) and
EncryptedPrivateKeyInfo with PBES2 (RFC 8018), declared with asn1crypto.

Only the shapes pqsign needs are declared; every algorithm pqsign supports has absent
AlgorithmIdentifier parameters (RFC 9881 section 2, RFC 9909 section 3, composite draft
section 4), so keys are identified by OID alone.
"""

from __future__ import annotations

from asn1crypto import algos, core, keys

EncryptedPrivateKeyInfo = keys.EncryptedPrivateKeyInfo
EncryptionAlgorithm = algos.EncryptionAlgorithm
Pbkdf2Salt = algos.Pbkdf2Salt


class AlgorithmIdentifier(core.Sequence):  # type: ignore[misc]
    _fields = [
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class OneAsymmetricKey(core.Sequence):  # type: ignore[misc]
    _fields = [
        ("version", core.Integer),
        ("private_key_algorithm", AlgorithmIdentifier),
        ("private_key", core.OctetString),
        ("attributes", core.Any, {"implicit": 0, "optional": True}),
        ("public_key", core.OctetBitString, {"implicit": 1, "optional": True}),
    ]


class MLDSABothForm(core.Sequence):  # type: ignore[misc]
    """RFC 9881 section 6: the ``both`` CHOICE (seed and expanded key)."""

    _fields = [("seed", core.OctetString), ("expanded_key", core.OctetString)]
