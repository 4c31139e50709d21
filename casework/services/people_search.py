"""Finding people: by name (exactly, after normalisation, by a part of the surname, or by sound),
date of birth, postcode or the user's agency's own reference, through the blind indexes only.

A name's matches come in tiers, best first: the same surname, a part of a surname of several parts
("O'Connor" finds "O'Connor-Núñez"), a surname that sounds alike; and only when none of these finds
anyone, a surname that sounds alike with two neighbouring letters swapped back ("Smyht" finds
"Smith": `crypto.swapped_phonetic_indexes` says what that cannot find). With a forename, every tier's people with that first forename (or the same
forenames) come before all the others.

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
from ..models.reference import parse_reference
from ..risk.repeats import unindexed
from . import audit, identity

# Ranks of a name match, best first; a matching forename comes before any rank without one.
FULL_NAME, SURNAME, SOUNDS_LIKE, PART, SWAPPED = 0, 1, 2, 3, 4
FORENAME = 10  # added to a surname rank when the forename matches too
RANK_LABELS = {FULL_NAME: "Same name", SURNAME: "Same surname", SOUNDS_LIKE: "Sounds like",
               PART: "Part of the surname", SWAPPED: "Letters swapped",
               FORENAME + PART: "Same forename, part of the surname",
               FORENAME + SOUNDS_LIKE: "Same forename, surname sounds like",
               FORENAME + SWAPPED: "Same forename, letters swapped"}
PART_COLUMNS = (Person.bi_surname_part1, Person.bi_surname_part2, Person.bi_surname_part3)


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
    # Its count as a sum of signed counts of simpler conditions: a blind index implies another (the
    # same surname sounds the same), so most are counted in an index alone, not row by row. These
    # include the restricted people hidden from the viewer: `_sizes` takes them off (see there).
    counted: tuple[tuple[int, Any], ...]


def _tiers(terms: SearchTerms, viewer: Any, ring: crypto.Keyring, *, swapped_letters: bool = False) -> list[_Tier]:
    """The search as tiers of match, best first, each with its own rows (no person is in two).
    `swapped_letters`: only the tiers of the surname with two letters swapped back (asked for when
    the others find no one: a name typed right would otherwise list names one swap from it)."""
    # A restricted person the viewer is not named on is never a match, so no term (a date of birth
    # added to a surname) changes the results because of them: `search` adds a notice instead.
    # Counted without that condition (`_sizes` takes them off), rows listed with it.
    counted_extras: list[Any] = []
    if terms.date_of_birth:
        counted_extras.append(Person.bi_dob == crypto.index_of(ring, "dob", terms.date_of_birth))
    if terms.postcode:
        # An address is never identity: a postcode finds only people the viewer may see (a match
        # among the others would tell them where that person lives).
        counted_extras.append(and_(Person.bi_postcode == crypto.index_of(ring, "postcode", terms.postcode),
                                   policy.visible_filter(viewer, Person)))
    if terms.reference:
        known = Person.id.in_(select(SourceRef.record_id).where(
            SourceRef.agency_id == viewer.agency_id, SourceRef.kind == RecordKind.PERSON,
            SourceRef.ref == terms.reference))
        parsed = parse_reference(terms.reference)
        # The box takes the agency's own reference for a person or the person's Casework reference.
        counted_extras.append(or_(Person.reference == parsed[1], known) if parsed and parsed[0] == "person"
                              else known)
    if not terms.surname:
        if not (terms.date_of_birth or terms.postcode):
            # Only a reference: merged records (which match no blind index) are left out here.
            counted_extras.append(Person.merged_into_id.is_(None))
        return [_Tier(None, and_(~identity.hidden_restricted(viewer), *counted_extras),
                      ((1, and_(*counted_extras)),))]
    extras = [~identity.hidden_restricted(viewer), *counted_extras]
    surname_index = crypto.index_of(ring, "surname", terms.surname)
    sound_index = crypto.index_of(ring, "phonetic", terms.surname)
    part_index = crypto.index_of(ring, "surname_part", terms.surname)
    swapped = crypto.swapped_phonetic_indexes(ring, terms.surname) if swapped_letters else []
    surname = Person.bi_surname == surname_index
    part = or_(*(column == part_index for column in PART_COLUMNS))
    # A person with parts has a surname of two or more, so never the surname searched (one part).
    not_part = and_(*(or_(column.is_(None), column != part_index) for column in PART_COLUMNS))
    sound = Person.bi_phonetic == sound_index
    sounds = and_(sound, Person.bi_surname != surname_index, not_part)
    # The swapped-letter codes are never the term's own: none of these sounds like the term.
    near = Person.bi_phonetic.in_(swapped) if swapped else None
    # Those with the surname as a part who also sound like it are counted from the people with that
    # part (a few in a million): SQLite, planning without statistics, would read every person who sounds
    # alike to check their parts (16,000 for a common surname at the 1M demo, 10 ms a search).
    part_sound = and_(part, unindexed(Person.bi_phonetic.expression) == sound_index)
    part_near = and_(part, unindexed(Person.bi_phonetic.expression).in_(swapped))

    def tiers_where(rank_of: Any, *also: Any) -> list[_Tier]:
        if swapped_letters:
            return [] if near is None else [_Tier(rank_of(SWAPPED), and_(near, not_part, *also, *extras), (
                (1, and_(near, *also, *counted_extras)), (-1, and_(part_near, *also, *counted_extras))))]
        found = [_Tier(rank_of(SURNAME), and_(surname, *also, *extras), ((1, and_(surname, *also, *counted_extras)),)),
                 _Tier(rank_of(PART), and_(part, *also, *extras), ((1, and_(part, *also, *counted_extras)),)),
                 _Tier(rank_of(SOUNDS_LIKE), and_(sounds, *also, *extras),
                       ((1, and_(sound, *also, *counted_extras)), (-1, and_(surname, *also, *counted_extras)),
                        (-1, and_(part_sound, *also, *counted_extras))))]
        return found

    if not terms.forenames:
        return tiers_where(lambda rank: rank)
    full = crypto.full_name_index(ring, terms.surname, terms.forenames)
    first = crypto.index_of(ring, "forename", terms.forenames)
    same_forename = or_(Person.bi_full_name == full, Person.bi_forename == first)
    matching = tiers_where(lambda rank: FULL_NAME if rank == SURNAME else FORENAME + rank, same_forename)
    everyone = tiers_where(lambda rank: rank)
    other_forename = and_(or_(Person.bi_full_name.is_(None), Person.bi_full_name != full),
                          or_(Person.bi_forename.is_(None), Person.bi_forename != first))
    return matching + [_Tier(tier.rank, and_(tier.condition, other_forename),
                             tier.counted + tuple((-sign, condition) for sign, condition in named.counted))
                       for tier, named in zip(everyone, matching, strict=True)]


def _sizes(tiers: list[_Tier], viewer: Any) -> list[int]:
    """Each tier's count, in one statement. A counted condition's people less its restricted people
    hidden from the viewer: the first is counted in a blind index alone (a count that left them out
    row by row would read every match's row: 16,000 for a common surname's sound at the 1M demo, 56 ms
    on PostgreSQL), the second reads the rows of restricted people only (their flag is in the index)."""
    hidden = identity.hidden_restricted(viewer)
    # A condition counted in two tiers (with a forename: added to one, taken off another) is counted once.
    conditions = list({id(condition): condition for tier in tiers for _sign, condition in tier.counted}.values())
    if not conditions:
        return [0 for _tier in tiers]
    values = iter(db.session.execute(select(*(
        select(func.count()).select_from(Person).where(*where).scalar_subquery()
        for condition in conditions for where in ((condition,), (condition, hidden))))).one())
    shown = {id(condition): (next(values) or 0) - (next(values) or 0) for condition in conditions}
    return [sum(sign * shown[id(condition)] for sign, condition in tier.counted) for tier in tiers]


def search(*, viewer: Any, terms: SearchTerms, page: int = 1, size: int = 25) -> SearchResults:
    """One page of the people matching every term given, tier by tier (see the module's docstring),
    each tier newest record first; as `viewer` may see them.
    The search is audited with its result count."""
    if not policy.can(viewer, policy.Permission.SEARCH_PEOPLE):
        raise SearchError("You cannot search people")
    ring = crypto.current()
    tiers = _tiers(terms, viewer, ring)
    sizes = _sizes(tiers, viewer)
    if not sum(sizes) and terms.surname:
        tiers = _tiers(terms, viewer, ring, swapped_letters=True)
        sizes = _sizes(tiers, viewer)
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
    return _tiers(terms, viewer, crypto.current())[0].condition
