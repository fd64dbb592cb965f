"""Detached CMS SignedData (RFC 5652) with post-quantum signers, for git's x509 signature slot.

The layout follows RFC 9882 (ML-DSA in CMS; RFC 9814 for SLH-DSA, the composite CMS draft for
composites):

* ``SignedData`` v3, ``eContentType`` id-data with the content absent (detached);
* one ``SignerInfo`` v3 identified by ``subjectKeyIdentifier`` = the 32-byte pqsign key id
  (SHA-256 of the SPKI), with pure signing over the DER of the signed attributes (empty context);
* signed attributes: content-type, message-digest (SHA-512; SHA-256 for SLH-DSA-SHA2-128*),
  signing-time, and CMSAlgorithmProtection (RFC 6211) naming the digest and signature algorithms;
* a self-signed X.509 certificate of the signing key (subjectKeyIdentifier = key id), so that
  ``openssl cms -verify`` can check a signature without pqsign. pqsign itself trusts only keys in
  its keyring; the certificate merely lets it recognise a valid signature by an unknown key.

All decoding is bounded by the armor size limit and checks every field it relies on.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from asn1crypto import algos, cms, keys, x509

from pqsign.errors import InputError
from pqsign.keys.keyfile import PrivateKey, PublicKey

__all__ = [
    "ARMOR_BEGIN",
    "ARMOR_END",
    "CmsSignature",
    "armor",
    "dearmor",
    "self_signed_certificate",
    "sign_detached",
    "parse_detached",
]

ARMOR_BEGIN = b"-----BEGIN SIGNED MESSAGE-----"
ARMOR_END = b"-----END SIGNED MESSAGE-----"
MAX_SIGNATURE_SIZE = 1 << 20
_NO_EXPIRY = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)  # RFC 5280 section 4.1.2.5
_HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


def armor(der: bytes) -> bytes:
    """PEM-style armor git recognises as x509; always ends with a newline (git needs it)."""
    body = base64.b64encode(der)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return ARMOR_BEGIN + b"\n" + b"\n".join(lines) + b"\n" + ARMOR_END + b"\n"


def dearmor(text: bytes) -> bytes:
    """DER from an armored signature.

    Raises:
        InputError: no armor, bad base64, or oversized.
    """
    if len(text) > MAX_SIGNATURE_SIZE:
        raise InputError(f"signature is too large ({len(text)} bytes)")
    start = text.find(ARMOR_BEGIN)
    end = text.find(ARMOR_END, start + 1)
    if start < 0 or end < 0:
        raise InputError("no '-----BEGIN SIGNED MESSAGE-----' armor")
    body = b"".join(text[start + len(ARMOR_BEGIN) : end].split())
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("the signature armor is not valid base64") from None


def _digest_algorithm(name: str) -> algos.DigestAlgorithm:
    return algos.DigestAlgorithm({"algorithm": name})


def _signature_algorithm(oid: str) -> algos.SignedDigestAlgorithm:
    return algos.SignedDigestAlgorithm({"algorithm": oid})


def self_signed_certificate(key: PrivateKey, common_name: str, not_before: datetime) -> x509.Certificate:
    """A minimal self-signed certificate for ``key`` (RFC 9881 section 5 key usage)."""
    public = key.public_key()
    key_id = bytes.fromhex(public.key_id)
    name = x509.Name.build({"common_name": common_name})
    tbs = x509.TbsCertificate({
        "version": "v3",
        "serial_number": int.from_bytes(key_id[:16], "big") >> 1,  # positive, <= 20 octets
        "signature": _signature_algorithm(public.algorithm.oid),
        "issuer": name,
        "validity": {"not_before": x509.Time(name="utc_time", value=not_before),
                     "not_after": x509.Time(name="general_time", value=_NO_EXPIRY)},
        "subject": name,
        "subject_public_key_info": keys.PublicKeyInfo.load(public.spki_der),
        "extensions": [
            {"extn_id": "key_identifier", "critical": False, "extn_value": key_id},
            {"extn_id": "key_usage", "critical": True,
             "extn_value": x509.KeyUsage({"digital_signature"})},
            {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": False}},
        ],
    })
    signature = key.sign(tbs.dump())
    return x509.Certificate({
        "tbs_certificate": tbs,
        "signature_algorithm": _signature_algorithm(public.algorithm.oid),
        "signature_value": signature,
    })


def sign_detached(payload: bytes, key: PrivateKey, common_name: str,
                  signing_time: datetime | None = None) -> bytes:
    """A detached CMS SignedData over ``payload``, DER-encoded."""
    public = key.public_key()
    alg = public.algorithm
    when = (signing_time or datetime.now(UTC)).replace(microsecond=0)
    digest = _HASHES[alg.cms_digest](payload).digest()
    attributes = cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({"type": "signing_time", "values": [cms.Time(name="utc_time", value=when)]}),
        cms.CMSAttribute({"type": "message_digest", "values": [digest]}),
        cms.CMSAttribute({"type": "cms_algorithm_protection", "values": [cms.CMSAlgorithmProtection({
            "digest_algorithm": _digest_algorithm(alg.cms_digest),
            "signature_algorithm": _signature_algorithm(alg.oid),
        })]}),
    ])
    # RFC 5652 section 5.4: the signature covers the DER of the attributes as a SET OF.
    signature = key.sign(attributes.dump())
    certificate = self_signed_certificate(key, common_name, when)
    signer = cms.SignerInfo({
        "version": "v3",
        "sid": cms.SignerIdentifier(name="subject_key_identifier", value=bytes.fromhex(public.key_id)),
        "digest_algorithm": _digest_algorithm(alg.cms_digest),
        "signed_attrs": attributes,
        "signature_algorithm": _signature_algorithm(alg.oid),
        "signature": signature,
    })
    signed_data = cms.SignedData({
        "version": "v3",
        "digest_algorithms": [_digest_algorithm(alg.cms_digest)],
        "encap_content_info": {"content_type": "data"},
        "certificates": [cms.CertificateChoices(name="certificate", value=certificate)],
        "signer_infos": [signer],
    })
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())


@dataclass(frozen=True, slots=True)
class CmsSignature:
    """What a detached SignedData claims, parsed and shape-checked but not yet verified."""

    key_id: str                 # from the SignerIdentifier (subjectKeyIdentifier), hex
    signature_oid: str          # signatureAlgorithm
    digest_name: str            # digestAlgorithm (asn1crypto name, e.g. "sha512")
    signed_attributes: bytes    # DER of the SET OF attributes: what the signature covers
    signature: bytes
    message_digest: bytes
    content_type_is_data: bool
    protection: tuple[str, str] | None   # (digest, signature OID) from CMSAlgorithmProtection
    signing_time: datetime | None
    certificates: tuple[x509.Certificate, ...] = field(default=(), repr=False, compare=False)

    def certificate_key(self) -> tuple[PublicKey | None, str]:
        """(key, subject) of the embedded certificate for this signer, if pqsign knows its OID.

        Parsed only when asked: a signer found in the keyring never needs it, and certificate
        parsing is most of the cost of checking a commit.
        """
        wanted = bytes.fromhex(self.key_id)
        for certificate in self.certificates:
            try:
                if certificate.key_identifier != wanted:
                    continue
                key = PublicKey.from_der(certificate["tbs_certificate"]["subject_public_key_info"].dump())
            except (InputError, ValueError, TypeError, KeyError):
                continue
            if key.key_id == self.key_id:
                return key, certificate.subject.human_friendly
        return None, ""

    def digest_matches(self, payload: bytes) -> bool:
        function = _HASHES.get(self.digest_name)
        return function is not None and function(payload).digest() == self.message_digest


def _key_id_by_issuer_serial(identifier: cms.IssuerAndSerialNumber, certificates: tuple[x509.Certificate, ...],
                             signature_oid: str) -> str:
    """The pqsign key id of the certificate an issuerAndSerialNumber names."""
    wanted = (identifier["issuer"].dump(), identifier["serial_number"].native)
    for certificate in certificates:
        if (certificate.issuer.dump(), certificate.serial_number) != wanted:
            continue
        try:
            return PublicKey.from_der(certificate["tbs_certificate"]["subject_public_key_info"].dump()).key_id
        except InputError:
            raise InputError(
                f"not a post-quantum signature: signed with {signature_oid} by {certificate.subject.human_friendly}",
                hint="made by another x509 signer (gpgsm, smimesign, gitsign?); verify it with that tool",
            ) from None
    raise InputError("the CMS signer's certificate is not in the signature")


def parse_detached(der: bytes) -> CmsSignature:
    """Parse a detached SignedData with exactly one signer that uses signed attributes.

    Raises:
        InputError: not CMS SignedData, attached content, not one signer, no signed attributes,
            a signer not identified by key id, missing content-type or message-digest.
    """
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise InputError("not a CMS SignedData")
        signed = info["content"]
        if signed["encap_content_info"]["content"].native is not None:
            raise InputError("the CMS signature is not detached")
        signers = signed["signer_infos"]
        if len(signers) != 1:
            raise InputError(f"expected one CMS signer, found {len(signers)}")
        signer = signers[0]
        signature_oid = signer["signature_algorithm"]["algorithm"].dotted
        digest_name = signer["digest_algorithm"]["algorithm"].native
        sid = signer["sid"]
        certificates = tuple(c.chosen for c in signed["certificates"] or [] if c.name == "certificate")
        if sid.name == "subject_key_identifier":
            key_id = bytes(sid.chosen.native).hex()
        else:  # issuerAndSerialNumber: how gpgsm and smimesign name their signers
            key_id = _key_id_by_issuer_serial(sid.chosen, certificates, signature_oid)
        attributes = signer["signed_attrs"]
        if not len(attributes):
            raise InputError("the CMS signer has no signed attributes")
        signed_attributes = b"\x31" + attributes.dump()[1:]  # [0] IMPLICIT -> SET OF (RFC 5652 5.4)
        values: dict[str, list[object]] = {}
        for attribute in attributes:
            values.setdefault(attribute["type"].native, []).append(attribute["values"])
        for required in ("content_type", "message_digest"):
            if len(values.get(required, [])) != 1 or len(values[required][0]) != 1:  # type: ignore[arg-type]
                raise InputError(f"the CMS signer needs exactly one {required.replace('_', '-')} attribute")
        content_type = values["content_type"][0][0].native  # type: ignore[index]
        message_digest = bytes(values["message_digest"][0][0].native)  # type: ignore[index]
        protection = None
        if "cms_algorithm_protection" in values:
            value = values["cms_algorithm_protection"][0][0]  # type: ignore[index]
            protection = (value["digest_algorithm"]["algorithm"].native,
                          value["signature_algorithm"]["algorithm"].dotted)
        signing_time = None
        if "signing_time" in values:
            signing_time = values["signing_time"][0][0].native  # type: ignore[index]
        return CmsSignature(key_id, signature_oid, digest_name, signed_attributes,
                            bytes(signer["signature"].native), message_digest, content_type == "data",
                            protection, signing_time, certificates)
    except InputError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise InputError(f"malformed CMS signature: {exc}") from None
