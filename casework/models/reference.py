"""A record's short reference, for people to read out, write down and type: `C-7K3QM-9M2XA`.

A letter for the kind of record (P person, N incident, C case, R referral: not I, which reads
as 1), then ten characters of Crockford's base32 (digits and letters without I, L, O and U, so
nothing is misread), in two groups of five. Fifty random bits: unguessable enough that a
reference says nothing about how many records there are, and at ten million records of a kind
the chance that two new ones ever share one is under one in twenty (the unique index refuses it;
the writing fails and is repeated, never merged).

Typed back, a reference is read leniently: any case, with or without the hyphens or spaces, and
O, I and L taken for 0, 1 and 1 as Crockford's decoding does.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
LENGTH = 10
PREFIXES = {"person": "P", "incident": "N", "case": "C", "referral": "R"}
KINDS = {prefix: kind for kind, prefix in PREFIXES.items()}
COLUMN_LENGTH = 1 + 1 + LENGTH + 1  # "C-" and the two groups with their hyphen

_MISREAD = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-–—_.]+")
_BODY = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")
_WRITTEN = re.compile(r"[A-Z]\s*-\s*[A-Z0-9]{5}\s*-?\s*[A-Z0-9]{5}")


def new_reference(kind: str) -> str:
    """A new random reference for a record of `kind` (person, incident, case, referral)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{PREFIXES[kind]}-{body[:5]}-{body[5:]}"


def default_for(kind: str):  # type: ignore[no-untyped-def]
    """The column default making a kind's references (one call per row, bulk inserts included)."""
    return lambda: new_reference(kind)


def parse_reference(text: str | None, *, in_a_name_box: bool = False) -> tuple[str, str] | None:
    """(kind, the reference as stored) for text that is a reference however it was typed, else None.

    `in_a_name_box`: text typed where a surname is expected is a reference only when it has a digit
    or is written as one (`R-ABCDE-FGHJK`): "Rosenthaler" reads as R-0SENT-HA1ER otherwise."""
    text = (text or "").strip().upper()
    if in_a_name_box and not (any(c.isdigit() for c in text) or _WRITTEN.fullmatch(text)):
        return None
    compact = _SEPARATORS.sub("", text)
    if len(compact) != LENGTH + 1 or compact[0] not in KINDS:
        return None
    body = compact[1:].translate(_MISREAD)
    if not _BODY.fullmatch(body):
        return None
    return KINDS[compact[0]], f"{compact[0]}-{body[:5]}-{body[5:]}"
