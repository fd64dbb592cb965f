"""Public and private keys, and their standard file formats.

* Public keys: PEM ``PUBLIC KEY`` (SubjectPublicKeyInfo, RFC 5280) carrying the raw key under
  the algorithm's OID: RFC 9881 (ML-DSA), RFC 9909 (SLH-DSA), the composite draft section 4.
* Private keys: PEM ``PRIVATE KEY`` (PKCS#8 / OneAsymmetricKey, RFC 5958) or, by default,
  ``ENCRYPTED PRIVATE KEY`` (PBES2, RFC 8018: PBKDF2-HMAC-SHA256 and AES-256-CBC, the
  scheme OpenSSL 3 writes and reads). ML-DSA keys are stored in the RFC 9881 *seed* form.

The key id is the lowercase hex SHA-256 of the SPKI DER: it names a key everywhere.

A ``.pub`` file may carry RFC 7468 explanatory text before the PEM block (``Created:``,
``Comment:``); OpenSSL and every PEM parser ignore it, and so does every security decision.

Example::

    key = generate_private_key(by_name("ML-DSA-65"))
    pub = key.public_key()
    signature = key.sign(b"message")
    pub.verify(b"message", signature)      # raises VerificationError if invalid
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pqsign.crypto.algorithms import Algorithm, Family, by_oid
from pqsign.crypto.backends import backend_for
from pqsign.errors import InputError, PassphraseRequiredError, WrongPassphraseError

__all__ = [
    "PublicKey",
    "PrivateKey",
    "generate_private_key",
    "load_public_key",
    "load_private_key",
    "PBKDF2_ITERATIONS",
]

#: PBKDF2 iterations for new encrypted keys (OWASP 2023 guidance for PBKDF2-HMAC-SHA256).
PBKDF2_ITERATIONS = 600_000
_MAX_ITERATIONS = 10_000_000  # refuse absurd counts in hostile files (a CPU-exhaustion vector)

_PEM_RE = re.compile(
    rb"-----BEGIN (?P<label>[A-Z ]+)-----\r?\n(?P<body>[A-Za-z0-9+/=\r\n]*?)-----END (?P=label)-----"
)


def _pem_encode(label: str, der: bytes) -> bytes:
    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return b"".join([f"-----BEGIN {label}-----\n".encode(), *(ln + b"\n" for ln in lines),
                     f"-----END {label}-----\n".encode()])


def _pem_decode(data: bytes, labels: tuple[str, ...], what: str) -> tuple[str, bytes, bytes]:
    """Return (label, DER, explanatory text before the block) of the first matching PEM block."""
    for match in _PEM_RE.finditer(data):
        label = match.group("label").decode()
        if label in labels:
            try:
                der = base64.b64decode(b"".join(match.group("body").split()), validate=True)
            except binascii.Error:
                raise InputError(f"{what}: the PEM block is not valid base64") from None
            return label, der, data[: match.start()]
    expected = " or ".join(f"'-----BEGIN {label}-----'" for label in labels)
    raise InputError(f"{what}: no {expected} block found", hint="is this the right file?")


def _headers(text: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in text.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers[name.strip().lower()] = value.strip()
    return headers


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A post-quantum public key: an algorithm (from the SPKI OID) and the raw key bytes.

    ``created`` and ``comment`` are informational only, read from the ``.pub`` file's
    explanatory text; nothing is ever decided on them.
    """

    algorithm: Algorithm
    raw: bytes
    created: str | None = field(default=None, compare=False)
    comment: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if len(self.raw) != self.algorithm.public_key_size:
            raise InputError(
                f"malformed {self.algorithm.name} public key: {len(self.raw)} bytes, "
                f"expected {self.algorithm.public_key_size}"
            )

    @property
    def spki_der(self) -> bytes:
        """The DER SubjectPublicKeyInfo (parameters absent)."""
        from pqsign.keys._spki import encode_spki

        return encode_spki(self.algorithm.oid, self.raw)

    @property
    def key_id(self) -> str:
        """Lowercase hex SHA-256 of the SPKI DER."""
        return hashlib.sha256(self.spki_der).hexdigest()

    @property
    def fingerprint(self) -> str:
        """The same SHA-256, in the ``SHA256:<base64>`` form ssh-keygen shows."""
        digest = hashlib.sha256(self.spki_der).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")

    def verify(self, message: bytes, signature: bytes) -> None:
        """Verify a pure-mode, empty-context signature with this key's own algorithm.

        Raises:
            VerificationError: the signature is not valid for ``message`` under this key.
            UnsupportedAlgorithmError: no backend for the algorithm is available here.
        """
        backend_for(self.algorithm).verify(self.algorithm, self.raw, message, signature)

    def to_pem(self) -> bytes:
        """PEM SubjectPublicKeyInfo, preceded by explanatory text for people."""
        lines = [f"Algorithm: {self.algorithm.name}", f"Key-ID: {self.key_id}"]
        if self.created:
            lines.append(f"Created: {self.created}")
        if self.comment:
            lines.append(f"Comment: {self.comment}")
        return ("\n".join(lines) + "\n").encode() + _pem_encode("PUBLIC KEY", self.spki_der)

    @classmethod
    def from_der(cls, der: bytes, *, what: str = "public key") -> PublicKey:
        """Parse a DER SubjectPublicKeyInfo; the algorithm comes from its OID alone.

        The input must be exactly the canonical DER for one supported algorithm.

        Raises:
            InputError: not such an SPKI (wrong OID, parameters, length or encoding).
        """
        from pqsign.crypto.algorithms import ALGORITHMS
        from pqsign.keys._spki import algorithm_oid_der, spki_prefix

        for algorithm in ALGORITHMS:
            prefix = spki_prefix(algorithm.oid, algorithm.public_key_size)
            if der.startswith(prefix) and len(der) == len(prefix) + algorithm.public_key_size:
                return cls(algorithm, der[len(prefix):])
        # Not an exact match: say why as precisely as we can.
        for algorithm in ALGORITHMS:
            if algorithm_oid_der(algorithm.oid) in der[:32]:
                raise InputError(f"{what} is a malformed {algorithm.name} key "
                                 f"(expected a {algorithm.public_key_size}-byte key, parameters absent)")
        raise InputError(f"{what} is not a post-quantum public key pqsign supports",
                         hint="see `pqsign algorithms`; classical (RSA/EC/Ed25519) keys are not accepted")

    @classmethod
    def from_pem(cls, data: bytes, *, what: str = "public key") -> PublicKey:
        """Parse a PEM public key (explanatory text before it is kept as information).

        Raises:
            InputError: no PEM block, bad base64, malformed SPKI.
            UnsupportedAlgorithmError: an OID pqsign does not support.
        """
        _, der, text = _pem_decode(data, ("PUBLIC KEY",), what)
        key = cls.from_der(der, what=what)
        headers = _headers(text)
        return cls(key.algorithm, key.raw, headers.get("created"), headers.get("comment"))


