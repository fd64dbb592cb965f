"""Plain git signs and verifies through pqsign-git; pqsign git verify agrees with git's %G?."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.git.conftest import Repo, make_key

PROGRAM = str(Path(sys.executable).with_name("pqsign-git"))


def test_setup_writes_the_x509_wiring(repo: Repo) -> None:
    assert repo.text("config", "gpg.format") == "x509"
    assert repo.text("config", "gpg.x509.program") == PROGRAM
    assert repo.text("config", "user.signingKey").endswith("alice.key")
    assert repo.text("config", "pqsign.keyring").endswith("team.keys")


def test_signed_commit_is_good_everywhere(repo: Repo) -> None:
    oid = repo.commit("first signed commit", "-S")
    raw = repo.text("cat-file", "commit", oid)
    assert "gpgsig -----BEGIN SIGNED MESSAGE-----" in raw
    assert repo.git("verify-commit", oid).returncode == 0
    assert repo.text("log", "-1", "--format=%G?|%GT|%s") == "G|fully|first signed commit"  # subject kept
    assert repo.text("log", "-1", "--format=%GS") == "A U Thor <author@example.com>"
    assert len(repo.text("log", "-1", "--format=%GK")) == 64
    shown = repo.git("log", "--show-signature", "-1").stdout.decode()
    assert "Good ML-DSA-65 signature by A U Thor" in shown


def test_signed_tag(repo: Repo) -> None:
    repo.commit("release", "-S")
    repo.git("tag", "-s", "v1.0", "-m", "release v1.0")
    assert "-----BEGIN SIGNED MESSAGE-----" in repo.text("cat-file", "tag", "v1.0")
    assert repo.git("verify-tag", "v1.0").returncode == 0
    ring = repo.text("config", "pqsign.keyring")
    report = json.loads(repo.pqsign("--json", "git", "verify", "--keyring", ring, "--tag", "v1.0").stdout)
    assert [(o["type"], o["result"]) for o in report["objects"]] == [("commit", "G"), ("tag", "G")]


def test_amend_and_rebase_keep_signatures_only_when_signing(repo: Repo) -> None:
    repo.commit("base", "-S")
    repo.commit("second", "-S")
    repo.git("commit", "-q", "--amend", "-S", "-m", "second, amended")
    assert repo.letters()[repo.text("rev-parse", "HEAD")] == "G"
    repo.git("commit", "-q", "--amend", "-m", "amended without -S")
    assert repo.letters()[repo.text("rev-parse", "HEAD")] == "N"
    repo.git("config", "commit.gpgSign", "true")
    repo.git("rebase", "-q", "--force-rebase", "--root")
    assert set(repo.letters().values()) == {"G"}


def test_signed_merge_commit(repo: Repo) -> None:
    repo.commit("base", "-S")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("feature work", "-S", filename="feature.txt")
    repo.git("checkout", "-q", "main")
    repo.commit("main work", "-S")
    repo.git("merge", "-q", "--no-ff", "-S", "-m", "merge feature", "feature")
    head = repo.text("rev-parse", "HEAD")
    assert len(repo.text("log", "-1", "--format=%P").split()) == 2
    assert repo.git("verify-commit", head).returncode == 0


def _forge(repo: Repo, raw: bytes) -> str:
    oid = repo.git("hash-object", "-t", "commit", "-w", "--stdin", input=raw).stdout.decode().strip()
    return oid


def test_byte_flipped_commit_is_bad(repo: Repo) -> None:
    oid = repo.commit("pay 100 EUR", "-S")
    raw = repo.git("cat-file", "commit", oid).stdout
    forged = _forge(repo, raw.replace(b"pay 100 EUR", b"pay 900 EUR"))
    assert repo.text("log", "-1", "--format=%G?|%GT", forged) == "B|undefined"
    assert repo.git("verify-commit", forged, check=False).returncode != 0


def test_unknown_key_is_untrusted(repo: Repo) -> None:
    mallory = make_key(repo.home, "mallory")
    repo.git("config", "user.signingKey", str(mallory))
    oid = repo.commit("from an unknown key", "-S")
    assert repo.text("log", "-1", "--format=%G?|%GT", oid) == "U|undefined"
    result = repo.git("verify-commit", oid, check=False)
    assert result.returncode != 0 and b"not in the keyring" in result.stderr
    repo.git("config", "gpg.minTrustLevel", "fully")
    assert repo.git("verify-commit", oid, check=False).returncode != 0


def test_unsigned_commit(repo: Repo) -> None:
    oid = repo.commit("unsigned")
    assert repo.text("log", "-1", "--format=%G?", oid) == "N"


def test_garbage_signature_is_an_error_not_a_crash(repo: Repo) -> None:
    oid = repo.commit("to be mangled", "-S")
    raw = repo.git("cat-file", "commit", oid).stdout
    head, _, body = raw.partition(b"\n\n")
    lines = [ln for ln in head.split(b"\n") if not ln.startswith((b"gpgsig", b" "))]
    garbage = (b"gpgsig -----BEGIN SIGNED MESSAGE-----\n dGhpcyBpcyBub3QgQ01T\n -----END SIGNED MESSAGE-----")
    forged = _forge(repo, b"\n".join(lines[:-1] + [garbage, lines[-1]]) + b"\n\n" + body)
    assert repo.text("log", "-1", "--format=%G?|%GT", forged) == "E|undefined"


def test_foreign_x509_signature_is_reported_as_not_pqsign(repo: Repo) -> None:
    """A gpgsm/smimesign-style CMS (ECDSA, issuerAndSerialNumber) gives E with a reason."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs7
    from cryptography.x509.oid import NameOID

    oid = repo.commit("signed elsewhere")
    payload = repo.git("cat-file", "commit", oid).stdout
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gpgsm user")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(datetime.datetime(2026, 1, 1))
            .not_valid_after(datetime.datetime(2030, 1, 1)).sign(key, hashes.SHA256()))
    der = (pkcs7.PKCS7SignatureBuilder().set_data(payload).add_signer(cert, key, hashes.SHA256())
           .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]))
    import base64

    body = base64.encodebytes(der).replace(b"\n", b"")
    armored = b"-----BEGIN SIGNED MESSAGE-----\n" + b"\n".join(
        body[i:i + 64] for i in range(0, len(body), 64)) + b"\n-----END SIGNED MESSAGE-----\n"
    sig_file = repo.path.parent / "foreign.sig"
    sig_file.write_bytes(armored)
    out = subprocess.run([PROGRAM, "--status-fd=1", "--verify", str(sig_file), "-"], input=payload,
                         capture_output=True, cwd=repo.path, env=repo.env, timeout=60)
    assert out.returncode == 2
    assert b"[GNUPG:] ERRSIG" in out.stdout and b"TRUST_UNDEFINED" in out.stdout
    assert b"not a post-quantum signature" in out.stderr and b"Traceback" not in out.stderr


