"""The installed ``pqsign`` command, run as a subprocess exactly as users and CI run it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PASSWORD


@pytest.fixture
def alice(pqsign, tmp_path: Path) -> Path:
    result = pqsign("key", "generate", "--output", "alice", "--comment", "Alice's laptop")
    assert result.returncode == 0, result.stderr
    return tmp_path / "alice"


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    path = tmp_path / "app-1.0.tar.gz"
    path.write_bytes(os.urandom(200_000))
    return path


def no_traceback(result) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


def test_generate_writes_encrypted_0600_key_and_public_key(alice: Path) -> None:
    key, pub = alice.with_suffix(".key"), alice.with_suffix(".pub")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert "-----BEGIN PUBLIC KEY-----" in pub.read_text()
    assert "Comment: Alice's laptop" in pub.read_text()


def test_generate_refuses_to_overwrite_without_force(pqsign, alice: Path) -> None:
    before = alice.with_suffix(".key").read_bytes()
    result = pqsign("key", "generate", "--output", "alice")
    assert result.returncode == 2
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert alice.with_suffix(".key").read_bytes() == before
    assert pqsign("key", "generate", "--output", "alice", "--force").returncode == 0
    assert alice.with_suffix(".key").read_bytes() != before


def test_generate_without_passphrase_source_fails_clearly(pqsign) -> None:
    result = pqsign("key", "generate", "-o", "bob", env={"PQSIGN_PASSWORD": None})
    assert result.returncode == 2
    assert "--no-password" in result.stderr
    no_traceback(result)


def test_no_password_key_warns(pqsign, tmp_path: Path) -> None:
    result = pqsign("key", "generate", "-o", "ci", "--no-password")
    assert result.returncode == 0
    assert "NOT encrypted" in result.stderr
    assert (tmp_path / "ci.key").read_text().startswith("-----BEGIN PRIVATE KEY-----")


def test_key_show_json(pqsign, alice: Path) -> None:
    result = pqsign("key", "show", "alice.pub", "--json")
    info = json.loads(result.stdout)
    assert info["algorithm"] == "ML-DSA-65" and info["oid"] == "2.16.840.1.101.3.4.3.18"
    assert len(info["keyId"]) == 64 and info["fingerprint"].startswith("SHA256:")
    assert info["created"] and info["schema"].endswith("/key-info/v1")
    from_private = json.loads(pqsign("key", "show", "alice.key", "--json").stdout)
    assert from_private["keyId"] == info["keyId"]


def test_sign_and_verify_with_key(pqsign, alice: Path, artifact: Path) -> None:
    result = pqsign("sign", artifact.name, "--key", "alice.key")
    assert result.returncode == 0, result.stderr
    bundle = json.loads(Path(f"{artifact}.pqsig").read_text())
    assert bundle["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    result = pqsign("verify", artifact.name, "--key", "alice.pub")
    assert result.returncode == 0, result.stderr
    assert "Verified OK" in result.stdout and "Alice's laptop" in result.stdout


def test_tampered_file_exits_1(pqsign, alice: Path, artifact: Path) -> None:
    pqsign("sign", artifact.name, "--key", "alice.key")
    with artifact.open("ab") as handle:
        handle.write(b"!")
    result = pqsign("verify", artifact.name, "--key", "alice.pub")
    assert result.returncode == 1
    assert "FAILED" in result.stderr and "does not match its signature" in result.stderr
    no_traceback(result)


def test_wrong_passphrase_is_one_clear_line_exit_2(pqsign, alice: Path, artifact: Path) -> None:
    result = pqsign("sign", artifact.name, "--key", "alice.key", env={"PQSIGN_PASSWORD": "nope"})
    assert result.returncode == 2
    assert result.stderr.splitlines()[0].startswith("error: wrong passphrase")
    assert not Path(f"{artifact}.pqsig").exists()
    no_traceback(result)


def test_password_file(pqsign, alice: Path, artifact: Path, tmp_path: Path) -> None:
    (tmp_path / "pw").write_text(PASSWORD + "\n")
    result = pqsign("sign", artifact.name, "--key", "alice.key", "--password-file", "pw",
                    env={"PQSIGN_PASSWORD": None})
    assert result.returncode == 0, result.stderr


def test_sign_refuses_to_overwrite_a_bundle(pqsign, alice: Path, artifact: Path) -> None:
    assert pqsign("sign", artifact.name, "--key", "alice.key").returncode == 0
    result = pqsign("sign", artifact.name, "--key", "alice.key")
    assert result.returncode == 2 and "--force" in result.stderr
    assert pqsign("sign", artifact.name, "--key", "alice.key", "--force").returncode == 0


def test_keyring_many_files_json(pqsign, alice: Path, tmp_path: Path) -> None:
    assert pqsign("keyring", "add", "team.keys", "alice.pub", "--name", "Alice",
                  "--email", "alice@example.com").returncode == 0
    wheels = []
    for i in range(3):
        wheel = tmp_path / f"pkg{i}-1.0-py3-none-any.whl"
        wheel.write_bytes(os.urandom(1000))
        wheels.append(wheel.name)
    assert pqsign("sign", *wheels, "--key", "alice.key").returncode == 0
    (tmp_path / wheels[1]).write_bytes(b"tampered")
    result = pqsign("verify", *wheels, "--keyring", "team.keys", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["verified"] is False
    assert [r["status"] for r in report["results"]] == ["verified", "failed", "verified"]
    assert report["results"][0]["signer"]["identity"] == "Alice <alice@example.com>"
    listing = json.loads(pqsign("keyring", "list", "team.keys", "--json").stdout)
    assert listing["keys"][0]["email"] == "alice@example.com"


def test_untrusted_signer(pqsign, alice: Path, artifact: Path) -> None:
    pqsign("key", "generate", "-o", "mallory", "--no-password")
    pqsign("sign", artifact.name, "--key", "mallory.key")
    result = pqsign("verify", artifact.name, "--key", "alice.pub")
    assert result.returncode == 1
    assert "not made by any of the 1 trusted key" in result.stderr


@pytest.mark.parametrize("content, message", [
    (b"", "not valid JSON"),
    (b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMat', "truncated"),
    (os.urandom(3000), "not valid JSON"),
    (b"{" + b" " * (2 << 20) + b"}", "too large"),
], ids=["empty", "truncated", "garbage", "huge"])
def test_bad_bundles_exit_2_with_one_line(pqsign, alice: Path, artifact: Path, content: bytes,
                                         message: str) -> None:
    Path(f"{artifact}.pqsig").write_bytes(content)
    result = pqsign("verify", artifact.name, "--key", "alice.pub")
    assert result.returncode == 2
    assert message in result.stderr
    no_traceback(result)


@pytest.mark.parametrize("args, message", [
    (["verify", "missing.tgz", "--key", "alice.pub"], "does not exist"),
    (["verify", "app-1.0.tar.gz", "--key", "alice.key"], "private key, not a public key"),
    (["verify", "app-1.0.tar.gz"], "no trusted key"),
    (["sign", "app-1.0.tar.gz", "--key", "alice.pub"], "signing needs the private key"),
    (["key", "generate", "-o", "x", "--algorithm", "RSA"], "unknown algorithm"),
    (["key", "show", "app-1.0.tar.gz"], "no '-----BEGIN PUBLIC KEY-----' block"),
    (["keyring", "list", "nothing.keys"], "does not exist"),
], ids=["missing-file", "private-as-trusted", "no-trust", "public-as-signing", "unknown-alg",
        "not-a-key", "missing-keyring"])
def test_input_errors_exit_2_without_traceback(pqsign, alice: Path, artifact: Path, args, message) -> None:
    pqsign("sign", artifact.name, "--key", "alice.key")
    result = pqsign(*args)
    assert result.returncode == 2, result
    assert message in result.stderr
    no_traceback(result)


def test_json_errors_are_documents_on_stdout(pqsign, alice: Path, artifact: Path) -> None:
    result = pqsign("--json", "sign", artifact.name, "--key", "alice.key", env={"PQSIGN_PASSWORD": "wrong"})
    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert report["schema"].endswith("/error/v1") and report["kind"] == "input"
    assert report["error"].startswith("wrong passphrase") and report["exitCode"] == 2


def test_usage_error_exits_2(pqsign) -> None:
    result = pqsign("verify", "--no-such-flag")
    assert result.returncode == 2


def test_help_documents_exit_codes(pqsign) -> None:
    result = pqsign("--help")
    assert result.returncode == 0
    assert "Exit codes" in result.stdout and "1 verification failed" in result.stdout


def test_algorithms_json_reports_backends(pqsign) -> None:
    report = json.loads(pqsign("algorithms", "--json").stdout)
    names = {a["name"]: a for a in report["algorithms"]}
    assert names["ML-DSA-65"]["default"] and names["ML-DSA-65"]["available"]
    slh = names["SLH-DSA-SHA2-128s"]
    assert slh["available"]  # via liboqs or the pure-Python package
    assert {b["name"] for b in slh["backends"]} == {"liboqs", "slh-dsa"}
    assert all(b["detail"] for b in slh["backends"])


@pytest.mark.parametrize("algorithm", ["ML-DSA-44", "ML-DSA-87", "ML-DSA-65+Ed25519", "SLH-DSA-SHA2-128f"])
def test_cli_round_trip_other_algorithms(pqsign, artifact: Path, algorithm: str) -> None:
    assert pqsign("key", "generate", "-o", "k", "-a", algorithm).returncode == 0
    assert pqsign("sign", artifact.name, "-k", "k.key").returncode == 0
    result = pqsign("verify", artifact.name, "-k", "k.pub", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"][0]["signer"]["algorithm"] != "ML-DSA-65"


def test_python_dash_m(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "pqsign", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("pqsign ")


def test_cli_import_keeps_heavy_stacks_out() -> None:
    """Start-up is a feature: the CLI module loads no crypto, ASN.1, rich or backends."""
    code = ("import sys, pqsign.cli.app; "
            "heavy = [m for m in ('cryptography', 'asn1crypto', 'rich', 'slhdsa', 'oqs', 'tomllib', 'oras', "
            "'requests', 'cyclonedx', 'pqsign.cli.image', 'pqsign.cli.sbom', 'pqsign.cli.git') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_verify_path_keeps_asn1_and_rich_out(pqsign, alice: Path, artifact: Path, tmp_path: Path) -> None:
    pqsign("sign", artifact.name, "--key", "alice.key")
    code = ("import sys, runpy; sys.argv = ['pqsign', 'verify', sys.argv[1], '--key', sys.argv[2]]\n"
            "try:\n    runpy.run_module('pqsign', run_name='__main__')\n"
            "except SystemExit as e:\n    assert e.code == 0, e.code\n"
            "print([m for m in ('asn1crypto', 'rich', 'slhdsa', 'oqs', 'oras', 'requests', 'cyclonedx', "
            "'pqsign.cli.keys', 'pqsign.cli.release') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code, str(artifact), str(tmp_path / "alice.pub")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("[]")


def test_concurrent_signers_never_clobber_a_bundle(pqsign, tmp_path: Path, artifact: Path) -> None:
    """Eight processes sign the same file without --force: exactly one writes, the rest refuse."""
    executable = str(Path(sys.executable).with_name("pqsign"))
    pqsign("key", "generate", "-o", "ci", "--no-password")
    procs = [subprocess.Popen([executable, "sign", artifact.name, "--key", "ci.key", "--json"],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(8)]
    codes = [p.wait(timeout=120) for p in procs]
    assert sorted(codes) == [0] + [2] * 7
    assert pqsign("verify", artifact.name, "--key", "ci.pub").returncode == 0
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_large_file_verifies_in_constant_memory(pqsign, alice: Path, tmp_path: Path) -> None:
    """A 1 GiB file (sparse, so the test is cheap on disk) is hashed with a bounded buffer."""
    big = tmp_path / "weights.bin"
    with big.open("wb") as handle:
        handle.truncate(1 << 30)
        handle.seek((1 << 30) - 5)
        handle.write(b"tail!")
    assert pqsign("sign", big.name, "--key", "alice.key").returncode == 0
    executable = str(Path(sys.executable).with_name("pqsign"))
    proc = subprocess.Popen([executable, "verify", big.name, "--key", "alice.pub", "--quiet"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert usage.ru_maxrss < 96 * 1024, f"peak RSS {usage.ru_maxrss} KiB"
