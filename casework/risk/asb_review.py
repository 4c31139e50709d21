"""The ASB case review (the community trigger) by rule, as /work/shared/spec/asb-case-review.md
and docs/asb-case-review.md define it: which complaints qualify for an application, whether the
threshold is met by rule, the working-day time limits and the yearly publication.

Pure functions over plain values (no Flask, no database): the services fetch the complaints and
the applications and hand them here, so the pages, the export and the figures share one rule.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .repeats import add_months
from .working_days import add_working_days


@dataclass(frozen=True)
class Settings:
    """The spec's settings with their defaults (config ASB_REVIEW_* may change them)."""

    complaints: int = 3
    months: int = 6
    community_people: int = 3
    decision_days: int = 10
    review_days: int = 15
    outcome_days: int = 5


DEFAULTS = Settings()


@dataclass(frozen=True)
class Complaint:
    """An `asb` incident as a complaint: when the behaviour happened, when the agency was told
    (blank: the day it happened), and its victims (person records after merges)."""

    incident_id: uuid.UUID | str
    occurred_on: dt.date
    reported_on: dt.date | None
    victims: frozenset[uuid.UUID | str] = frozenset()
    reference: str = ""
    recorded_by: str = ""

    @property
    def reported(self) -> dt.date:
        return self.reported_on or self.occurred_on


# The reasons a complaint does not count, in the order they are checked (the first that holds is shown).
BEFORE_BEHAVIOUR = "reported before the behaviour it describes"
REPORTED_LATE = "reported more than a month after the behaviour"
OUTSIDE_WINDOW = "reported outside the {months} months before the application"
SAME_DAY = "the same day as another qualifying complaint"
NO_VICTIM = "no victim recorded"


def window(received_on: dt.date, settings: Settings = DEFAULTS) -> tuple[dt.date, dt.date]:
    """The days a qualifying complaint is reported on, both included: R minus `months` to R."""
    return add_months(received_on, -settings.months), received_on


def why_not(complaint: Complaint, received_on: dt.date, settings: Settings = DEFAULTS) -> str | None:
    """Why a complaint does not qualify for an application received on `received_on`; None when it does."""
    reported = complaint.reported
    if reported < complaint.occurred_on:
        return BEFORE_BEHAVIOUR
    if reported > add_months(complaint.occurred_on, 1):
        return REPORTED_LATE
    start, end = window(received_on, settings)
    if not start <= reported <= end:
        return OUTSIDE_WINDOW.format(months=settings.months)
    return None


