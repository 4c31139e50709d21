"""The DASH risk identification checklist and the HRDA referral criteria (spec: dash.md).

Pure functions over plain values: no Flask, no database. The counts the
criteria need (domestic abuse incidents as victim within the window, days
since the victim's previous HRDA referral) are computed elsewhere
(casework.risk.repeats) and passed in.

Scoring: the score is the number of "yes" answers; "not known" counts as no.
The risk level follows configurable bands (DASH_HIGH_FROM, DASH_MEDIUM_FROM;
defaults high 14+, medium 10-13, standard 9 or fewer). Professional judgement
may raise the level to high, with a written reason; it never lowers a level.

A checklist may be saved half-filled as a draft: `unanswered` says which
questions still need an answer. A draft's score can only grow as it is
completed, so "visible high risk" found on a draft still holds once complete.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# The 24 topics of the SafeLives DASH RIC, in the form's order, as form labels.
QUESTIONS: Mapping[int, str] = MappingProxyType({
    1: "The current incident caused an injury",
    2: "The victim is very frightened",
    3: "What the victim fears (further injury or violence, to whom)",
    4: "The victim is isolated from family or friends by the abuser",
    5: "The victim feels depressed or has suicidal thoughts",
    6: "Separation, or an attempt to separate, within the past year",
    7: "Conflict over contact with children",
    8: "The abuser constantly texts, calls, contacts, follows, stalks or harasses",
    9: "Pregnancy, or a baby born in the last 18 months",
    10: "The abuse is happening more often",
    11: "The abuse is getting worse",
    12: "The abuser tries to control everything or is excessively jealous",
    13: "Weapons or objects used to hurt the victim",
    14: "Threats to kill the victim or someone else, believed",
    15: "Strangling, choking, suffocating or drowning, attempted or done",
    16: "Sexual abuse, or sexual remarks or acts that degrade or hurt",
    17: "Another person has threatened the victim or is feared",
    18: "The abuser is known to have hurt anyone else (children, relatives, previous partners, others)",
    19: "The abuser has mistreated an animal or family pet",
    20: "Financial issues: dependence on the abuser, the abuser's recent job loss",
    21: "The abuser's problems in the past year with drugs, alcohol or mental health",
    22: "The abuser has threatened or attempted suicide",
    23: "The abuser has broken bail, an injunction or an agreed contact arrangement",
    24: "The abuser has a criminal history or has been in trouble with the police",
})
QUESTION_COUNT = len(QUESTIONS)

DEFAULT_HIGH_FROM = 14
DEFAULT_MEDIUM_FROM = 10
DEFAULT_ESCALATION_INCIDENTS = 3
# Measure HRDA1: an earlier referral dated from d - 365 to d - 1 makes referral d a repeat.
REPEAT_WINDOW_DAYS = 365


class DashError(ValueError):
    """A checklist, judgement or setting that the rules cannot accept; the message says why."""


class Answer(str, enum.Enum):
    YES = "yes"
    NO = "no"
    NOT_KNOWN = "not_known"

    @property
    def label(self) -> str:
        return {"yes": "Yes", "no": "No", "not_known": "Not known"}[self.value]


class RiskLevel(str, enum.Enum):
    STANDARD = "standard"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return list(RiskLevel).index(self)

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Criterion(str, enum.Enum):
    """Why an HRDA referral is proposed (values match `models.vocab.HrdaCriteria` where it has them)."""

    VISIBLE_HIGH_RISK = "dash"
    PROFESSIONAL_JUDGEMENT = "professional_judgement"
    ESCALATION = "escalation"
    REPEAT = "repeat"

    @property
    def label(self) -> str:
        return {
            "dash": "Visible high risk (DASH)",
            "professional_judgement": "Professional judgement",
            "escalation": "Potential escalation",
            "repeat": "Repeat referral",
        }[self.value]


# --- checklists -----------------------------------------------------------------------------


def parse_answer(value: Answer | str | None, *, question: int | None = None) -> Answer | None:
    """`yes`, `no`, `not known` (any case, `not_known` too) or an Answer; None or "" is unanswered."""
    if value is None or isinstance(value, Answer):
        return value
    if not isinstance(value, str):
        raise DashError(f"{_q(question)}answers are text, not {type(value).__name__}")
    text = " ".join(value.replace("_", " ").split()).lower()
    if not text:
        return None
    for answer in Answer:
        if text == answer.value.replace("_", " "):
            return answer
    raise DashError(f"{_q(question)}{value!r} is not an answer: use yes, no or not known")


def _q(question: int | None) -> str:
    return f"question {question}: " if question is not None else ""


def _question_number(key: int | str) -> int:
    if isinstance(key, bool) or not isinstance(key, (int, str)):
        raise DashError(f"{key!r} is not a DASH question number")
    if isinstance(key, str):
        if not key.strip().isdigit():
            raise DashError(f"{key!r} is not a DASH question number")
        key = int(key)
    if key not in QUESTIONS:
        raise DashError(f"there is no DASH question {key}: the questions are numbered 1 to {QUESTION_COUNT}")
    return key


@dataclass(frozen=True)
class Checklist:
    """Answers (unanswered questions are absent) and notes, by question number."""

    answers: Mapping[int, Answer] = field(default_factory=dict)
    notes: Mapping[int, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, answers: Mapping[Any, Answer | str | None],
              notes: Mapping[Any, str | None] | None = None) -> Checklist:
        """From form-like input: keys 1..24 (or their digits), answers as `parse_answer` takes them."""
        parsed: dict[int, Answer] = {}
        for key, value in answers.items():
            number = _question_number(key)
            answer = parse_answer(value, question=number)
            if answer is not None:
                parsed[number] = answer
        kept: dict[int, str] = {}
        for key, note in (notes or {}).items():
            number = _question_number(key)
            if note is not None and not isinstance(note, str):
                raise DashError(f"question {number}: notes are text, not {type(note).__name__}")
            if note and note.strip():
                kept[number] = note.strip()
        return cls(answers=dict(sorted(parsed.items())), notes=dict(sorted(kept.items())))

    def unanswered(self) -> list[int]:
        """The questions still without an answer, in order."""
        return [n for n in QUESTIONS if n not in self.answers]

    @property
    def complete(self) -> bool:
        return not self.unanswered()

    @property
    def score(self) -> int:
        """The number of "yes" answers; "not known" counts as no."""
        return sum(1 for a in self.answers.values() if a is Answer.YES)


def unanswered(checklist: Checklist) -> list[int]:
    return checklist.unanswered()


def is_complete(checklist: Checklist) -> bool:
    return checklist.complete


# --- risk levels ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bands:
    """Scores from `high_from` are high, from `medium_from` medium, below it standard."""

    high_from: int = DEFAULT_HIGH_FROM
    medium_from: int = DEFAULT_MEDIUM_FROM

    def __post_init__(self) -> None:
        for name in ("high_from", "medium_from"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise DashError(f"the DASH band {name} must be a whole number, not {value!r}")
        if not 1 <= self.medium_from <= self.high_from <= QUESTION_COUNT:
            raise DashError(
                f"the DASH bands must satisfy 1 <= medium from ({self.medium_from}) <= high from "
                f"({self.high_from}) <= {QUESTION_COUNT}"
            )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Bands:
        """From the app's configuration (DASH_HIGH_FROM, DASH_MEDIUM_FROM), defaults where unset."""
        return cls(high_from=config.get("DASH_HIGH_FROM", DEFAULT_HIGH_FROM),
                   medium_from=config.get("DASH_MEDIUM_FROM", DEFAULT_MEDIUM_FROM))

    def level(self, score: int) -> RiskLevel:
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= QUESTION_COUNT:
            raise DashError(f"a DASH score is a whole number from 0 to {QUESTION_COUNT}, not {score!r}")
        if score >= self.high_from:
            return RiskLevel.HIGH
        if score >= self.medium_from:
            return RiskLevel.MEDIUM
        return RiskLevel.STANDARD