@dataclass(frozen=True, slots=True)
class PrivateKey:
    """A post-quantum private key. The secret never appears in ``repr`` or logs.

    ``secret`` holds what RFC 9881/9909 and the composite draft put in PKCS#8: the ML-DSA seed,
    the SLH-DSA secret key, or the composite concatenation ``mldsaSeed || ed25519SK``.
    """

    algorithm: Algorithm
    secret: bytes = field(repr=False)
    created: str | None = field(default=None, compare=False)
    comment: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if len(self.secret) != self.algorithm.private_key_size:
            raise InputError(f"malformed {self.algorithm.name} private key: wrong length")

    def public_key(self) -> PublicKey:
        """Derive the matching public key."""
        raw = backend_for(self.algorithm).public_key(self.algorithm, self.secret)
        return PublicKey(self.algorithm, raw, self.created, self.comment)

    def sign(self, message: bytes) -> bytes:
        """Sign ``message`` in pure mode (hedged, empty context)."""
        return backend_for(self.algorithm).sign(self.algorithm, self.secret, message)

    def pkcs8_der(self) -> bytes:
        """Unencrypted PKCS#8 DER. ML-DSA: the RFC 9881 seed form ``[0] OCTET STRING``."""
        from pqsign.keys._asn1 import AlgorithmIdentifier, OneAsymmetricKey

        if self.algorithm.family is Family.ML_DSA:
            payload = b"\x80\x20" + self.secret  # seed [0] IMPLICIT OCTET STRING (SIZE (32))
        else:
            payload = self.secret
        info = OneAsymmetricKey(
            {"version": 0,
             "private_key_algorithm": AlgorithmIdentifier({"algorithm": self.algorithm.oid}),
             "private_key": payload}
        )
        return bytes(info.dump())

    def to_pem(self, password: bytes | None) -> bytes:
        """PEM PKCS#8, encrypted with PBES2 when ``password`` is given (the default in the CLI)."""
        der = self.pkcs8_der()
        if password is None:
            return _pem_encode("PRIVATE KEY", der)
        from pqsign.keys._pbes2 import encrypt_pkcs8

        return _pem_encode("ENCRYPTED PRIVATE KEY", encrypt_pkcs8(der, password, PBKDF2_ITERATIONS))

    @classmethod
    def from_der(cls, der: bytes, *, what: str = "private key") -> PrivateKey:
        """Parse unencrypted PKCS#8 DER; the algorithm comes from its OID.

        Raises:
            InputError: malformed PKCS#8, or an ML-DSA key without its seed.
        """
        from pqsign.keys._asn1 import OneAsymmetricKey

        try:
            info = OneAsymmetricKey.load(der, strict=True)
            oid = info["private_key_algorithm"]["algorithm"].dotted
            payload = bytes(info["private_key"].native)
        except (ValueError, TypeError, KeyError) as exc:
            raise InputError(f"{what} is not a valid PKCS#8 private key: {exc}") from None
        algorithm = by_oid(oid)
        if algorithm.family is Family.ML_DSA:
            secret = _mldsa_seed(algorithm, payload, what)
        else:
            secret = payload
        key = cls(algorithm, secret)
        if algorithm.family is Family.ML_DSA and payload[:1] == b"\x30":
            _check_both_form(key, payload, what)
        return key

    @classmethod
    def from_pem(cls, data: bytes, password: bytes | None, *, what: str = "private key") -> PrivateKey:
        """Parse a PEM private key, decrypting it with ``password`` if it is encrypted.

        Raises:
            PassphraseRequiredError: the key is encrypted and ``password`` is None.
            WrongPassphraseError: the key cannot be decrypted with ``password``.
            InputError: malformed key file.
        """
        label, der, _ = _pem_decode(data, ("ENCRYPTED PRIVATE KEY", "PRIVATE KEY"), what)
        if label == "PRIVATE KEY":
            return cls.from_der(der, what=what)
        if password is None:
            raise PassphraseRequiredError(
                f"{what} is encrypted and no passphrase was given",
                hint="set PQSIGN_PASSWORD, pass --password-file, or run in a terminal to be asked",
            )
        from pqsign.keys._pbes2 import decrypt_pkcs8

        plain = decrypt_pkcs8(der, password, max_iterations=_MAX_ITERATIONS, what=what)
        try:
            return cls.from_der(plain, what=what)
        except InputError:
            # CBC padding accepts a wrong passphrase 1 time in 256; the DER then fails to parse.
            raise WrongPassphraseError(f"wrong passphrase for {what}") from None


