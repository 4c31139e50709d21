"""Normalised names and postcodes, and the blind indexes a person is found by."""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import re
import unicodedata
from dataclasses import dataclass

from .errors import CryptoError, KeyringError
from .keyring import INDEX_NAMES, Keyring

INDEX_BYTES = 8
# Indexes whose keys are derived from another index's key (no new key in the keyring).
DERIVED_INDEXES = {"surname_part": "surname", "forename": "full_name"}
SURNAME_PARTS = 3  # indexed parts of a surname at most: the first two and the last

# Letters that Unicode does not decompose into a base letter and an accent.
_FOLD = str.maketrans({"ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "æ": "ae", "Æ": "ae",
                       "œ": "oe", "Œ": "oe", "þ": "th", "Þ": "th", "ð": "d", "Ð": "d", "ı": "i"})
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


@functools.lru_cache(maxsize=1 << 16)
def normalise_name(value: str) -> str:
    """NFKC, accents removed, case-folded, whitespace and punctuation dropped.

    `O'Brien`, `OBRIEN` and `o brien` all give `obrien`; `Núñez` gives `nunez`.
    Cached: names repeat (a few thousand surnames cover most people), and an import
    normalises millions of them.
    """
    text = unicodedata.normalize("NFKD", value.translate(_FOLD))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = unicodedata.normalize("NFKC", text).casefold()
    return _NOT_WORD.sub("", text)


_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_SPACES = re.compile(r"\s+")


def normalise_postcode(value: str) -> str | None:
    """`dt11xj` and `dt1 1xj` give `DT1 1XJ`; anything that is not a UK postcode gives None."""
    compact = _SPACES.sub("", value).upper()
    m = _POSTCODE.match(compact)
    if not m:
        return None
    return f"{m.group(1)} {m.group(2)}"


@functools.lru_cache(maxsize=1 << 16)
def phonetic(surname: str) -> str:
    """A phonetic code of a surname (Metaphone over the normalised letters; cached, as names repeat)."""
    import jellyfish

    norm = normalise_name(surname)
    letters = "".join(c for c in norm if "a" <= c <= "z")
    if not letters:
        return norm
    return jellyfish.metaphone(letters) or letters


def _index(ring: Keyring, name: str, value: str, keys: dict[str, bytes] | None = None) -> bytes:
    keys = keys or ring.index_keys
    key = _derived_key(keys[DERIVED_INDEXES[name]], name) if name in DERIVED_INDEXES else keys[name]
    # hmac.digest: the one-shot HMAC, done by OpenSSL (the same bytes as hmac.new(...).digest()).
    return hmac.digest(key, _INDEX_PREFIX[name] + value.encode("utf-8"), "sha256")[:INDEX_BYTES]


_INDEX_PREFIX = {name: name.encode() + b"\x00" for name in (*INDEX_NAMES, *DERIVED_INDEXES)}  # what an HMAC covers first


@functools.lru_cache(maxsize=64)
def _derived_key(base: bytes, name: str) -> bytes:
    """A derived index's key: an HMAC of its name under the key it derives from (one-way, so
    neither key gives the other's values)."""
    return hmac.digest(base, b"casework|derived blind-index key|" + name.encode(), "sha256")


_PART_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]+")


def surname_parts(surname: str) -> list[str]:
    """The normalised parts of a surname of two or more parts, at most `SURNAME_PARTS` (the first two
    and the last), each once; none for a surname of one part."""
    parts = list(dict.fromkeys(p for p in (normalise_name(w) for w in _PART_SEPARATORS.split(surname)) if p))
    if len(parts) < 2:
        return []
    return parts if len(parts) <= SURNAME_PARTS else [*parts[:SURNAME_PARTS - 1], parts[-1]]


def first_forename(forenames: str) -> str:
    """The normalised first of a person's forenames ("Zoe Ann" gives "zoe")."""
    for word in forenames.split():
        norm = normalise_name(word)
        if norm:
            return norm
    return ""


@dataclass(frozen=True)
class PersonIndexes:
    surname: bytes | None
    full_name: bytes | None
    phonetic: bytes | None
    dob: bytes | None
    postcode: bytes | None
    phonetic_yob: bytes | None
    surname_part1: bytes | None = None
    surname_part2: bytes | None = None
    surname_part3: bytes | None = None
    forename: bytes | None = None


