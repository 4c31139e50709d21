"""The audit chain's head is anchored outside the database, in the log stream and at each checkpoint,
so deleting the newest entries is seen even with no checkpoint, or with the checkpoint file emptied
(issue 20, finding 13)."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import func, select

from casework.db import db
from casework.models import AuditEntry
from casework.observability import JsonFormatter
from casework.services import audit, audit_chain
from tests.integration.test_audit_chain import _entries, _raw


@pytest.fixture()
def log_stream(caplog):  # type: ignore[no-untyped-def]
    """The app's log stream as production writes it: JSON lines."""
    caplog.set_level(logging.INFO, logger="casework.audit.head")
    formatter = JsonFormatter()
    return lambda: [formatter.format(r) for r in caplog.records]


def _verify(tmp_path, lines=()):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    anchors = audit_chain.read_anchors(lines, source="log")
    return audit_chain.verify(path=tmp_path / "checkpoints", anchors=anchors)


def test_every_committed_append_logs_the_head_signed(app_ctx, tmp_path, log_stream):
    _entries(3)
    heads = audit_chain.read_anchors(log_stream(), source="log")
    top = db.session.scalar(select(func.max(AuditEntry.position)))
    assert [h.position for h in heads] == [top - 2, top - 1, top], "one signed head per committed append"
    verdict = _verify(tmp_path, log_stream())
    assert verdict.ok and verdict.anchors >= 3, str(verdict)
    assert "logged heads agree" in str(verdict)


def test_newest_entries_deleted_with_no_checkpoint_are_seen_in_the_logged_heads(app_ctx, tmp_path, log_stream):
    _entries(6)
    assert _verify(tmp_path).ok, "the chain alone cannot tell"
    _raw("DELETE FROM audit_entry WHERE position >= 5")
    verdict = _verify(tmp_path, log_stream())
    assert not verdict.ok and verdict.first_bad == 5 and "logged head" in verdict.problem


def test_newest_entries_deleted_and_the_checkpoint_file_emptied_are_seen(app_ctx, tmp_path):
    _entries(4)
    audit_chain.checkpoint(path=tmp_path / "checkpoints")  # position 4; entry 5 records it
    _entries(3)
    _raw("DELETE FROM audit_entry WHERE position >= 6")
    (tmp_path / "checkpoints").write_text("")
    verdict = _verify(tmp_path)
    assert not verdict.ok and verdict.first_bad == 4
    assert "emptied or cut short" in verdict.problem


def test_the_checkpoint_is_logged_too(app_ctx, tmp_path, log_stream):
    _entries(2)
    cp = audit_chain.checkpoint(path=tmp_path / "checkpoints")
    logged = audit_chain.read_anchors(log_stream(), source="log")
    assert any(a.position == cp.position and a.hash == cp.hash for a in logged)


def test_without_any_anchor_the_verdict_says_what_it_cannot_see(app_ctx, tmp_path):
    _entries(2)
    verdict = _verify(tmp_path)
    assert verdict.ok and "Nothing outside the database vouched" in str(verdict)


def test_a_forged_logged_head_is_refused_naming_its_line(app_ctx, tmp_path, log_stream):
    _entries(2)
    lines = log_stream()
    lines[-1] = lines[-1].replace('\\"position\\":2', '\\"position\\":1')
    with pytest.raises(audit_chain.CheckpointFileError, match=f"log, line {len(lines)}"):
        _verify(tmp_path, lines)


def test_text_logs_are_read_as_well_and_other_lines_passed_over(app_ctx, tmp_path):
    _entries(2)
    head = audit.anchor(2, bytes(db.session.scalar(select(AuditEntry.mac).where(AuditEntry.position == 2))))
    lines = ["2026-12-07 00:00:00,000 INFO    casework.request [abc] GET / 200 1.0 ms",
             f"2026-12-07 00:00:00,001 INFO    casework.audit.head [-] audit head {json.dumps(head)}"]
    assert [a.position for a in audit_chain.read_anchors(lines, source="text")] == [2]


def test_audit_verify_reads_the_logs_given(runner, app_ctx, tmp_path, log_stream):
    _entries(4)
    log = tmp_path / "casework-web.log"
    log.write_text("\n".join(log_stream()) + "\n")
    file = str(tmp_path / "checkpoints")
    ok = runner.invoke(["audit", "verify", "--file", file, "--anchors", str(log)])
    assert ok.exit_code == 0 and "logged heads agree" in ok.output
    _raw("DELETE FROM audit_entry WHERE position = 4")
    db.session.expire_all()
    result = runner.invoke(["audit", "verify", "--file", file, "--anchors", str(log)])
    assert result.exit_code == 1 and "position 4" in result.output
