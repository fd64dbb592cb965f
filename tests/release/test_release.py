"""M-of-N release approval: thresholds count distinct authorised keys, never signatures."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pqsign.crypto.algorithms import by_name
from pqsign.envelope.dsse import Envelope
from pqsign.errors import InputError, VerificationError
from pqsign.keys.keyfile import PrivateKey, generate_private_key
from pqsign.keys.keyring import KeyringEntry
from pqsign.release.approval import (
    ApprovalState,
    approvals_dir,
    approve_release,
    evaluate_release,
    verify_release,
)
from pqsign.release.manifest import create_manifest, load_manifest
from pqsign.release.policy import (
    POLICY_PAYLOAD_TYPE,
    ReleasePolicy,
    SignedPolicy,
    load_policy,
    save_policy,
    sign_policy,
    verify_policy_chain,
)

NAMES = ("alice", "bob", "carol", "dave", "erin")


@pytest.fixture(scope="module")
def keys() -> dict[str, PrivateKey]:
    found = {name: generate_private_key(by_name("ML-DSA-44")) for name in NAMES}
    found["root"] = generate_private_key(by_name("SLH-DSA-SHA2-128f"))  # mixed algorithms
    found["mallory"] = generate_private_key(by_name("ML-DSA-65"))
    return found


def entry(keys: dict[str, PrivateKey], name: str) -> KeyringEntry:
    return KeyringEntry(keys[name].public_key(), name=name)


def make_policy(tmp_path: Path, keys, approvers, threshold, *, signers, version=1, name="myproject",
                expires=None, filename="release-policy.json") -> Path:
    policy = ReleasePolicy(name, version, threshold, tuple(entry(keys, a) for a in approvers), expires)
    path = tmp_path / filename
    save_policy(path, SignedPolicy.unsigned(policy))
    for signer in signers:
        sign_policy(path, keys[signer])
    return path


@pytest.fixture
def release(tmp_path: Path):
    dist = tmp_path / "dist"
    dist.mkdir()
    artifacts = []
    for i in range(3):
        artifact = dist / f"app-{i}.tar.gz"
        artifact.write_bytes(f"artifact {i}\n".encode() * 100)
        artifacts.append(artifact)
    manifest_path = tmp_path / "release-1.4.0.json"
    manifest_path.write_bytes(create_manifest(artifacts, "1.4.0", "myproject").raw)
    return load_manifest(manifest_path), artifacts


@pytest.fixture
def policy_2_of_3(tmp_path: Path, keys) -> ReleasePolicy:
    path = make_policy(tmp_path, keys, ["alice", "bob", "root"], 2, signers=["alice", "bob"])
    return verify_policy_chain(load_policy(path))


def test_one_approval_is_not_enough(release, keys, policy_2_of_3) -> None:
    manifest, artifacts = release
    approve_release(manifest, keys["alice"])
    with pytest.raises(VerificationError, match="1 of 2 required: NOT APPROVED"):
        verify_release(manifest, policy_2_of_3, artifacts)


def test_two_distinct_approvers_pass_with_mixed_algorithms(release, keys, policy_2_of_3) -> None:
    manifest, artifacts = release
    approve_release(manifest, keys["alice"])
    approve_release(manifest, keys["root"])  # SLH-DSA
    status = verify_release(manifest, policy_2_of_3, artifacts)
    assert status.approved and {a.name for a in status.approved_by} == {"alice", "root"}
    assert status.artifacts_checked == tuple(a.name for a in artifacts)


def test_same_key_twice_counts_once(release, keys, policy_2_of_3) -> None:
    manifest, _ = release
    first = approve_release(manifest, keys["alice"])
    shutil.copy(first, first.with_name("copy-of-alice.pqsig"))
    approve_release(manifest, keys["alice"], directory=first.parent / "elsewhere")
    second = first.with_name("alice-again.pqsig")
    shutil.copy(first.parent / "elsewhere" / first.name, second)  # a fresh signature, same key
    status = evaluate_release(manifest, policy_2_of_3)
    assert len(status.approved_by) == 1 and not status.approved
    assert sorted(f.state for f in status.files).count(ApprovalState.DUPLICATE) == 2


def test_key_listed_twice_in_a_policy_counts_once(tmp_path: Path, release, keys) -> None:
    manifest, _ = release
    policy = ReleasePolicy("myproject", 1, 2, (entry(keys, "alice"), entry(keys, "bob")))
    document = json.loads(policy.to_json())
    document["approvers"].insert(1, dict(document["approvers"][0]))  # alice listed twice
    path = tmp_path / "dup-policy.json"
    save_policy(path, SignedPolicy(ReleasePolicy.from_json(json.dumps(document).encode()),
                                   Envelope(POLICY_PAYLOAD_TYPE, json.dumps(document).encode())))
    sign_policy(path, keys["alice"])
    sign_policy(path, keys["bob"])
    loaded = load_policy(path)
    assert loaded.policy.duplicates == 1 and len(loaded.policy.approvers) == 2
    approve_release(manifest, keys["alice"])
    with pytest.raises(VerificationError, match="1 of 2"):
        verify_release(manifest, verify_policy_chain(loaded))


def test_policy_that_can_never_be_met_is_refused(keys) -> None:
    with pytest.raises(InputError, match="can never be met"):
        ReleasePolicy("p", 1, 3, (entry(keys, "alice"), entry(keys, "bob")))
    with pytest.raises(InputError, match="listed twice"):
        ReleasePolicy("p", 1, 1, (entry(keys, "alice"), entry(keys, "alice")))


def test_key_outside_the_policy_is_ignored(release, keys, policy_2_of_3) -> None:
    manifest, _ = release
    approve_release(manifest, keys["alice"])
    approve_release(manifest, keys["mallory"])
    status = evaluate_release(manifest, policy_2_of_3)
    assert not status.approved
    assert ApprovalState.UNTRUSTED in {f.state for f in status.files}


def test_approval_of_another_manifest_or_version_is_ignored(tmp_path: Path, release, keys,
                                                           policy_2_of_3) -> None:
    manifest, artifacts = release
    other_path = tmp_path / "release-1.4.1.json"
    other_path.write_bytes(create_manifest(artifacts, "1.4.1", "myproject").raw)
    other = load_manifest(other_path)
    approve_release(manifest, keys["alice"])
    foreign = approve_release(other, keys["bob"])
    shutil.copy(foreign, approvals_dir(manifest.path) / foreign.name)
    status = evaluate_release(manifest, policy_2_of_3)
    assert not status.approved
    assert [f.state for f in status.files].count(ApprovalState.MISMATCH) == 1


def test_tampered_artifact_fails(release, keys, policy_2_of_3) -> None:
    manifest, artifacts = release
    approve_release(manifest, keys["alice"])
    approve_release(manifest, keys["bob"])
    artifacts[1].write_bytes(b"evil")
    with pytest.raises(VerificationError, match="app-1.tar.gz does not match"):
        verify_release(manifest, policy_2_of_3, artifacts)


def test_missing_artifact_is_named(release, keys, policy_2_of_3) -> None:
    manifest, artifacts = release
    approve_release(manifest, keys["alice"])
    approve_release(manifest, keys["bob"])
    with pytest.raises(VerificationError, match="not given: app-2.tar.gz"):
        verify_release(manifest, policy_2_of_3, artifacts[:2])


def test_unlisted_artifact_fails(tmp_path: Path, release, keys, policy_2_of_3) -> None:
    manifest, artifacts = release
    approve_release(manifest, keys["alice"])
    approve_release(manifest, keys["bob"])
    extra = tmp_path / "backdoor.sh"
    extra.write_text("curl | sh")
    with pytest.raises(VerificationError, match="not part of release"):
        verify_release(manifest, policy_2_of_3, [*artifacts, extra])


def test_malformed_and_truncated_files_are_reported_and_others_count(release, keys, policy_2_of_3) -> None:
    manifest, _ = release
    good = approve_release(manifest, keys["alice"])
    approve_release(manifest, keys["bob"])
    (good.parent / "truncated.pqsig").write_bytes(good.read_bytes()[:200])
    (good.parent / "garbage.pqsig").write_bytes(b"\x00\xff" * 50)
    status = evaluate_release(manifest, policy_2_of_3)
    assert status.approved
    assert [f.state for f in status.files].count(ApprovalState.MALFORMED) == 2


def test_approve_refuses_to_overwrite(release, keys) -> None:
    manifest, _ = release
    path = approve_release(manifest, keys["alice"])
    with pytest.raises(InputError, match="already approved"):
        approve_release(manifest, keys["alice"])
    approve_release(manifest, keys["alice"], force=True)
    # a file under alice's name that is not alice's is never replaced, even with --force
    bob_bundle = approve_release(manifest, keys["bob"], directory=path.parent / "b")
    shutil.copy(bob_bundle, path)
    with pytest.raises(InputError, match="not this key's approval"):
        approve_release(manifest, keys["alice"], force=True)


def test_unsigned_first_policy_is_not_trusted(tmp_path: Path, keys) -> None:
    path = make_policy(tmp_path, keys, ["alice", "bob", "carol"], 2, signers=["alice"])
    with pytest.raises(VerificationError, match="not signed by its approvers: 1 of 2"):
        verify_policy_chain(load_policy(path))


def test_rotation_chain_passes(tmp_path: Path, keys, release) -> None:
    manifest, _ = release
    v1 = make_policy(tmp_path, keys, ["alice", "bob", "carol"], 2, signers=["alice", "bob"])
    v2 = make_policy(tmp_path, keys, ["carol", "dave", "erin"], 2, version=2, signers=["bob", "carol"],
                     filename="v2.json")
    v3 = make_policy(tmp_path, keys, ["dave", "erin", "root"], 1, version=3, signers=["dave", "erin"],
                     filename="v3.json")
    effective = verify_policy_chain(load_policy(v1), [load_policy(v3), load_policy(v2)])
    assert effective.version == 3
    approve_release(manifest, keys["root"])
    assert verify_release(manifest, effective).approved
    # the old approvers no longer count under v3
    approve_release(manifest, keys["alice"])
    assert {a.name for a in evaluate_release(manifest, effective).approved_by} == {"root"}


def test_rotation_signed_by_too_few_previous_approvers_fails(tmp_path: Path, keys) -> None:
    v1 = make_policy(tmp_path, keys, ["alice", "bob", "carol"], 2, signers=["alice", "bob"])
    # signed by one old approver and two new ones: the new keys cannot vouch for themselves
    v2 = make_policy(tmp_path, keys, ["dave", "erin", "mallory"], 1, version=2,
                     signers=["alice", "dave", "mallory"], filename="v2.json")
    with pytest.raises(VerificationError, match="not authorised by version 1's approvers: 1 of 2"):
        verify_policy_chain(load_policy(v1), [load_policy(v2)])


def test_rollback_to_an_older_policy_fails(tmp_path: Path, keys) -> None:
    v1 = make_policy(tmp_path, keys, ["alice", "bob", "carol"], 2, signers=["alice", "bob"])
    v2 = make_policy(tmp_path, keys, ["alice", "bob", "carol"], 2, version=2, signers=["alice", "bob"],
                     filename="v2.json")
    trusted_v2 = load_policy(v2)
    trusted_v2 = SignedPolicy(trusted_v2.policy, trusted_v2.envelope, "v2.json")
    with pytest.raises(VerificationError, match="rollback refused"):
        verify_policy_chain(trusted_v2, [load_policy(v1)])


def test_version_gap_fails(tmp_path: Path, keys) -> None:
    v1 = make_policy(tmp_path, keys, ["alice", "bob"], 1, signers=["alice"])
    v3 = make_policy(tmp_path, keys, ["alice", "bob"], 1, version=3, signers=["alice"], filename="v3.json")
    with pytest.raises(VerificationError, match="version 2 is missing"):
        verify_policy_chain(load_policy(v1), [load_policy(v3)])


def test_expired_policy_fails(tmp_path: Path, keys) -> None:
    past = datetime.now(UTC) - timedelta(days=1)
    path = make_policy(tmp_path, keys, ["alice", "bob"], 1, signers=["alice"], expires=past)
    with pytest.raises(VerificationError, match="expired"):
        verify_policy_chain(load_policy(path))
    future = datetime.now(UTC) + timedelta(days=30)
    fresh = make_policy(tmp_path, keys, ["alice", "bob"], 1, signers=["alice"], expires=future,
                        filename="fresh.json")
    assert verify_policy_chain(load_policy(fresh)).expires is not None


def test_edited_policy_loses_its_signatures(tmp_path: Path, keys) -> None:
    path = make_policy(tmp_path, keys, ["alice", "bob", "carol"], 2, signers=["alice", "bob"])
    document = json.loads(path.read_text())
    import base64

    payload = json.loads(base64.b64decode(document["payload"]))
    payload["threshold"] = 1
    document["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    path.write_text(json.dumps(document))
    with pytest.raises(VerificationError, match="0 of 1"):
        verify_policy_chain(load_policy(path))


def _write_key(tmp_path: Path, name: str, key: PrivateKey) -> Path:
    path = tmp_path / f"{name}.key"
    path.write_bytes(key.to_pem(None))
    (tmp_path / f"{name}.pub").write_bytes(key.public_key().to_pem())
    return path


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pqsign", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_three_approvers_at_the_same_moment_all_land(tmp_path: Path, keys, release) -> None:
    manifest, _ = release
    for name in ("alice", "bob", "carol"):
        _write_key(tmp_path, name, keys[name])
    procs = [subprocess.Popen([sys.executable, "-m", "pqsign", "release", "approve", manifest.path,
                               "--key", f"{name}.key"], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for name in ("alice", "bob", "carol")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert len(list(approvals_dir(manifest.path).glob("*.pqsig"))) == 3


def test_concurrent_policy_signers_all_land(tmp_path: Path, keys) -> None:
    path = make_policy(tmp_path, keys, ["alice", "bob", "carol"], 3, signers=[])
    for name in ("alice", "bob", "carol"):
        _write_key(tmp_path, name, keys[name])
    procs = [subprocess.Popen([sys.executable, "-m", "pqsign", "release", "policy", "sign", path.name,
                               "--key", f"{name}.key"], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for name in ("alice", "bob", "carol")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert verify_policy_chain(load_policy(path)).threshold == 3


def test_end_to_end_as_release_managers_run_it(tmp_path: Path, keys) -> None:
    for name in ("alice", "bob", "carol"):
        _write_key(tmp_path, name, keys[name])
    dist = tmp_path / "dist"
    dist.mkdir()
    for i in range(4):
        (dist / f"pkg-{i}.whl").write_bytes(bytes([i]) * 5000)
    steps = [
        ["release", "policy", "init", "--threshold", "2", "--approver", "alice.pub", "--approver", "bob.pub",
         "--approver", "carol.pub", "--name", "myproject", "-o", "release-policy.json"],
        ["release", "policy", "sign", "release-policy.json", "--key", "alice.key"],
        ["release", "policy", "sign", "release-policy.json", "--key", "carol.key"],
        ["release", "manifest", *[f"dist/pkg-{i}.whl" for i in range(4)], "--version", "1.4.0",
         "--project", "myproject", "-o", "release-1.4.0.json"],
        ["release", "approve", "release-1.4.0.json", "--key", "bob.key"],
    ]
    for step in steps:
        result = _cli(*step, cwd=tmp_path)
        assert result.returncode == 0, (step, result.stderr)
    result = _cli("release", "verify", "release-1.4.0.json", "--policy", "release-policy.json", cwd=tmp_path)
    assert result.returncode == 1 and "1 of 2 required" in result.stderr
    status = json.loads(_cli("--json", "release", "status", "release-1.4.0.json", "--policy",
                             "release-policy.json", cwd=tmp_path).stdout)
    assert status["approved"] is False and status["approvals"] == 1
    assert {a["name"]: a["state"] for a in status["approvers"]} == {
        "alice": "missing", "bob": "valid", "carol": "missing"}
    assert _cli("release", "approve", "release-1.4.0.json", "--key", "carol.key", cwd=tmp_path).returncode == 0
    result = _cli("release", "verify", "release-1.4.0.json", "--policy", "release-policy.json",
                  *[f"dist/pkg-{i}.whl" for i in range(4)], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 of 2 required: APPROVED" in result.stdout
    (dist / "pkg-3.whl").write_bytes(b"tampered")
    result = _cli("release", "verify", "release-1.4.0.json", "--policy", "release-policy.json",
                  *[f"dist/pkg-{i}.whl" for i in range(4)], cwd=tmp_path)
    assert result.returncode == 1 and "pkg-3.whl does not match" in result.stderr
    assert "Traceback" not in result.stderr
