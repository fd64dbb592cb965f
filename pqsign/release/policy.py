"""Release policies: who may approve a release, and how many of them must.

A policy file is a DSSE envelope (payloadType :data:`POLICY_PAYLOAD_TYPE`) whose payload is::

    {"_type": "https://pqsign.dev/release-policy/v1", "name": "myproject", "version": 1,
     "expires": "2027-12-31T00:00:00Z" | null, "threshold": 2,
     "approvers": [{"name": "Alice", "email": "...", "publicKey": "-----BEGIN PUBLIC KEY-----..."}]}

and whose signatures are the approvers' (DSSE allows many signatures on one envelope).

Trust works like TUF's root role:

* version 1 is valid when a threshold of *its own* approvers signed it;
* version N+1 is valid when a threshold of version N's approvers signed it;
* a verifier starts from a policy it trusts and walks forward one version at a time,
  rejecting a version that is not exactly the next one (rollback, replay, gaps) and ending
  on a policy that has not expired.

Approvers are identified by the key id computed from their key material; the same key listed
twice counts once, and a threshold that the distinct approvers cannot reach is refused.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pqsign._internal.fs import atomic_write, directory_lock, read_bounded
from pqsign.envelope.dsse import Envelope, Signature
from pqsign.errors import InputError, VerificationError
from pqsign.keys.keyfile import PrivateKey, PublicKey
from pqsign.keys.keyring import KeyringEntry
from pqsign.keys.trust import distinct_signers

__all__ = [
    "POLICY_PAYLOAD_TYPE",
    "POLICY_TYPE",
    "ReleasePolicy",
    "SignedPolicy",
    "ThresholdResult",
    "load_policy",
    "save_policy",
    "sign_policy",
    "verify_policy_chain",
]

POLICY_PAYLOAD_TYPE = "application/vnd.pqsign.release-policy.v1+json"
POLICY_TYPE = "https://pqsign.dev/release-policy/v1"
MAX_POLICY_SIZE = 4 << 20


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{what}: {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


@dataclass(frozen=True, slots=True)
class ThresholdResult:
    """How a set of signatures measures up against a threshold of approvers (TUF-style)."""

    threshold: int
    signed: tuple[KeyringEntry, ...]
    missing: tuple[KeyringEntry, ...]

    @property
    def met(self) -> bool:
        return len(self.signed) >= self.threshold

    def describe(self) -> str:
        return f"{len(self.signed)} of {self.threshold} required"


@dataclass(frozen=True, slots=True)
class ReleasePolicy:
    """A version of a project's release policy: M-of-N approvers."""

    name: str
    version: int
    threshold: int
    approvers: tuple[KeyringEntry, ...]
    expires: datetime | None = None
    duplicates: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise InputError("a release policy needs a name")
        if self.version < 1:
            raise InputError("a release policy version starts at 1")
        if self.threshold < 1:
            raise InputError("the threshold must be at least 1")
        distinct = {a.key_id for a in self.approvers}
        if len(distinct) != len(self.approvers):
            raise InputError("an approver key is listed twice")
        if self.threshold > len(distinct):
            raise InputError(f"threshold {self.threshold} can never be met by "
                             f"{len(distinct)} distinct approver key(s)")

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires is not None and (now or datetime.now(UTC)) >= self.expires

    def evaluate(self, message: bytes, signatures: Sequence[tuple[bytes, str]]) -> ThresholdResult:
        """Which approvers' signatures over ``message`` verify, against the threshold."""
        signers = distinct_signers(message, signatures, self.approvers)
        signed = tuple(a for a in self.approvers if a.key_id in signers)
        missing = tuple(a for a in self.approvers if a.key_id not in signers)
        return ThresholdResult(self.threshold, signed, missing)

    def to_json(self) -> bytes:
        """The policy payload (stable: sorted keys, compact)."""
        document = {
            "_type": POLICY_TYPE,
            "name": self.name,
            "version": self.version,
            "expires": _format_time(self.expires) if self.expires else None,
            "threshold": self.threshold,
            "approvers": [
                {"name": a.name, "email": a.email, "algorithm": a.public_key.algorithm.name,
                 "keyId": a.key_id, "publicKey": _pem_only(a.public_key)}
                for a in self.approvers
            ],
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, payload: bytes, *, what: str = "release policy") -> ReleasePolicy:
        """Parse a policy payload. Approver key ids are recomputed; repeated keys count once.

        Raises:
            InputError: malformed payload, wrong type, impossible threshold.
        """
        try:
            document: Any = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            raise InputError(f"{what} payload is not JSON") from None
        if not isinstance(document, dict) or document.get("_type") != POLICY_TYPE:
            raise InputError(f"{what} is not a pqsign release policy ({POLICY_TYPE})")
        name, version, threshold = document.get("name"), document.get("version"), document.get("threshold")
        if not isinstance(name, str) or not isinstance(version, int) or not isinstance(threshold, int) \
                or isinstance(version, bool) or isinstance(threshold, bool):
            raise InputError(f"{what}: name, version and threshold are required")
        raw_approvers = document.get("approvers")
        if not isinstance(raw_approvers, list) or not raw_approvers:
            raise InputError(f"{what} lists no approvers")
        approvers: dict[str, KeyringEntry] = {}
        duplicates = 0
        for number, raw in enumerate(raw_approvers, start=1):
            if not isinstance(raw, dict) or not isinstance(raw.get("publicKey"), str):
                raise InputError(f"{what}: approver {number} has no publicKey")
            key = PublicKey.from_pem(raw["publicKey"].encode(), what=f"{what}, approver {number}")
            entry = KeyringEntry(key, str(raw.get("name", "")), str(raw.get("email", "")), source=what)
            if key.key_id in approvers:
                duplicates += 1  # the same key listed twice counts once
                continue
            approvers[key.key_id] = entry
        expires_raw = document.get("expires")
        expires = _parse_time(expires_raw, what) if isinstance(expires_raw, str) else None
        return cls(name, version, threshold, tuple(approvers.values()), expires, duplicates)


