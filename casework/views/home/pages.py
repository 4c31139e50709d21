"""The start page. A caseworker's shows their work: open cases, reviews due, tasks due, referrals
awaiting a decision by them or their agency (overdue after 2 working days for HRDA, 5 for the
others), their own referrals still waiting, and the decisions on their own recent referrals. An
HRDA chair sees the HRDA referrals awaiting them. A manager's shows what needs them first: the
measures that worsened, their agency's overdue case reviews and the referrals waiting for it. Other
roles see the service's start page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ... import policy
from ...auth.guard import signed_in
from ...models.base import utcnow
from ...policy import Permission
from ...services import oversight as manager
from ...services import referral_routes, referrals, worklists
from . import bp

DUE_WITHIN_DAYS = 7
DECISIONS_WITHIN_DAYS = 30


@bp.get("/")
@signed_in
def index() -> ResponseReturnValue:
    from ..shared.record_pages import agency_names, today, user_names

    work: dict[str, Any] | None = None
    if policy.can(current_user, Permission.VIEW_RECORDS) and (
            policy.can(current_user, Permission.REFER) or policy.can(current_user, Permission.CHAIR_HRDA)):
        day = today()
        work = {
            "cases": worklists.open_cases(current_user, today=day),
            "reviews": worklists.reviews_due(current_user, today=day, within_days=DUE_WITHIN_DAYS),
            "tasks": worklists.tasks_due(current_user, today=day, within_days=DUE_WITHIN_DAYS),
            "awaiting": referrals.awaiting_decision(current_user),
            "sent": referrals.awaiting_from(current_user),
            "decisions": referrals.recent_decisions(
                current_user, since=utcnow() - dt.timedelta(days=DECISIONS_WITHIN_DAYS)),
            "today": day, "agencies": agency_names(),
            "can_refer": policy.can(current_user, Permission.REFER),
        }
        work["overdue"] = {r.id for r in work["awaiting"] + work["sent"]
                           if referral_routes.is_overdue(r, today=day)}
    oversight = None
    if policy.can(current_user, Permission.OVERSEE_AGENCY):
        day = today()
        period, worsened = manager.worsened_measures(as_of=day)
        reviews = manager.overdue_reviews(current_user, today=day)
        oversight = {"period": period, "worsened": worsened, "reviews": reviews,
                     "waiting": manager.referrals_waiting(current_user), "today": day,
                     "agencies": agency_names(), "names": user_names({c.caseworker_id for c in reviews.rows})}
    # The way to the agency's restricted records that nobody named can manage any more (after a leaver
    # was deactivated, say), for those who may recover them. Not counted here: finding them reads
    # every restricted record, too much for every home page.
    return render_template("home/index.html", work=work, oversight=oversight,
                           can_recover=policy.may_recover_restrictions(current_user))
