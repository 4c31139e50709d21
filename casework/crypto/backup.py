"""Backup files: one stream encrypted in chunks under a key derived from the audit key."""

from __future__ import annotations

import os
import struct
from typing import Any, Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .chain import macs_equal
from .ciphertexts import TAG_BYTES
from .errors import CryptoError
from .keyring import Keyring

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
