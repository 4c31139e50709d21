"""Finding people: by name (exactly, after normalisation, or by sound), date of birth, postcode or
the user's agency's own reference, through the blind indexes only.

Results the user may open are shown in full; the others as identities only
(name, date of birth, gender, which agencies know them). A restricted person
the user is not named on is never a result: a search by surname alone (with
or without forenames) adds "a restricted record may match; ask its owner",
which depends on the surname only (`services.identity.restricted_notices`),
so that no other term can confirm anything about them; a search adding a date
of birth, postcode or reference gives no such notice. Every search is
audited, its terms encrypted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select

from .. import crypto, policy
from ..db import db
from ..models import Person, RecordKind, SourceRef
from . import audit, identity

# Ranks of a name match, best first.
FULL_NAME, SURNAME, SOUNDS_LIKE = 0, 1, 2
RANK_LABELS = {FULL_NAME: "Same name", SURNAME: "Same surname", SOUNDS_LIKE: "Sounds like"}


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
    restricted: identity.RestrictedNotices = field(default_factory=identity.RestrictedNotices)

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


@dataclass(frozen=True)
class _Tier:
    """One rank of name match: the people in it are listed newest record first."""

    rank: int | None
    condition: Any  # the rows of this tier (with the other terms)
    within: Any  # rows of this tier and of the better ones (their count minus the better ones' is this tier's)


def _tiers(terms: SearchTerms, viewer: Any, ring: crypto.Keyring) -> list[_Tier]:
    """The search as tiers of match, best first. Every blind index of a surname implies the looser
    ones (the same full name has the same surname, the same surname sounds the same), so each
    tier's size is a difference of index-only counts."""
    # A restricted person the viewer is not named on is never a match, so no term (a date of birth
    # added to a surname) changes the results because of them: `search` adds a notice instead.
    extras: list[Any] = [~identity.hidden_restricted(viewer)]
    if terms.date_of_birth:
        extras.append(Person.bi_dob == crypto.index_of(ring, "dob", terms.date_of_birth))
    if terms.postcode:
        # An address is never identity: a postcode finds only people the viewer may see (a match
        # among the others would tell them where that person lives).
        extras.append(and_(Person.bi_postcode == crypto.index_of(ring, "postcode", terms.postcode),
                           policy.visible_filter(viewer, Person)))
    if terms.reference:
        extras.append(Person.id.in_(select(SourceRef.record_id).where(
            SourceRef.agency_id == viewer.agency_id, SourceRef.kind == RecordKind.PERSON,
            SourceRef.ref == terms.reference)))
    if not terms.surname:
        if not (terms.date_of_birth or terms.postcode):
            # Only a reference: merged records (which match no blind index) are left out here.
            extras.append(Person.merged_into_id.is_(None))
        everything = and_(*extras)
        return [_Tier(None, everything, everything)]
    surname_index = crypto.index_of(ring, "surname", terms.surname)
    surname = Person.bi_surname == surname_index
    sounds = Person.bi_phonetic == crypto.index_of(ring, "phonetic", terms.surname)
    tiers = []
    if terms.forenames:
        full = crypto.full_name_index(ring, terms.surname, terms.forenames)
        same_name = Person.bi_full_name == full
        tiers.append(_Tier(FULL_NAME, and_(same_name, *extras), and_(same_name, *extras)))
        other_forenames = or_(Person.bi_full_name != full, Person.bi_full_name.is_(None))
        tiers.append(_Tier(SURNAME, and_(surname, other_forenames, *extras), and_(surname, *extras)))
    else:
        tiers.append(_Tier(SURNAME, and_(surname, *extras), and_(surname, *extras)))
    tiers.append(_Tier(SOUNDS_LIKE, and_(sounds, Person.bi_surname != surname_index, *extras),
                       and_(sounds, *extras)))
    return tiers


def search(*, viewer: Any, terms: SearchTerms, page: int = 1, size: int = 25) -> SearchResults:
    """One page of the people matching every term given: the same full name first, then the same
    surname, then surnames that sound alike, each newest record first; as `viewer` may see them.
    The search is audited with its result count."""
    if not policy.can(viewer, policy.Permission.SEARCH_PEOPLE):
        raise SearchError("You cannot search people")
    tiers = _tiers(terms, viewer, crypto.current())
    cumulative = [db.session.scalar(select(func.count()).select_from(Person).where(t.within)) or 0 for t in tiers]
    sizes = [count - (cumulative[n - 1] if n else 0) for n, count in enumerate(cumulative)]
    total = sum(sizes)
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    skip, wanted = (page - 1) * size, size
    people: list[Person] = []
    ranks: dict[Any, int | None] = {}
    for tier, count in zip(tiers, sizes, strict=True):
        if wanted <= 0:
            break
        if skip >= count:
            skip -= count
            continue
        take = min(wanted, count - skip)
        found = list(db.session.scalars(select(Person).where(tier.condition)
                                        .order_by(Person.created_at.desc(), Person.id).limit(take).offset(skip)))
        people += found
        ranks.update({p.id: tier.rank for p in found})
        skip, wanted = 0, wanted - len(found)
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
    notices = identity.RestrictedNotices()
    if terms.surname and not (terms.date_of_birth or terms.postcode or terms.reference):
        notices = identity.restricted_notices(viewer=viewer, surname=terms.surname)
    return SearchResults(rows=rows, total=total, page=page, size=size, restricted=notices)


def name_condition(*, viewer: Any, surname: str, forenames: str | None = None) -> Any:
    """A condition on `Person` for the people `viewer` may find by this name (through the blind
    indexes, as `search` does): the same full name when forenames are given, else the same surname.
    For lists filtered by a person's name (the cases list); SearchError for a name with no letter."""
    terms = clean_terms(surname=surname, forenames=forenames, date_of_birth=None, postcode=None, reference=None)
    return _tiers(terms, viewer, crypto.current())[0].within
