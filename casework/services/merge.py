"""Merging two records of the same person into one.

The caseworker chooses the survivor and, field by field, which value survives
(the page proposes the survivor's value, or the other record's where the
survivor's is blank). The safety markers (do not disclose the address, complex
needs, mental health, substance misuse, restricted) survive when either record
has them: a merge never drops a warning.

Everything that points at the merged record moves to the survivor: parties,
case links, referrals, shares, source refs (so a later import of one of the
merged record's refs updates the survivor), named users of a restricted record,
and anything else holding a foreign key to the person (found from the schema,
so a table added later moves too). Rows that would then say the same thing
twice (the same person in the same incident in the same role, the same case
twice) are collapsed. The merged record stays as a stub: `merged_into_id` set
and blind indexes cleared, so it never matches a search again, and its details
kept as they were (sealed like every person's), so its agency can read what it
recorded (`merged_records`) and an unmerge could restore it; retention, erasure
and subject access treat the stub with its survivor.

A merge never takes a record out of the sight of the agency that owns it
(`refusal`): only the agency owning the merged record merges it (another
agency it is shared with is told whom to ask), and records of two agencies are
never merged while either is restricted (the survivor would be restricted, and
hidden from the agency owning the other).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Table, and_, delete, select, update

from .. import figures, policy
from ..db import db
from ..models import (
    Agency,
    Base,
    Party,
    Person,
    RecordKind,
    RestrictedAccess,
    Share,
    SourceRef,
)
from ..risk.repeats import unindexed
from . import audit, sharing, versioning
from .people import PERSON_FIELDS, PersonDetails

# Markers that survive when either record has them.
SAFETY_MARKERS = ("do_not_disclose_address", "mental_health", "substance_misuse", "complex_needs")
# Values the caseworker chooses between.
CHOSEN_FIELDS = tuple(f for f in PERSON_FIELDS if f not in SAFETY_MARKERS)
MERGED_SHARE_REASON = "Records of the same person merged"


class MergeError(Exception):
    """Records that cannot be merged."""


class MergeRefused(MergeError):
    """A merge the user's agency may not make; the message says whom to ask."""


def _agency_name(agency_id: Any) -> str:
    agency = db.session.get(Agency, agency_id)
    return agency.name if agency is not None else "the agency that owns it"


def refusal(*, survivor: Person, merged: Person, by: Any) -> str | None:
    """Why `by`'s agency may not merge `merged` into `survivor`, in the user's words (None: it may).
    Only the agency that owns the merged record merges it away: an agency it is shared with could
    otherwise fold the owner's record into one of its own and hide it. And a restricted record is
    never merged with another agency's: restricted, the survivor would be seen by the named users
    only, and the agency owning the other record would lose sight of it."""
    if merged.owner_agency_id != getattr(by, "agency_id", None):
        owner = _agency_name(merged.owner_agency_id)
        return (f"Only {owner}, which owns the record being merged away, can merge it into another record. "
                f"Contact {owner} to ask them to merge it, or keep that record and merge yours into it")
    if survivor.owner_agency_id != merged.owner_agency_id and (survivor.restricted or merged.restricted):
        owner = _agency_name(survivor.owner_agency_id)
        return (f"A restricted record cannot be merged with a record of another agency: {owner} would no "
                f"longer see its own record. Contact {owner} to agree what to do")
    return None


def proposed_values(survivor: Person, other: Person) -> dict[str, str]:
    """For each chosen field, which record's value the page proposes: the survivor's, or the
    other's where the survivor's is blank ("survivor" / "other")."""
    return {name: ("other" if getattr(survivor, name) in (None, "") and getattr(other, name) not in (None, "")
                   else "survivor") for name in CHOSEN_FIELDS}


def merge(*, survivor: Person, merged: Person, choices: dict[str, str], survivor_version: int | None,
          merged_version: int | None, by: Any) -> Person:
    """Merge `merged` into `survivor` keeping, for each field of `choices` ("survivor" or "other"),
    that record's value. Both must be visible and editable to `by`; StaleEdit when either was
    saved after the page was opened."""
    if survivor.id == merged.id:
        raise MergeError("Choose two different records")
    for person in (survivor, merged):
        if person.merged_into_id is not None:
            raise MergeError("One of these records has already been merged")
        if not policy.can_edit(by, person):
            raise MergeError("You can only merge records you can see and change")
    refused = refusal(survivor=survivor, merged=merged, by=by)
    if refused is not None:
        raise MergeRefused(refused)
    versioning.check_version(survivor, survivor_version, action_prefix="person")
    versioning.check_version(merged, merged_version, action_prefix="person")
    before = PersonDetails.of(survivor)
    values = {name: getattr(merged if choices.get(name) == "other" else survivor, name) for name in CHOSEN_FIELDS}
    for marker in SAFETY_MARKERS:
        values[marker] = bool(getattr(survivor, marker) or getattr(merged, marker))
    kept = PersonDetails(**values).cleaned()
    for name in PERSON_FIELDS:
        setattr(survivor, name, getattr(kept, name))
    changed = [n for n in PERSON_FIELDS if getattr(before, n) != getattr(kept, n)]
    if merged.restricted and not survivor.restricted:
        survivor.restricted = True
        changed.append("restricted")
    db.session.flush()

    # The merged record's parties and referrals become the survivor's: both people's stored repeat
    # marks and the months their records count in are refreshed when the statements are done.
    with figures.changing(db.session, people={survivor.id, merged.id}):
        _move_references(survivor.id, merged.id)
    _move_record_links(survivor, merged)
    if merged.owner_agency_id != survivor.owner_agency_id:
        # The merged record's agency keeps seeing the person it recorded.
        agency = db.session.get_one(Agency, merged.owner_agency_id)
        sharing.share(record=survivor, agency=agency, via="explicit", by=by, reason=MERGED_SHARE_REASON,
                      chosen=False)
    # Stubs merged into `merged` earlier now point at the survivor: chains stay one step long.
    db.session.execute(update(Person).where(Person.merged_into_id == merged.id)
                       .values(merged_into_id=survivor.id).execution_options(synchronize_session=False))
    kept_fields = [name for name in PERSON_FIELDS if getattr(merged, name) not in (None, "", False)]
    merged.merged_into_id = survivor.id
    db.session.flush()  # the flush's index refresh clears the stub's indexes; its details stay as they were
    db.session.expire_all()
    audit.record("person.merge", user=by, record=survivor,
                 details={"fields": sorted(set(changed)), "merged": str(merged.id), "version": survivor.version})
    audit.record("person.merged_into", user=by, record=merged,
                 details={"into": str(survivor.id), "kept": kept_fields})
    return survivor


