"""Repeat marks: the repeat rule's verdict on each party of a DA, ASB or SV incident, stored.

`party_mark` holds exactly the rows of `casework.risk.repeats.repeat_marks()` for
every person: one per party of an incident of any repeat kind, with the
incident's date, which kinds it is (`is_*`) and of which kinds it is a repeat
event for that person in that role (`repeat_*`). The measures read it instead of
running the rule's window over a million rows.

It is derived data, never typed in: `casework.services.marks` recomputes a
person's rows with the one rule whenever their parties or incidents change (the
listeners below catch every ORM flush and every UPDATE/DELETE/INSERT run through
a Session; the importer reports the parties it writes around the ORM), and
`casework measures check` / `rebuild` compare it with the rule or remake it.
No foreign keys: the rows are replaced, never edited, and a merge or a deletion
must not have to know about them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
    event,
)
from sqlalchemy.orm import Session

from .area import Area
from .base import Base
from .incident import Incident, Party
from .prevention import PreventionActivity
from .referral import Referral

MARK_KINDS = ("da", "personal_asb", "asb", "sv")  # RepeatKind values, in their order

party_mark = Table(
    "party_mark",
    Base.metadata,
    Column("incident_id", Uuid(), nullable=False),
    Column("person_id", Uuid(), nullable=False),
    Column("role", Party.__table__.c.role.type.copy(), nullable=False),
    Column("occurred_on", Date(), nullable=False),
    *(Column(f"is_{kind}", Boolean(), nullable=False) for kind in MARK_KINDS),
    *(Column(f"repeat_{kind}", Boolean(), nullable=False) for kind in MARK_KINDS),
    PrimaryKeyConstraint("incident_id", "person_id", "role"),
    Index("ix_party_mark_person_id", "person_id"),
    Index("ix_party_mark_occurred_on", "occurred_on"),
    comment="derived: the repeat rule's marks per party (casework.services.marks)",
)

# Per person, financial year, role and kind: whether they were in a kind-K incident in that role
# that year, and whether one was a repeat for them; counting rows gives the measures that count
# distinct people (ASB3, ASB4, SV3, SV4). Refreshed with the person's marks.
person_year_mark = Table(
    "person_year_mark",
    Base.metadata,
    Column("start_year", Integer(), nullable=False),
    Column("person_id", Uuid(), nullable=False),
    Column("role", Party.__table__.c.role.type.copy(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("repeat", Boolean(), nullable=False),
    PrimaryKeyConstraint("start_year", "kind", "role", "person_id"),
    Index("ix_person_year_mark_person_id", "person_id"),
    comment="derived: party_mark summed per person and financial year (casework.services.marks)",
)

# person_year_mark counted per financial year, kind and role: how many people, and how many of them
# with a repeat. The dashboard reads these few rows instead of counting hundreds of thousands; kept
# exact with person_year_mark (each refresh subtracts the rows it removes and adds those it writes).
person_year_count = Table(
    "person_year_count",
    Base.metadata,
    Column("start_year", Integer(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("role", Party.__table__.c.role.type.copy(), nullable=False),
    Column("people", BigInteger(), nullable=False),
    Column("repeats", BigInteger(), nullable=False),
    PrimaryKeyConstraint("start_year", "kind", "role"),
    comment="derived: person_year_mark counted per year, kind and role (casework.services.marks)",
)

# Per person, month, locality, role and kind: as person_year_mark, for the monthly charts and the
# locality breakdowns of the measures counting distinct people.
person_month_mark = Table(
    "person_month_mark",
    Base.metadata,
    Column("month", Date(), nullable=False),
    Column("locality", String(200), nullable=False),  # "" when the incident has none
    Column("person_id", Uuid(), nullable=False),
    Column("role", Party.__table__.c.role.type.copy(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("repeat", Boolean(), nullable=False),
    PrimaryKeyConstraint("kind", "role", "month", "locality", "person_id"),
    Index("ix_person_month_mark_person_id", "person_id"),
    comment="derived: party_mark per person, month and locality (casework.services.marks)",
)

# The measures' additive raw figures per month and locality (casework.measures.figures): a period's
# figure is the sum of its months. Kept exact by casework.services.monthly.
measure_month = Table(
    "measure_month",
    Base.metadata,
    Column("month", Date(), nullable=False),
    Column("locality", String(200), nullable=False),  # "" when the records have none
    Column("figure", String(40), nullable=False),
    Column("value", BigInteger(), nullable=False),
    PrimaryKeyConstraint("month", "figure", "locality"),
    comment="derived: the measures' raw figures per month and locality (casework.services.monthly)",
)


# --- keeping it exact: listeners (the work is done in casework.services.upkeep) ---------------


def _upkeep() -> Any:
    # The service imports the models: it is imported when first needed.
    from ..services import upkeep

    return upkeep


@event.listens_for(Party, "after_insert")
def _party_inserted(_mapper: Any, connection: Any, party: Party) -> None:
    _upkeep().party_written(connection, party, inserting=True)


@event.listens_for(Party, "after_update")
def _party_updated(_mapper: Any, connection: Any, party: Party) -> None:
    _upkeep().party_written(connection, party)


@event.listens_for(Party, "before_delete")
def _party_deleted(_mapper: Any, connection: Any, party: Party) -> None:
    _upkeep().party_written(connection, party, deleting=True)


@event.listens_for(Incident, "after_insert")
def _incident_inserted(_mapper: Any, connection: Any, incident: Incident) -> None:
    _upkeep().incident_written(connection, incident, inserting=True)


@event.listens_for(Incident, "after_update")
def _incident_written(_mapper: Any, connection: Any, incident: Incident) -> None:
    _upkeep().incident_written(connection, incident)


@event.listens_for(Incident, "before_delete")
def _incident_deleted(_mapper: Any, connection: Any, incident: Incident) -> None:
    _upkeep().incident_written(connection, incident, deleting=True)


@event.listens_for(Referral, "after_insert")
@event.listens_for(Referral, "after_update")
@event.listens_for(Referral, "after_delete")
def _referral_written(_mapper: Any, connection: Any, referral: Referral) -> None:
    _upkeep().referral_written(connection, referral)


@event.listens_for(PreventionActivity, "after_insert")
@event.listens_for(PreventionActivity, "after_update")
@event.listens_for(PreventionActivity, "after_delete")
def _activity_written(_mapper: Any, _connection: Any, activity: PreventionActivity) -> None:
    _upkeep().activity_written(activity)


@event.listens_for(Area, "after_update")
def _area_updated(_mapper: Any, _connection: Any, area: Area) -> None:
    _upkeep().area_updated(area)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    _upkeep().after_flush(session)


@event.listens_for(Session, "do_orm_execute")
def _statement(state: Any) -> Any:
    return _upkeep().around_statement(state)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, _previous: Any) -> None:
    _upkeep().forget_pending(session)
