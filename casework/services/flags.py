"""A person's flags, computed from the records and never typed in.

Repeat victim and repeat perpetrator per kind (the spec's current flag),
potential escalation, repeat HRDA (the last HRDA referral is less than 365 days
old), the ASB case review threshold, MAPPA category and level (from the latest
MAPPA referral), and the complex-needs markers recorded on the person.

Flags are partnership-wide: every agency's incidents and referrals count, and
everyone who may see the person sees the flags. Where records behind a flag
belong to an agency the viewer may not see, the flag says so without saying
which records they are. The rules themselves live in `casework.risk.repeats`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import exists, select

from .. import policy
from ..db import db
from ..models import Incident, Party, PartyRole, Person, Referral, ReferralType
from ..risk import repeats
from ..risk.repeats import LOOKBACK_DAYS, RepeatKind

KIND_WORDS = {RepeatKind.DA: "domestic abuse", RepeatKind.PERSONAL_ASB: "personal ASB", RepeatKind.ASB: "ASB",
              RepeatKind.SV: "serious violence"}
ROLE_WORDS = {PartyRole.VICTIM: "Repeat victim", PartyRole.PERPETRATOR: "Repeat perpetrator"}
OTHER_AGENCIES = "includes records of an agency whose records you cannot see"


@dataclass(frozen=True)
class Flag:
    text: str
    colour: str  # a GOV.UK tag modifier: red, orange, yellow, purple, blue
    hidden_records: bool = False  # some records behind it are not visible to the viewer

    @property
    def classes(self) -> str:
        return f"govuk-tag--{self.colour}"


def _hidden_incidents(person: Person, viewer: Any, *, role: PartyRole, kind: RepeatKind,
                      since: dt.date, until: dt.date) -> bool:
    """Whether any of the person's kind-K incidents in `role` dated from `since` to `until` is one
    `viewer` may not see."""
    query = (select(Incident.id).join(Party, Party.incident_id == Incident.id)
             .where(Party.person_id == person.id, Party.role == role, repeats.is_kind(kind, Incident.__table__),
                    Incident.occurred_on >= since, Incident.occurred_on <= until,
                    ~policy.visible_filter(viewer, Incident)))
    return bool(db.session.scalar(select(exists(query))))


def person_flags(*, person: Person, viewer: Any, today: dt.date | None = None) -> list[Flag]:
    """The flags to show on `person`'s page to `viewer`, most serious first."""
    today = today or dt.date.today()
    config = current_app.config
    session = db.session
    flags: list[Flag] = []
    # Records older than the current window still count as the "earlier" incident of a repeat.
    behind_from = today - dt.timedelta(days=2 * LOOKBACK_DAYS - 1)

    held = repeats.current_repeat_flags(session, person.id, today=today)
    for role in (PartyRole.VICTIM, PartyRole.PERPETRATOR):
        for kind in RepeatKind:
            if held[(kind, role)]:
                flags.append(Flag(f"{ROLE_WORDS[role]}: {KIND_WORDS[kind]}", "red", _hidden_incidents(
                    person, viewer, role=role, kind=kind, since=behind_from, until=today)))

    incidents, window = int(config["ESCALATION_INCIDENTS"]), int(config["ESCALATION_WINDOW_DAYS"])
    if repeats.potential_escalation(session, person.id, today=today, incidents=incidents, window_days=window):
        flags.append(Flag("Potential escalation", "red", _hidden_incidents(
            person, viewer, role=PartyRole.VICTIM, kind=RepeatKind.DA,
            since=today - dt.timedelta(days=2 * window - 1), until=today)))

    # "Less than 365 days old": a referral dated from today - 364 to today, which is exactly what
    # makes an HRDA referral made tomorrow a repeat referral.
    if repeats.would_be_repeat_hrda(session, person.id, referred_on=today + dt.timedelta(days=1)):
        recent = select(Referral).where(
            Referral.person_id == person.id, Referral.type == ReferralType.HRDA,
            Referral.referred_on >= today - dt.timedelta(days=LOOKBACK_DAYS - 1), Referral.referred_on <= today)
        hidden = bool(session.scalar(select(exists(recent.where(~policy.visible_filter(viewer, Referral))
                                                   .with_only_columns(Referral.id)))))
        flags.append(Flag("Repeat HRDA", "orange", hidden))

    complaints, months = int(config["ASB_REVIEW_COMPLAINTS"]), int(config["ASB_REVIEW_WINDOW_MONTHS"])
    if repeats.asb_review_threshold(session, person.id, today=today, complaints=complaints, window_months=months):
        flags.append(Flag("ASB case review threshold met", "orange", _hidden_incidents(
            person, viewer, role=PartyRole.VICTIM, kind=RepeatKind.ASB,
            since=repeats.add_months(today, -2 * months), until=today)))

    mappa = session.scalar(select(Referral).where(
        Referral.person_id == person.id, Referral.type == ReferralType.MAPPA,
        Referral.mappa_category.is_not(None)).order_by(Referral.referred_on.desc(), Referral.created_at.desc())
        .limit(1))
    if mappa is not None:
        level = f", level {mappa.mappa_level}" if mappa.mappa_level else ""
        flags.append(Flag(f"MAPPA category {mappa.mappa_category}{level}", "yellow",
                          not policy.can_view(viewer, mappa)))

    for attribute, text in (("complex_needs", "Complex needs"), ("mental_health", "Mental health"),
                            ("substance_misuse", "Substance misuse")):
        if getattr(person, attribute):
            flags.append(Flag(text, "purple"))
    return flags
