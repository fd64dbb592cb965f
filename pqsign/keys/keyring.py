"""Keyrings: small, human-editable TOML files listing the public keys a verifier trusts.

The same keyring serves file, git, image and release verification::

    # pqsign keyring: the public keys it lists are trusted to sign.
    version = 1

    [[keys]]
    name = "Alice"
    email = "alice@example.com"
    algorithm = "ML-DSA-65"
    key-id = "3b9f...e1"
    public-key = '''
    -----BEGIN PUBLIC KEY-----
    MIIHsjALBglghkgBZQMEAxIDggehAL...
    -----END PUBLIC KEY-----
    '''

``algorithm`` and ``key-id`` are redundant with the PEM and are checked against it on load, so
a hand edit that pastes the wrong key is caught instead of silently trusting something else.
``pqsign keyring add`` appends an entry and keeps the rest of the file (comments included).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pqsign._internal.fs import atomic_write, directory_lock, read_bounded
from pqsign.errors import InputError
from pqsign.keys.keyfile import PublicKey

__all__ = ["KeyringEntry", "Keyring", "load_keyring", "add_to_keyring", "MAX_KEYRING_SIZE"]

MAX_KEYRING_SIZE = 16 << 20
_HEADER = (
    "# pqsign keyring: every public key listed here is trusted to sign.\n"
    "# Add keys with `pqsign keyring add`; edit or remove entries by hand as you like.\n"
    "version = 1\n"
)


@dataclass(frozen=True, slots=True)
class KeyringEntry:
    """A trusted public key and the identity it belongs to."""

    public_key: PublicKey
    name: str = ""
    email: str = ""
    source: str = ""

    @property
    def key_id(self) -> str:
        return self.public_key.key_id

    @property
    def identity(self) -> str:
        """``Name <email>`` when known, else where the key came from, else its key id."""
        if self.name and self.email:
            return f"{self.name} <{self.email}>"
        return self.name or (f"<{self.email}>" if self.email else "") or self.source or self.key_id

    def to_toml(self) -> str:
        """One ``[[keys]]`` table (JSON strings are valid TOML basic strings)."""
        pem = self.public_key.to_pem().decode()
        pem = pem[pem.index("-----BEGIN"):]
        return (
            "\n[[keys]]\n"
            f"name = {json.dumps(self.name)}\n"
            f"email = {json.dumps(self.email)}\n"
            f"algorithm = {json.dumps(self.public_key.algorithm.name)}\n"
            f"key-id = {json.dumps(self.key_id)}\n"
            f"public-key = '''\n{pem}'''\n"
        )


@dataclass(frozen=True, slots=True)
class Keyring:
    """An ordered set of trusted keys, unique by key id."""

    entries: tuple[KeyringEntry, ...]
    path: str = ""

    def __iter__(self) -> Iterator[KeyringEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def find(self, key_id: str) -> KeyringEntry | None:
        """The entry with this key id, if any."""
        for entry in self.entries:
            if entry.key_id == key_id:
                return entry
        return None

    @classmethod
    def from_toml(cls, text: bytes, *, path: str = "keyring") -> Keyring:
        """Parse a keyring file.

        Raises:
            InputError: not TOML, an unknown version, or an entry whose key is malformed or
                whose ``key-id``/``algorithm`` do not match its PEM.
        """
        import tomllib

        try:
            document = tomllib.loads(text.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"keyring {path} is not valid TOML: {exc}") from None
        if document.get("version", 1) != 1:
            raise InputError(f"keyring {path} has version {document.get('version')!r}; "
                             "this pqsign reads version 1", hint="upgrade pqsign")
        raw_entries = document.get("keys", [])
        if not isinstance(raw_entries, list):
            raise InputError(f"keyring {path}: `keys` must be an array of tables ([[keys]])")
        entries: list[KeyringEntry] = []
        seen: set[str] = set()
        for number, raw in enumerate(raw_entries, start=1):
            where = f"keyring {path}, entry {number}"
            if not isinstance(raw, dict) or not isinstance(raw.get("public-key"), str):
                raise InputError(f"{where} has no public-key")
            key = PublicKey.from_pem(raw["public-key"].encode(), what=where)
            claimed_id = raw.get("key-id")
            if claimed_id is not None and claimed_id != key.key_id:
                raise InputError(f"{where}: key-id {claimed_id} does not match its public key "
                                 f"({key.key_id})", hint="was the wrong key pasted in?")
            claimed_alg = raw.get("algorithm")
            if claimed_alg is not None and claimed_alg != key.algorithm.name:
                raise InputError(f"{where}: algorithm {claimed_alg} does not match its public key "
                                 f"({key.algorithm.name})")
            if key.key_id in seen:
                raise InputError(f"{where}: key {key.key_id} is listed twice")
            seen.add(key.key_id)
            name, email = raw.get("name", ""), raw.get("email", "")
            if not isinstance(name, str) or not isinstance(email, str):
                raise InputError(f"{where}: name and email must be strings")
            entries.append(KeyringEntry(key, name, email, source=str(path)))
        return cls(tuple(entries), str(path))


def load_keyring(path: Path | str) -> Keyring:
    """Read a keyring file (bounded in size).

    Raises:
        InputError: missing, oversized or malformed keyring.
    """
    data = read_bounded(Path(path), MAX_KEYRING_SIZE, "keyring")
    return Keyring.from_toml(data, path=str(path))


def add_to_keyring(path: Path | str, key: PublicKey, *, name: str = "", email: str = "") -> KeyringEntry:
    """Append a key to a keyring file, creating the file if needed.

    Concurrent adds to the same keyring are serialised by a directory lock and every one lands.

    Raises:
        InputError: the key is already in the keyring, or the keyring is malformed.
    """
    path = Path(path)
    entry = KeyringEntry(key, name, email, source=str(path))
    with directory_lock(path):
        if path.exists():
            existing_text = read_bounded(path, MAX_KEYRING_SIZE, "keyring")
            existing = Keyring.from_toml(existing_text, path=str(path))
            duplicate = existing.find(key.key_id)
            if duplicate is not None:
                raise InputError(f"key {key.key_id} is already in {path} as {duplicate.identity}")
            text = existing_text.decode()
            if text and not text.endswith("\n"):
                text += "\n"
        else:
            text = _HEADER
        atomic_write(path, (text + entry.to_toml()).encode(), mode=0o644, force=True)
    return entry
