"""The stored figures' upkeep watches exactly the columns their definitions read: the repeat rule's
`READS`, the raw figures' `READS` and the per-person summaries' are checked against the columns their
SQL names, so a rule or a figure that starts reading a new column fails here, not weeks later in the
nightly check."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, Table, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.visitors import iterate

from casework.figures import upkeep
from casework.figures.marks import person_month_rows, person_year_rows
from casework.figures.months import ADDITIVE
from casework.figures.tripwire import set_columns
from casework.measures import engine
from casework.measures.figures import READS as FIGURE_READS
from casework.models import Incident, Party
from casework.models.mark import party_mark
from casework.risk.repeats import READS as RULE_READS
from casework.risk.repeats import repeat_marks

DERIVED = {"party_mark", "person_year_mark", "person_month_mark", "person_year_count", "measure_month"}


def reads(*statements: Any) -> dict[str, frozenset[str]]:
    """The columns of the records' tables the statements name (through aliases too)."""
    found: dict[str, set[str]] = {}
    for statement in statements:
        for element in iterate(statement):
            if isinstance(element, Column):
                for column in element.proxy_set:
                    if isinstance(column, Column) and isinstance(column.table, Table) \
                            and column.table.name not in DERIVED:
                        found.setdefault(column.table.name, set()).add(column.name)
    return {table: frozenset(columns) for table, columns in found.items()}


class Recorder:
    """Stands for a connection: keeps the statements `engine.raw_figures` would run."""

    def __init__(self) -> None:
        self.statements: list[Any] = []

    def execute(self, statement: Any) -> Recorder:
        self.statements.append(statement)
        return self

    def mappings(self) -> list[Any]:
        return []


def covered(read: dict[str, frozenset[str]], watched: dict[str, frozenset[str]]) -> dict[str, set[str]]:
    return {t: set(c - watched.get(t, frozenset())) for t, c in read.items() if c - watched.get(t, frozenset())}


def test_the_repeat_rule_reads_exactly_the_columns_it_declares_and_the_upkeep_watches_them():
    assert reads(repeat_marks()) == RULE_READS
    assert covered(RULE_READS, upkeep.MARK_READS) == {}


def test_the_per_person_summaries_read_only_columns_the_upkeep_refreshes_the_marks_for():
    assert covered(reads(person_year_rows(), person_month_rows()), upkeep.MARK_READS) == {}


def test_the_monthly_figures_read_exactly_the_columns_declared_and_the_upkeep_watches_them():
    recorder = Recorder()
    grouping = engine.ByMonthAndLocality(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    engine.raw_figures(recorder, grouping, ADDITIVE, whole=True)  # type: ignore[arg-type]
    engine.raw_figures(recorder, grouping, ADDITIVE, records=[1])  # type: ignore[arg-type]
    assert recorder.statements
    assert reads(*recorder.statements) == FIGURE_READS
    assert covered(FIGURE_READS, upkeep.MONTH_READS) == {}


def test_the_trip_wire_watches_every_column_the_marks_or_the_months_are_made_from():
    assert covered(upkeep.MARK_READS, upkeep.WATCHED) == {} and covered(upkeep.MONTH_READS, upkeep.WATCHED) == {}
    assert "party_mark" not in upkeep.WATCHED  # the derived tables are the upkeep's own


def test_the_columns_an_update_sets_are_read_from_its_sql_on_both_databases():
    party, incident = Party.__table__, Incident.__table__
    statements = {
        update(party).where(party.c.person_id == 1).values(person_id=2): {"person_id", "updated_at"},
        update(incident).values(version=incident.c.version + 1, occurred_on=incident.c.occurred_on): {
            "version", "occurred_on", "updated_at"},
        update(party_mark).values(repeat_da=True): {"repeat_da"},
    }
    for statement, expected in statements.items():
        for dialect in (sqlite.dialect(), postgresql.dialect()):
            assert set_columns(str(statement.compile(dialect=dialect, column_keys=[]))) == expected


def test_every_watched_column_is_mapped_to_an_attribute_of_its_own_name():
    """The ORM side of the upkeep looks a watched column up by name in each flushed row's history."""
    from sqlalchemy import inspect

    from casework.models import Area, PreventionActivity, Referral

    models = {"party": Party, "incident": Incident, "referral": Referral, "prevention_activity": PreventionActivity,
              "area": Area}
    for table, columns in upkeep.WATCHED.items():
        mapper = inspect(models[table])
        names = {mapper.get_property_by_column(column).key: column.name for column in mapper.columns}
        assert {c for c in columns if names.get(c) != c} == set(), table
