"""SubjectPublicKeyInfo DER for algorithms whose parameters are absent, without an ASN.1 library.

For every algorithm pqsign supports, RFC 9881 section 2, RFC 9909 section 3 and the composite
draft section 4 require the AlgorithmIdentifier parameters to be absent, so an SPKI is::

    SEQUENCE { SEQUENCE { OBJECT IDENTIFIER oid }, BIT STRING (0 unused bits) raw-key }

and, DER being canonical, exactly one byte string encodes a given (oid, key). Encoding it
directly and *matching* input against it is stricter than a general parser (no BER, no trailing
data, no parameters) and keeps asn1crypto off ``pqsign verify``'s start-up path. Tests check
these bytes against pyca/cryptography (ML-DSA) and asn1crypto (every algorithm).
"""

from __future__ import annotations

from functools import cache


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _length(len(value)) + value


def _oid_body(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


@cache
def spki_prefix(oid: str, key_size: int) -> bytes:
    """Every byte of the SPKI that precedes the raw key, for this OID and key length."""
    algorithm = _tlv(0x30, _tlv(0x06, _oid_body(oid)))
    bit_string_header = bytes([0x03]) + _length(key_size + 1) + b"\x00"
    inner_length = len(algorithm) + len(bit_string_header) + key_size
    return bytes([0x30]) + _length(inner_length) + algorithm + bit_string_header


def encode_spki(oid: str, raw: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of ``raw`` under ``oid`` (parameters absent)."""
    return spki_prefix(oid, len(raw)) + raw


def algorithm_oid_der(oid: str) -> bytes:
    """The DER AlgorithmIdentifier (parameters absent)."""
    return _tlv(0x30, _tlv(0x06, _oid_body(oid)))
