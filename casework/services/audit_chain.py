"""Checking the audit chain, and checkpoints of its head kept outside the database.

`verify` walks the entries in order of position and names the first bad one:
a gap (an entry deleted), an entry that does not follow the one before it (an
entry inserted, or entries reordered), or an entry whose HMAC does not match its
content (an entry edited). Deleting the newest entries leaves a chain that is
still valid, so `checkpoint` appends the head (position and hash, signed with
the audit key) to a file outside the database; `verify` then also requires
every checkpointed entry to be present and unchanged. Entries written after the
last checkpoint and then deleted cannot be detected: checkpoint often (for
example every few minutes from cron).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from .. import crypto
from ..config import _ensure_private_dir
from ..db import db
from ..models import AuditEntry
from ..models.base import utcnow
from .audit import GENESIS, canonical

CHECKPOINT_DOMAIN = b"casework-audit-checkpoint|"


@dataclass(frozen=True)
class Checkpoint:
    position: int
    hash: bytes
    at: str


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    checkpoints: int
    first_bad: int | None = None
    problem: str | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"The audit trail is intact: {self.entries} entries, {self.checkpoints} checkpoints agree."
        return f"The audit trail has been tampered with at position {self.first_bad}: {self.problem}"


class CheckpointFileError(Exception):
    """The checkpoint file cannot be read or a line in it is not a checkpoint signed by our key."""


def checkpoint_file() -> Path:
    configured = current_app.config.get("AUDIT_CHECKPOINT_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / "audit-checkpoints"


def _checkpoint_body(position: int, hash_: bytes, at: str) -> bytes:
    return json.dumps({"position": position, "hash": hash_.hex(), "at": at},
                      sort_keys=True, separators=(",", ":")).encode()


def checkpoint(*, path: Path | None = None) -> Checkpoint:
    """Append the chain's head to the checkpoint file (created owner-only)."""
    path = path or checkpoint_file()
    head = db.session.execute(select(AuditEntry.position, AuditEntry.mac)
                              .order_by(AuditEntry.position.desc()).limit(1)).first()
    position, hash_ = (head.position, bytes(head.mac)) if head else (0, GENESIS)
    at = utcnow().isoformat(timespec="seconds")
    mac = crypto.chain_mac(crypto.current(), CHECKPOINT_DOMAIN, _checkpoint_body(position, hash_, at))
    line = json.dumps({"position": position, "hash": hash_.hex(), "at": at, "mac": mac.hex()}) + "\n"
    _ensure_private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return Checkpoint(position=position, hash=hash_, at=at)


def read_checkpoints(path: Path | None = None) -> list[Checkpoint]:
    path = path or checkpoint_file()
    if not path.exists():
        return []
    ring = crypto.current()
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            position, hash_, at = int(doc["position"]), bytes.fromhex(doc["hash"]), str(doc["at"])
            mac = bytes.fromhex(doc["mac"])
        except (ValueError, KeyError, TypeError):
            raise CheckpointFileError(f"{path}, line {number}: not a checkpoint") from None
        expected = crypto.chain_mac(ring, CHECKPOINT_DOMAIN, _checkpoint_body(position, hash_, at))
        if not crypto.macs_equal(mac, expected):
            raise CheckpointFileError(f"{path}, line {number}: the checkpoint's signature does not match")
        found.append(Checkpoint(position=position, hash=hash_, at=at))
    return found


def verify(*, path: Path | None = None) -> Verdict:
    """Check every entry's link and HMAC, and every checkpoint against the entries."""
    checkpoints = read_checkpoints(path)
    wanted = {c.position for c in checkpoints}
    seen: dict[int, bytes] = {0: GENESIS}
    ring = crypto.current()
    prev, expected, count = GENESIS, 1, 0
    rows = db.session.scalars(select(AuditEntry).order_by(AuditEntry.position).execution_options(yield_per=2000))
    for entry in rows:
        count += 1
        if entry.position != expected:
            return Verdict(False, count, len(checkpoints), expected,
                           f"entry {expected} is missing (the next entry is {entry.position})")
        if not crypto.macs_equal(bytes(entry.prev_hash), prev):
            return Verdict(False, count, len(checkpoints), entry.position,
                           "the entry does not follow the entry before it (inserted or reordered)")
        if not crypto.macs_equal(bytes(entry.mac), crypto.chain_mac(ring, prev, canonical(entry))):
            return Verdict(False, count, len(checkpoints), entry.position,
                           "the entry's content does not match its HMAC (edited)")
        prev = bytes(entry.mac)
        if entry.position in wanted:
            seen[entry.position] = prev
        expected += 1
    last = expected - 1
    for c in checkpoints:
        if c.position > last:
            return Verdict(False, count, len(checkpoints), last + 1,
                           f"entries {last + 1} to {c.position} are missing: the checkpoint of {c.at} "
                           f"recorded {c.position} entries, the database has {last}")
        if not crypto.macs_equal(seen[c.position], c.hash):
            return Verdict(False, count, len(checkpoints), c.position,
                           f"the entry differs from the checkpoint of {c.at}")
    return Verdict(True, count, len(checkpoints))


def newest_checkpoint_age(path: Path | None = None) -> dt.timedelta | None:
    cps = read_checkpoints(path)
    if not cps:
        return None
    return utcnow() - dt.datetime.fromisoformat(cps[-1].at)
