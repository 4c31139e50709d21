"""All of Casework's cryptography: keys, ciphertexts, blind indexes and rotation.

Nothing else in the code base imports `cryptography` or `hmac`.

Ciphertexts
    AES-256-GCM with a fresh random 96-bit nonce per value. Stored format::

        version (1 byte, 0x01) | key id (4 bytes, big-endian) | nonce (12) | ciphertext + tag (16)

    The associated data binds the value to its table, column and row id (and
    to the header), so a ciphertext copied to another row or column, or with
    its header altered, fails to decrypt.

Keyring
    A JSON file (owner-only): data keys by id with one active key (older keys
    are kept for reading until rotation has moved every value off them), one
    HMAC key per blind index, and the audit trail's HMAC key. Losing the
    keyring loses the data: keep a copy apart from the database backups.

Blind indexes
    HMAC-SHA256 under a key of the index's own, over a normalised value,
    truncated to 8 bytes. 64 bits keep accidental collisions negligible at
    partnership scale (expected false matches among ten million people: far
    below one) while storing less; every candidate found through an index is
    decrypted and shown to the caseworker, so a collision can never merge
    records by itself.

    What they give away: to someone holding the database but not the keyring,
    equal indexes show which people share a surname, a date of birth or a
    postcode (never what it is). The date of birth and the postcode have indexes
    of their own, not only combined with the surname, because the people search
    takes either alone (`services.people_search`); the duplicate rules combine
    them in the query (`services.people`). So an encrypted database is still to
    be kept private.

    Parts of a surname and the first forename have indexes too (`surname_part`,
    `forename`), so that "O'Connor" finds "O'Connor-Núñez" and a forename puts its
    matches first. A surname of two or more parts (split at spaces and hyphens:
    "O'Connor-Núñez", "de la Cruz") has one index per part, at most three (the
    first two and the last); a surname of one part has none, as its part is the
    whole. Their keys are derived from the surname's and the full name's (so the
    keyring keeps its keys, and `keys rotate --index` replaces them with those).
    What they give away besides: which people share a part of a surname (that
    two double-barrelled names share "Jones", not that it is "Jones", nor that a
    part equals someone's whole surname: the keys differ), how many parts a
    surname has (up to three), and which people share a first forename.

Import digests
    An imported record keeps an HMAC-SHA256 (truncated to 16 bytes) of its
    values as the data exchange carries them, so that importing the same
    extract again recognises an unchanged row without decrypting anything
    (`casework.exchange.digest`). Keyed, as the blind indexes are: a plain hash
    of a name, a date of birth or a postcode is reversed by trying the likely
    values. Its key is derived from the full name's index key (one-way), so
    `keys rotate --index` replaces it too; the rotation forgets every stored
    digest (nothing keyed by a retired key stays), and the next import compares
    each record in full, once. The record's id and `updated_at` are covered
    too: equal values in two records give unrelated digests, and a record
    changed by anything but the import no longer matches its digest.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import struct
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
HEADER = struct.Struct(">BI")  # version, key id
NONCE_BYTES = 12
TAG_BYTES = 16
INDEX_BYTES = 8
OVERHEAD = HEADER.size + NONCE_BYTES + TAG_BYTES

# The blind indexes a person carries; each has a key of its own.
INDEX_NAMES = ("surname", "full_name", "phonetic", "dob", "postcode", "phonetic_yob")
# Indexes whose keys are derived from another index's key (no new key in the keyring).
DERIVED_INDEXES = {"surname_part": "surname", "forename": "full_name"}
SURNAME_PARTS = 3  # indexed parts of a surname at most: the first two and the last


class CryptoError(Exception):
    """A value could not be encrypted or decrypted."""


class DecryptionError(CryptoError):
    """A stored value is not a valid ciphertext for where it is stored."""


class KeyringError(CryptoError):
    """The keyring file is missing, unreadable or malformed."""


# --- keyring ----------------------------------------------------------------


def _stamp_of(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


@dataclass
class Keyring:
    """The keys in force. Mutating methods return nothing; call `save` to persist."""

    data_keys: dict[int, bytes]
    active: int
    index_keys: dict[str, bytes]
    audit_key: bytes
    pending_index_keys: dict[str, bytes] | None = None
    path: Path | None = field(default=None, compare=False)
    _aead: dict[int, AESGCM] = field(default_factory=dict, repr=False, compare=False)
    # (inode, mtime, size) of the file as last read or written: see `reload_if_changed`.
    _stamp: tuple[int, int, int] | None = field(default=None, repr=False, compare=False)
    _checked_at: float = field(default=0.0, repr=False, compare=False)

    @classmethod
    def generate(cls) -> Keyring:
        return cls(
            data_keys={1: AESGCM.generate_key(bit_length=256)},
            active=1,
            index_keys={name: secrets.token_bytes(32) for name in INDEX_NAMES},
            audit_key=secrets.token_bytes(32),
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Keyring:
        path = Path(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KeyringError(f"keyring file {path} does not exist") from None
        except (OSError, ValueError) as e:
            raise KeyringError(f"keyring file {path} cannot be read: {e}") from None
        ring = cls._from_document(raw, f"keyring file {path}", path)
        ring._stamp = _stamp_of(path)
        return ring

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        """The keyring `to_json` wrote (handed to a process of the import's own, never to disk)."""
        try:
            raw = json.loads(text)
        except ValueError as e:
            raise KeyringError(f"keyring cannot be read: {e}") from None
        return cls._from_document(raw, "keyring", None)

    @classmethod
    def _from_document(cls, raw: Any, where: str, path: Path | None) -> Keyring:
        try:
            if raw.get("format") != 1:
                raise KeyringError(f"{where} has an unknown format {raw.get('format')!r}")
            ring = cls(
                data_keys={int(k): _unb64(v) for k, v in raw["data_keys"].items()},
                active=int(raw["active"]),
                index_keys={k: _unb64(v) for k, v in raw["index_keys"].items()},
                audit_key=_unb64(raw["audit_key"]),
                pending_index_keys=(
                    {k: _unb64(v) for k, v in raw["pending_index_keys"].items()}
                    if raw.get("pending_index_keys")
                    else None
                ),
                path=path,
            )
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            raise KeyringError(f"{where} is malformed: {e}") from None
        if ring.active not in ring.data_keys:
            raise KeyringError(f"{where}: the active key {ring.active} is not in it")
        if any(len(k) != 32 for k in ring.data_keys.values()):
            raise KeyringError(f"{where}: every data key must be 256 bits")
        missing = [n for n in INDEX_NAMES if n not in ring.index_keys]
        if missing:
            raise KeyringError(f"{where}: no blind-index key for {', '.join(missing)}")
        return ring

    @classmethod
    def load_or_create(cls, path: str | os.PathLike[str]) -> Keyring:
        path = Path(path)
        if path.exists():
            return cls.load(path)
        ring = cls.generate()
        ring.save(path)
        return ring

    def to_json(self) -> str:
        doc: dict[str, Any] = {
            "format": 1,
            "active": self.active,
            "data_keys": {str(k): _b64(v) for k, v in sorted(self.data_keys.items())},
            "index_keys": {k: _b64(v) for k, v in self.index_keys.items()},
            "audit_key": _b64(self.audit_key),
        }
        if self.pending_index_keys:
            doc["pending_index_keys"] = {k: _b64(v) for k, v in self.pending_index_keys.items()}
        return json.dumps(doc, indent=1)

    def save(self, path: str | os.PathLike[str] | None = None) -> None:
        from .config import write_private

        target = Path(path) if path is not None else self.path
        if target is None:
            raise KeyringError("no path to save the keyring to")
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_private(target, self.to_json().encode("utf-8"))
        # The rename must be durable before any value is sealed under a new key.
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        self.path = target
        self._stamp = _stamp_of(target)

    def reload_if_changed(self, *, at_most_every: float = 0.0) -> None:
        """Take in place the keys of a keyring file another process has rewritten.

        `casework keys rotate` runs beside the web workers: without this they
        could not read values sealed under a new key, and would keep sealing
        and indexing under the old ones. The file is replaced atomically, so
        a changed stamp means a complete new keyring. `at_most_every` (seconds)
        spares the stat on hot paths; an unknown key id always looks again.
        """
        if self.path is None:
            return
        now = time.monotonic()
        if at_most_every and now - self._checked_at < at_most_every:
            return
        self._checked_at = now
        stamp = _stamp_of(self.path)
        if stamp is None or stamp == self._stamp:
            return
        fresh = Keyring.load(self.path)
        # Keys first, then the active id: a reader in between still seals under a key it holds.
        self.data_keys = fresh.data_keys
        self._aead = {}
        self.active = fresh.active
        self.index_keys = fresh.index_keys
        self.pending_index_keys = fresh.pending_index_keys
        self.audit_key = fresh.audit_key
        self._stamp = fresh._stamp

    # rotation steps (the service in casework.services.keys drives them)

    def add_data_key(self) -> int:
        """Make a new active data key; older keys stay for reading."""
        new_id = max(self.data_keys) + 1
        self.data_keys[new_id] = AESGCM.generate_key(bit_length=256)
        self.active = new_id
        return new_id

    def retire_data_key(self, key_id: int) -> None:
        if key_id == self.active:
            raise KeyringError("the active key cannot be retired")
        self.data_keys.pop(key_id, None)
        self._aead.pop(key_id, None)

    def begin_index_rotation(self) -> None:
        if not self.pending_index_keys:
            self.pending_index_keys = {name: secrets.token_bytes(32) for name in INDEX_NAMES}

    def finish_index_rotation(self) -> None:
        if self.pending_index_keys:
            self.index_keys = self.pending_index_keys
            self.pending_index_keys = None

    def _cipher(self, key_id: int) -> AESGCM:
        aead = self._aead.get(key_id)
        if aead is None:
            if key_id not in self.data_keys:
                self.reload_if_changed()  # another process may have just rotated to it
            try:
                aead = AESGCM(self.data_keys[key_id])
            except KeyError:
                raise DecryptionError(f"the value was encrypted under key {key_id}, which is not in the keyring") from None
            self._aead[key_id] = aead
        return aead


# --- values -----------------------------------------------------------------


def _associated_data(header: bytes, table: str, column: str, row_id: uuid.UUID) -> bytes:
    return _cell_prefix(header, table, column) + row_id.bytes


@functools.lru_cache(maxsize=1024)
def _cell_prefix(header: bytes, table: str, column: str) -> bytes:
    """The associated data of a column's cells but the row id (cached: an import seals millions)."""
    return b"casework|" + header + b"|" + table.encode() + b"." + column.encode() + b"|"


def encode_plain(value: str | dt.date) -> bytes:
    """Values are typed by their column; dates are stored as ISO text."""
    if isinstance(value, dt.datetime):
        raise CryptoError("datetimes are not stored encrypted")
    if isinstance(value, dt.date):
        return value.isoformat().encode("ascii")
    if isinstance(value, str):
        return value.encode("utf-8")
    raise CryptoError(f"cannot encrypt a value of type {type(value).__name__}")


def decode_plain(data: bytes, kind: type) -> Any:
    text = data.decode("utf-8")
    if kind is dt.date:
        return dt.date.fromisoformat(text)
    return text


def seal(ring: Keyring, plaintext: bytes, *, table: str, column: str, row_id: uuid.UUID) -> bytes:
    """Encrypt bytes for one cell under the active key."""
    header = HEADER.pack(FORMAT_VERSION, ring.active)
    nonce = os.urandom(NONCE_BYTES)
    body = ring._cipher(ring.active).encrypt(nonce, plaintext, _associated_data(header, table, column, row_id))
    return header + nonce + body


def unseal(ring: Keyring, sealed: bytes, *, table: str, column: str, row_id: uuid.UUID) -> bytes:
    """Decrypt one cell; any tampering, truncation or misplacement raises DecryptionError."""
    where = f"{table}.{column} of row {row_id}"
    if not isinstance(sealed, (bytes, bytearray, memoryview)):
        raise DecryptionError(f"{where}: not a ciphertext")
    sealed = bytes(sealed)
    if len(sealed) < OVERHEAD:
        raise DecryptionError(f"{where}: ciphertext is truncated ({len(sealed)} bytes)")
    version, key_id = HEADER.unpack_from(sealed)
    if version != FORMAT_VERSION:
        raise DecryptionError(f"{where}: unknown ciphertext format {version}")
    header = sealed[: HEADER.size]
    nonce = sealed[HEADER.size : HEADER.size + NONCE_BYTES]
    try:
        return ring._cipher(key_id).decrypt(
            nonce, sealed[HEADER.size + NONCE_BYTES :], _associated_data(header, table, column, row_id)
        )
    except InvalidTag:
        raise DecryptionError(
            f"{where}: the ciphertext does not authenticate (altered, truncated or moved from another cell)"
        ) from None
    except DecryptionError as e:
        raise DecryptionError(f"{where}: {e}") from None


def key_id_of(sealed: bytes) -> int:
    """The id of the key a stored value is sealed under (read from its header, not authenticated)."""
    sealed = bytes(sealed)
    if len(sealed) < OVERHEAD:
        raise DecryptionError(f"ciphertext is truncated ({len(sealed)} bytes)")
    version, key_id = HEADER.unpack_from(sealed)
    if version != FORMAT_VERSION:
        raise DecryptionError(f"unknown ciphertext format {version}")
    return key_id


def reseal(ring: Keyring, sealed: bytes, *, table: str, column: str, row_id: uuid.UUID) -> bytes:
    """Re-encrypt a cell under the active key (a no-op for a value already under it)."""
    if key_id_of(sealed) == ring.active:
        return sealed
    return seal(ring, unseal(ring, sealed, table=table, column=column, row_id=row_id),
                table=table, column=column, row_id=row_id)


# --- normalisation and blind indexes ----------------------------------------

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
    parts = [_index(ring, "surname_part", p, keys) for p in surname_parts(surname)] if surname else []
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


# --- import digests -----------------------------------------------------------

DIGEST_BYTES = 16


def import_digest(ring: Keyring, *, table: str, row_id: uuid.UUID, updated_at: dt.datetime, content: bytes) -> bytes:
    """The keyed digest of a record's imported values (`content`, canonically encoded by the caller),
    bound to its table, id and `updated_at` (see "Import digests" above)."""
    key = _derived_key(ring.index_keys["full_name"], "import_digest")
    stamp = (updated_at - _EPOCH) // _MICROSECOND
    return hmac.digest(key, b"%s\x00%s%d\x00%s" % (table.encode(), row_id.bytes, stamp, content),
                       "sha256")[:DIGEST_BYTES]


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


# --- the audit trail's chain ------------------------------------------------


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


def current() -> Keyring:
    """The keyring of the running app."""
    from flask import current_app

    ring: Keyring = current_app.extensions["casework.keyring"]
    ring.reload_if_changed(at_most_every=1.0)
    return ring


# --- backup files -------------------------------------------------------------
#
# A backup is one stream encrypted in chunks with AES-256-GCM under the backup
# key. The key is derived (HKDF-SHA256) from the keyring's audit key under a
# label of its own: every keyring file, old ones included, has one without a
# new entry, and rotating the data keys does not orphan earlier backups. The
# file::
#
#     magic "CWBACKUP" | version (1 byte) | key id (8) | chunk size (4) | nonce prefix (8)
#     chunk 0 | chunk 1 | ... | chunk n        each: ciphertext + tag (16)
#
# Every chunk holds `chunk size` bytes of plaintext except the last (which holds
# 1..chunk size, or 0 for an empty stream). Chunk i's nonce is the random file
# prefix and i (4 bytes); its associated data is the header, i (8 bytes) and a
# final flag. So a chunk moved, dropped, duplicated or appended fails, and a file
# cut at a chunk boundary fails too: its new last chunk was not sealed as final.
# The key id (derived under a third label) tells a backup made with another
# keyring apart from a damaged one, and says nothing about the key.

BACKUP_MAGIC = b"CWBACKUP"
BACKUP_VERSION = 1
BACKUP_HEADER = struct.Struct(">8sB8sI8s")  # magic, version, key id, chunk size, nonce prefix
BACKUP_CHUNK = 1 << 20
_BACKUP_MAX_CHUNK = 64 << 20  # a header asking for more is not one of ours


class BackupFileError(CryptoError):
    """A backup file is not one of ours, was made with another keyring, or is damaged."""


def _backup_derive(ring: Keyring, label: bytes, length: int) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=b"casework|" + label).derive(ring.audit_key)


