"""Documents sealed chunk by chunk under a content key of their own, and the encrypted upload spool."""

from __future__ import annotations

import os
import struct
import uuid
from typing import Any, Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .backup import _read_full
from .ciphertexts import NONCE_BYTES, TAG_BYTES
from .errors import DecryptionError
from .keyring import _b64, _unb64

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
