"""Checking the audit chain, and anchors of its head kept outside the database.

`verify` walks the entries in order of position and names the first bad one:
a gap (an entry deleted), an entry that does not follow the one before it (an
entry inserted, or entries reordered), or an entry whose HMAC does not match its
content (an entry edited). Deleting the newest entries leaves a chain that is
still valid, so the head is anchored outside the database, each anchor its
position and hash signed with the audit key, in two places:

- the log stream: every committed append writes an "audit head" line
  (`casework.services.audit.log_head`), which the journal or log collector takes
  off the machine; `verify(anchors=...)` (`casework audit verify --anchors LOG`)
  reads them back from any JSON or text log;
- the checkpoint file: `checkpoint` (the scheduled job, or the command) appends
  the head to it and logs it, and records an `audit.checkpoint` entry in the
  chain naming the position and the file, so a checkpoint file emptied or cut
  short is itself seen: the trail names checkpoints the file no longer has.

`verify` requires every anchor's entry to be present and unchanged. What
remains undetectable: entries deleted whose "audit head" lines never reached
the logs given to `verify` (lines not yet shipped off the machine when it was
taken over, or logs not kept), when the checkpoint entries after the last
checkpoint are deleted with them; and everything, to someone who holds the
keyring and can rewrite the logs as well as the database.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from .. import crypto
from ..config import _ensure_private_dir
from ..db import db
from ..models import AuditEntry
from ..models.base import utcnow
from . import audit
from .audit import ANCHOR_DOMAIN, ANCHOR_MESSAGE, GENESIS, anchor_body, canonical

CHECKPOINT_DOMAIN = ANCHOR_DOMAIN


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
    anchors: int = 0  # "audit head" lines read from the logs

    def __str__(self) -> str:
        if self.ok:
            said = f"The audit trail is intact: {self.entries} entries, {self.checkpoints} checkpoints"
            said += f" and {self.anchors} logged heads agree." if self.anchors else " agree."
            if not self.checkpoints and not self.anchors:
                said += (" Nothing outside the database vouched for its newest entries: give the logs "
                         "with --anchors to check them.")
            return said
        return f"The audit trail has been tampered with at position {self.first_bad}: {self.problem}"


class CheckpointFileError(Exception):
    """The checkpoint file cannot be read or a line in it is not a checkpoint signed by our key."""


def checkpoint_file() -> Path:
    configured = current_app.config.get("AUDIT_CHECKPOINT_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / "audit-checkpoints"


_checkpoint_body = anchor_body


def checkpoint(*, path: Path | None = None) -> Checkpoint:
    """Append the chain's head to the checkpoint file (created owner-only) and to the log stream, and
    record in the chain that it was made (so an emptied checkpoint file is seen)."""
    path = path or checkpoint_file()
    head = db.session.execute(select(AuditEntry.position, AuditEntry.mac)
                              .order_by(AuditEntry.position.desc()).limit(1)).first()
    position, hash_ = (head.position, bytes(head.mac)) if head else (0, GENESIS)
    doc = audit.anchor(position, hash_)
    at = doc["at"]
    line = json.dumps(doc) + "\n"
    _ensure_private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    audit.log_head(position, hash_)
    audit.record("audit.checkpoint", user=None, details={"position": position, "file": _file_name(path)})
    return Checkpoint(position=position, hash=hash_, at=at)


def _file_name(path: Path) -> str:
    return str(path.resolve())


def read_checkpoints(path: Path | None = None) -> list[Checkpoint]:
    path = path or checkpoint_file()
    if not path.exists():
        return []
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            raise CheckpointFileError(f"{path}, line {number}: not a checkpoint") from None
        found.append(_signed(doc, where=f"{path}, line {number}", kind="checkpoint"))
    return found


def _signed(doc: object, *, where: str, kind: str) -> Checkpoint:
    """A checkpoint or logged head, its signature checked."""
    try:
        position, hash_, at = int(doc["position"]), bytes.fromhex(doc["hash"]), str(doc["at"])  # type: ignore[index]
        mac = bytes.fromhex(doc["mac"])  # type: ignore[index]
    except (ValueError, KeyError, TypeError):
        raise CheckpointFileError(f"{where}: not a {kind}") from None
    expected = crypto.chain_mac(crypto.current(), CHECKPOINT_DOMAIN, _checkpoint_body(position, hash_, at))
    if not crypto.macs_equal(mac, expected):
        raise CheckpointFileError(f"{where}: the {kind}'s signature does not match")
    return Checkpoint(position=position, hash=hash_, at=at)


def read_anchors(lines: Iterable[str], *, source: str) -> list[Checkpoint]:
    """The "audit head" lines of a log (JSON lines, or the text format), in any order; other lines
    are passed over. A head line whose signature does not match is an error naming it."""
    found = []
    for number, line in enumerate(lines, start=1):
        if ANCHOR_MESSAGE not in line:
            continue
        text_ = line
        if line.lstrip().startswith("{"):
            try:
                text_ = str(json.loads(line).get("message", ""))
            except (ValueError, AttributeError):
                pass
        at = text_.find(ANCHOR_MESSAGE + "{")
        if at < 0:
            continue
        try:
            doc = json.loads(text_[at + len(ANCHOR_MESSAGE):].strip())
        except ValueError:
            raise CheckpointFileError(f"{source}, line {number}: not a logged audit head") from None
        found.append(_signed(doc, where=f"{source}, line {number}", kind="logged audit head"))
    return found


def verify(*, path: Path | None = None, anchors: Iterable[Checkpoint] = ()) -> Verdict:
    """Check every entry's link and HMAC, every checkpoint and logged head (`anchors`, from
    `read_anchors`) against the entries, and that the checkpoint file still has every checkpoint
    the trail says was made in it."""
    path = path or checkpoint_file()
    checkpoints = read_checkpoints(path)
    logged = list(anchors)
    in_file = {c.position for c in checkpoints}
    verdict = _verify_chain(checkpoints, logged)
    if not verdict.ok:
        return verdict
    # The trail's own record of checkpoints made in this file: each must still be there.
    name = _file_name(path)
    made = db.session.execute(select(AuditEntry.position, AuditEntry.details)
                              .where(AuditEntry.action == "audit.checkpoint").order_by(AuditEntry.position))
    for entry_position, details in made:
        doc = json.loads(details or "{}")
        if doc.get("file") == name and doc.get("position") not in in_file:
            return Verdict(False, verdict.entries, len(checkpoints), doc.get("position"),
                           f"the checkpoint file {path} lacks the checkpoint of position {doc.get('position')} "
                           f"that entry {entry_position} records: the file has been emptied or cut short",
                           anchors=len(logged))
    return verdict


def _verify_chain(checkpoints: list[Checkpoint], logged: list[Checkpoint]) -> Verdict:
    wanted = {c.position for c in checkpoints} | {c.position for c in logged}
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
    for kind, marks in (("checkpoint", checkpoints), ("logged head", logged)):
        for c in marks:
            if c.position > last:
                return Verdict(False, count, len(checkpoints), last + 1,
                               f"entries {last + 1} to {c.position} are missing: the {kind} of {c.at} "
                               f"recorded {c.position} entries, the database has {last}", anchors=len(logged))
            if not crypto.macs_equal(seen[c.position], c.hash):
                return Verdict(False, count, len(checkpoints), c.position,
                               f"the entry differs from the {kind} of {c.at}", anchors=len(logged))
    return Verdict(True, count, len(checkpoints), anchors=len(logged))


def newest_checkpoint_age(path: Path | None = None) -> dt.timedelta | None:
    cps = read_checkpoints(path)
    if not cps:
        return None
    return utcnow() - dt.datetime.fromisoformat(cps[-1].at)
