"""The audit trail's chain MACs and the keyed tags of log lines."""

from __future__ import annotations

import hashlib
import hmac

from .keyring import Keyring, current


def chain_mac(ring: Keyring, previous: bytes, content: bytes) -> bytes:
    """The audit chain link: HMAC over the previous entry's hash and this entry's content."""
    return hmac.new(ring.audit_key, previous + content, hashlib.sha256).digest()


def macs_equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def hash_terms(value: str, ring: Keyring | None = None) -> str:
    """A short, non-reversible tag for log lines (never the value itself).

    Keyed: a plain hash of a surname or a date of birth is reversed by trying
    every likely value.
    """
    key = (ring or current()).audit_key
    return hmac.new(key, b"log-tag\x00" + value.encode(), hashlib.sha256).hexdigest()[:12]
