"""One cell's value sealed under the active data key, bound to its table, column and row."""

from __future__ import annotations

import datetime as dt
import functools
import os
import struct
import uuid
from typing import Any

from cryptography.exceptions import InvalidTag

from .errors import CryptoError, DecryptionError
from .keyring import Keyring

FORMAT_VERSION = 1
HEADER = struct.Struct(">BI")  # version, key id
NONCE_BYTES = 12
TAG_BYTES = 16
OVERHEAD = HEADER.size + NONCE_BYTES + TAG_BYTES


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
    return int(key_id)


def reseal(ring: Keyring, sealed: bytes, *, table: str, column: str, row_id: uuid.UUID) -> bytes:
    """Re-encrypt a cell under the active key (a no-op for a value already under it)."""
    if key_id_of(sealed) == ring.active:
        return sealed
    return seal(ring, unseal(ring, sealed, table=table, column=column, row_id=row_id),
                table=table, column=column, row_id=row_id)
