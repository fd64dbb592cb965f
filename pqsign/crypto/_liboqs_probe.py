"""Find a liboqs shared library *without* importing ``oqs``.

``import oqs`` (liboqs-python) looks for liboqs in ``$OQS_INSTALL_PATH/lib``, ``~/_oqs/lib`` and
the system loader path, and when it finds none it downloads and compiles liboqs after a 5 s
countdown. pqsign must never stall or reach the network, so it looks in the same places first
and only imports ``oqs`` once a library is known to be there.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
from pathlib import Path


def liboqs_library() -> Path | None:
    """The liboqs shared library liboqs-python would load, or None if there is none."""
    install = Path(os.environ.get("OQS_INSTALL_PATH") or Path.home() / "_oqs")
    for directory in (install / "lib", install / "lib64"):
        if directory.is_dir():
            for candidate in sorted(directory.glob("liboqs.so*")) + sorted(directory.glob("liboqs.dylib")):
                return candidate
    found = ctypes.util.find_library("oqs")
    return Path(found) if found else None


def probe_liboqs() -> tuple[bool, str]:
    """(available, detail) for the liboqs backend; never imports ``oqs``."""
    if importlib.util.find_spec("oqs") is None:
        return False, "liboqs-python is not installed (pip install 'pqsign[oqs]')"
    library = liboqs_library()
    if library is None:
        return False, ("liboqs-python is installed but no liboqs shared library was found "
                       "(set OQS_INSTALL_PATH)")
    return True, f"liboqs-python with {library}"