def test_sha256_repository(sha256_repo: Repo) -> None:
    oid = sha256_repo.commit("sha256 world", "-S")
    assert len(oid) == 64
    assert "gpgsig-sha256 -----BEGIN SIGNED MESSAGE-----" in sha256_repo.text("cat-file", "commit", oid)
    assert sha256_repo.git("verify-commit", oid).returncode == 0
    ring = sha256_repo.text("config", "pqsign.keyring")
    result = sha256_repo.pqsign("git", "verify", "--keyring", ring)
    assert result.returncode == 0, result.stdout + result.stderr


def test_range_verification_agrees_with_git_on_a_mixed_history(repo: Repo) -> None:
    repo.commit("signed 1", "-S")
    repo.commit("unsigned 2")
    repo.git("checkout", "-q", "-b", "side")
    mallory = make_key(repo.home, "mallory", algorithm="ML-DSA-44", password=None)
    repo.commit("untrusted 3", "-S" + str(mallory), filename="side.txt")
    repo.git("checkout", "-q", "main")
    repo.commit("hybrid key 4", "-S")
    repo.git("merge", "-q", "--no-ff", "-S", "-m", "merge 5", "side")
    head = repo.git("cat-file", "commit", "HEAD").stdout
    tampered = _forge(repo, head.replace(b"merge 5", b"merge 5, edited"))
    repo.git("update-ref", "refs/heads/main", tampered)
    expected = repo.letters()
    assert set(expected.values()) == {"G", "N", "U", "B"}
    ring = repo.text("config", "pqsign.keyring")
    result = repo.pqsign("--json", "git", "verify", "--keyring", ring, "HEAD")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert {o["oid"]: o["result"] for o in report["objects"]} == expected
    ranged = json.loads(repo.pqsign("--json", "git", "verify", "--keyring", ring, "HEAD~1..HEAD").stdout)
    assert {o["oid"] for o in ranged["objects"]} < set(expected)