def merged_records(survivor: Person, *, viewer: Any) -> list[Person]:
    """The records merged into `survivor` whose details `viewer` may read as they were when merged
    (oldest merge first): those its own agency owns, while the viewer may see the survivor."""
    if not policy.can_view(viewer, survivor):
        return []
    # Found through the index of merged records (a handful a person), the agency checked on each. SQLite,
    # planning without statistics, sees two equally good indexes and takes the first it meets, which
    # after a bulk import (its indexes rebuilt in name order) is the agency's: every person the agency
    # owns read and sorted (884,482 at the 1M demo, 150 ms of a person's page).
    return list(db.session.scalars(select(Person).where(
        Person.merged_into_id == survivor.id, unindexed(Person.owner_agency_id.expression) == viewer.agency_id)
        .order_by(Person.updated_at, Person.id)))


def _person_foreign_keys() -> list[tuple[Table, Any]]:
    """Every column holding a person's id, except a stub's pointer to its survivor."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.c:
            if table.name == "person" and column.name == "merged_into_id":
                continue
            if any(fk.column.table.name == "person" and fk.column.name == "id" for fk in column.foreign_keys):
                found.append((table, column))
    return found


def _move_references(survivor_id: uuid.UUID, merged_id: uuid.UUID) -> None:
    """Point every foreign key at the survivor, first removing the merged record's rows that
    would duplicate one of the survivor's under a unique constraint."""
    _collapse_parties(survivor_id, merged_id)
    for table, column in _person_foreign_keys():
        for constraint in _unique_sets(table, column):
            others = [c for c in constraint if c is not column]
            if not others:
                continue
            theirs = table.alias("theirs")
            duplicate = select(theirs.c.id).where(
                theirs.c[column.name] == survivor_id, *[theirs.c[c.name] == table.c[c.name] for c in others])
            db.session.execute(delete(table).where(column == merged_id, duplicate.exists()))
        db.session.execute(update(table).where(column == merged_id).values({column.name: survivor_id}))


def _unique_sets(table: Table, column: Any) -> list[list[Any]]:
    from sqlalchemy import UniqueConstraint

    sets = [list(c.columns) for c in table.constraints
            if isinstance(c, UniqueConstraint) and column.name in c.columns]
    sets += [list(i.columns) for i in table.indexes if i.unique and column.name in i.columns]
    return sets


def _collapse_parties(survivor_id: uuid.UUID, merged_id: uuid.UUID) -> None:
    """The same incident and role for both records: keep the survivor's party, taking the merged
    one's criminal-justice status when the survivor's is not known."""
    pairs = db.session.execute(
        select(Party.id, Party.cj_status, Party.incident_id, Party.role).where(Party.person_id == merged_id)).all()
    for merged_party in pairs:
        kept = db.session.scalar(select(Party).where(
            Party.person_id == survivor_id, Party.incident_id == merged_party.incident_id,
            Party.role == merged_party.role))
        if kept is None:
            continue
        if kept.cj_status is None and merged_party.cj_status is not None:
            kept.cj_status = merged_party.cj_status
        db.session.execute(delete(Party).where(Party.id == merged_party.id))
    db.session.flush()


def _move_record_links(survivor: Person, merged: Person) -> None:
    """Shares, named users and source refs point at records by kind and id, not by foreign key."""
    kind = policy.kind_of(Person)
    # Shares: the survivor keeps its own; the merged record's move unless the agency already has one.
    for share in db.session.scalars(select(Share).where(Share.record_kind == kind, Share.record_id == merged.id)).all():
        already = db.session.scalar(select(Share.id).where(
            Share.record_kind == kind, Share.record_id == survivor.id, Share.agency_id == share.agency_id,
            Share.revoked_at.is_(None)))
        if already is not None and share.revoked_at is None:
            db.session.delete(share)
        else:
            share.record_id = survivor.id
    named = RestrictedAccess
    survivors_users = set(db.session.scalars(select(named.user_id).where(
        named.record_kind == kind, named.record_id == survivor.id)))
    for row in db.session.scalars(select(named).where(named.record_kind == kind, named.record_id == merged.id)).all():
        if row.user_id in survivors_users:
            db.session.delete(row)
        else:
            row.record_id = survivor.id
    # Refs are unique per agency, kind and ref, and the record id is not part of that: they move.
    db.session.execute(update(SourceRef).where(and_(SourceRef.kind == RecordKind.PERSON,
                                                    SourceRef.record_id == merged.id))
                       .values(record_id=survivor.id).execution_options(synchronize_session=False))
    db.session.flush()
