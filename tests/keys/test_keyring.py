"""Keyrings: human-editable, checked on load, safe under concurrent adds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pqsign.crypto.algorithms import by_name
from pqsign.errors import InputError
from pqsign.keys.keyfile import generate_private_key
from pqsign.keys.keyring import add_to_keyring, load_keyring
from tests.conftest import key_for


def test_add_then_load(tmp_path: Path) -> None:
    ring = tmp_path / "team.keys"
    alice = key_for(by_name("ML-DSA-65")).public_key()
    bob = key_for(by_name("MLDSA65-Ed25519-SHA512")).public_key()
    add_to_keyring(ring, alice, name="Alice", email="alice@example.com")
    add_to_keyring(ring, bob, name="Bob \"the builder\"", email="bob@example.com")
    loaded = load_keyring(ring)
    assert [e.key_id for e in loaded] == [alice.key_id, bob.key_id]
    assert loaded.entries[0].identity == "Alice <alice@example.com>"
    assert loaded.entries[1].name == 'Bob "the builder"'


def test_hand_edits_and_comments_survive_an_add(tmp_path: Path) -> None:
    ring = tmp_path / "team.keys"
    add_to_keyring(ring, key_for(by_name("ML-DSA-65")).public_key(), name="Alice")
    ring.write_text(ring.read_text() + "# reviewed by security on 2026-12-01\n")
    add_to_keyring(ring, key_for(by_name("ML-DSA-44")).public_key(), name="Carol")
    assert "# reviewed by security on 2026-12-01" in ring.read_text()
    assert len(load_keyring(ring)) == 2


def test_same_key_twice_is_refused(tmp_path: Path) -> None:
    ring = tmp_path / "team.keys"
    key = key_for(by_name("ML-DSA-65")).public_key()
    add_to_keyring(ring, key, name="Alice")
    with pytest.raises(InputError, match="already in"):
        add_to_keyring(ring, key, name="Mallory")


def test_a_pasted_wrong_key_is_caught_by_its_key_id(tmp_path: Path) -> None:
    ring = tmp_path / "team.keys"
    alice = key_for(by_name("ML-DSA-65")).public_key()
    add_to_keyring(ring, alice, name="Alice")
    other = generate_private_key(by_name("ML-DSA-65")).public_key()
    text = ring.read_text()
    body = lambda k: k.to_pem().decode().split("-----BEGIN PUBLIC KEY-----")[1]  # noqa: E731
    ring.write_text(text.replace(body(alice), body(other)))
    with pytest.raises(InputError, match="does not match its public key"):
        load_keyring(ring)


@pytest.mark.parametrize("text, message", [
    ("version = 2\n", "version"),
    ("[[keys]]\nname = 'x'\n", "no public-key"),
    ("this is = = not toml", "not valid TOML"),
    ("[[keys]]\npublic-key = '''\n-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'''\n",
     "not a post-quantum public key"),
], ids=["future-version", "no-key", "not-toml", "garbage-key"])
def test_malformed_keyrings(tmp_path: Path, text: str, message: str) -> None:
    ring = tmp_path / "bad.keys"
    ring.write_text(text)
    with pytest.raises(InputError, match=message):
        load_keyring(ring)


def test_missing_keyring_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_keyring(tmp_path / "nope.keys")


def test_sixteen_concurrent_adds_all_land(tmp_path: Path) -> None:
    ring = tmp_path / "team.keys"
    keys = []
    for i in range(16):
        pub = tmp_path / f"k{i}.pub"
        pub.write_bytes(generate_private_key(by_name("ML-DSA-44")).public_key().to_pem())
        keys.append(pub)
    code = ("import sys; from pqsign.keys.keyfile import load_public_key; "
            "from pqsign.keys.keyring import add_to_keyring; "
            "add_to_keyring(sys.argv[1], load_public_key(sys.argv[2]), name=sys.argv[3])")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(ring), str(k), f"user{i}"])
             for i, k in enumerate(keys)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    loaded = load_keyring(ring)
    assert sorted(e.name for e in loaded) == sorted(f"user{i}" for i in range(16))