def person_indexes(
    ring: Keyring,
    *,
    surname: str | None,
    forenames: str | None,
    date_of_birth: dt.date | None,
    postcode: str | None,
    pending: bool = False,
) -> PersonIndexes:
    """The blind indexes of one person; None where the value is not known.

    `pending=True` computes them under the keys of an index rotation in progress.
    """
    keys = ring.pending_index_keys if pending else None
    if pending and not keys:
        raise KeyringError("no blind-index rotation is in progress: there are no pending index keys")
    sn = normalise_name(surname) if surname else ""
    fn = normalise_name(forenames) if forenames else ""
    ph = phonetic(surname) if surname else ""
    pc = (normalise_postcode(postcode) or "").replace(" ", "") if postcode else ""
    parts: list[bytes | None] = [_index(ring, "surname_part", p, keys) for p in surname_parts(surname)] if surname else []
    parts += [None] * (SURNAME_PARTS - len(parts))
    first = first_forename(forenames) if forenames else ""
    return PersonIndexes(
        surname=_index(ring, "surname", sn, keys) if sn else None,
        full_name=_index(ring, "full_name", f"{sn}|{fn}", keys) if sn and fn else None,
        phonetic=_index(ring, "phonetic", ph, keys) if ph else None,
        dob=_index(ring, "dob", date_of_birth.isoformat(), keys) if date_of_birth else None,
        postcode=_index(ring, "postcode", pc, keys) if pc else None,
        phonetic_yob=(_index(ring, "phonetic_yob", f"{ph}|{date_of_birth.year}", keys)
                      if ph and date_of_birth else None),
        surname_part1=parts[0], surname_part2=parts[1], surname_part3=parts[2],
        forename=_index(ring, "forename", first, keys) if first else None,
    )


def index_of(ring: Keyring, name: str, value: str | dt.date) -> bytes | None:
    """The blind index to look a single search term up by."""
    if name in ("surname",):
        norm = normalise_name(str(value))
        return _index(ring, name, norm) if norm else None
    if name == "phonetic":
        code = phonetic(str(value))
        return _index(ring, name, code) if code else None
    if name == "surname_part":  # a term looked up among the parts is the whole term
        norm = normalise_name(str(value))
        return _index(ring, name, norm) if norm else None
    if name == "forename":
        first = first_forename(str(value))
        return _index(ring, name, first) if first else None
    if name == "dob":
        return _index(ring, name, value.isoformat() if isinstance(value, dt.date) else str(value))
    if name == "postcode":
        pc = normalise_postcode(str(value))
        return _index(ring, name, pc.replace(" ", "")) if pc else None
    raise CryptoError(f"no single-term blind index {name!r}")


def swapped_phonetic_indexes(ring: Keyring, surname: str) -> list[bytes]:
    """The phonetic indexes of the surname with two neighbouring letters swapped, each not the
    surname's own code: "Smyht" sounds like nothing, "Smyth" (one swap away) like "Smith".

    A phonetic code forgives letters that sound alike, not letters typed in the wrong order; this
    finds a name with one pair of neighbouring letters swapped, through the same index. It cannot
    find two swaps, a swap together with another mistake, or a swap in one part of a surname
    typed alone; and a swap may sound like another name, so these come after every closer match."""
    letters = "".join(c for c in normalise_name(surname) if "a" <= c <= "z")
    own = phonetic(letters) if letters else ""
    codes: dict[str, None] = {}
    for i in range(len(letters) - 1):
        if letters[i] != letters[i + 1]:
            code = phonetic(letters[:i] + letters[i + 1] + letters[i] + letters[i + 2:])
            if code and code != own:
                codes[code] = None
    return [_index(ring, "phonetic", code) for code in codes]


def full_name_index(ring: Keyring, surname: str, forenames: str) -> bytes | None:
    sn, fn = normalise_name(surname), normalise_name(forenames)
    return _index(ring, "full_name", f"{sn}|{fn}") if sn and fn else None


def phonetic_yob_index(ring: Keyring, surname: str, year: int) -> bytes | None:
    ph = phonetic(surname)
    return _index(ring, "phonetic_yob", f"{ph}|{year}") if ph else None
