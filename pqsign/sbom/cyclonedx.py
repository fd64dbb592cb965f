"""Generate, validate and summarise CycloneDX JSON SBOMs with cyclonedx-python-lib.

Sources:

* an installed Python environment: each distribution with version, licenses, purl, its
  dependency graph (``Requires-Dist`` resolved against what is installed, markers evaluated
  for this interpreter), and the SHA-256 of its ``RECORD`` (the file that lists every
  installed file's hash) as the property ``pqsign:record:sha256``;
* a requirements or lock file: pinned versions and ``--hash`` values as given;
* a directory of artifacts: one file component per file with SHA-256 and SHA-512.

Every SBOM also carries a CBOM part: the signature algorithm pqsign protects it with, as a
``cryptographic-asset`` component (name, OID, NIST quantum security level).

Output is CycloneDX JSON 1.6 (1.7 on request), validated against the schema before it is
returned; bom-refs are derived from content, so the same input gives the same document apart
from ``serialNumber`` and ``metadata.timestamp``.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.crypto import (
    AlgorithmProperties,
    CryptoAssetType,
    CryptoExecutionEnvironment,
    CryptoFunction,
    CryptoImplementationPlatform,
    CryptoPrimitive,
    CryptoProperties,
)
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

from pqsign import __version__
from pqsign.crypto.algorithms import Algorithm, Family
from pqsign.errors import InputError

__all__ = ["SCHEMA_VERSIONS", "SbomSummary", "from_python_env", "from_requirements", "from_directory",
           "validate", "summarise"]

SCHEMA_VERSIONS = {"1.6": SchemaVersion.V1_6, "1.7": SchemaVersion.V1_7}
MAX_SBOM_SIZE = 64 << 20
_CHUNK = 1 << 20


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _crypto_asset(alg: Algorithm) -> Component:
    family = {Family.ML_DSA: "ML-DSA", Family.SLH_DSA: "SLH-DSA", Family.COMPOSITE: "Composite ML-DSA"}[alg.family]
    machine = platform.machine().lower()
    implementation = {"x86_64": CryptoImplementationPlatform.X86_64, "amd64": CryptoImplementationPlatform.X86_64,
                      "aarch64": CryptoImplementationPlatform.ARMV8_A,
                      "arm64": CryptoImplementationPlatform.ARMV8_A}.get(machine, CryptoImplementationPlatform.OTHER)
    parameter_set = alg.name.removeprefix(f"{family}-") if alg.family is not Family.COMPOSITE else alg.name
    return Component(
        type=ComponentType.CRYPTOGRAPHIC_ASSET, name=alg.name, bom_ref=f"crypto/algorithm/{alg.name.lower()}",
        description=f"{family} signature algorithm pqsign uses to sign this SBOM",
        crypto_properties=CryptoProperties(
            asset_type=CryptoAssetType.ALGORITHM, oid=alg.oid,
            algorithm_properties=AlgorithmProperties(
                primitive=CryptoPrimitive.SIGNATURE, parameter_set_identifier=parameter_set,
                execution_environment=CryptoExecutionEnvironment.SOFTWARE_PLAIN_RAM,
                implementation_platform=implementation,
                crypto_functions=[CryptoFunction.KEYGEN, CryptoFunction.SIGN, CryptoFunction.VERIFY],
                nist_quantum_security_level=alg.nist_level,
            ),
        ),
    )


def _new_bom(name: str, version: str | None, component_type: ComponentType, alg: Algorithm) -> Bom:
    bom = Bom()
    bom.metadata.component = Component(type=component_type, name=name, version=version,
                                       bom_ref=f"subject/{name}@{version or ''}")
    bom.metadata.tools.components.add(Component(type=ComponentType.APPLICATION, name="pqsign",
                                                version=__version__, bom_ref="tool/pqsign"))
    bom.components.add(_crypto_asset(alg))
    return bom


def _meta(dist: Any, key: str) -> str | None:
    values = dist.metadata.get_all(key) or []
    return str(values[0]) if values else None


def _site_packages(env: Path) -> list[Path]:
    if (env / "pyvenv.cfg").exists() or (env / "bin" / "python").exists():
        found = sorted(env.glob("lib/python3*/site-packages")) + sorted(env.glob("lib64/python3*/site-packages"))
        if found:
            return found
    if env.name in ("site-packages", "dist-packages"):
        return [env]
    raise InputError(f"{env} is not a Python environment (no lib/python3*/site-packages)",
                     hint="pass the virtualenv's root directory, e.g. --python-env .venv")


def _depends_on_everything(bom: Bom) -> None:
    """Requirements and directories have no graph: the described component uses all of them."""
    if bom.metadata.component is not None:
        bom.register_dependency(bom.metadata.component,
                                [c for c in bom.components if c.type is not ComponentType.CRYPTOGRAPHIC_ASSET])


def from_python_env(env: Path, alg: Algorithm, *, name: str | None = None) -> Bom:
    """An SBOM of every distribution installed in a virtualenv (or a site-packages directory)."""
    from importlib.metadata import distributions

    from packaging.requirements import InvalidRequirement, Requirement

    paths = [str(p) for p in _site_packages(env)]
    factory = LicenseFactory()
    bom = _new_bom(name or env.resolve().name, None, ComponentType.APPLICATION, alg)
    installed: dict[str, tuple[Component, list[str]]] = {}
    for dist in distributions(path=paths):
        dist_name = _meta(dist, "Name")
        if not dist_name or _normalise(dist_name) in installed:
            continue
        version = dist.version
        purl = PackageURL(type="pypi", name=_normalise(dist_name), version=version)
        component = Component(type=ComponentType.LIBRARY, name=dist_name, version=version, purl=purl,
                              bom_ref=purl.to_string(), description=_meta(dist, "Summary") or None)
        expression = _meta(dist, "License-Expression")
        if expression:
            component.licenses.add(factory.make_from_string(expression))
        else:
            for classifier in dist.metadata.get_all("Classifier") or []:
                if classifier.startswith("License :: ") and classifier.count("::") >= 2:
                    component.licenses.add(factory.make_from_string(classifier.rsplit(" :: ", 1)[-1]))
            license_text = _meta(dist, "License")
            if not component.licenses and license_text and len(license_text) < 100:
                component.licenses.add(factory.make_from_string(license_text.strip()))
        record = dist.read_text("RECORD")
        if record:
            component.properties.add(Property(name="pqsign:record:sha256",
                                              value=hashlib.sha256(record.encode()).hexdigest()))
            files = sum(1 for line in record.splitlines() if ",sha256=" in line)
            component.properties.add(Property(name="pqsign:record:hashed-files", value=str(files)))
        requires: list[str] = []
        for text in dist.requires or []:
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                requires.append(_normalise(requirement.name))
        installed[_normalise(dist_name)] = (component, requires)
    for component, _ in installed.values():
        bom.components.add(component)
    for component, requires in installed.values():
        deps = [installed[r][0] for r in requires if r in installed]
        bom.register_dependency(component, deps)
    _depends_on_everything(bom)
    return bom


def from_requirements(path: Path, alg: Algorithm, *, name: str | None = None) -> Bom:
    """An SBOM of a requirements/lock file: pinned versions and ``--hash`` values."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    bom = _new_bom(name or path.stem, None, ComponentType.APPLICATION, alg)
    logical = re.sub(r"\\\r?\n", " ", text)
    for number, raw in enumerate(logical.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-r ", "-c ", "--", "-e ")):
            continue
        hashes = re.findall(r"--hash[= ](sha256|sha384|sha512):([0-9a-fA-F]+)", line)
        spec = re.sub(r"\s--\S+(?:[= ]\S+)?", "", " " + line).strip()
        try:
            requirement = Requirement(spec)
        except InvalidRequirement as exc:
            raise InputError(f"{path}:{number}: not a requirement: {exc}") from None
        pinned = [s.version for s in requirement.specifier if s.operator in ("==", "===")]
        version = pinned[0] if pinned else None
        purl = PackageURL(type="pypi", name=_normalise(requirement.name), version=version)
        component = Component(type=ComponentType.LIBRARY, name=requirement.name, version=version, purl=purl,
                              bom_ref=purl.to_string())
        algorithms = {"sha256": HashAlgorithm.SHA_256, "sha384": HashAlgorithm.SHA_384,
                      "sha512": HashAlgorithm.SHA_512}
        for algorithm, value in hashes:
            component.hashes.add(HashType(alg=algorithms[algorithm], content=value.lower()))
        if not pinned:
            component.properties.add(Property(name="pqsign:requirement", value=str(requirement)))
        bom.components.add(component)
    _depends_on_everything(bom)
    return bom


def from_directory(directory: Path, alg: Algorithm, *, name: str | None = None) -> Bom:
    """An SBOM of a directory of artifacts: one file component per file, SHA-256 and SHA-512."""
    if not directory.is_dir():
        raise InputError(f"{directory} is not a directory")
    bom = _new_bom(name or directory.resolve().name, None, ComponentType.APPLICATION, alg)
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        sha256, sha512 = hashlib.sha256(), hashlib.sha512()
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                sha256.update(chunk)
                sha512.update(chunk)
        relative = path.relative_to(directory).as_posix()
        bom.components.add(Component(
            type=ComponentType.FILE, name=relative, bom_ref=f"file/{relative}",
            hashes=[HashType(alg=HashAlgorithm.SHA_256, content=sha256.hexdigest()),
                    HashType(alg=HashAlgorithm.SHA_512, content=sha512.hexdigest())]))
    _depends_on_everything(bom)
    return bom


def serialise(bom: Bom, schema: str = "1.6") -> bytes:
    """CycloneDX JSON, validated against the schema before it is returned."""
    if schema not in SCHEMA_VERSIONS:
        raise InputError(f"CycloneDX {schema} is not supported; choose one of {', '.join(SCHEMA_VERSIONS)}")
    text = make_outputter(bom, OutputFormat.JSON, SCHEMA_VERSIONS[schema]).output_as_string(indent=2)
    data = (text + "\n").encode()
    validate(data)
    return data


def validate(data: bytes, *, what: str = "SBOM") -> dict[str, Any]:
    """Parse a CycloneDX JSON document and validate it against its declared schema version.

    Raises:
        InputError: oversized, not JSON, not CycloneDX, an unsupported version, or a schema error.
    """
    if len(data) > MAX_SBOM_SIZE:
        raise InputError(f"{what} is too large ({len(data)} bytes; the limit is {MAX_SBOM_SIZE})")
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"{what} is not valid JSON") from None
    if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
        raise InputError(f"{what} is not a CycloneDX JSON document (no bomFormat: CycloneDX)")
    version = str(document.get("specVersion", ""))
    if version not in SCHEMA_VERSIONS:
        raise InputError(f"{what} is CycloneDX {version or '(unknown)'}; pqsign validates 1.6 and 1.7")
    error = JsonStrictValidator(SCHEMA_VERSIONS[version]).validate_str(data.decode())
    if error is not None:
        raise InputError(f"{what} does not validate against the CycloneDX {version} schema: "
                         f"{str(error.data.message)[:300]}")
    return document


@dataclass(frozen=True, slots=True)
class SbomSummary:
    components: int
    licenses: tuple[str, ...]
    crypto_assets: tuple[str, ...]


def summarise(document: dict[str, Any]) -> SbomSummary:
    """Counts for people: components, distinct licenses, cryptographic assets."""
    components = document.get("components") or []
    licenses: set[str] = set()
    crypto: list[str] = []
    for component in _walk(components):
        for entry in component.get("licenses") or []:
            lic = entry.get("license") or {}
            name = entry.get("expression") or lic.get("id") or lic.get("name")
            if name:
                licenses.add(str(name))
        if component.get("type") == "cryptographic-asset":
            crypto.append(str(component.get("name")))
    return SbomSummary(sum(1 for _ in _walk(components)), tuple(sorted(licenses)), tuple(crypto))


def _walk(components: Iterable[Any]) -> Iterable[dict[str, Any]]:
    for component in components:
        if isinstance(component, dict):
            yield component
            yield from _walk(component.get("components") or [])
