"""`asb_case_reviews.csv` of the data exchange (spec: asb-case-review.md, Data exchange): an
agency's log of ASB case review applications, one row per application, imported beside the other
files and exported with `threshold_by_rule` computed from every agency's records.

Small (a partnership has tens of applications a year, thousands at most): read and written through
the ORM after the other files, in the import's transaction. An application's ref is its
`review_ref`: a row whose ref the agency already holds updates that application (imported or not);
a ref another agency's application holds is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..db import db
from ..models import Agency, Area, AsbReview, Person, RecordKind, SourceRef, ThresholdDecision
from .bulk import generated_id
from .reader import Problems, Row, read_rows
from .schema import Column, FileSpec, Problem, choice, date, flag, ref, text, whole

DATES_IN_ORDER = ("received_on", "decided_on", "review_held_on", "outcome_sent_on")


def _check(row: dict[str, Any]) -> Iterator[Problem]:
    if (row["person_ref"] is None) == (row["area"] is None):
        yield "person_ref", "give exactly one of person_ref (a personal application) and area (a community one)"
    if row["decision"] is not None and row["decided_on"] is None:
        yield "decided_on", "required with a decision"
    if row["review_held_on"] is not None and row["decision"] is not ThresholdDecision.MET:
        yield "review_held_on", "only when the decision is met"
    given = [(name, row[name]) for name in DATES_IN_ORDER if row[name] is not None]
    for i, (later, later_day) in enumerate(given):
        for earlier, earlier_day in given[:i]:
            if later_day < earlier_day:
                yield later, f"{later_day} is before {earlier} {earlier_day}"
                break
    if row["decided_on"] and row["appeal_received_on"] and row["appeal_received_on"] < row["decided_on"]:
        yield "appeal_received_on", f"{row['appeal_received_on']} is before decided_on {row['decided_on']}"


ASB_CASE_REVIEWS = FileSpec("asb_case_reviews.csv", (
    Column("review_ref", ref, required=True),
    Column("person_ref", ref),
    Column("area", text),
    Column("received_on", date, required=True),
    Column("decision", choice(ThresholdDecision, "a decision")),
    Column("decided_on", date),
    Column("review_held_on", date),
    Column("recommendations", whole(0), blank=0),
    Column("outcome_sent_on", date),
    Column("appeal_received_on", date),
    Column("appeal_upheld", flag),
    Column("threshold_by_rule", flag),  # written by export; ignored by import
), ref_column="review_ref", check=_check)


def _person_ids(agency: Agency, refs: set[str]) -> dict[str, uuid.UUID]:
    """The people the agency's refs name (after the import's people are written), and `casework:<id>`
    refs naming a person that exists."""
    found = dict(db.session.execute(select(SourceRef.ref, SourceRef.record_id).where(
        SourceRef.agency_id == agency.id, SourceRef.kind == RecordKind.PERSON, SourceRef.ref.in_(list(refs)))).all())
    generated = {r: generated_id(r) for r in refs - set(found)}
    wanted = {i for i in generated.values() if i is not None}
    existing = set(db.session.scalars(select(Person.id).where(Person.id.in_(list(wanted))))) if wanted else set()
    found.update({r: i for r, i in generated.items() if i in existing})
    return found


def check(files: dict[str, Path], *, agency: Agency, problems: Problems) -> list[Row]:
    """The file's rows, checked: every cell and row rule, a ref given twice or held by another
    agency's application, and a `person_ref` or `area` that exists neither in the data set nor in
    the system. Problems go to `problems`; the rows are returned for `write`."""
    path = files.get(ASB_CASE_REVIEWS.name)
    if path is None:
        return []
    rows = list(read_rows(path, ASB_CASE_REVIEWS, problems))
    refs: set[str] = set()
    for row in rows:
        review_ref = row.values["review_ref"]
        if review_ref in refs:
            problems.add(ASB_CASE_REVIEWS.name, row.line, "review_ref", f"{review_ref} is given more than once")
        refs.add(review_ref)
    others = set(db.session.scalars(select(AsbReview.review_ref).where(
        AsbReview.review_ref.in_(list(refs)), AsbReview.receiving_agency_id != agency.id))) if refs else set()
    people = _dataset_people(files, problems)
    known_people = _person_ids(agency, {r.values["person_ref"] for r in rows if r.values["person_ref"]} - people)
    areas = set(db.session.scalars(select(Area.name))) | _dataset_areas(files)
    for row in rows:
        v = row.values
        if v["review_ref"] in others:
            problems.add(ASB_CASE_REVIEWS.name, row.line, "review_ref",
                         f"{v['review_ref']} is another agency's application")
        if v["person_ref"] and v["person_ref"] not in people and v["person_ref"] not in known_people:
            problems.add(ASB_CASE_REVIEWS.name, row.line, "person_ref",
                         f"no person {v['person_ref']} in people.csv or the agency's records")
        if v["area"] and v["area"] not in areas:
            problems.add(ASB_CASE_REVIEWS.name, row.line, "area", f"no area called {v['area']!r} in areas.csv or the system")
    return rows


def _dataset_people(files: dict[str, Path], problems: Problems) -> set[str]:
    from .schema import PEOPLE

    path = files.get(PEOPLE.name)
    if path is None:
        return set()
    return {row.values["person_ref"] for row in read_rows(path, PEOPLE, Problems(), check_rows=False)
            if row.values.get("person_ref")}


def _dataset_areas(files: dict[str, Path]) -> set[str]:
    from .schema import AREAS

    path = files.get(AREAS.name)
    if path is None:
        return set()
    return {row.values["area"] for row in read_rows(path, AREAS, Problems(), check_rows=False) if row.values.get("area")}


FIELDS = ("received_on", "decided_on", "review_held_on", "outcome_sent_on", "appeal_received_on")


def write(rows: list[Row], *, agency: Agency) -> tuple[int, int, int]:
    """Write the checked rows (after the other files): (created, updated, unchanged)."""
    if not rows:
        return 0, 0, 0
    people = _person_ids(agency, {r.values["person_ref"] for r in rows if r.values["person_ref"]})
    areas = dict(db.session.execute(select(Area.name, Area.id)).all())
    existing = {r.review_ref: r for r in db.session.scalars(select(AsbReview).where(
        AsbReview.receiving_agency_id == agency.id,
        AsbReview.review_ref.in_([row.values["review_ref"] for row in rows])))}
    created = updated = unchanged = 0
    for row in rows:
        v = row.values
        values = {name: v[name] for name in FIELDS}
        values.update(person_id=people.get(v["person_ref"]) if v["person_ref"] else None,
                      area_id=areas.get(v["area"]) if v["area"] else None, decision=v["decision"],
                      appeal_upheld=v["appeal_upheld"])
        review = existing.get(v["review_ref"])
        if review is None:
            review = AsbReview(review_ref=v["review_ref"], receiving_agency_id=agency.id, imported=True, **values)
            review.imported_recommendations = v["recommendations"] or 0
            db.session.add(review)
            created += 1
            continue
        # An application recorded here keeps its own recommendations; the file's count is what the
        # agency's log says were made beyond them.
        values["imported_recommendations"] = max((v["recommendations"] or 0) - len(review.recommendations), 0)
        changed = {k: value for k, value in values.items() if getattr(review, k) != value}
        for k, value in changed.items():
            setattr(review, k, value)
        updated += bool(changed)
        unchanged += not changed
    db.session.flush()
    return created, updated, unchanged


def export_rows(agency: Agency | None, ref: Any, survivor: Any) -> tuple[list[list[Any]], set[uuid.UUID]]:
    """The rows of the agency's applications (every agency's when None) and the people they name."""
    from ..services import asb_reviews

    query = select(AsbReview)
    if agency is not None:
        query = query.where(AsbReview.receiving_agency_id == agency.id)
    rows, people = [], set()
    for review in db.session.scalars(query):
        person_id = survivor(review.person_id) if review.person_id else None
        if person_id is not None:
            people.add(person_id)
        rows.append([review.review_ref, ref(RecordKind.PERSON, person_id) if person_id else None,
                     review.area.name if review.area else None, review.received_on,
                     review.decision.value if review.decision else None, review.decided_on, review.review_held_on,
                     review.recommendation_count, review.outcome_sent_on, review.appeal_received_on,
                     review.appeal_upheld, asb_reviews.threshold(review).met])
    return rows, people
