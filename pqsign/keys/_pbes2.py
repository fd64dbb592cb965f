"""PKCS#8 encryption with PBES2 (RFC 8018 section 6.2), composed from pyca/cryptography
primitives (PBKDF2-HMAC, AES-CBC, PKCS#7 padding) and asn1crypto's EncryptedPrivateKeyInfo.

pyca/cryptography can only encrypt key types it knows (ML-DSA, not SLH-DSA or composites),
so pqsign encrypts every key type with this one path. Tests check it both ways against
cryptography/OpenSSL on ML-DSA keys: OpenSSL decrypts what this writes, and this decrypts
what OpenSSL writes.

Written: PBKDF2 with HMAC-SHA256, a 16-byte salt, AES-256-CBC (OpenSSL 3's default scheme).
Read: PBKDF2 with HMAC-SHA1/224/256/384/512 and AES-128/192/256-CBC.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from pqsign.errors import InputError, WrongPassphraseError
from pqsign.keys._asn1 import EncryptedPrivateKeyInfo, Pbkdf2Salt

_PRFS: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
    "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}
_CIPHERS = {"aes128_cbc": 16, "aes192_cbc": 24, "aes256_cbc": 32}


def _derive(password: bytes, salt: bytes, iterations: int, prf: str, length: int) -> bytes:
    kdf = PBKDF2HMAC(algorithm=_PRFS[prf](), length=length, salt=salt, iterations=iterations)
    return kdf.derive(password)


def encrypt_pkcs8(der: bytes, password: bytes, iterations: int) -> bytes:
    """Wrap PKCS#8 DER in an EncryptedPrivateKeyInfo (PBES2, PBKDF2-SHA256, AES-256-CBC)."""
    salt, iv = os.urandom(16), os.urandom(16)
    key = _derive(password, salt, iterations, "sha256", 32)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(der) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    info = EncryptedPrivateKeyInfo({
        "encryption_algorithm": {
            "algorithm": "pbes2",
            "parameters": {
                "key_derivation_func": {
                    "algorithm": "pbkdf2",
                    "parameters": {"salt": Pbkdf2Salt(name="specified", value=salt),
                                   "iteration_count": iterations,
                                   "prf": {"algorithm": "sha256"}},
                },
                "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": iv},
            },
        },
        "encrypted_data": ciphertext,
    })
    return bytes(info.dump())


def decrypt_pkcs8(der: bytes, password: bytes, *, max_iterations: int, what: str) -> bytes:
    """Unwrap an EncryptedPrivateKeyInfo.

    Raises:
        InputError: malformed structure, or a scheme pqsign does not read.
        WrongPassphraseError: the padding does not check out (almost always a wrong passphrase).
    """
    try:
        info = EncryptedPrivateKeyInfo.load(der, strict=True)
        scheme = info["encryption_algorithm"]
        if scheme["algorithm"].native != "pbes2":
            raise InputError(f"{what} is encrypted with {scheme['algorithm'].native}, not PBES2",
                             hint="re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`")
        params = scheme["parameters"]
        kdf = params["key_derivation_func"]
        cipher = params["encryption_scheme"]
        if kdf["algorithm"].native != "pbkdf2":
            raise InputError(f"{what}: key derivation {kdf['algorithm'].native} is not supported "
                             "(pqsign reads PBKDF2)")
        kdf_params = kdf["parameters"]
        salt = kdf_params["salt"].native
        iterations = kdf_params["iteration_count"].native
        prf = kdf_params["prf"]["algorithm"].native
        cipher_name = cipher["algorithm"].native
        iv = cipher["parameters"].native
        ciphertext = info["encrypted_data"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise InputError(f"{what} is not a valid encrypted PKCS#8 key: {exc}") from None
    if prf not in _PRFS or cipher_name not in _CIPHERS:
        raise InputError(f"{what}: encryption {prf}/{cipher_name} is not supported")
    if not isinstance(salt, bytes) or not 1 <= iterations <= max_iterations:
        raise InputError(f"{what}: implausible PBKDF2 parameters (iterations {iterations})")
    if not isinstance(iv, bytes) or len(iv) != 16 or len(ciphertext) % 16 or not ciphertext:
        raise InputError(f"{what}: malformed AES-CBC parameters or ciphertext")
    key = _derive(password, salt, iterations, prf, _CIPHERS[cipher_name])
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise WrongPassphraseError(f"wrong passphrase for {what}",
                                   hint="check PQSIGN_PASSWORD or the --password-file") from None