def _mldsa_seed(algorithm: Algorithm, payload: bytes, what: str) -> bytes:
    """The seed from RFC 9881's ML-DSA-PrivateKey CHOICE, parsed by its tag byte."""
    if payload[:2] == b"\x80\x20" and len(payload) == 34:
        return payload[2:]
    if payload[:1] == b"\x30":
        from pqsign.keys._asn1 import MLDSABothForm

        try:
            both = MLDSABothForm.load(payload, strict=True)
            seed = bytes(both["seed"].native)
        except (ValueError, TypeError) as exc:
            raise InputError(f"{what}: malformed {algorithm.name} 'both' private key: {exc}") from None
        if len(seed) != 32:
            raise InputError(f"{what}: {algorithm.name} seed must be 32 bytes")
        return seed
    if payload[:1] == b"\x04":
        raise InputError(
            f"{what}: {algorithm.name} key has only the expanded form, without its seed",
            hint="pqsign needs the seed form (RFC 9881 section 6); export the key with its seed",
        )
    raise InputError(f"{what}: malformed {algorithm.name} private key")


def _check_both_form(key: PrivateKey, payload: bytes, what: str) -> None:
    """RFC 9881 section 8.2: a 'both' key's expanded part must match its seed.

    The FIPS 204 expanded key starts with rho (also the first 32 bytes of the public key)
    and carries tr = SHAKE256(pk, 64) at bytes 64..128; checking both binds it to the seed.
    """
    from pqsign.keys._asn1 import MLDSABothForm

    expanded = bytes(MLDSABothForm.load(payload)["expanded_key"].native)
    public = key.public_key().raw
    tr = hashlib.shake_256(public).digest(64)
    if expanded[:32] != public[:32] or expanded[64:128] != tr:
        raise InputError(f"{what}: the expanded key does not match the seed (RFC 9881 section 8.2)")


def generate_private_key(algorithm: Algorithm, *, comment: str | None = None) -> PrivateKey:
    """Generate a fresh private key with the algorithm's preferred available backend."""
    secret = backend_for(algorithm).generate(algorithm)
    return PrivateKey(algorithm, secret, created=_now(), comment=comment)


def load_public_key(path: os.PathLike[str] | str) -> PublicKey:
    """Read a ``.pub`` file.

    Raises:
        InputError: missing, unreadable or malformed file.
    """
    from pathlib import Path

    from pqsign._internal.fs import read_bounded

    data = read_bounded(Path(path), 1 << 20, "public key")
    if b"PRIVATE KEY-----" in data and b"PUBLIC KEY-----" not in data:
        raise InputError(f"{path} is a private key, not a public key",
                         hint="verification needs the .pub file, which is safe to share")
    return PublicKey.from_pem(data, what=f"public key {path}")


def load_private_key(path: os.PathLike[str] | str,
                     password: bytes | None | Callable[[], bytes | None]) -> PrivateKey:
    """Read a ``.key`` file, decrypting it if it is encrypted.

    Args:
        password: the passphrase, or a function that obtains it (a prompt, a file), called only
            when the key really is encrypted.

    Raises:
        PassphraseRequiredError, WrongPassphraseError, InputError.
    """
    from pathlib import Path

    from pqsign._internal.fs import read_bounded

    data = read_bounded(Path(path), 1 << 20, "private key")
    if b"PUBLIC KEY-----" in data and b"PRIVATE KEY-----" not in data:
        raise InputError(f"{path} is a public key; signing needs the private key (.key)")
    if callable(password):
        password = password() if b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data else None
    return PrivateKey.from_pem(data, password, what=f"private key {path}")
