"""Finding people: by name (exactly, after normalisation, or by sound), date of birth, postcode or
the user's agency's own reference, through the blind indexes only.

Results the user may open are shown in full; the others as identities only
(name, date of birth, gender, which agencies know them), and a restricted
person the user is not named on only as "a restricted record may match; ask
its owner" (`services.identity`). Every search is audited, its terms encrypted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_, select

from .. import crypto, policy
from ..db import db
from ..models import Person, RecordKind, SourceRef
from . import audit, identity

# Ranks of a name match, best first.
FULL_NAME, SURNAME, SOUNDS_LIKE = 0, 1, 2
RANK_LABELS = {FULL_NAME: "Same name", SURNAME: "Same surname", SOUNDS_LIKE: "Sounds like"}
SORTS = ("match", "newest", "oldest")


class SearchError(Exception):
    """Search terms that cannot be used: `field` names the box at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SearchTerms:
    surname: str | None = None
    forenames: str | None = None
    date_of_birth: dt.date | None = None
    postcode: str | None = None
    reference: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.surname or self.date_of_birth or self.postcode or self.reference)

    def described(self) -> str:
        """The terms as the audit trail keeps them (encrypted there)."""
        parts = [f"{label}: {value}" for label, value in (
            ("surname", self.surname), ("forenames", self.forenames),
            ("date of birth", self.date_of_birth.isoformat() if self.date_of_birth else None),
            ("postcode", self.postcode), ("reference", self.reference)) if value]
        return "; ".join(parts)


@dataclass(frozen=True)
class Result:
    """One row of the results: `person` when the user may open it, else `match` (identity only)."""

    rank: int | None
    person: Person | None
    match: policy.IdentityMatch | policy.RestrictedMatch | None

    @property
    def rank_label(self) -> str:
        return RANK_LABELS.get(self.rank, "") if self.rank is not None else ""


@dataclass
class SearchResults:
    rows: list[Result]
    total: int
    page: int
    size: int
    sort: str

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def clean_terms(*, surname: str | None, forenames: str | None, date_of_birth: dt.date | None,
                postcode: str | None, reference: str | None) -> SearchTerms:
    """Trimmed terms with the postcode normalised; SearchError when they cannot be searched."""
    surname, forenames, postcode, reference = ((v or "").strip() or None for v in (surname, forenames, postcode,
                                                                                   reference))
    if forenames and not surname:
        raise SearchError("Enter a surname to search by name", "surname")
    if surname and not crypto.normalise_name(surname):
        raise SearchError("Enter a surname with at least one letter", "surname")
    if postcode:
        normal = crypto.normalise_postcode(postcode)
        if normal is None:
            raise SearchError("Enter a real postcode, like DT1 1XJ", "postcode")
        postcode = normal
    terms = SearchTerms(surname=surname, forenames=forenames, date_of_birth=date_of_birth, postcode=postcode,
                        reference=reference)
    if terms.empty:
        raise SearchError("Enter a name, date of birth, postcode or reference", "surname")
    return terms


def _conditions(terms: SearchTerms, viewer: Any, ring: crypto.Keyring) -> tuple[list[Any], Any]:
    conditions: list[Any] = [Person.merged_into_id.is_(None)]
    rank: Any = None
    if terms.surname:
        surname = crypto.index_of(ring, "surname", terms.surname)
        sounds = crypto.index_of(ring, "phonetic", terms.surname)
        full = crypto.full_name_index(ring, terms.surname, terms.forenames) if terms.forenames else None
        alternatives = [Person.bi_surname == surname, Person.bi_phonetic == sounds]
        whens = []
        if full is not None:
            alternatives.append(Person.bi_full_name == full)
            whens.append((Person.bi_full_name == full, FULL_NAME))
        whens.append((Person.bi_surname == surname, SURNAME))
        conditions.append(or_(*alternatives))
        rank = case(*whens, else_=SOUNDS_LIKE)
    if terms.date_of_birth:
        conditions.append(Person.bi_dob == crypto.index_of(ring, "dob", terms.date_of_birth))
    if terms.postcode:
        conditions.append(Person.bi_postcode == crypto.index_of(ring, "postcode", terms.postcode))
    if terms.reference:
        conditions.append(Person.id.in_(select(SourceRef.record_id).where(
            SourceRef.agency_id == viewer.agency_id, SourceRef.kind == RecordKind.PERSON,
            SourceRef.ref == terms.reference)))
    return conditions, rank


def search(*, viewer: Any, terms: SearchTerms, page: int = 1, size: int = 25, sort: str = "match") -> SearchResults:
    """One page of the people matching every term given, best match first (or newest / oldest
    record first), as `viewer` may see them; the search is audited with its result count."""
    if not policy.can(viewer, policy.Permission.SEARCH_PEOPLE):
        raise SearchError("You cannot search people")
    sort = sort if sort in SORTS else "match"
    conditions, rank = _conditions(terms, viewer, crypto.current())
    total = db.session.scalar(select(func.count()).select_from(Person).where(*conditions)) or 0
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    order: list[Any] = []
    if sort == "match" and rank is not None:
        order.append(rank)
    order.append(Person.created_at.asc() if sort == "oldest" else Person.created_at.desc())
    order.append(Person.id)
    columns: list[Any] = [Person, rank if rank is not None else None]
    query = select(*[c for c in columns if c is not None]).where(*conditions).order_by(*order)
    found = db.session.execute(query.limit(size).offset((page - 1) * size)).all()
    people = [row[0] for row in found]
    ranks = {row[0].id: (row[1] if rank is not None else None) for row in found}
    visible = set(db.session.scalars(select(Person.id).where(
        Person.id.in_([p.id for p in people]), policy.visible_filter(viewer, Person)))) if people else set()
    hidden = [p for p in people if p.id not in visible]
    matches = dict(zip([p.id for p in hidden], identity.identity_matches(viewer=viewer, people=hidden), strict=True))
    rows = []
    for p in people:
        match = matches.get(p.id)
        # A restricted match says nothing of how it matched.
        shown_rank = None if isinstance(match, policy.RestrictedMatch) else ranks[p.id]
        rows.append(Result(rank=shown_rank, person=p if p.id in visible else None, match=match))
    audit.record_search(kind="person", terms=terms.described(), result_count=total)
    return SearchResults(rows=rows, total=total, page=page, size=size, sort=sort)