@dataclass(frozen=True)
class Judged:
    complaint: Complaint
    reason: str | None  # None: it counts

    @property
    def counts(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class Threshold:
    """The threshold by rule: met or not, what was counted (days or people) against what is needed,
    and every complaint looked at with its reason when it does not count."""

    met: bool
    counted: int
    needed: int
    unit: str  # "days" or "people"
    judged: tuple[Judged, ...] = field(default=())

    @property
    def qualifying(self) -> list[Judged]:
        return [j for j in self.judged if j.reason is None]

    @property
    def not_qualifying(self) -> list[Judged]:
        return [j for j in self.judged if j.reason is not None]


def _ordered(complaints: Iterable[Complaint]) -> list[Complaint]:
    return sorted(complaints, key=lambda c: (c.occurred_on, c.reported, str(c.incident_id)))


def personal_threshold(complaints: Iterable[Complaint], received_on: dt.date,
                       settings: Settings = DEFAULTS) -> Threshold:
    """A personal application: the distinct `occurred_on` dates of the victim's qualifying complaints
    (several agencies' records of the same day count once) against `complaints`."""
    judged: list[Judged] = []
    days: set[dt.date] = set()
    for complaint in _ordered(complaints):
        reason = why_not(complaint, received_on, settings)
        if reason is None and complaint.occurred_on in days:
            reason = SAME_DAY
        if reason is None:
            days.add(complaint.occurred_on)
        judged.append(Judged(complaint, reason))
    return Threshold(len(days) >= settings.complaints, len(days), settings.complaints, "days", tuple(judged))


def community_threshold(complaints: Iterable[Complaint], received_on: dt.date,
                        settings: Settings = DEFAULTS) -> Threshold:
    """A community application: the distinct victims (after merges) of qualifying complaints in the
    application's area (the caller passes only those) against `community_people`."""
    judged: list[Judged] = []
    people: set[uuid.UUID | str] = set()
    for complaint in _ordered(complaints):
        reason = why_not(complaint, received_on, settings)
        if reason is None and not complaint.victims:
            reason = NO_VICTIM
        if reason is None:
            people |= complaint.victims
        judged.append(Judged(complaint, reason))
    return Threshold(len(people) >= settings.community_people, len(people), settings.community_people,
                     "people", tuple(judged))


# --- time limits -------------------------------------------------------------------------------


def decision_due(received_on: dt.date, settings: Settings = DEFAULTS) -> dt.date:
    return add_working_days(received_on, settings.decision_days)


def review_due(decided_on: dt.date, settings: Settings = DEFAULTS) -> dt.date:
    return add_working_days(decided_on, settings.review_days)


def outcome_due(review_held_on: dt.date, settings: Settings = DEFAULTS) -> dt.date:
    return add_working_days(review_held_on, settings.outcome_days)


def overdue(due: dt.date, done_on: dt.date | None, *, today: dt.date) -> bool:
    """A step not done by its due date is overdue from the next day."""
    return done_on is None and today > due


@dataclass(frozen=True)
class Step:
    name: str
    due: dt.date
    done_on: dt.date | None

    def overdue(self, today: dt.date) -> bool:
        return overdue(self.due, self.done_on, today=today)


def steps(*, received_on: dt.date, decision: str | None, decided_on: dt.date | None,
          review_held_on: dt.date | None, outcome_sent_on: dt.date | None,
          settings: Settings = DEFAULTS) -> list[Step]:
    """The clocks that run for an application: the decision; after a `met` decision the review; after
    the review (or a `not_met` decision: the applicant is told that too) the outcome sent."""
    result = [Step("Threshold decision", decision_due(received_on, settings), decided_on)]
    if decision == "met" and decided_on is not None:
        result.append(Step("Review held", review_due(decided_on, settings), review_held_on))
        if review_held_on is not None:
            result.append(Step("Outcome sent", outcome_due(review_held_on, settings), outcome_sent_on))
    elif decision == "not_met" and decided_on is not None:
        result.append(Step("Outcome sent", outcome_due(decided_on, settings), outcome_sent_on))
    return result


# --- the yearly publication --------------------------------------------------------------------


class BadYear(ValueError):
    pass


def financial_year(text: str) -> tuple[dt.date, dt.date]:
    """`2025/26` -> 1 April 2025 to 31 March 2026."""
    parts = text.strip().split("/")
    if (len(parts) != 2 or not (parts[0].isdigit() and len(parts[0]) == 4)
            or not (parts[1].isdigit() and len(parts[1]) == 2)
            or (int(parts[0]) + 1) % 100 != int(parts[1])):
        raise BadYear(f"Enter the year as a financial year, like 2025/26, not {text!r}")
    first = int(parts[0])
    return dt.date(first, 4, 1), dt.date(first + 1, 3, 31)


def year_of(day: dt.date) -> str:
    first = day.year if day.month >= 4 else day.year - 1
    return f"{first}/{(first + 1) % 100:02d}"


@dataclass(frozen=True)
class Application:
    """What the figures need of an application."""

    received_on: dt.date
    decision: str | None = None  # "met", "not_met" or None
    decided_on: dt.date | None = None
    review_held_on: dt.date | None = None
    recommendations: int = 0
    appeal_received_on: dt.date | None = None
    appeal_upheld: bool = False


FIGURE_KEYS = ("applications", "threshold_not_met", "undecided", "reviews_held",
               "reviews_with_recommendations", "decided_late", "appeals", "appeals_upheld")


def figures(applications: Sequence[Application], *, year: str, as_of: dt.date,
            settings: Settings = DEFAULTS) -> dict[str, object]:
    """The yearly publication (section 104(10)), keys in the spec's order."""
    start, end = financial_year(year)
    received = [a for a in applications if start <= a.received_on <= end]
    appealed = [a for a in applications if a.appeal_received_on and start <= a.appeal_received_on <= end]

    def late(a: Application) -> bool:
        due = decision_due(a.received_on, settings)
        if a.decision is None or a.decided_on is None:
            return due < as_of
        return a.decided_on > due

    counts = {
        "applications": len(received),
        "threshold_not_met": sum(a.decision == "not_met" for a in received),
        "undecided": sum(a.decision is None for a in received),
        "reviews_held": sum(a.review_held_on is not None for a in received),
        "reviews_with_recommendations": sum(a.review_held_on is not None and a.recommendations > 0
                                            for a in received),
        "decided_late": sum(late(a) for a in received),
        "appeals": len(appealed),
        "appeals_upheld": sum(a.appeal_upheld for a in appealed),
    }
    return {"year": year, "from": start.isoformat(), "to": end.isoformat(), "as_of": as_of.isoformat(),
            **counts}


def suppressed(published: dict[str, object]) -> dict[str, object]:
    """Each count from 1 to 4 shown as "<5" (measures.md)."""
    return {k: ("<5" if k in FIGURE_KEYS and isinstance(v, int) and 1 <= v <= 4 else v)
            for k, v in published.items()}
