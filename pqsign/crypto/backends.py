"""Backends: the libraries that actually run each algorithm. pqsign implements no primitive.

A backend exposes four operations on raw key bytes (the same encodings that sit inside
SPKI and PKCS#8, so keys move freely between backends):

* ``generate(alg) -> secret``: a fresh private key (ML-DSA: the 32-byte seed).
* ``public_key(alg, secret) -> public``
* ``sign(alg, secret, message) -> signature``: pure mode, hedged, empty context.
* ``verify(alg, public, message, signature)``: returns nothing, raises on a bad signature.

Backends are imported lazily: selecting one imports its library, listing them does not.
The ``liboqs`` backend is only imported after its shared library has been found on disk,
because ``import oqs`` without one downloads and compiles liboqs.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Protocol

from pqsign.crypto.algorithms import Algorithm
from pqsign.errors import UnsupportedAlgorithmError

__all__ = ["Backend", "BackendStatus", "backend_for", "get_backend", "backend_statuses"]


class Backend(Protocol):
    """What every backend module provides (module-level functions)."""

    def generate(self, alg: Algorithm) -> bytes: ...

    def public_key(self, alg: Algorithm, secret: bytes) -> bytes: ...

    def sign(self, alg: Algorithm, secret: bytes, message: bytes) -> bytes: ...

    def verify(self, alg: Algorithm, public: bytes, message: bytes, signature: bytes) -> None: ...


@dataclass(frozen=True, slots=True)
class BackendStatus:
    """Whether a backend can run here, and if not, why."""

    name: str
    available: bool
    detail: str


# backend name -> (module implementing it, for which family, how to tell it is installed)
_MODULES: dict[str, str] = {
    "cryptography": "pqsign.crypto._cryptography",
    "slh-dsa": "pqsign.crypto._slhdsa_py",
    "liboqs": "pqsign.crypto._liboqs",
}


def _probe(name: str) -> BackendStatus:
    """Tell whether a backend is usable without importing anything expensive or risky."""
    if name == "cryptography":
        if importlib.util.find_spec("cryptography") is None:
            return BackendStatus(name, False, "pyca/cryptography is not installed")
        from cryptography import __version__ as version

        major = int(version.split(".")[0])
        if major < 48:
            return BackendStatus(name, False, f"cryptography {version} lacks ML-DSA; need >= 48")
        return BackendStatus(name, True, f"pyca/cryptography {version}")
    if name == "slh-dsa":
        if importlib.util.find_spec("slhdsa") is None:
            return BackendStatus(name, False, "the pure-Python `slh-dsa` package is not installed")
        return BackendStatus(name, True, "pure-Python slh-dsa package (slow signing)")
    if name == "liboqs":
        from pqsign.crypto._liboqs_probe import probe_liboqs

        found, detail = probe_liboqs()
        return BackendStatus(name, found, detail)
    raise UnsupportedAlgorithmError(f"unknown backend {name!r}")


_STATUS_CACHE: dict[str, BackendStatus] = {}


def backend_status(name: str) -> BackendStatus:
    """The (cached) availability of one backend."""
    if name not in _STATUS_CACHE:
        _STATUS_CACHE[name] = _probe(name)
    return _STATUS_CACHE[name]


def backend_statuses(alg: Algorithm) -> list[BackendStatus]:
    """Availability of every backend that could run ``alg``, in preference order."""
    return [backend_status(name) for name in alg.backends]


def get_backend(name: str) -> Backend:
    """Import and return a named backend.

    Raises:
        UnsupportedAlgorithmError: the backend is unknown or not available here.
    """
    status = backend_status(name)
    if not status.available:
        raise UnsupportedAlgorithmError(
            f"backend {name} is not available: {status.detail}",
            hint="see `pqsign algorithms` for what is available on this machine",
        )
    module: Backend = importlib.import_module(_MODULES[name])
    return module


def backend_for(alg: Algorithm) -> Backend:
    """The most preferred available backend for ``alg``.

    Raises:
        UnsupportedAlgorithmError: no backend for ``alg`` is available here.
    """
    for status in backend_statuses(alg):
        if status.available:
            return get_backend(status.name)
    reasons = "; ".join(f"{s.name}: {s.detail}" for s in backend_statuses(alg))
    raise UnsupportedAlgorithmError(
        f"no backend for {alg.name} is available ({reasons})",
        hint="install one, e.g. `pip install 'pqsign[oqs]'` or the `slh-dsa` package",
    )
