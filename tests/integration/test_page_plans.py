"""SQLite's plans for the pages the load benchmark opens most (bench/load.py): a person's page, a
search by name, the measures dashboard, a manager's home page. SQLite plans from its indexes alone
(no statistics are gathered: `casework.exchange.analyse_after_bulk_writing`), so the plan it picks
for a statement on a test database is the one it picks at the 1M demo, with one difference: where
two indexes look alike to it, it takes the one met first, and a bulk import rebuilds its tables'
indexes in the order of their names (`casework.exchange.bulk.deferred_indexes`), which the
migrations did not create them in. So each test runs on the schema as migrated and as a bulk import
leaves it (as the demo's is), and explains every statement a page runs, with its own parameters.

At the 1M demo one agency owns 884,482 of the 968,287 people: a person's page that looked their
merged records up by the agency read all of them (150 ms of a 170 ms page, and the load benchmark
saturated at 15-25 requests a second)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from casework.db import db
from casework.exchange.bulk import deferred_indexes
from casework.models import Case, CaseKind, CaseTask, Incident, Party, Person, Referral, SourceRef
from tests.fixtures_auth import make_user, sign_in
from tests.integration.people_support import TODAY, World, make_world, text_of


@pytest.fixture(params=["as migrated", "after a bulk import"])
def world(request: pytest.FixtureRequest, app_ctx: Flask, db_kind: str) -> World:
    if db_kind != "sqlite":
        pytest.skip("SQLite's plans")
    if request.param == "after a bulk import":  # (rolled back with the test)
        with deferred_indexes(db.session, [t.__table__ for t in (Person, Incident, Party, Referral, SourceRef)]):
            pass
    return make_world(app_ctx)


def plans_of(world: World, url: str, client: Any = None, *, bytecode: bool = False) -> list[Any]:
    """(statement, its plan) for every SELECT the page at `url` runs (which answers 200); with
    `bytecode`, (statement, plan, its program's rows: EXPLAIN's addr, opcode, p1, p2, ...)."""
    seen: list[tuple[str, Any]] = []
    engine = world.app.extensions["casework.engine"]

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and not executemany:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        response = (client or world.client).get(url)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert response.status_code == 200
    connection = db.session.connection()
    plans = [(sql, " | ".join(row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)))
             for sql, params in seen]
    if not bytecode:
        return plans
    return [(sql, plan, connection.exec_driver_sql(f"EXPLAIN {sql}", params).all())
            for (sql, plan), (_sql, params) in zip(plans, seen, strict=True)]


def test_a_persons_page_finds_their_merged_records_by_the_merge_not_by_the_agency(world: World) -> None:
    survivor = world.person(surname="Okonkwo", forenames="Grace")
    world.person(surname="Okonkwo", forenames="Gracie", merged_into_id=survivor.id)
    for n in range(3):
        world.person(surname=f"Other{n}")
    db.session.commit()
    plans = plans_of(world, f"/people/{survivor.id}")
    assert not [sql for sql, plan in plans if "USING INDEX ix_person_owner_agency_id" in plan], \
        "no statement reads the people of the viewer's agency"
    merged = [plan for sql, plan in plans if "person.merged_into_id = ?" in sql]
    assert merged and all("ix_person_merged_into_id (merged_into_id=?)" in plan for plan in merged)
    # What the page shows is unchanged: the merged record's details, to its own agency.
    _status, soup = world.page(f"/people/{survivor.id}")
    assert "Gracie" in text_of(soup.select_one("#merged-records"))


def test_a_name_search_counts_parts_that_sound_alike_from_the_parts(world: World) -> None:
    world.person(surname="Smith-Jones")
    world.person(surname="Smyth")
    world.person(surname="Smith")
    db.session.commit()
    plans = plans_of(world, "/people?surname=Smith")
    # The tiers' counts, in one statement of a subquery each, all and hidden restricted: the surname,
    # its parts, its sound less the surname (counted once for both tiers) and less those with it as a
    # part who also sound like it.
    [counts] = [plan for sql, plan in plans if re.search(r"bi_surname_part1 = \?", sql) and "count(" in sql]
    subqueries = re.split(r"(?<!CORRELATED )SCALAR SUBQUERY \d+", counts)[1:]
    assert len(subqueries) == 8
    # Those with the surname as a part who also sound like it: from the few with parts, not from
    # everyone who sounds alike.
    assert all("MULTI-INDEX OR" in plan and "ix_person_bi_phonetic" not in plan for plan in subqueries[-2:])
    # A count of all the people with a blind index reads that index alone, never a row (those of the
    # parts are a few people in a hundred).
    assert all("COVERING INDEX" in plan for plan in (subqueries[0], subqueries[4])), subqueries
    _status, soup = world.page("/people?surname=Smith")
    assert "3 people found" in text_of(soup)


def test_the_measures_dashboard_reads_no_incident_but_the_ends_of_the_date_index(world: World) -> None:
    manager = make_user(roles=("caseworker", "manager"), agency=world.own)
    for day in (1, 2, 3):
        world.incident(on=dt.date(2024, 5, day))
    db.session.commit()
    plans = plans_of(world, "/measures", client=sign_in(world.app, manager))
    incident = [plan for _sql, plan in plans if " incident " in f"{plan} "]
    assert incident and not [plan for plan in incident if "SCAN incident" in plan], \
        "the first and last incident dates are read from the ends of the index, not by a scan"
    # and so are the first and last referral dates (every referral was read, twice, before 0030)
    referral = [plan for _sql, plan in plans if " referral " in f"{plan} "]
    assert referral and not [plan for plan in referral if "SCAN referral" in plan], referral


def test_a_managers_home_page_counts_the_teams_overdue_tasks_from_the_open_tasks_index(world: World) -> None:
    # At the 1M demo one caseworker has 8,169 overdue tasks: reading each task's row for its case
    # took 20 of the home page's 46 ms of SQLite. The index carries the case in its key (0032).
    manager = make_user(roles=("caseworker", "manager"), agency=world.own)
    case = Case(kind=CaseKind.DOMESTIC_ABUSE, owner_agency_id=world.own.id, caseworker_id=world.user.id)
    db.session.add(case)
    db.session.flush()
    for days in (3, 2, 1):
        db.session.add(CaseTask(case_id=case.id, title="Call", due_on=TODAY - dt.timedelta(days=days),
                                owner_id=world.user.id))
    db.session.commit()
    plans = plans_of(world, "/", client=sign_in(world.app, manager), bytecode=True)
    [(count, program)] = [(plan, program) for sql, plan, program in plans if "case_task.owner_id, count(" in sql]
    assert "USING INDEX ix_case_task_open_owner_due" in count, count
    # SQLite defers a row's seek until a column of the row is read: none is (EXPLAIN QUERY PLAN says
    # "USING INDEX", not "COVERING", as `done_at`, which the index's WHERE decides, is not in it).
    roots = dict(db.session.connection().exec_driver_sql(
        "SELECT name, rootpage FROM sqlite_master WHERE name IN ('case_task', 'ix_case_task_open_owner_due')").all())
    opened = {(row.p2, row.p1) for row in program if row.opcode == "OpenRead"}
    assert [cursor for root, cursor in opened if root == roots["ix_case_task_open_owner_due"]]
    tasks = {cursor for root, cursor in opened if root == roots["case_task"]}  # (none, if it ever needs none)
    assert not [row for row in program
                if row.opcode in ("Column", "Rowid", "RowData", "SeekRowid", "NotExists") and row.p1 in tasks]
    _status, soup = world.page("/")  # (the caseworker's own page lists them)
    assert text_of(soup).count("Call") >= 3


def test_postgresql_reads_the_first_and_last_dates_from_the_ends_of_their_indexes(app_ctx: Flask,
                                                                                  db_kind: str) -> None:
    # PostgreSQL plans from statistics, which a test database lacks: with sequential scans priced
    # out, the plan says which index can answer. Referrals had no index of their date before 0030:
    # at the 1M demo the measures page read all 44,000 twice (22 ms).
    if db_kind != "postgresql":
        pytest.skip("PostgreSQL's plans")
    world = make_world(app_ctx)
    manager = make_user(roles=("caseworker", "manager"), agency=world.own)
    db.session.commit()
    seen: list[tuple[str, Any]] = []
    engine = world.app.extensions["casework.engine"]

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "min(referral.referred_on)" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        assert sign_in(world.app, manager).get("/measures").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert seen
    connection = db.session.connection()
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    for sql, params in seen:
        plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}", params))
        assert "Seq Scan" not in plan and "ix_referral_referred_on" in plan, plan
