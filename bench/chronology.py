"""Benchmark of a person's chronology: median and 95th percentile time of GET
/people/<id>/chronology (the whole request: sign-in session, visibility, one query a kind, the page,
its audit entry) for a person with 500 items, on the demo data set of N incidents (default a
million), on SQLite or PostgreSQL.

The demo database is the one bench/measures.py makes and keeps in bench/out/ (made on the first
run with `casework demo`, reused after). Into it goes one person of the agency holding most people
with 500 items of every kind: incidents of their own agency and of another (shown by identity
only), notes and tasks on two cases, DASH checklists, referrals and their decisions, HRDA meetings
and their actions; then a caseworker of that agency opens the chronology's first page, a filtered
page and a later page, over and over.

    .venv/bin/python bench/chronology.py                          # SQLite, 1,000,000 incidents
    .venv/bin/python bench/chronology.py --incidents 100000 --runs 50
    .venv/bin/python bench/chronology.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Target: p95 under 300 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measures import prepare

TARGET_MS = 300.0


def make_app(database: str, instance: Path) -> Any:
    from casework import create_app

    return create_app({"ENV": "testing", "DATABASE_URL": database, "SECRET_KEY": "bench", "SERVER_NAME": "localhost",
                       "KEYRING_FILE": str(instance / "keyring.json"), "WTF_CSRF_ENABLED": True,
                       "AUDIT_CHECKPOINT_FILE": str(instance / "audit-checkpoints")})


def populate(app: Any, items: int) -> tuple[uuid.UUID, str, int]:
    """A person with `items` items and a signed-in caseworker who sees them: (person id, session
    token, items written)."""
    from sqlalchemy import func, select

    from casework.auth import sessions
    from casework.db import db
    from casework.models import (
        AgencyKind,
        Case,
        CaseKind,
        CaseNote,
        CasePerson,
        CaseTask,
        Category,
        Incident,
        Party,
        PartyRole,
        Person,
        Referral,
        ReferralStatus,
        ReferralType,
        RiskAssessment,
        Role,
        User,
    )
    from casework.models.assessment import AssessmentStatus
    from casework.models.base import utcnow
    from casework.models.meeting import Meeting, MeetingAction, MeetingAgency, MeetingCase

    with app.app_context():
        s = db.session
        by_people = s.execute(select(Person.owner_agency_id, func.count()).group_by(Person.owner_agency_id)
                              .order_by(func.count().desc())).all()
        agency_id, other_id = by_people[0][0], by_people[1][0]
        user = User(email=f"bench-{uuid.uuid4().hex[:8]}@example.org", name="Bench caseworker", agency_id=agency_id,
                    active=True)
        user.set_roles({Role.CASEWORKER})
        person = Person(surname="Chronology", forenames="Bench", date_of_birth=dt.date(1980, 1, 1),
                        owner_agency_id=agency_id)
        s.add_all([user, person])
        s.flush()
        start = dt.date(2021, 4, 1)
        written = 0

        def day(n: int) -> dt.date:
            return start + dt.timedelta(days=(n * 7) % 1800)

        def at(n: int) -> dt.datetime:
            d = day(n)
            return dt.datetime(d.year, d.month, d.day, 10 + n % 8, tzinfo=dt.UTC)

        share = {"incident": items * 2 // 5, "note": items * 3 // 10, "task": items // 5,
                 "dash": items // 25, "referral": items // 50, "meeting": items // 100}
        for n in range(share["incident"]):  # one in four of another agency: identity only
            incident = Incident(occurred_on=day(n), category=Category.VIOLENCE_WITH_INJURY, domestic_abuse=True,
                                recorded_by=AgencyKind.POLICE, owner_agency_id=other_id if n % 4 == 0 else agency_id)
            s.add(incident)
            s.flush()
            s.add(Party(incident_id=incident.id, person_id=person.id,
                        role=PartyRole.VICTIM if n % 3 else PartyRole.PERPETRATOR))
            written += 1
        cases = [Case(kind=CaseKind.DOMESTIC_ABUSE, owner_agency_id=agency_id, caseworker_id=user.id)
                 for _ in range(2)]
        s.add_all(cases)
        s.flush()
        for case in cases:
            s.add(CasePerson(case_id=case.id, person_id=person.id, role=PartyRole.VICTIM))
        for n in range(share["note"]):
            note = CaseNote(case_id=cases[n % 2].id, author_id=user.id, at=at(n))
            note.text = f"Note {n}: spoke to the victim about the safety plan and the next steps."
            s.add(note)
            written += 1
        for n in range(share["task"]):
            task = CaseTask(case_id=cases[n % 2].id, due_on=day(n + 3), owner_id=user.id, created_at=at(n),
                            done_at=utcnow() if n % 2 else None)
            task.title = f"Task {n}: call back about housing"
            s.add(task)
            written += 1
        for n in range(share["dash"]):
            s.add(RiskAssessment(person_id=person.id, case_id=cases[0].id, assessor_id=user.id,
                                 owner_agency_id=agency_id, assessed_on=day(n), status=AssessmentStatus.COMPLETE,
                                 score=10 + n % 10))
            written += 1
        meetings_left = share["meeting"]
        for n in range(share["referral"]):
            referral = Referral(person_id=person.id, type=ReferralType.HRDA, referred_on=day(n),
                                status=ReferralStatus.ACCEPTED, owner_agency_id=agency_id,
                                receiving_agency_id=agency_id, referred_by_id=user.id, case_id=cases[0].id,
                                decided_by_id=user.id, decided_at=at(n + 1))
            s.add(referral)
            s.flush()
            referral.decision_reason = "Meets the threshold"
            written += 2  # the referral and its decision
            if meetings_left > 0:
                meeting = Meeting(agency_id=agency_id, starts_at=at(n + 2))
                s.add(meeting)
                s.flush()
                s.add(MeetingAgency(meeting_id=meeting.id, agency_id=agency_id))
                item = MeetingCase(meeting_id=meeting.id, referral_id=referral.id)
                s.add(item)
                s.flush()
                action = MeetingAction(meeting_case_id=item.id, agency_id=agency_id, due_on=day(n + 5),
                                       created_at=at(n + 2))
                action.text = "Fit a door alarm"
                s.add(action)
                written += 2  # the meeting and its action
                meetings_left -= 1
        s.commit()
        with app.test_request_context():
            token = sessions.start(user=user, client_address="127.0.0.1")
        s.commit()
        return person.id, token, written


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run(args: argparse.Namespace) -> None:
    logging.disable(logging.INFO)  # the request log lines would bury the figures
    started = time.perf_counter()
    database, instance = prepare(args.database_url, args.incidents, args.seed, kind=args.demo)
    print(f"demo database ready in {time.perf_counter() - started:.0f} s", flush=True)
    app = make_app(database, instance)
    person_id, token, written = populate(app, args.items)
    client = app.test_client()
    with client.session_transaction() as s:
        s["sid"] = token
    pages = {"first page": f"/people/{person_id}/chronology",
             "notes and tasks": f"/people/{person_id}/chronology?kind=note&kind=task",
             "page 10": f"/people/{person_id}/chronology?page=10"}
    first = client.get(pages["first page"])
    body = first.get_data(as_text=True)
    if first.status_code != 200 or f"{written} items" not in body:
        raise RuntimeError(f"the chronology answered {first.status_code} without its {written} items")
    engine = "SQLite" if database.startswith("sqlite") else "PostgreSQL"
    print(f"\n{args.incidents:,}-incident demo, {engine}, a person with {written} items; "
          f"{args.runs} requests a page after {args.warmup} warm-up, audit entry included")
    time_pages(client, pages, runs=args.runs, warmup=args.warmup, target_ms=TARGET_MS)


def time_pages(client: Any, pages: dict[str, str], *, runs: int, warmup: int, target_ms: float) -> None:
    """GET each page `warmup + runs` times and print its median, p95 and max wall time and its median
    and p95 CPU time (the last `runs`), and whether the worst p95 meets `target_ms`."""
    print("wall: elapsed time of the request; cpu: this process's CPU time (other work on the machine excluded)")
    width = max(len(name) for name in pages) + 2
    print(f"{'page':<{width}}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}{'cpu median':>12}{'cpu p95':>9}")
    worst = worst_cpu = 0.0
    for name, url in pages.items():
        timings, cpu = [], []
        for n in range(warmup + runs):
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get(url)
            elapsed, cpu_ms = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
            if n >= warmup:
                timings.append(elapsed)
                cpu.append(cpu_ms)
        worst, worst_cpu = max(worst, _p95(timings)), max(worst_cpu, _p95(cpu))
        print(f"{name:<{width}}{statistics.median(timings):>10.1f}{_p95(timings):>9.1f}{max(timings):>9.1f}"
              f"{statistics.median(cpu):>12.1f}{_p95(cpu):>9.1f}")
    print(f"target p95 under {target_ms:.0f} ms: wall {'met' if worst < target_ms else 'NOT met'}, "
          f"cpu {'met' if worst_cpu < target_ms else 'NOT met'} (load average {os.getloadavg()[0]:.1f})")


def demo_arguments(description: str | None) -> argparse.ArgumentParser:
    """The options of a benchmark on the demo database: its size, the server, runs, warm-up, seed."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="a PostgreSQL server's URL (default: SQLite in bench/out/)")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--demo", default="measures", help="the name of the kept demo database (bench/out/NAME-N-seedS-sqlite/, or the PostgreSQL database NAME_N_seedS): another benchmark's, to reuse its load (default: %(default)s)")
    return parser


def main() -> None:
    parser = demo_arguments(__doc__)
    parser.add_argument("--items", type=int, default=500)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
