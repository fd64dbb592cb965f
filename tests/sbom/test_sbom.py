"""SBOMs: generation from real sources, attestations, embedded JSF signatures, image referrers."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pqsign.crypto.algorithms import by_name
from pqsign.errors import InputError
from pqsign.keys.keyfile import generate_private_key
from pqsign.keys.keyring import add_to_keyring
from pqsign.sbom.cyclonedx import from_directory, from_python_env, from_requirements, serialise, validate
from tests.registry import Registry, push_image

PQSIGN = str(Path(sys.executable).with_name("pqsign"))
ML_DSA_65 = by_name("ML-DSA-65")


def _wheel(directory: Path, name: str, version: str, requires: list[str], license_expression: str) -> Path:
    """A real, minimal wheel that pip installs (RECORD with hashes)."""
    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": b"VALUE = 1\n",
        f"{info}/METADATA": ("Metadata-Version: 2.4\n" f"Name: {name}\n" f"Version: {version}\n"
                             f"Summary: test distribution {name}\n" f"License-Expression: {license_expression}\n"
                             + "".join(f"Requires-Dist: {r}\n" for r in requires)).encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: pqsign-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = directory / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv")
    env = root / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    wheels = [_wheel(root, "demo-app", "2.0", ["demo-lib>=1", 'demo-win; sys_platform == "win32"'], "Apache-2.0"),
              _wheel(root, "demo-lib", "1.0", [], "MIT")]
    subprocess.run([sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install", "-q",
                    "--no-index", "--no-deps", *map(str, wheels)], check=True)
    return env


def test_python_env_sbom(venv: Path) -> None:
    document = json.loads(serialise(from_python_env(venv, ML_DSA_65, name="demo")))
    components = {c["name"]: c for c in document["components"]}
    app, lib = components["demo-app"], components["demo-lib"]
    assert app["purl"] == "pkg:pypi/demo-app@2.0" and lib["version"] == "1.0"
    assert app["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    assert {p["name"] for p in app["properties"]} == {"pqsign:record:sha256", "pqsign:record:hashed-files"}
    depends = {d["ref"]: d.get("dependsOn", []) for d in document["dependencies"]}
    assert depends[app["bom-ref"]] == [lib["bom-ref"]]  # the win32-only requirement is not installed here
    assert document["metadata"]["tools"]["components"][0]["name"] == "pqsign"
    assert document["metadata"]["component"]["name"] == "demo"
    assert document["serialNumber"].startswith("urn:uuid:")


def test_cbom_part_declares_the_signing_algorithm(venv: Path) -> None:
    document = json.loads(serialise(from_python_env(venv, by_name("ML-DSA-87"))))
    crypto = [c for c in document["components"] if c["type"] == "cryptographic-asset"]
    assert len(crypto) == 1
    props = crypto[0]["cryptoProperties"]
    assert crypto[0]["name"] == "ML-DSA-87" and props["oid"] == "2.16.840.1.101.3.4.3.19"
    assert props["algorithmProperties"]["nistQuantumSecurityLevel"] == 5


def test_generation_is_deterministic_apart_from_serial_and_timestamp(venv: Path) -> None:
    first, second = (json.loads(serialise(from_python_env(venv, ML_DSA_65))) for _ in range(2))
    for document in (first, second):
        del document["serialNumber"], document["metadata"]["timestamp"]
    assert first == second


def test_requirements_sbom(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "# pinned with hashes, as pip-compile writes them\n"
        "requests==2.32.3 \\\n    --hash=sha256:" + "a" * 64 + " \\\n    --hash=sha256:" + "b" * 64 + "\n"
        "idna==3.10  # via requests\n"
        "rich>=13\n"
    )
    document = json.loads(serialise(from_requirements(requirements, ML_DSA_65)))
    components = {c["name"]: c for c in document["components"] if c["type"] == "library"}
    assert components["requests"]["version"] == "2.32.3"
    assert [h["content"] for h in components["requests"]["hashes"]] == ["a" * 64, "b" * 64]
    assert components["idna"]["purl"] == "pkg:pypi/idna@3.10"
    assert "version" not in components["rich"]
    assert components["rich"]["properties"] == [{"name": "pqsign:requirement", "value": "rich>=13"}]


def test_directory_sbom_and_cyclonedx_1_7(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "app-1.0.tar.gz").write_bytes(b"tarball")
    (tmp_path / "dist" / "sub").mkdir()
    (tmp_path / "dist" / "sub" / "app.whl").write_bytes(b"wheel")
    document = json.loads(serialise(from_directory(tmp_path / "dist", ML_DSA_65), "1.7"))
    assert document["specVersion"] == "1.7"
    files = {c["name"]: c for c in document["components"] if c["type"] == "file"}
    assert set(files) == {"app-1.0.tar.gz", "sub/app.whl"}
    assert files["app-1.0.tar.gz"]["hashes"][0] == {"alg": "SHA-256", "content": hashlib.sha256(b"tarball").hexdigest()}
    assert files["app-1.0.tar.gz"]["hashes"][1]["alg"] == "SHA-512"


def test_invalid_and_huge_sboms_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not validate against the CycloneDX 1.6 schema"):
        validate(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": "one"}).encode())
    with pytest.raises(InputError, match="not a CycloneDX"):
        validate(b'{"spdxVersion": "SPDX-2.3"}')
    with pytest.raises(InputError, match="too large"):
        validate(b" " * (64 << 20) + b"{}")


@pytest.fixture
def workspace(tmp_path: Path, venv: Path) -> Path:
    for name in ("ci", "mallory"):
        key = generate_private_key(ML_DSA_65)
        (tmp_path / f"{name}.key").write_bytes(key.to_pem(None))
        (tmp_path / f"{name}.pub").write_bytes(key.public_key().to_pem())
        if name == "ci":
            add_to_keyring(tmp_path / "team.keys", key.public_key(), name="CI", email="ci@example.com")
    (tmp_path / "app-1.0.tar.gz").write_bytes(b"the release")
    (tmp_path / "other.tar.gz").write_bytes(b"another release")
    result = run(tmp_path, "sbom", "generate", "--python-env", str(venv), "-o", "app.cdx.json")
    assert result.returncode == 0, result.stderr
    return tmp_path


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PQSIGN, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_sign_and_verify_attestation(workspace: Path) -> None:
    signed = run(workspace, "sbom", "sign", "app.cdx.json", "--subject", "app-1.0.tar.gz", "--key", "ci.key")
    assert signed.returncode == 0, signed.stderr
    bundle = json.loads((workspace / "app.cdx.json.pqsig").read_text())
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    assert statement["predicateType"] == "https://cyclonedx.org/bom"
    assert statement["subject"][0]["name"] == "app-1.0.tar.gz"
    result = run(workspace, "sbom", "verify", "app.cdx.json", "--subject", "app-1.0.tar.gz", "--keyring", "team.keys",
                 "-o", "verified.cdx.json")
    assert result.returncode == 0, result.stderr
    assert json.loads((workspace / "verified.cdx.json").read_text()) == json.loads(
        (workspace / "app.cdx.json").read_text())


@pytest.mark.parametrize("attack, message", [
    ("tampered-sbom", "differs from the SBOM that was signed"),
    ("other-artifact", "describes app-1.0.tar.gz, not the artifact given"),
    ("wrong-key", "not made by any of the 1 trusted key"),
])
def test_attacks_fail_with_exit_1(workspace: Path, attack: str, message: str) -> None:
    key = "mallory.key" if attack == "wrong-key" else "ci.key"
    assert run(workspace, "sbom", "sign", "app.cdx.json", "--subject", "app-1.0.tar.gz", "--key", key).returncode == 0
    subject = "other.tar.gz" if attack == "other-artifact" else "app-1.0.tar.gz"
    if attack == "tampered-sbom":
        document = json.loads((workspace / "app.cdx.json").read_text())
        document["components"] = [c for c in document["components"] if c["name"] != "demo-lib"]
        (workspace / "app.cdx.json").write_text(json.dumps(document))
    result = run(workspace, "sbom", "verify", "app.cdx.json", "--subject", subject, "--keyring", "team.keys")
    assert result.returncode == 1, result.stderr
    assert message in result.stderr


def test_invalid_sbom_is_refused_at_signing_with_the_schema_error(workspace: Path) -> None:
    (workspace / "bad.cdx.json").write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6",
                                                        "components": [{"type": "library"}]}))
    result = run(workspace, "sbom", "sign", "bad.cdx.json", "--subject", "app-1.0.tar.gz", "--key", "ci.key")
    assert result.returncode == 2 and "schema" in result.stderr and "Traceback" not in result.stderr
    assert not (workspace / "bad.cdx.json.pqsig").exists()


def test_embedded_jsf_signature(workspace: Path) -> None:
    assert run(workspace, "sbom", "sign", "app.cdx.json", "--embed", "--key", "ci.key").returncode == 0
    signed = workspace / "app.cdx.json.signed.json"
    document = json.loads(signed.read_text())
    assert document["signature"]["algorithm"] == "urn:oid:2.16.840.1.101.3.4.3.18"
    validate(signed.read_bytes())  # CycloneDX's schema accepts the URI form
    assert run(workspace, "sbom", "verify", signed.name, "--keyring", "team.keys").returncode == 0
    document["metadata"]["component"]["name"] = "renamed"
    signed.write_text(json.dumps(document))
    result = run(workspace, "sbom", "verify", signed.name, "--keyring", "team.keys")
    assert result.returncode == 1 and "modified after signing" in result.stderr


def test_attach_and_verify_image_newest_first(registry: Registry, workspace: Path, env_for, venv: Path) -> None:
    digest = push_image(registry.address, "team/sbom", "1", b"image with an sbom")
    env = env_for(registry)
    ref = f"{registry.address}/team/sbom:1"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([PQSIGN, *args], cwd=workspace, env=env, capture_output=True, text=True, timeout=120)

    result = cli("sbom", "verify-image", ref, "--keyring", "team.keys")
    assert result.returncode == 1 and "no SBOM attestation" in result.stderr
    assert cli("sbom", "attach", ref, "app.cdx.json", "--key", "ci.key").returncode == 0
    import time

    time.sleep(1.1)  # a newer created annotation for the second SBOM
    run(workspace, "sbom", "generate", "--requirements", str(_requirements(workspace)), "-o", "second.cdx.json")
    assert cli("sbom", "attach", ref, "second.cdx.json", "--key", "ci.key").returncode == 0
    assert cli("image", "sign", ref, "--key", "ci.key").returncode == 0  # a signature referrer too
    result = cli("--json", "sbom", "verify-image", ref, "--keyring", "team.keys", "-o", "out.cdx.json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report["attestations"]) == 2
    created = [a["created"] for a in report["attestations"]]
    assert created == sorted(created, reverse=True)
    newest = json.loads((workspace / "out.cdx.json").read_text())
    assert {c["name"] for c in newest["components"]} >= {"requests"}
    assert report["digest"] == digest  # the tag was resolved to the image that was attested


def _requirements(directory: Path) -> Path:
    path = directory / "requirements.txt"
    path.write_text("requests==2.32.3\n")
    return path