def backup_key_id(ring: Keyring) -> bytes:
    """The 8-byte id of this keyring's backup key (written in the clear in every backup header)."""
    return _backup_derive(ring, b"backup key id v1", 8)


def _backup_ad(header: bytes, index: int, final: bool) -> bytes:
    return header + struct.pack(">QB", index, 1 if final else 0)


def _backup_nonce(prefix: bytes, index: int) -> bytes:
    if index >= 1 << 32:
        raise BackupFileError("a backup cannot hold more than 2^32 chunks")
    return prefix + struct.pack(">I", index)


class BackupEncryptor:
    """A write-only file object: bytes written to it reach `out` encrypted as a backup stream.

    `close()` seals the final chunk; a stream never closed cannot be decrypted (it
    reads as truncated), so a backup that failed half-way is never taken for a
    whole one. It does not close `out`.
    """

    def __init__(self, ring: Keyring, out: Any, *, chunk_size: int = BACKUP_CHUNK) -> None:
        if not 0 < chunk_size <= _BACKUP_MAX_CHUNK:
            raise BackupFileError(f"chunk size {chunk_size} is out of range")
        self._out = out
        self._chunk = chunk_size
        self._prefix = os.urandom(8)
        self._header = BACKUP_HEADER.pack(BACKUP_MAGIC, BACKUP_VERSION, backup_key_id(ring), chunk_size, self._prefix)
        self._aead = AESGCM(_backup_derive(ring, b"backup key v1", 32))
        self._buffer = bytearray()
        self._index = 0
        self.closed = False
        out.write(self._header)

    def write(self, data: bytes) -> int:
        if self.closed:
            raise ValueError("write to a closed backup stream")
        self._buffer += data
        # Hold back the last full chunk until more arrives: only close() knows which is final.
        while len(self._buffer) > self._chunk:
            self._seal(bytes(self._buffer[: self._chunk]), final=False)
            del self._buffer[: self._chunk]
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._buffer), final=True)
            self._buffer.clear()
            self.closed = True

    def _seal(self, chunk: bytes, *, final: bool) -> None:
        nonce = _backup_nonce(self._prefix, self._index)
        self._out.write(self._aead.encrypt(nonce, chunk, _backup_ad(self._header, self._index, final)))
        self._index += 1

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self.close()