def test_allow_unsigned_merges_and_match_committer(repo: Repo) -> None:
    repo.commit("base", "-S")
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("side", "-S", filename="side.txt")
    repo.git("checkout", "-q", "main")
    repo.commit("main", "-S")
    repo.git("merge", "-q", "--no-ff", "-m", "unsigned merge", "side")
    ring = repo.text("config", "pqsign.keyring")
    assert repo.pqsign("git", "verify", "--keyring", ring).returncode == 1
    assert repo.pqsign("git", "verify", "--keyring", ring, "--allow-unsigned-merges").returncode == 0
    repo.commit("someone else commits with alice's key", "-S")
    repo.git("commit", "-q", "--amend", "-S", "--no-edit", "--reset-author",
             env={"GIT_COMMITTER_EMAIL": "eve@example.com", "GIT_AUTHOR_EMAIL": "eve@example.com"})
    assert repo.pqsign("git", "verify", "--keyring", ring, "--allow-unsigned-merges", "HEAD~1..HEAD").returncode == 0
    result = repo.pqsign("--json", "git", "verify", "--keyring", ring, "--match-committer", "HEAD~1..HEAD")
    assert result.returncode == 1
    assert "not the committer" in json.loads(result.stdout)["objects"][0]["reason"]


def _status_lines(stdout: bytes) -> list[bytes]:
    assert b"\r" not in stdout
    return [ln for ln in stdout.split(b"\n") if ln]


@pytest.mark.parametrize("case", ["good", "bad", "untrusted", "error"])
def test_status_protocol_in_every_outcome(repo: Repo, case: str) -> None:
    if case == "untrusted":
        repo.git("config", "user.signingKey", str(make_key(repo.home, "stranger")))
    oid = repo.commit(f"status {case}", "-S")
    raw = repo.git("cat-file", "commit", oid).stdout
    from pqsign.git.history import split_commit_signature

    payload, signature = split_commit_signature(raw)
    assert signature is not None
    if case == "bad":
        payload = payload.replace(b"status bad", b"status BAD")
    if case == "error":
        signature = b"-----BEGIN SIGNED MESSAGE-----\nAAAA\n-----END SIGNED MESSAGE-----\n"
    sig_file = repo.path.parent / "sig"
    sig_file.write_bytes(signature)
    out = subprocess.run([PROGRAM, "--status-fd=1", "--verify", str(sig_file), "-"], input=payload,
                         capture_output=True, cwd=repo.path, env=repo.env, timeout=60)
    lines = _status_lines(out.stdout)
    assert lines[0] == b"[GNUPG:] NEWSIG"
    exclusive = [ln for ln in lines if ln.split()[1] in (b"GOODSIG", b"BADSIG", b"ERRSIG", b"EXPSIG",
                                                         b"EXPKEYSIG", b"REVKEYSIG")]
    trust = [ln for ln in lines if ln.split()[1].startswith(b"TRUST_")]
    assert len(exclusive) == 1 and len(trust) == 1
    expected = {"good": (b"GOODSIG", b"TRUST_FULLY", 0), "untrusted": (b"GOODSIG", b"TRUST_UNDEFINED", 1),
                "bad": (b"BADSIG", b"TRUST_UNDEFINED", 1), "error": (b"ERRSIG", b"TRUST_UNDEFINED", 2)}[case]
    assert (exclusive[0].split()[1], trust[0].split()[1], out.returncode) == expected
    assert len(out.stderr.splitlines()) == 1  # short: git pastes it into merge messages


def test_signature_ends_with_a_newline_and_status_order(repo: Repo) -> None:
    out = subprocess.run([PROGRAM, "--status-fd=2", "-bsau", repo.text("config", "user.signingKey")],
                         input=b"tree x\n\nmessage\n", capture_output=True, env=repo.env, cwd=repo.path, timeout=60)
    assert out.returncode == 0
    assert out.stdout.startswith(b"-----BEGIN SIGNED MESSAGE-----\n") and out.stdout.endswith(b"\n")
    status = out.stderr.decode().splitlines()
    assert status[0] == "[GNUPG:] BEGIN_SIGNING" and status[1].startswith("[GNUPG:] SIG_CREATED ")


def test_signing_by_committer_identity_when_signing_key_is_unset(repo: Repo) -> None:
    repo.git("config", "--unset", "user.signingKey")
    oid = repo.commit("found my key by email", "-S")
    assert repo.text("log", "-1", "--format=%G?", oid) == "G"