DEFAULT_BANDS = Bands()


@dataclass(frozen=True)
class Assessment:
    score: int
    scored_level: RiskLevel  # from the score alone
    level: RiskLevel  # after professional judgement
    judged_high: bool  # the practitioner judged the risk high (with `reason`)
    reason: str | None
    complete: bool
    unanswered: tuple[int, ...]
    bands: Bands = DEFAULT_BANDS

    @property
    def raised_by_judgement(self) -> bool:
        return self.level is not self.scored_level


def assess(
    checklist: Checklist,
    *,
    bands: Bands = DEFAULT_BANDS,
    judgement: RiskLevel | str | None = None,
    reason: str | None = None,
) -> Assessment:
    """Score a checklist and apply the practitioner's professional judgement, if any.

    `judgement` is the level the practitioner judges right. Judging the risk high needs a
    written `reason` and sets the level to high. A judgement can never lower the scored
    level (in particular a score in the high band stays high), and raising to anything
    but high is not a judgement the rules know: both are refused with a DashError.
    """
    score = checklist.score
    scored = bands.level(score)
    reason = reason.strip() if isinstance(reason, str) and reason.strip() else None
    judged = _parse_level(judgement)
    level = scored
    if judged is not None:
        if judged.rank < scored.rank:
            if scored is RiskLevel.HIGH:
                raise DashError(
                    f"professional judgement never lowers a score of {bands.high_from} or more: "
                    f"this checklist scores {score}, so the risk stays high"
                )
            raise DashError(
                f"professional judgement can raise the risk to high but never lower it: "
                f"this checklist scores {score} ({scored.value})"
            )
        if judged is RiskLevel.HIGH:
            if reason is None:
                raise DashError("professional judgement that the risk is high needs a written reason")
            level = RiskLevel.HIGH
        elif judged is not scored:
            raise DashError(f"professional judgement can only raise the risk to high, not to {judged.value}")
    return Assessment(score=score, scored_level=scored, level=level, judged_high=judged is RiskLevel.HIGH,
                      reason=reason if judged is RiskLevel.HIGH else None,
                      complete=checklist.complete, unanswered=tuple(checklist.unanswered()), bands=bands)


