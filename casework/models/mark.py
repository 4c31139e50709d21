"""Repeat marks: the repeat rule's verdict on each party of a DA, ASB or SV incident, stored.

`party_mark` holds exactly the rows of `casework.risk.repeats.repeat_marks()` for
every person: one per party of an incident of any repeat kind, with the
incident's date, which kinds it is (`is_*`) and of which kinds it is a repeat
event for that person in that role (`repeat_*`). The measures read it instead of
running the rule's window over a million rows.

It is derived data, never typed in: the stored figures' upkeep (`casework.figures`)
recomputes a person's rows with the one rule whenever their parties or incidents
change, and `casework measures check` / `rebuild` compare it with the rule or remake
it. These are the table definitions alone: no event is registered here. No foreign
keys: the rows are replaced, never edited, and a merge or a deletion must not have to
know about them.
"""

from __future__ import annotations

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
)

from .base import Base
from .incident import Party

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
    comment="derived: the repeat rule's marks per party (casework.figures)",
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
    comment="derived: party_mark summed per person and financial year (casework.figures)",
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
    comment="derived: person_year_mark counted per year, kind and role (casework.figures)",
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
    comment="derived: party_mark per person, month and locality (casework.figures)",
)

# The measures' additive raw figures per month and locality (casework.measures.figures): a period's
# figure is the sum of its months. Kept exact by casework.figures.
measure_month = Table(
    "measure_month",
    Base.metadata,
    Column("month", Date(), nullable=False),
    Column("locality", String(200), nullable=False),  # "" when the records have none
    Column("figure", String(40), nullable=False),
    Column("value", BigInteger(), nullable=False),
    PrimaryKeyConstraint("month", "figure", "locality"),
    comment="derived: the measures' raw figures per month and locality (casework.figures)",
)
