"""The daily digest: each morning, one email to each user with reviews, tasks or HRDA actions due,
saying how many of each (counts only, never what they are about), unless they turned it off on
their account page (`User.daily_digest`). Queued through the outbox (`casework.services.outbox`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy import func, select

from ..db import db
from ..models import MessageKind, User
from . import outbox

DIGEST_WORDS = {"case_review": ("case review", "case reviews"), "task": ("task", "tasks"),
                "hrda_action": ("HRDA action", "HRDA actions")}


def due_phrase(counts: Mapping[str, int]) -> str:
    """"2 case reviews, 1 task and 1 HRDA action due or overdue": counts only, never what they are about."""
    parts = [f"{n} {DIGEST_WORDS.get(kind, (kind, kind))[n != 1]}" for kind, n in counts.items() if n]
    if not parts:
        return ""
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{listed} due or overdue"


def queue_digests() -> int:
    """One digest to each active user who has not turned it off and has reminders open (the reminders
    job, run before, decides what is due); returns how many were queued."""
    from ..models import Reminder

    rows = db.session.execute(
        select(Reminder.user_id, Reminder.kind, func.count())
        .join(User, User.id == Reminder.user_id)
        .where(Reminder.dismissed_at.is_(None), User.active.is_(True), User.daily_digest.is_(True))
        .group_by(Reminder.user_id, Reminder.kind)).all()
    counts: dict[uuid.UUID, dict[str, int]] = {}
    for user_id, kind, n in rows:
        counts.setdefault(user_id, {})[kind] = n
    queued = 0
    for user_id, per_kind in counts.items():
        ordered = {k: per_kind.get(k, 0) for k in DIGEST_WORDS} | {k: n for k, n in per_kind.items()
                                                                     if k not in DIGEST_WORDS}
        phrase = due_phrase(ordered)
        user = db.session.get(User, user_id)
        if phrase and user is not None and outbox.queue(MessageKind.DAILY_DIGEST, to=user, endpoint="home.index",
                                                 due=phrase) is not None:
            queued += 1
    return queued