def _read_full(source: Any, size: int) -> bytes:
    parts, got = [], 0
    while got < size:
        part = source.read(size - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def decrypt_backup(ring: Keyring, source: Any) -> Any:
    """Yield the plaintext of a backup stream chunk by chunk, authenticating each.

    Raises BackupFileError, naming what is wrong, for a file that is not a
    backup, one made with another keyring, or one altered or truncated. A
    caller must not act on the plaintext before the generator is exhausted:
    only then is the whole file known to be complete.
    """
    header = _read_full(source, BACKUP_HEADER.size)
    if len(header) < BACKUP_HEADER.size or not header.startswith(BACKUP_MAGIC):
        raise BackupFileError("not a Casework backup file (its header is missing or wrong)")
    _magic, version, key_id, chunk_size, prefix = BACKUP_HEADER.unpack(header)
    if version != BACKUP_VERSION:
        raise BackupFileError(f"backup format version {version} is not supported (this Casework reads {BACKUP_VERSION})")
    if not macs_equal(key_id, backup_key_id(ring)):
        raise BackupFileError(
            f"the backup was made with a different keyring (backup key id {key_id.hex()}, "
            f"this keyring's {backup_key_id(ring).hex()}): restore it with the keyring it was made with"
        )
    if not 0 < chunk_size <= _BACKUP_MAX_CHUNK:
        raise BackupFileError(f"backup header gives an impossible chunk size {chunk_size}: the file is damaged")
    aead = AESGCM(_backup_derive(ring, b"backup key v1", 32))
    whole = chunk_size + TAG_BYTES
    current, index = _read_full(source, whole), 0
    while True:
        following = _read_full(source, whole) if len(current) == whole else b""
        final = not following
        if len(current) < TAG_BYTES:
            raise BackupFileError(f"the backup file is truncated (it ends inside chunk {index})")
        try:
            plain = aead.decrypt(_backup_nonce(prefix, index), current, _backup_ad(header, index, final))
        except InvalidTag:
            raise BackupFileError(
                f"the backup file is damaged: chunk {index} does not authenticate "
                "(the file was altered, truncated or is incomplete)"
            ) from None
        yield plain
        if final:
            return
        current, index = following, index + 1


# --- documents ----------------------------------------------------------------
#
# A document (casework.services.documents) is sealed with a content key of its own: 256 random
# bits, kept on the document's row as an encrypted field (`Secret`, so under the data keys, bound
# to the row). `keys rotate` re-seals that field like any other, so a rotation never rewrites a
# document's bytes, and once the field is erased the bytes can never be read again.
#
# The bytes are cut into chunks of `DOCUMENT_CHUNK` bytes (the last 0..DOCUMENT_CHUNK), each
# stored as::
#
#     version (1 byte, 0x01) | nonce (12, random) | ciphertext + tag (16)
#
# The associated data names the document's id, the kind and id of the record it was added to, the
# chunk's position and whether it is the last: a chunk moved to another place, another document
# or another record fails, and a document cut short at a chunk boundary fails too (its new last
# chunk was not sealed as the last).

DOCUMENT_CHUNK = 64 * 1024
DOCUMENT_VERSION = 1
DOCUMENT_CHUNK_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES


def new_document_key() -> str:
    """A fresh content key for one document, as text (it is kept in an encrypted text field)."""
    return _b64(AESGCM.generate_key(bit_length=256))


def _document_ad(document_id: uuid.UUID, record_kind: str, record_id: uuid.UUID, index: int, final: bool) -> bytes:
    return (b"casework|document|" + document_id.bytes + b"|" + record_kind.encode() + b"|" + record_id.bytes
            + struct.pack(">QB", index, 1 if final else 0))


class DocumentSealer:
    """Seals one document's bytes chunk by chunk; `chunks(source)` yields (position, sealed chunk)."""

    def __init__(self, content_key: str, *, document_id: uuid.UUID, record_kind: str, record_id: uuid.UUID) -> None:
        self._aead = AESGCM(_unb64(content_key))
        self._where = (document_id, record_kind, record_id)

    def seal(self, index: int, plain: bytes, *, final: bool) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return (bytes([DOCUMENT_VERSION]) + nonce
                + self._aead.encrypt(nonce, plain, _document_ad(*self._where, index, final)))

    def chunks(self, source: Any) -> Any:
        """Read `source` (a file object) to its end; yield each chunk sealed, the last one marked."""
        current, index = _read_full(source, DOCUMENT_CHUNK), 0
        while True:
            following = _read_full(source, DOCUMENT_CHUNK) if len(current) == DOCUMENT_CHUNK else b""
            final = not following
            yield index, self.seal(index, current, final=final)
            if final:
                return
            current, index = following, index + 1

    def open(self, index: int, sealed: bytes, *, final: bool) -> bytes:
        """One chunk's bytes; DecryptionError when it is not this document's chunk at this place."""
        sealed = bytes(sealed)
        if len(sealed) < DOCUMENT_CHUNK_OVERHEAD or sealed[0] != DOCUMENT_VERSION:
            raise DecryptionError(f"document {self._where[0]}: chunk {index} is not a sealed chunk")
        try:
            return self._aead.decrypt(sealed[1:1 + NONCE_BYTES], sealed[1 + NONCE_BYTES:],
                                      _document_ad(*self._where, index, final))
        except InvalidTag:
            raise DecryptionError(f"document {self._where[0]}: chunk {index} does not authenticate "
                                  "(altered, moved, or the document was cut short)") from None


class EphemeralSpool:
    """A temporary file for an upload being received, encrypted under a key that lives only in this
    object: the plaintext of a document never reaches the disk, even while it is checked.

    Written front to back (as a form parser does), then read anywhere (`seek`, `read`): a zip's
    table of contents is at its end. Chunks of `DOCUMENT_CHUNK` bytes, the nonce their position.
    """

    def __init__(self, directory: str | None = None) -> None:
        import tempfile

        self._file = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 - closed by close()
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self._pending = bytearray()
        self._chunks = 0
        self._size = 0
        self._pos = 0
        self._cached: tuple[int, bytes] | None = None
        self.closed = False

    # writing (front to back only)
    def write(self, data: bytes) -> int:
        self._pending += data
        self._size += len(data)
        while len(self._pending) >= DOCUMENT_CHUNK:
            self._seal(bytes(self._pending[:DOCUMENT_CHUNK]))
            del self._pending[:DOCUMENT_CHUNK]
        return len(data)

    def _seal(self, plain: bytes) -> None:
        nonce = self._chunks.to_bytes(NONCE_BYTES, "big")
        self._file.seek(self._chunks * (DOCUMENT_CHUNK + TAG_BYTES))
        self._file.write(self._aead.encrypt(nonce, plain, None))
        self._chunks += 1

    def _chunk(self, index: int) -> bytes:
        if self._pending and index == self._chunks:
            return bytes(self._pending)
        if self._cached and self._cached[0] == index:
            return self._cached[1]
        self._file.seek(index * (DOCUMENT_CHUNK + TAG_BYTES))
        sealed = _read_full(self._file, DOCUMENT_CHUNK + TAG_BYTES)
        plain = self._aead.decrypt(index.to_bytes(NONCE_BYTES, "big"), sealed, None)
        self._cached = (index, plain)
        return plain

    # reading (anywhere)
    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        end = self._size if size is None or size < 0 else min(self._size, self._pos + size)
        parts = []
        while self._pos < end:
            index, offset = divmod(self._pos, DOCUMENT_CHUNK)
            piece = self._chunk(index)[offset:offset + end - self._pos]
            parts.append(piece)
            self._pos += len(piece)
        return b"".join(parts)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        pass

    @property
    def size(self) -> int:
        return self._size

    def close(self) -> None:
        if not self.closed:
            self._file.close()
            self._pending.clear()
            self._cached = None
            self.closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


# --- accounts: passwords, one-time codes and tokens -------------------------

# argon2id with RFC 9106's second recommended parameters (64 MiB, 3 passes) unless configured.
PASSWORD_HASH_DEFAULTS = {"time_cost": 3, "memory_kib": 65536, "parallelism": 4}


def _password_hasher(time_cost: int, memory_kib: int, parallelism: int):  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher, Type

    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID)


