"""A person's equality information (ethnicity, disability, sexual orientation, gender identity):
special category data, asked only with the person's agreement, sealed on `Person`, read and
recorded only by those `policy.can_see_equality` allows (docs/marac-return.md). Elsewhere it is
only counted (the MARAC return)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .. import policy
from ..db import db
from ..models import Person
from ..models.equality import ETHNICITY_LABELS, PREFER_NOT, Disability, GenderIdentity, SexualOrientation
from . import audit

FIELDS = ("ethnicity", "disability", "sexual_orientation", "gender_identity")
CHOICES: dict[str, dict[str, str]] = {
    "ethnicity": {**ETHNICITY_LABELS, PREFER_NOT: "Prefers not to say"},
    "disability": dict(Disability.choices()),
    "sexual_orientation": dict(SexualOrientation.choices()),
    "gender_identity": dict(GenderIdentity.choices()),
}
QUESTIONS = {"ethnicity": "ethnic group", "disability": "answer about disability",
             "sexual_orientation": "sexual orientation", "gender_identity": "answer about gender identity"}


class EqualityError(Exception):
    """What is wrong with the answers: every problem at once, as (field, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


class NotAllowed(Exception):
    """The user may not see this person's equality information (callers answer 404)."""


@dataclass(frozen=True)
class Shown:
    agreed_on: dt.date | None
    answers: list[tuple[str, str]]  # (question, the answer's words), answered questions only


def may_see(person: Person, viewer: Any) -> bool:
    return policy.can_see_equality(viewer, person)


def shown(person: Person, *, viewer: Any) -> Shown | None:
    """What `viewer` is shown (None: nothing, not even whether any was given)."""
    if not may_see(person, viewer):
        return None
    labels = {"ethnicity": "Ethnic group", "disability": "Disability", "sexual_orientation": "Sexual orientation",
              "gender_identity": "Gender identity the same as the sex registered at birth"}
    answers = [(labels[name], CHOICES[name].get(value, value)) for name in FIELDS
               if (value := getattr(person, name))]
    return Shown(person.equality_agreed_on, answers)


def record(person: Person, *, agreed: bool | None, agreed_on: dt.date | None, answers: dict[str, str | None],
           by: Any, today: dt.date) -> None:
    """Record the person's agreement and their answers (any may be left unanswered); without their
    agreement, nothing is kept (and what was kept before is removed)."""
    if not may_see(person, by):
        raise NotAllowed("Only the person's own agency records equality information")
    if agreed is None:
        raise EqualityError([("agreed", "Select whether the person agreed to give equality information")])
    if not agreed:
        person.equality_agreed_on = None
        for name in FIELDS:
            setattr(person, name, None)
        db.session.flush()
        audit.record("person.equality_withdrawn", user=by, record=person)
        return
    problems: list[tuple[str, str]] = []
    if agreed_on is None:
        problems.append(("agreed_on", "Enter the date the person agreed"))
    elif agreed_on > today:
        problems.append(("agreed_on", "The date the person agreed must be today or in the past"))
    values: dict[str, str | None] = {}
    for name in FIELDS:
        value = (answers.get(name) or "").strip() or None
        if value is not None and value not in CHOICES[name]:
            problems.append((name, f"Select the person's {QUESTIONS[name]} from the list"))
        values[name] = value
    if problems:
        raise EqualityError(problems)
    person.equality_agreed_on = agreed_on
    for name, value in values.items():
        setattr(person, name, value)
    db.session.flush()
    audit.record("person.equality", user=by, record=person,
                 details={"fields": [name for name, value in values.items() if value]})