def _pem_only(key: PublicKey) -> str:
    pem = key.to_pem().decode()
    return pem[pem.index("-----BEGIN"):]


@dataclass(frozen=True, slots=True)
class SignedPolicy:
    """A policy and the envelope that carries it with its approvers' signatures."""

    policy: ReleasePolicy
    envelope: Envelope
    path: str = ""

    @classmethod
    def unsigned(cls, policy: ReleasePolicy) -> SignedPolicy:
        return cls(policy, Envelope(POLICY_PAYLOAD_TYPE, policy.to_json()))

    def signatures(self) -> list[tuple[bytes, str]]:
        return [(s.sig, s.keyid) for s in self.envelope.signatures]

    def self_result(self) -> ThresholdResult:
        """Signatures of this version's own approvers (what version 1 needs)."""
        return self.policy.evaluate(self.envelope.pae(), self.signatures())

    def result_under(self, previous: ReleasePolicy) -> ThresholdResult:
        """Signatures of the previous version's approvers (what version N+1 needs)."""
        return previous.evaluate(self.envelope.pae(), self.signatures())

    def to_json(self) -> bytes:
        return (json.dumps(self.envelope.to_dict(), indent=2) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes, *, what: str = "release policy") -> SignedPolicy:
        try:
            document = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise InputError(f"{what} is not valid JSON; is it truncated?") from None
        envelope = Envelope.from_dict(document, exactly_one=False)
        if envelope.payload_type != POLICY_PAYLOAD_TYPE:
            raise InputError(f"{what} has payloadType {envelope.payload_type!r}, "
                             f"expected {POLICY_PAYLOAD_TYPE}")
        return cls(ReleasePolicy.from_json(envelope.payload, what=what), envelope, what)


def load_policy(path: Path | str) -> SignedPolicy:
    """Read a policy file (bounded in size)."""
    data = read_bounded(Path(path), MAX_POLICY_SIZE, "release policy")
    signed = SignedPolicy.from_json(data, what=f"release policy {path}")
    return SignedPolicy(signed.policy, signed.envelope, str(path))


def save_policy(path: Path | str, signed: SignedPolicy, *, force: bool = False) -> None:
    """Write a policy file atomically (never over an existing file without ``force``)."""
    atomic_write(Path(path), signed.to_json(), force=force)


def sign_policy(path: Path | str, key: PrivateKey) -> SignedPolicy:
    """Add ``key``'s signature to the policy file at ``path``, in place.

    Concurrent signers are serialised by a directory lock and each re-reads the file, so every
    signature lands. Any key may sign (a rotation is signed by the *previous* version's
    approvers, whom this file does not list); verification decides which signatures count.
    """
    path = Path(path)
    public = key.public_key()
    with directory_lock(path):
        current = load_policy(path)
        signature = Signature(key.sign(current.envelope.pae()), public.key_id)
        updated = SignedPolicy(current.policy, current.envelope.with_signature(signature), str(path))
        save_policy(path, updated, force=True)
    return updated


def verify_policy_chain(trusted: SignedPolicy, updates: Sequence[SignedPolicy] = (),
                        now: datetime | None = None) -> ReleasePolicy:
    """The newest valid policy, walking from a trusted one through newer versions.

    Steps:
        (1) the trusted policy carries a threshold of its own approvers' signatures;
        (2) each update names the same project and is exactly the next version
            (an older or equal version is a rollback, a higher one a gap);
        (3) each update carries a threshold of signatures by the previous version's approvers;
        (4) the policy reached has not expired.

    Raises:
        VerificationError: any step fails.
    """
    # (1)
    result = trusted.self_result()
    if not result.met:
        raise VerificationError(
            f"policy {trusted.path or trusted.policy.name} v{trusted.policy.version} is not signed "
            f"by its approvers: {result.describe()}",
            hint="approvers sign it with `pqsign release policy sign`",
        )
    current = trusted.policy
    for update in sorted(updates, key=lambda u: u.policy.version):
        policy = update.policy
        # (2)
        if policy.name != current.name:
            raise VerificationError(f"policy {update.path} is for {policy.name!r}, not {current.name!r}")
        if policy.version <= current.version:
            raise VerificationError(
                f"policy {update.path} is version {policy.version}, not newer than version "
                f"{current.version}: rollback refused")
        if policy.version != current.version + 1:
            raise VerificationError(f"policy version {current.version + 1} is missing before "
                                    f"version {policy.version} ({update.path})")
        # (3)
        rotation = update.result_under(current)
        if not rotation.met:
            raise VerificationError(
                f"policy {update.path} v{policy.version} is not authorised by version "
                f"{current.version}'s approvers: {rotation.describe()}")
        current = policy
    # (4)
    if current.is_expired(now):
        assert current.expires is not None
        raise VerificationError(f"release policy {current.name} v{current.version} expired on "
                                f"{_format_time(current.expires)}",
                                hint="the approvers must publish a new policy version")
    return current
