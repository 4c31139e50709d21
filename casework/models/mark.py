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
    Boolean,
    Column,
    Date,
    Index,
    PrimaryKeyConstraint,
    Table,
    Uuid,
    event,
)
from sqlalchemy.orm import Session

from .base import Base
from .incident import Incident, Party

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


# --- keeping it exact: listeners (the work is done in casework.services.marks) ----------------


def _marks() -> Any:
    # The service imports the models: it is imported when first needed.
    from ..services import marks

    return marks


@event.listens_for(Party, "after_insert")
def _party_inserted(_mapper: Any, connection: Any, party: Party) -> None:
    _marks().party_written(connection, party, inserting=True)


@event.listens_for(Party, "after_update")
def _party_updated(_mapper: Any, connection: Any, party: Party) -> None:
    _marks().party_written(connection, party)


@event.listens_for(Party, "before_delete")
def _party_deleted(_mapper: Any, connection: Any, party: Party) -> None:
    _marks().party_written(connection, party, deleting=True)


@event.listens_for(Incident, "after_update")
def _incident_updated(_mapper: Any, connection: Any, incident: Incident) -> None:
    _marks().incident_updated(connection, incident)


@event.listens_for(Incident, "before_delete")
def _incident_deleted(_mapper: Any, connection: Any, incident: Incident) -> None:
    _marks().incident_deleted(connection, incident)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    _marks().after_flush(session)


@event.listens_for(Session, "do_orm_execute")
def _statement(state: Any) -> Any:
    return _marks().around_statement(state)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, _previous: Any) -> None:
    _marks().forget_pending(session)