def hash_password(password: str, **params: int) -> str:
    """An argon2id hash of a password (PHC string: the parameters travel with it)."""
    return _password_hasher(**{**PASSWORD_HASH_DEFAULTS, **params}).hash(password)


def verify_password(password_hash: str | None, password: str, **params: int) -> bool:
    """Whether the password matches. With no hash (an unknown email, a user not yet set up) a dummy
    hash of the same cost (`params`, as for `hash_password`) is checked, so the time is the same."""
    from argon2 import exceptions as argon2_errors

    if not password_hash:
        password_hash = _dummy_password_hash(**params)
        password = password + "\x00never"
    try:
        return _password_hasher(**PASSWORD_HASH_DEFAULTS).verify(password_hash, password)
    except (argon2_errors.VerifyMismatchError, argon2_errors.VerificationError, argon2_errors.InvalidHashError):
        return False


_DUMMY_HASHES: dict[tuple[tuple[str, int], ...], str] = {}


def prepare_dummy_password_hash(**params: int) -> None:
    """Make the dummy hash ahead of the first sign-in attempt, so no attempt pays for making it."""
    _dummy_password_hash(**params)


def _dummy_password_hash(**params: int) -> str:
    key = tuple(sorted(params.items()))
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hash_password(secrets.token_urlsafe(16), **params)
    return _DUMMY_HASHES[key]


