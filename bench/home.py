"""Benchmark of a caseworker's home page with 200 open cases: median and 95th percentile time of GET /
(the whole request: session, the work lists of 25 each with the people's names as the caseworker may
see them, the referrals and actions, the page) and of the whole list of open cases, page 2
(/my-work/cases?page=2), on the demo data set of N incidents (default a million), on SQLite or
PostgreSQL.

The demo database is the one bench/measures.py makes and keeps in bench/out/ (made on the first run
with `casework demo`, reused after; bench/chronology.py adds to the same one). Into it goes one
caseworker of the agency holding most people, with 200 open cases of that agency's people (one or two
each, a quarter with an overdue review) and 100 tasks, half of them due.

    .venv/bin/python bench/home.py                          # SQLite, 1,000,000 incidents
    .venv/bin/python bench/home.py --incidents 100000 --runs 50
    .venv/bin/python bench/home.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Target: p95 under 200 ms (bench/load.py's target for every page).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.chronology import demo_arguments, make_app, time_pages
from bench.measures import prepare

TARGET_MS = 200.0


def populate(app: Any, cases: int) -> str:
    """A caseworker with `cases` open cases and their tasks, signed in: the session token."""
    from sqlalchemy import func, select

    from casework.auth import sessions
    from casework.db import db
    from casework.models import Case, CaseKind, CasePerson, CaseStatus, CaseTask, PartyRole, Person, Role, User

    with app.app_context():
        s = db.session
        agency_id = s.execute(select(Person.owner_agency_id, func.count()).group_by(Person.owner_agency_id)
                              .order_by(func.count().desc()).limit(1)).one()[0]
        people = list(s.scalars(select(Person.id).where(Person.owner_agency_id == agency_id,
                                                        Person.merged_into_id.is_(None)).limit(cases * 2)))
        user = User(email=f"bench-home-{uuid.uuid4().hex[:8]}@example.org", name="Bench home caseworker",
                    agency_id=agency_id, active=True)
        user.set_roles({Role.CASEWORKER})
        s.add(user)
        s.flush()
        today = dt.date.today()
        kinds = list(CaseKind)
        made = []
        for n in range(cases):
            case = Case(kind=kinds[n % len(kinds)], status=CaseStatus.OPEN, owner_agency_id=agency_id,
                        caseworker_id=user.id, review_on=today + dt.timedelta(days=(n % 40) - 10))
            s.add(case)
            made.append(case)
        s.flush()
        for n, case in enumerate(made):
            s.add(CasePerson(case_id=case.id, person_id=people[(2 * n) % len(people)], role=PartyRole.VICTIM))
            if n % 2:
                s.add(CasePerson(case_id=case.id, person_id=people[(2 * n + 1) % len(people)],
                                 role=PartyRole.PERPETRATOR))
            if n % 2 == 0:
                task = CaseTask(case_id=case.id, owner_id=user.id, due_on=today + dt.timedelta(days=(n % 20) - 10))
                task.title = f"Task {n}: call back about the safety plan"
                s.add(task)
        s.commit()
        with app.test_request_context():
            token = sessions.start(user=user, client_address="127.0.0.1")
        s.commit()
        return token


def run(args: argparse.Namespace) -> None:
    logging.disable(logging.INFO)  # the request log lines would bury the figures
    started = time.perf_counter()
    database, instance = prepare(args.database_url, args.incidents, args.seed, kind=args.demo)
    print(f"demo database ready in {time.perf_counter() - started:.0f} s", flush=True)
    app = make_app(database, instance)
    token = populate(app, args.cases)
    client = app.test_client()
    with client.session_transaction() as s:
        s["sid"] = token
    pages = {"home page": "/", "open cases, page 2": "/my-work/cases?page=2"}
    first = client.get("/")
    if first.status_code != 200 or f"Your open cases ({args.cases})" not in first.get_data(as_text=True):
        raise RuntimeError(f"the home page answered {first.status_code} without the {args.cases} open cases")
    engine = "SQLite" if database.startswith("sqlite") else "PostgreSQL"
    print(f"\n{args.incidents:,}-incident demo, {engine}, a caseworker with {args.cases} open cases; "
          f"{args.runs} requests a page after {args.warmup} warm-up")
    time_pages(client, pages, runs=args.runs, warmup=args.warmup, target_ms=TARGET_MS)


def main() -> None:
    parser = demo_arguments(__doc__)
    parser.add_argument("--cases", type=int, default=200)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
