"""Which private key git means by ``-u <key>``.

Git passes ``user.signingKey`` (``pqsign git setup`` sets it to the key file's absolute path),
the id from ``commit -S<keyid>``, or, when neither is set, the committer as ``Name <email>``.
Key ids and identities are resolved against the keyring and the ``.pub`` files in
``$PQSIGN_HOME`` (default ``~/.pqsign``), each beside its ``.key``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pqsign.errors import InputError
from pqsign.keys.keyfile import PublicKey, load_public_key
from pqsign.keys.keyring import KeyringEntry, load_keyring

__all__ = ["pqsign_home", "resolve_signing_key"]

_IDENTITY = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^<>]*)>$")
_HEX = re.compile(r"^[0-9a-fA-F]{8,64}$")


def pqsign_home() -> Path:
    return Path(os.environ.get("PQSIGN_HOME") or Path.home() / ".pqsign")


def _candidates() -> list[tuple[Path, PublicKey]]:
    """(private key path, public key) for every ``X.key`` with an ``X.pub`` in PQSIGN_HOME."""
    found = []
    home = pqsign_home()
    for pub in sorted(home.glob("*.pub")) if home.is_dir() else []:
        private = pub.with_suffix(".key")
        if private.exists():
            try:
                found.append((private, load_public_key(pub)))
            except InputError:
                continue
    return found


def resolve_signing_key(spec: str, keyring_path: str = "") -> tuple[Path, str]:
    """The private key file for ``spec`` and the identity to name in the certificate.

    Raises:
        InputError: no matching key, or several.
    """
    entries: list[KeyringEntry] = list(load_keyring(keyring_path)) if keyring_path else []

    def identity_of(public: PublicKey | None) -> str:
        if public is None:
            return ""
        entry = next((e for e in entries if e.key_id == public.key_id), None)
        return entry.identity if entry else (public.comment or "")

    path = Path(spec).expanduser()
    if path.is_file():
        pub = path.with_suffix(".pub")
        return path, identity_of(load_public_key(pub) if pub.exists() else None)
    match = _IDENTITY.match(spec)
    if match:
        email = match.group("email").lower()
        wanted = {e.key_id for e in entries if e.email.lower() == email}
        what = f"the committer {spec}"
    elif _HEX.match(spec):
        wanted = {key.key_id for _, key in _candidates() if key.key_id.startswith(spec.lower())}
        what = f"key id {spec}"
    else:
        raise InputError(f"no pqsign key file {spec}",
                         hint="set user.signingKey to a .key path: `pqsign git setup --key PATH`")
    matches = [(p, k) for p, k in _candidates() if k.key_id in wanted]
    if not matches:
        raise InputError(f"no pqsign private key in {pqsign_home()} for {what}",
                         hint="run `pqsign git setup --key PATH`, or put KEY.key and KEY.pub in PQSIGN_HOME")
    if len(matches) > 1:
        raise InputError(f"several keys match {what}; set user.signingKey to one key file")
    private, public = matches[0]
    return private, identity_of(public)
