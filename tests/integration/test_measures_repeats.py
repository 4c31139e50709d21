"""The repeat rules at their boundaries, against the real database (the rules are SQL), through
both the shared builder (`repeat_events`) and the measures that use it."""

from __future__ import annotations

import datetime as dt

from casework.models import AgencyKind, AsbType, Category, PartyRole
from casework.risk.repeats import RepeatKind, repeat_events
from tests.integration.test_measures_engine import Records

D = dt.date
V, P = PartyRole.VICTIM, PartyRole.PERPETRATOR


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def events(session, kind: RepeatKind, role: PartyRole) -> set[tuple]:  # type: ignore[no-untyped-def]
    return {(row.incident_id, row.person_id) for row in session.execute(repeat_events(kind, role))}


def test_an_incident_365_days_earlier_makes_a_repeat_and_366_days_does_not(session):
    records = Records(session)
    d = D(2024, 10, 1)
    at_365, at_366 = records.people(2)
    records.da(d - days(365), victims=[at_365])
    now_365 = records.da(d, victims=[at_365])
    records.da(d - days(366), victims=[at_366])
    records.da(d, victims=[at_366])
    assert events(session, RepeatKind.DA, V) == {(now_365.id, at_365.id)}
    assert records.figures()["DA1"].numerator == 1


def test_the_look_back_counts_days_across_a_leap_day(session):
    records = Records(session)
    # 2024-02-29 is exactly 365 days before 2025-02-28; 2024-02-28 is 366.
    on_leap_day, on_same_date = records.people(2)
    records.da(D(2024, 2, 29), victims=[on_leap_day])
    repeat = records.da(D(2025, 2, 28), victims=[on_leap_day])
    records.da(D(2024, 2, 28), victims=[on_same_date])
    records.da(D(2025, 2, 28), victims=[on_same_date])
    assert events(session, RepeatKind.DA, V) == {(repeat.id, on_leap_day.id)}


def test_incidents_on_the_same_day_are_never_repeats_of_each_other(session):
    records = Records(session)
    victim = records.person()
    records.da(D(2024, 6, 1), victims=[victim])
    records.da(D(2024, 6, 1), victims=[victim])
    assert events(session, RepeatKind.DA, V) == set()
    assert (records.figures()["DA1"].numerator, records.figures()["DA1"].denominator) == (0, 2)


def test_the_look_back_reaches_across_the_period_start(session):
    records = Records(session)
    victim = records.person()
    records.da(D(2024, 3, 31), victims=[victim])
    records.da(D(2024, 4, 1), victims=[victim])
    current, previous = records.figures(), records.figures("2023/24")
    assert (current["DA1"].numerator, current["DA1"].denominator) == (1, 1)
    assert (previous["DA1"].numerator, previous["DA1"].denominator) == (0, 1)


def test_a_victim_before_and_perpetrator_after_is_no_repeat_in_either_role(session):
    records = Records(session)
    person, other = records.people(2)
    records.da(D(2024, 5, 1), victims=[person], perpetrators=[other])
    records.da(D(2024, 8, 1), victims=[other], perpetrators=[person])
    assert events(session, RepeatKind.DA, V) == set()
    assert events(session, RepeatKind.DA, P) == set()
    figures = records.figures()
    assert (figures["DA1"].numerator, figures["DA3"].numerator) == (0, 0)


def test_an_earlier_incident_of_another_kind_is_no_repeat(session):
    records = Records(session)
    person = records.person()
    records.da(D(2024, 5, 1), victims=[person], category=Category.VIOLENCE_WITHOUT_INJURY)
    records.incident(D(2024, 6, 1), victims=[person], category=Category.ROBBERY)  # SV, not DA
    records.incident(D(2024, 7, 1), victims=[person], category=Category.ASB, asb_type=AsbType.NUISANCE)
    records.incident(D(2024, 8, 1), victims=[person], category=Category.ASB, asb_type=AsbType.PERSONAL)
    assert events(session, RepeatKind.SV, V) == set()
    assert events(session, RepeatKind.DA, V) == set()
    assert events(session, RepeatKind.PERSONAL_ASB, V) == set()
    assert len(events(session, RepeatKind.ASB, V)) == 1  # both are ASB
    figures = records.figures()
    assert [(figures[m].numerator, figures[m].denominator) for m in ("DA1", "SV3", "ASB3")] == [
        (0, 1), (0, 1), (0, 1)]


def test_any_asb_before_makes_a_repeat_asb_perpetrator(session):
    records = Records(session)
    person = records.person()
    records.incident(D(2024, 5, 1), perpetrators=[person], category=Category.ASB, asb_type=AsbType.ENVIRONMENTAL)
    records.incident(D(2024, 9, 1), perpetrators=[person], category=Category.ASB, asb_type=AsbType.PERSONAL)
    asb4 = records.figures()["ASB4"]
    assert (asb4.numerator, asb4.denominator) == (1, 1)


