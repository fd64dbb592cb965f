"""SLH-DSA against an independent implementation (OpenSSL 3.6.5 vectors), and the liboqs gate."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest

from pqsign.crypto.algorithms import by_name
from pqsign.crypto.backends import backend_statuses, get_backend
from pqsign.errors import UnsupportedAlgorithmError, VerificationError
from pqsign.keys.keyfile import PublicKey
from tests.conftest import VECTORS, key_for

DATA = json.loads((VECTORS / "slh-dsa-openssl.json").read_text())
MESSAGE = base64.b64decode(DATA["message_b64"])
CASES = {t["algorithm"]: t for t in DATA["tests"]}


@pytest.mark.parametrize("name", sorted(CASES))
def test_openssl_public_key_pem_loads_under_rfc_9909_oid(name: str) -> None:
    key = PublicKey.from_pem(CASES[name]["public_key_pem"].encode())
    assert key.algorithm is by_name(name)
    assert key.raw == base64.b64decode(CASES[name]["public_key_raw_b64"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_openssl_signature_verifies_with_pure_python_backend(name: str) -> None:
    alg = by_name(name)
    public = base64.b64decode(CASES[name]["public_key_raw_b64"])
    signature = base64.b64decode(CASES[name]["signature_b64"])
    get_backend("slh-dsa").verify(alg, public, MESSAGE, signature)


@pytest.mark.parametrize("name", sorted(CASES))
def test_openssl_signature_over_other_message_fails(name: str) -> None:
    alg = by_name(name)
    public = base64.b64decode(CASES[name]["public_key_raw_b64"])
    signature = base64.b64decode(CASES[name]["signature_b64"])
    with pytest.raises(VerificationError):
        get_backend("slh-dsa").verify(alg, public, MESSAGE + b"!", signature)
    with pytest.raises(VerificationError):
        get_backend("slh-dsa").verify(alg, public, MESSAGE, signature[:-1])


def test_our_signature_is_pure_mode_with_empty_context() -> None:
    """A signature we make verifies with the package's FIPS 205 pure-mode verifier directly."""
    import slhdsa

    key = key_for(by_name("SLH-DSA-SHA2-128f"))
    signature = key.sign(MESSAGE)
    public = slhdsa.PublicKey.from_digest(key.public_key().raw, slhdsa.sha2_128f)
    assert public.verify_pure(MESSAGE, signature, ctx=b"")
    assert not public.verify(MESSAGE, signature)  # the internal (prefix-less) function differs


liboqs_available = any(s.name == "liboqs" and s.available
                       for s in backend_statuses(by_name("SLH-DSA-SHA2-128f")))


@pytest.mark.skipif(not liboqs_available, reason="no liboqs shared library on this machine")
def test_liboqs_and_pure_python_backends_cross_verify() -> None:
    alg = by_name("SLH-DSA-SHA2-128f")
    oqs_backend, py_backend = get_backend("liboqs"), get_backend("slh-dsa")
    secret = oqs_backend.generate(alg)
    public = oqs_backend.public_key(alg, secret)
    py_backend.verify(alg, public, MESSAGE, oqs_backend.sign(alg, secret, MESSAGE))
    oqs_backend.verify(alg, public, MESSAGE, py_backend.sign(alg, secret, MESSAGE))


@pytest.mark.skipif(liboqs_available, reason="a liboqs library is installed here")
def test_liboqs_unavailable_is_reported_without_importing_oqs(tmp_path) -> None:
    """Without a liboqs library, `import oqs` would download and build it: never import it."""
    code = (
        "import sys\n"
        "from pqsign.crypto.algorithms import by_name\n"
        "from pqsign.crypto.backends import backend_statuses, backend_for\n"
        "s = {x.name: x for x in backend_statuses(by_name('SLH-DSA-SHA2-128f'))}\n"
        "assert not s['liboqs'].available, s\n"
        "print(s['liboqs'].detail)\n"
        "backend_for(by_name('SLH-DSA-SHA2-128f'))\n"
        "assert 'oqs' not in sys.modules\n"
    )
    env = {"OQS_INSTALL_PATH": str(tmp_path / "nothing"), "HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "liboqs" in out.stdout


@pytest.mark.skipif(liboqs_available, reason="a liboqs library is installed here")
def test_get_backend_refuses_unavailable_backend() -> None:
    with pytest.raises(UnsupportedAlgorithmError, match="liboqs is not available"):
        get_backend("liboqs")