def _parse_level(value: RiskLevel | str | None) -> RiskLevel | None:
    if value is None or isinstance(value, RiskLevel):
        return value
    try:
        return RiskLevel(str(value).strip().lower())
    except ValueError:
        raise DashError(f"{value!r} is not a risk level: use standard, medium or high") from None


# --- HRDA referral criteria -----------------------------------------------------------------


def is_potential_escalation(da_incidents_in_window: int, *, threshold: int = DEFAULT_ESCALATION_INCIDENTS) -> bool:
    """`threshold` or more domestic abuse incidents as victim within the window (counted elsewhere)."""
    _count("the number of domestic abuse incidents", da_incidents_in_window)
    _count("the escalation threshold", threshold, minimum=1)
    return da_incidents_in_window >= threshold


def is_repeat_referral(days_since_previous_hrda: int | None, *, window_days: int = REPEAT_WINDOW_DAYS) -> bool:
    """Whether the victim's previous HRDA referral is dated within the `window_days` days before
    this one (d - 365 to d - 1, as measure HRDA1): 365 days before counts, 366 does not, and a
    referral the same day is not an earlier one. None: no previous HRDA referral."""
    if days_since_previous_hrda is None:
        return False
    _count("the days since the previous HRDA referral", days_since_previous_hrda)
    _count("the repeat window", window_days, minimum=1)
    return 1 <= days_since_previous_hrda <= window_days


def _count(what: str, value: int, *, minimum: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DashError(f"{what} must be a whole number of at least {minimum}, not {value!r}")


@dataclass(frozen=True)
class ReferralProposal:
    """The criteria that hold, in the spec's order; a referral is proposed when any does."""

    criteria: tuple[Criterion, ...]
    reasons: tuple[str, ...]  # one sentence a criterion, for the caseworker

    @property
    def proposed(self) -> bool:
        return bool(self.criteria)


def propose_hrda_referral(
    *,
    assessment: Assessment | None,
    da_incidents_in_window: int,
    days_since_previous_hrda: int | None,
    escalation_incidents: int = DEFAULT_ESCALATION_INCIDENTS,
    escalation_window_days: int = 365,
    repeat_window_days: int = REPEAT_WINDOW_DAYS,
) -> ReferralProposal:
    """Which HRDA referral criteria hold (dash.md): visible high risk (the score is in the high
    band), professional judgement (the practitioner judged the risk high), potential escalation
    (`escalation_incidents` or more DA incidents as victim within the window, whatever the
    score), repeat (previous HRDA referral within the 365 days before, whatever the score).

    `assessment` may be None where there is no checklist (a new incident against a victim
    referred in the past year still proposes a repeat referral).
    """
    criteria: list[Criterion] = []
    reasons: list[str] = []
    if assessment is not None and assessment.scored_level is RiskLevel.HIGH:
        criteria.append(Criterion.VISIBLE_HIGH_RISK)
        reasons.append(f"visible high risk: a DASH score of {assessment.score} "
                       f"({assessment.bands.high_from} or more)")
    if assessment is not None and assessment.judged_high:
        criteria.append(Criterion.PROFESSIONAL_JUDGEMENT)
        reasons.append(f"professional judgement that the risk is high: {assessment.reason}")
    if is_potential_escalation(da_incidents_in_window, threshold=escalation_incidents):
        criteria.append(Criterion.ESCALATION)
        reasons.append(f"potential escalation: {da_incidents_in_window} domestic abuse incidents as victim "
                       f"within {escalation_window_days} days ({escalation_incidents} or more)")
    if is_repeat_referral(days_since_previous_hrda, window_days=repeat_window_days):
        criteria.append(Criterion.REPEAT)
        reasons.append(f"repeat: the previous HRDA referral was {days_since_previous_hrda} days before "
                       f"(within {repeat_window_days})")
    return ReferralProposal(criteria=tuple(criteria), reasons=tuple(reasons))