def test_every_recorder_counts_in_the_period_and_the_look_back(session):
    records = Records(session)
    victim = records.person()
    records.incident(D(2024, 5, 1), victims=[victim], category=Category.ROBBERY, recorded_by=AgencyKind.HEALTH)
    records.incident(D(2024, 9, 1), victims=[victim], category=Category.HOMICIDE, recorded_by=AgencyKind.COUNCIL)
    sv3 = records.figures()["SV3"]
    assert (sv3.numerator, sv3.denominator) == (1, 1)
    assert records.figures()["SV1"].value == 0  # SV1 is the police's count


def test_da1_counts_incidents_and_asb3_counts_people(session):
    records = Records(session)
    first, second = records.people(2)
    records.da(D(2024, 5, 1), victims=[first, second])
    records.da(D(2024, 6, 1), victims=[first, second])  # one incident, two repeat victims
    for on in (D(2024, 5, 1), D(2024, 6, 1), D(2024, 7, 1)):
        records.incident(on, victims=[first], category=Category.ASB, asb_type=AsbType.PERSONAL)
    records.incident(D(2024, 7, 1), victims=[second], category=Category.ASB, asb_type=AsbType.PERSONAL)
    figures = records.figures()
    assert (figures["DA1"].numerator, figures["DA1"].denominator) == (1, 2)
    assert (figures["ASB3"].numerator, figures["ASB3"].denominator) == (1, 2)


def test_repeat_perpetrators_of_serious_violence_are_distinct_people_in_the_period(session):
    records = Records(session)
    repeat, once = records.people(2)
    records.incident(D(2024, 1, 10), perpetrators=[repeat], category=Category.WEAPON_POSSESSION)
    records.incident(D(2024, 4, 10), perpetrators=[repeat], category=Category.ROBBERY)
    records.incident(D(2024, 5, 10), perpetrators=[repeat, once], category=Category.ROBBERY)
    sv4 = records.figures()["SV4"]
    assert (sv4.numerator, sv4.denominator) == (1, 2)


def test_repeat_events_can_be_limited_to_dates_and_people(session):
    records = Records(session)
    first, second = records.people(2)
    for person in (first, second):
        records.da(D(2024, 5, 1), perpetrators=[person])
        records.da(D(2024, 6, 1), perpetrators=[person])
        records.da(D(2024, 7, 1), perpetrators=[person])
    rows = session.execute(repeat_events(RepeatKind.DA, P, occurred_from=D(2024, 6, 2), occurred_to=D(2024, 7, 1),
                                         person_ids=[first.id])).all()
    assert [(row.person_id, row.occurred_on) for row in rows] == [(first.id, D(2024, 7, 1))]


def test_sqlite_runs_the_whole_rule_in_party_order_and_one_persons_by_their_index(session, db_kind):
    """The rule's window partitions by person: over everyone, SQLite must not read the parties in
    the order of their (person, role) index (a search of the incidents per party, five times slower
    at a million parties than reading them in order and sorting); for one person it still finds
    their parties by that index."""
    import uuid

    import pytest
    from sqlalchemy import text
    from sqlalchemy.dialects import sqlite

    from casework.risk.repeats import repeat_marks

    if db_kind != "sqlite":
        pytest.skip("a plan of SQLite's")

    def plan(query) -> str:  # type: ignore[no-untyped-def]
        sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
        return " | ".join(row[3] for row in session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))

    everyone = plan(repeat_marks())
    assert "ix_party_person_role" not in everyone and "SCAN p" in everyone
    one = plan(repeat_marks(person_ids=[uuid.uuid4()]))
    assert "SEARCH p USING INDEX ix_party_person_role (person_id=?)" in one


def test_sqlite_remakes_every_monthly_figure_reading_the_tables_whole(session, db_kind):
    """Remaking every month reads every row: through a date index each would be read at random."""
    import pytest
    from sqlalchemy import event

    from casework.figures import months as monthly

    if db_kind != "sqlite":
        pytest.skip("a plan of SQLite's")
    Records(session).da(D(2024, 5, 1), victims=Records(session).people(1))
    statements: list[tuple[str, object]] = []
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and not executemany:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        monthly.rebuild_months(session)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    plans = [" | ".join(row[3] for row in session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
             for sql, params in statements if "occurred_on" in sql and "GROUP BY" in sql]
    assert plans and not [p for p in plans if "USING INDEX ix_incident_occurred_on" in p]
