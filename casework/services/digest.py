"""The daily digest: each morning, one email to each user with work due, saying how many of each
kind (counts only, never what they are about), unless they turned it off on their account page
(`User.daily_digest`). Queued through the outbox (`casework.services.outbox`).

What it counts, for each user:
- their open reminders (the reminders job, run before, decides which): case reviews, tasks and
  HRDA actions;
- the reviews and the expiries of the orders their agency holds, from today to 14 days ahead
  (`orders.due_for_agency`, as their home page lists them: people they may see only);
- their agency's open ASB case review recommendations due within `REMINDER_DAYS_AHEAD` days or
  overdue (the owner agency's action list), for those who view records;
- the ASB case review steps (the working-day clocks) due within `REMINDER_DAYS_AHEAD` days or
  overdue, for the review coordinator (every application) and the applicant's caseworker (theirs),
  as `asb_reviews.clocks` gives them to the home page."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Mapping

from flask import current_app
from sqlalchemy import func, select

from .. import policy
from ..db import db
from ..measures.periods import today_in_london
from ..models import ActionStatus, AsbRecommendation, MessageKind, User
from . import asb_reviews, orders, outbox

DIGEST_WORDS = {"case_review": ("case review", "case reviews"), "task": ("task", "tasks"),
                "hrda_action": ("HRDA action", "HRDA actions"),
                "order_review": ("order review", "order reviews"),
                "order_expiry": ("order expiry", "order expiries"),
                "asb_recommendation": ("ASB case review recommendation", "ASB case review recommendations"),
                "asb_review_step": ("ASB case review step", "ASB case review steps")}


def due_phrase(counts: Mapping[str, int]) -> str:
    """"2 case reviews, 1 task and 1 HRDA action due or overdue": counts only, never what they are about."""
    parts = [f"{n} {DIGEST_WORDS.get(kind, (kind, kind))[n != 1]}" for kind, n in counts.items() if n]
    if not parts:
        return ""
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{listed} due or overdue"


def _reminder_counts() -> dict[uuid.UUID, dict[str, int]]:
    from ..models import Reminder

    rows = db.session.execute(
        select(Reminder.user_id, Reminder.kind, func.count())
        .join(User, User.id == Reminder.user_id)
        .where(Reminder.dismissed_at.is_(None), User.active.is_(True), User.daily_digest.is_(True))
        .group_by(Reminder.user_id, Reminder.kind)).all()
    counts: dict[uuid.UUID, dict[str, int]] = {}
    for user_id, kind, n in rows:
        counts.setdefault(user_id, {})[kind] = n
    return counts


def _recommendations_due(*, today: dt.date, ahead: dt.date) -> Counter[uuid.UUID]:
    """Open ASB case review recommendations due by `ahead` (overdue ones included), by owner agency."""
    return Counter(dict(db.session.execute(
        select(AsbRecommendation.owner_agency_id, func.count())
        .where(AsbRecommendation.status == ActionStatus.OPEN, AsbRecommendation.due_on <= ahead)
        .group_by(AsbRecommendation.owner_agency_id)).all()))


def work_due(user: User, *, today: dt.date, recommendations: Mapping[uuid.UUID, int] | None = None) -> dict[str, int]:
    """What the digest counts for `user` besides their reminders (see the module's docstring)."""
    ahead = today + dt.timedelta(days=int(current_app.config["REMINDER_DAYS_AHEAD"]))
    found: Counter[str] = Counter()
    if not policy.can(user, policy.Permission.VIEW_RECORDS):
        return {}
    for due in orders.due_for_agency(user, today=today):
        found[f"order_{due.what}"] += 1
    if recommendations is None:
        recommendations = _recommendations_due(today=today, ahead=ahead)
    found["asb_recommendation"] = recommendations.get(user.agency_id, 0)
    found["asb_review_step"] = sum(1 for _, step, _ in asb_reviews.clocks(user, today=today) if step.due <= ahead)
    return {kind: n for kind, n in found.items() if n}


def queue_digests(*, today: dt.date | None = None) -> int:
    """One digest to each active user who has not turned it off and has work due; returns how many
    were queued."""
    today = today or today_in_london()
    ahead = today + dt.timedelta(days=int(current_app.config["REMINDER_DAYS_AHEAD"]))
    reminders = _reminder_counts()
    recommendations = _recommendations_due(today=today, ahead=ahead)
    queued = 0
    for user in db.session.scalars(select(User).where(User.active.is_(True), User.daily_digest.is_(True))
                                   .order_by(User.email)):
        per_kind = {**reminders.get(user.id, {}), **work_due(user, today=today, recommendations=recommendations)}
        ordered = {k: per_kind.get(k, 0) for k in DIGEST_WORDS} | {k: n for k, n in per_kind.items()
                                                                     if k not in DIGEST_WORDS}
        phrase = due_phrase(ordered)
        if phrase and outbox.queue(MessageKind.DAILY_DIGEST, to=user, endpoint="home.index", due=phrase) is not None:
            queued += 1
    return queued
