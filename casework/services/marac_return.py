"""The quarterly MARAC data return SafeLives asks of every MARAC (docs/marac-return.md): the HRDA
cases heard in a quarter and what is known of their victims and perpetrators, with SafeLives'
benchmarks beside them. Only counts leave this module: no person is named."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select

from ..db import db
from ..measures import export
from ..measures import marac as rules
from ..models import (
    Agency,
    AgencyKind,
    CasePerson,
    Gender,
    Meeting,
    MeetingCase,
    PartyRole,
    Person,
    Referral,
    ReferralType,
)
from ..models.base import utcnow
from ..risk import repeats
from ..words import LONDON

FORMATS = ("json", "csv", "xlsx")


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    count: int
    unknown: int | None = None  # cases where it is not known (None: always known)
    benchmark: str = ""  # SafeLives' level, in words ("" when there is none)
    share: Decimal | None = None  # of the cases heard
    within: bool | None = None  # whether the share (or count) meets the benchmark

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "count": self.count, "unknown": self.unknown,
                "share": None if self.share is None else str(self.share), "benchmark": self.benchmark or None,
                "within_benchmark": self.within}


@dataclass
class MaracReturn:
    quarter: rules.Quarter
    made_at: dt.datetime
    figures: list[Figure] = field(default_factory=list)
    by_agency_kind: list[Figure] = field(default_factory=list)

    def figure(self, key: str) -> Figure:
        return next(f for f in [*self.figures, *self.by_agency_kind] if f.key == key)


def _bounds(quarter: rules.Quarter) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(quarter.first, dt.time(), LONDON).astimezone(dt.UTC)
    end = dt.datetime.combine(quarter.next.first, dt.time(), LONDON).astimezone(dt.UTC)
    return start, end


def _share(count: int, of: int) -> Decimal | None:
    return (Decimal(count) / of).quantize(Decimal("0.001"), ROUND_HALF_UP) if of else None


def _against(key: str, count: int, cases: int) -> tuple[str, Decimal | None, bool | None]:
    share = _share(count, cases)
    benchmark = rules.BENCHMARKS.get(key)
    if benchmark is None:
        return "", share, None
    within = None if share is None else (share >= benchmark.low if benchmark.high is None
                                         else benchmark.low <= share <= benchmark.high)
    return benchmark.text(), share, within


def figures(quarter: rules.Quarter, *, now: dt.datetime | None = None) -> MaracReturn:
    """The return for `quarter`: every HRDA case listed at a meeting that started in the quarter
    (London dates) and by `now` (default: now), once per listing."""
    now = now or utcnow()
    start, end = _bounds(quarter)
    r = Referral.__table__
    rows = db.session.execute(
        select(Referral.id, Referral.person_id, Referral.case_id, Referral.children_in_household,
               Meeting.starts_at, Agency.kind, repeats.is_repeat_referral(r).label("repeat"))
        .select_from(MeetingCase)
        .join(Meeting, Meeting.id == MeetingCase.meeting_id)
        .join(Referral, Referral.id == MeetingCase.referral_id)
        .join(Agency, Agency.id == Referral.owner_agency_id)
        .where(Referral.type == ReferralType.HRDA, Meeting.starts_at >= start, Meeting.starts_at < end,
               Meeting.starts_at <= now)).all()
    heard_on = {row.id: row.starts_at.astimezone(LONDON).date() for row in rows}
    victims = {p.id: p for p in db.session.scalars(select(Person).where(
        Person.id.in_({row.person_id for row in rows})))} if rows else {}
    perpetrators: dict[Any, list[dt.date | None]] = {}
    case_ids = {row.case_id for row in rows if row.case_id is not None}
    person: Person | None
    if case_ids:
        for case_id, person in db.session.execute(
                select(CasePerson.case_id, Person).join(Person, Person.id == CasePerson.person_id)
                .where(CasePerson.case_id.in_(case_ids), CasePerson.role == PartyRole.PERPETRATOR)):
            perpetrators.setdefault(case_id, []).append(person.date_of_birth)

    counts: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    kinds: Counter[AgencyKind] = Counter()

    def tally(key: str, answer: bool | None) -> None:
        if answer is None:
            unknown[key] += 1
        elif answer:
            counts[key] += 1

    for row in rows:
        day = heard_on[row.id]
        person = victims.get(row.person_id)
        counts["cases"] += 1
        counts["repeats"] += bool(row.repeat)
        kinds[row.kind] += 1
        gender = person.gender if person else None
        tally("male", None if gender in (None, Gender.UNKNOWN) else gender is Gender.MALE)
        born = person.date_of_birth if person else None
        tally("aged_16_17", None if born is None else 16 <= rules.age_on(born, day) < 18)
        tally("minoritised", rules.black_and_minoritised(person.ethnicity if person else None))
        tally("disabled", rules.disabled(person.disability if person else None))
        tally("lgbt", rules.lgbt(person.sexual_orientation if person else None,
                                 person.gender_identity if person else None))
        ages = [rules.age_on(b, day) for b in perpetrators.get(row.case_id, []) if b is not None]
        tally("perpetrator_under_18", True if any(a < 18 for a in ages) else (False if ages else None))
        tally("children", row.children_in_household)

    cases = counts["cases"]
    config = current_app.config
    expected = rules.expected_cases(config.get("MARAC_ADULT_FEMALE_POPULATION"))
    result = MaracReturn(quarter=quarter, made_at=now)
    result.figures.append(Figure(
        "cases", "Cases heard", cases,
        benchmark=(f"{expected} a quarter (40 a year per 10,000 adult women)" if expected is not None
                   else "40 a year per 10,000 adult women (set MARAC_ADULT_FEMALE_POPULATION)"),
        within=None if expected is None else cases >= expected))
    minoritised_share = config.get("MARAC_MINORITISED_POPULATION_SHARE")
    labels = [("repeats", "Repeat cases (HRDA1's rule)"), ("male", "Victims who are male"),
              ("aged_16_17", "Victims aged 16 or 17"), ("minoritised", "Victims from Black and minoritised communities"),
              ("disabled", "Victims who are disabled"), ("lgbt", "Victims who are LGBT+"),
              ("perpetrator_under_18", "Cases with a perpetrator under 18"),
              ("children", "Cases with children in the victim's household")]
    for key, label in labels:
        benchmark, share, within = _against(key, counts[key], cases)
        if key == "minoritised" and minoritised_share is not None:
            level = Decimal(str(minoritised_share))
            benchmark = f"{(level * 100).normalize():f}% (the local population's share)"
            within = None if share is None else share >= level
        result.figures.append(Figure(key, label, counts[key], None if key == "repeats" else unknown[key],
                                     benchmark, share, within))
    police = kinds[AgencyKind.POLICE]
    for kind in AgencyKind:
        benchmark, share, within = _against("police", police, cases) if kind is AgencyKind.POLICE else ("", None, None)
        result.by_agency_kind.append(Figure(f"referrals_{kind.value}", f"Referrals from {kind.label.lower()}",
                                            kinds[kind], None, benchmark, _share(kinds[kind], cases), within))
    return result


# --- output ------------------------------------------------------------------------------------


def as_json(result: MaracReturn) -> str:
    q = result.quarter
    return json.dumps({"quarter": q.name, "from": q.first.isoformat(), "to": q.last.isoformat(),
                       "made_at": result.made_at.isoformat(timespec="seconds"),
                       "figures": [f.as_dict() for f in result.figures],
                       "referrals_by_agency_type": [f.as_dict() for f in result.by_agency_kind]}, indent=2)


def tables(result: MaracReturn) -> list[export.Table]:
    columns = ["Figure", "Count", "Share of cases heard", "Not known", "SafeLives benchmark", "Meets the benchmark"]

    def row(f: Figure) -> list[export.Cell]:
        return [f.label, f.count, None if f.share is None else float(f.share), f.unknown, f.benchmark,
                None if f.within is None else ("yes" if f.within else "no")]

    return [export.Table(f"MARAC {result.quarter.name}", columns,
                         [row(f) for f in [*result.figures, *result.by_agency_kind]])]


def render(result: MaracReturn, output_format: str) -> bytes:
    """The return as a file: json, csv or xlsx."""
    if output_format == "json":
        return (as_json(result) + "\n").encode("utf-8")
    writer = {"csv": export.to_csv, "xlsx": export.to_xlsx}[output_format]
    return writer(tables(result))
