"""The keyring: data keys by id, one blind-index key per index, the audit key; and the running app's."""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import DecryptionError, KeyringError

# The blind indexes a person carries; each has a key of its own.
INDEX_NAMES = ("surname", "full_name", "phonetic", "dob", "postcode", "phonetic_yob")


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
        from ..config import write_private

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


def current() -> Keyring:
    """The keyring of the running app."""
    from flask import current_app

    ring: Keyring = current_app.extensions["casework.keyring"]
    ring.reload_if_changed(at_most_every=1.0)
    return ring