def test_missing_passphrase_without_terminal_fails_fast(repo: Repo) -> None:
    log = repo.path.parent / "pqsign-git.log"
    before = repo.text("rev-parse", "--verify", "-q", "HEAD") if repo.git(
        "rev-parse", "-q", "--verify", "HEAD", check=False).returncode == 0 else ""
    start = time.monotonic()
    (repo.path / "f").write_text("x")
    repo.git("add", "f")
    result = repo.git("commit", "-S", "-m", "needs a passphrase", check=False,
                      env={"PQSIGN_PASSWORD": None, "PQSIGN_GIT_LOG": str(log)})
    assert result.returncode != 0
    assert time.monotonic() - start < 30
    assert "no terminal to ask for its passphrase" in log.read_text()
    after = repo.git("rev-parse", "-q", "--verify", "HEAD", check=False).stdout.decode().strip()
    assert after == before  # no commit was created


def test_wrong_passphrase_and_unreadable_key_fail_clearly(repo: Repo) -> None:
    log = repo.path.parent / "log"
    (repo.path / "f").write_text("x")
    repo.git("add", "f")
    result = repo.git("commit", "-S", "-m", "x", check=False, env={"PQSIGN_PASSWORD": "wrong",
                                                                   "PQSIGN_GIT_LOG": str(log)})
    assert result.returncode != 0 and "wrong passphrase" in log.read_text()
    broken = repo.home / "broken.key"
    broken.write_text("not a key")
    repo.git("config", "user.signingKey", str(broken))
    result = repo.git("commit", "-S", "-m", "x", check=False, env={"PQSIGN_GIT_LOG": str(log)})
    assert result.returncode != 0 and "no '-----BEGIN ENCRYPTED PRIVATE KEY-----'" in log.read_text()
    assert "Traceback" not in log.read_text()


def test_program_never_waits_forever_on_stdin(repo: Repo) -> None:
    proc = subprocess.Popen([PROGRAM, "--status-fd=2", "-bsau", repo.text("config", "user.signingKey")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**repo.env, "PQSIGN_GIT_TIMEOUT": "2"}, cwd=repo.path)
    try:
        code = proc.wait(timeout=30)  # stdin is never closed
    finally:
        proc.kill()
    assert code == 2
    assert b"timed out" in proc.stderr.read()
    assert proc.stdout.read() == b""


def test_truncated_payload_on_verify_is_bad(repo: Repo) -> None:
    oid = repo.commit("whole payload", "-S")
    from pqsign.git.history import split_commit_signature

    payload, signature = split_commit_signature(repo.git("cat-file", "commit", oid).stdout)
    sig_file = repo.path.parent / "sig"
    sig_file.write_bytes(signature or b"")
    out = subprocess.run([PROGRAM, "--status-fd=1", "--verify", str(sig_file), "-"], input=payload[:20],
                         capture_output=True, env=repo.env, cwd=repo.path, timeout=60)
    assert out.returncode == 1 and b"BADSIG" in out.stdout


def test_setup_refuses_another_x509_program_and_unsets(repo: Repo) -> None:
    repo.git("config", "gpg.x509.program", "/usr/bin/gitsign")
    key = repo.text("config", "user.signingKey")
    result = repo.pqsign("git", "setup", "--key", key)
    assert result.returncode == 2 and "--force" in result.stderr
    assert repo.pqsign("git", "setup", "--key", key, "--force").returncode == 0
    assert (repo.home / "git.keys").exists()  # personal keyring with the user's own key
    assert repo.pqsign("git", "setup", "--unset").returncode == 0
    assert repo.git("config", "gpg.x509.program", check=False).returncode == 1


def test_program_starts_without_typer_or_rich() -> None:
    code = ("import sys, pqsign.git.program, pqsign.git.signature, pqsign.git.cms; "
            "print([m for m in ('typer', 'rich', 'click') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ})
    assert out.stdout.strip() == "[]", out.stderr


def test_global_setup_signs_in_any_repository(repo: Repo, tmp_path: Path) -> None:
    key = repo.text("config", "user.signingKey")
    for name in ("gpg.format", "gpg.x509.program", "user.signingKey", "pqsign.keyring"):
        repo.git("config", "--unset", name)
    result = repo.pqsign("git", "setup", "--global", "--key", key)
    assert result.returncode == 0, result.stderr
    gitconfig = (Path(repo.env["HOME"]) / ".gitconfig").read_text()
    assert "program = " + PROGRAM in gitconfig and "signingKey = " + key in gitconfig
    oid = repo.commit("signed through the global config", "-S")
    assert repo.text("log", "-1", "--format=%G?", oid) == "G"  # personal keyring holds the user's own key
    assert repo.pqsign("git", "setup", "--global", "--unset").returncode == 0
    assert "x509" not in (Path(repo.env["HOME"]) / ".gitconfig").read_text()