def new_token() -> str:
    """A random, URL-safe token of 256 bits (session ids, set-up links, kept forms)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    """What is stored for a token: its SHA-256 (a database copy gives no usable token)."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_totp_secret() -> str:
    import pyotp

    return pyotp.random_base32()


def totp_uri(secret: str, *, account: str, issuer: str) -> str:
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def totp_now(secret: str, at: dt.datetime | None = None) -> str:
    import pyotp

    return pyotp.TOTP(secret).at(at or dt.datetime.now(dt.UTC))


def totp_step_matched(secret: str, code: str, *, at: dt.datetime | None = None, window: int = 1) -> int | None:
    """The 30-second time step whose code this is (one step either side allowed), or None.

    The caller refuses a step not later than the last one used, so each code works once.
    """
    import pyotp

    code = re.sub(r"\s+", "", code or "")
    if not re.fullmatch(r"[0-9]{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    at = at or dt.datetime.now(dt.UTC)
    now_step = totp.timecode(at)
    found = None
    for step in range(now_step - window, now_step + window + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def new_recovery_code() -> str:
    """80 bits in 16 characters, shown as XXXX-XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def recovery_code_digest(code: str) -> str:
    """The stored form of a recovery code. 80 random bits make a plain SHA-256 safe to keep."""
    norm = re.sub(r"[^A-Z0-9]", "", (code or "").upper())
    return hashlib.sha256(b"casework-recovery|" + norm.encode("ascii", "ignore")).hexdigest()
