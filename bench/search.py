"""Benchmark of the people search page: median and 95th percentile time of GET /people, audit entry
included, on a database of N people (default a million) spread over five agencies.

People are written directly in bulk (sealed with `crypto.seal`, indexed with
`crypto.person_indexes`), with a source ref for each person of the searching
user's agency. Surnames follow a Zipf-like spread over the demo's names plus a
long tail of generated ones, so common names are common (1.2% are Smith, as
in England) and the worst case is measured, not avoided.

The searches are a mix of what caseworkers type: surname alone, surname and
forenames, surname and date of birth, a misspelt surname (phonetic), date of
birth alone, postcode, own reference. Each request goes through the whole app
(Flask test client, signed in, CSRF and sessions on) and writes its audit entry
(in its own transaction, with the hash chain) before the response is returned.

    .venv/bin/python bench/search.py                       # a million people, a fresh database
    .venv/bin/python bench/search.py --people 100000 --requests 300
    .venv/bin/python bench/search.py --keep /tmp/search.db  # reuse the database on later runs

Target: p95 under 50 ms on SQLite. EXPLAIN QUERY PLAN of the search's queries is printed, to
show they use the blind-index indexes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

AGENCIES = 5
BATCH = 20_000
TAIL = ("ham", "ford", "ley", "ton", "wick", "field", "well", "by", "more", "combe", "worth", "stone")
MIDS = ("", "a", "e", "i", "o", "en", "er", "ing", "ley", "ow", "an", "in")
HEADS = ("Ash", "Bel", "Carr", "Dun", "Eld", "Fen", "Gar", "Hal", "Ing", "Kel", "Lang", "Mar", "Nor", "Orm", "Pen",
         "Rad", "Sel", "Thorn", "Upp", "Wal", "Yar", "Brad", "Chal", "Crow", "Dray", "Ever", "Fair", "Gold")


def surnames(rng: random.Random) -> tuple[list[str], list[float]]:
    """The demo's names, Zipf-like (Smith 1.2% of people, the demo's 140 names about a fifth, as
    the commonest English surnames are), then a long tail of about 20,000 generated names."""
    from casework.demo import names

    common = list(names.COMMON_SURNAMES) + list(names.AWKWARD_SURNAMES)
    weights = [0.012 * (rank + 1) ** -0.6 for rank in range(len(common))]
    tail = sorted({h + m + t + s for h in HEADS for m in MIDS for t in TAIL for s in ("", "s", "e", "er", "ing")})
    rest = 1.0 - sum(weights)
    return common + tail, weights + [rest / len(tail)] * len(tail)


def make_app(url: str, instance: Path) -> Any:
    from casework import create_app

    return create_app({"ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": "bench", "SERVER_NAME": "localhost",
                       "KEYRING_FILE": str(instance / "keyring.json"), "WTF_CSRF_ENABLED": True,
                       "AUDIT_CHECKPOINT_FILE": str(instance / "audit-checkpoints")})


def populate(app: Any, people: int, seed: int) -> dict[str, Any]:
    """Migrate and fill the database; returns what the searches need (known people, the user)."""
    from alembic import command
    from sqlalchemy import select, text

    from casework import crypto
    from casework.db import db
    from casework.demo import names
    from casework.exchange.bulk import insert_rows
    from casework.migrate import alembic_config
    from casework.models import Agency, AgencyKind, Person, RecordKind, SourceRef
    from casework.models.base import utcnow

    rng = random.Random(seed)
    with app.app_context():
        command.upgrade(alembic_config(), "head")
        existing = db.session.scalar(select(Agency.id).where(Agency.name == "Bench agency 0"))
        if existing is None:
            agencies = [Agency(name=f"Bench agency {n}", kind=AgencyKind.POLICE) for n in range(AGENCIES)]
            db.session.add_all(agencies)
            db.session.commit()
        agencies = list(db.session.scalars(select(Agency).where(Agency.name.like("Bench agency %"))
                                           .order_by(Agency.name)))
        have = db.session.query(Person).count()
        ring = crypto.current()
        family, weights = surnames(rng)
        cumulative = list(itertools.accumulate(weights))
        forenames = list(names.FEMALE_FORENAMES) + list(names.AWKWARD_FEMALE_FORENAMES) + [
            "Oliver", "George", "Harry", "Jack", "Noah", "Leo", "Arthur", "Oscar", "Charlie", "Thomas", "James",
            "David", "Michael", "Daniel", "Seán", "Dylan", "Jacob", "Tomasz", "Muhammad", "Rhys"]
        outcodes = ["DT1", "DT2", "DT3", "DT4", "DT5", "DT6", "DT7", "DT8", "DT9", "DT10", "DT11", "BH15", "BH16",
                    "BH20", "BH21", "BH22", "SP7", "SP8", "TA20", "BA12"]
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        now = utcnow()
        started = time.perf_counter()
        done = have
        # Indexes are built once at the end (a sort), not row by row into random places.
        deferred = list(Person.__table__.indexes) if have < people else []
        for index in deferred:
            index.drop(db.session.connection(), checkfirst=True)
        db.session.commit()
        while done < people:
            rows, refs = [], []
            for n in range(done, min(people, done + BATCH)):
                row_id = uuid.uuid4()
                values = {
                    "surname": rng.choices(family, cum_weights=cumulative)[0],
                    "forenames": rng.choice(forenames) if rng.random() < 0.95 else None,
                    "date_of_birth": dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(365 * 65))
                    if rng.random() < 0.9 else None,
                    "postcode": f"{rng.choice(outcodes)} {rng.randrange(10)}{rng.choice(letters)}{rng.choice(letters)}"
                    if rng.random() < 0.9 else None,
                }
                idx = crypto.person_indexes(ring, **values)
                agency = agencies[n % AGENCIES]
                row = {"id": row_id, "owner_agency_id": agency.id, "gender": None, "do_not_disclose_address": False,
                       "mental_health": False, "substance_misuse": False, "complex_needs": False,
                       "restricted": n % 1000 == 7, "merged_into_id": None, "version": 1,
                       "created_at": now - dt.timedelta(seconds=people - n), "updated_at": now}
                for name in ("surname", "forenames", "date_of_birth", "postcode", "address", "phone", "email",
                             "safe_contact"):
                    value = values.get(name)
                    row[name + "_sealed"] = None if value is None else crypto.seal(
                        ring, crypto.encode_plain(value), table="person", column=name, row_id=row_id)
                for name in crypto.INDEX_NAMES:
                    row[f"bi_{name}"] = getattr(idx, name)
                rows.append(row)
                if agency is agencies[0]:
                    refs.append({"id": uuid.uuid4(), "agency_id": agency.id, "kind": RecordKind.PERSON, "ref": f"P{n:08d}",
                                 "record_id": row_id, "created_at": now, "updated_at": now})
            _insert(db.session, Person, rows, refs, SourceRef, insert_rows, now)
            done += len(rows)
            rate = (done - have) / (time.perf_counter() - started)
            print(f"\r  {done:,} people ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
        if done > have:
            print(file=sys.stderr)
        for index in deferred:
            index.create(db.session.connection(), checkfirst=True)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        return {"agencies": agencies}


def _insert(session: Any, person: Any, rows: list[dict[str, Any]], refs: list[dict[str, Any]], ref_model: Any,
            insert_rows: Any, now: dt.datetime) -> None:
    columns = {attr.key: attr.columns[0].name for attr in person.__mapper__.column_attrs}
    table_rows = [{columns.get(k, k): v for k, v in row.items()} for row in rows]
    from casework.exchange.bulk import sqlite_cache

    with sqlite_cache(session, 1_000_000):
        insert_rows(session, person.__table__, table_rows, now=now)
        if refs:
            insert_rows(session, ref_model.__table__, refs, now=now)
    session.commit()


def sample_terms(app: Any, seed: int, count: int) -> list[tuple[str, dict[str, str]]]:
    """Search terms taken from real rows (decrypted here, outside the timing), by kind of search."""
    from sqlalchemy import func, select

    from casework.db import db
    from casework.models import Person, SourceRef

    rng = random.Random(seed + 1)
    with app.app_context():
        # A random sample in one pass (SQLite's random(): the sample differs between runs).
        people = list(db.session.scalars(select(Person).where(Person.merged_into_id.is_(None))
                                         .order_by(func.random()).limit(count)))
        rng.shuffle(people)
        refs = list(db.session.scalars(select(SourceRef.ref).limit(5000)))
        terms: list[tuple[str, dict[str, str]]] = []
        kinds = itertools.cycle(["surname", "surname+forenames", "surname+dob", "sounds like", "dob", "postcode",
                                 "reference"])
        for person, kind in zip(people, kinds, strict=False):
            dob = person.date_of_birth or dt.date(1980, 1, 1)
            dob_args = {"date_of_birth-day": str(dob.day), "date_of_birth-month": str(dob.month),
                        "date_of_birth-year": str(dob.year)}
            if kind == "surname":
                args = {"surname": person.surname.upper()}
            elif kind == "surname+forenames":
                args = {"surname": person.surname, "forenames": person.forenames or "Amy"}
            elif kind == "surname+dob":
                args = {"surname": person.surname, **dob_args}
            elif kind == "sounds like":
                word = person.surname
                args = {"surname": (word[:-1] + ("y" if word[-1] != "y" else "i")) if len(word) > 3 else word}
            elif kind == "dob":
                args = dob_args
            elif kind == "postcode":
                args = {"postcode": (person.postcode or "DT1 1XJ").replace(" ", "").lower()}
            else:
                args = {"reference": rng.choice(refs)}
            terms.append((kind, args))
        return terms


def explain(app: Any, user: Any) -> None:
    """EXPLAIN QUERY PLAN of the count and page queries of a name + date of birth search, and of a
    common surname alone."""
    from sqlalchemy import func, select

    from casework import crypto
    from casework.db import db
    from casework.models import Person
    from casework.services import people_search

    with app.app_context():
        for terms in (people_search.SearchTerms(surname="Smith", forenames="Amy", date_of_birth=dt.date(1980, 1, 1)),
                      people_search.SearchTerms(surname="Smith")):
            print(f"  {terms.described()}:")
            _explain(db, people_search._tiers(terms, user, crypto.current()), Person, func, select)


def _explain(db: Any, tiers: list[Any], Person: Any, func: Any, select: Any) -> None:
    for label, query in [(f"count (tier {n + 1})", select(func.count()).select_from(Person).where(t.within))
                         for n, t in enumerate(tiers)] + [
            (f"page (tier {n + 1})", select(Person.id).where(t.condition)
             .order_by(Person.created_at.desc(), Person.id).limit(25)) for n, t in enumerate(tiers)]:
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": False})
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        plan = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params).all()
        print(f"    {label}: " + "; ".join(row[-1] for row in plan))


def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="casework-search-"))
    path = Path(args.keep) if args.keep else workdir / "search.db"
    instance = path.parent / (path.stem + "-instance")
    instance.mkdir(parents=True, exist_ok=True)
    app = make_app(f"sqlite:///{path}", instance)
    started = time.perf_counter()
    populate(app, args.people, args.seed)
    print(f"database ready in {time.perf_counter() - started:.0f} s: {path}", file=sys.stderr)

    from sqlalchemy import select

    from casework.auth import sessions
    from casework.db import db
    from casework.models import Agency, Role, User

    with app.app_context():
        agency = db.session.scalars(select(Agency).where(Agency.name == "Bench agency 0")).one()
        user = User(email=f"bench-{uuid.uuid4().hex[:8]}@example.org", name="Bench", agency_id=agency.id,
                    active=True)
        user.set_roles({Role.CASEWORKER})
        db.session.add(user)
        db.session.commit()
        with app.test_request_context():
            token = sessions.start(user=user, client_address="127.0.0.1")
        db.session.commit()
        explain(app, user)
    client = app.test_client()
    with client.session_transaction() as s:
        s["sid"] = token
    terms = sample_terms(app, args.seed, args.requests + args.warmup)
    timings: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    results: dict[str, list[int]] = {}
    for n, (kind, query) in enumerate(terms):
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.get("/people", query_string=query)
        elapsed = (time.perf_counter() - t0) * 1000
        cpu_ms = (time.process_time() - c0) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"search {query} answered {response.status_code}")
        if n >= args.warmup:
            timings.setdefault(kind, []).append(elapsed)
            cpu.setdefault(kind, []).append(cpu_ms)
            body = response.get_data(as_text=True)
            found = body.split('id="results">', 1)[1].split(" ", 1)[0] if 'id="results">' in body else "0"
            results.setdefault(kind, []).append(int(found))
    everything = sorted(t for ts in timings.values() for t in ts)
    all_cpu = sorted(t for ts in cpu.values() for t in ts)
    print(f"\n{args.people:,} people, {len(everything)} searches (after {args.warmup} warm-up), SQLite, audit included")
    print("wall: elapsed time of the request; cpu: this process's CPU time (other work on the machine excluded)")
    print(f"{'search':<20}{'n':>5}{'median':>9}{'p95':>8}{'max':>8}{'cpu median':>12}{'cpu p95':>9}{'median hits':>13}")
    for kind, ts in timings.items():
        print(f"{kind:<20}{len(ts):>5}{statistics.median(ts):>9.1f}{_p95(ts):>8.1f}{max(ts):>8.1f}"
              f"{statistics.median(cpu[kind]):>12.1f}{_p95(cpu[kind]):>9.1f}{statistics.median(results[kind]):>13.0f}")
    print(f"{'all':<20}{len(everything):>5}{statistics.median(everything):>9.1f}{_p95(everything):>8.1f}"
          f"{max(everything):>8.1f}{statistics.median(all_cpu):>12.1f}{_p95(all_cpu):>9.1f}")
    print(f"target p95 under 50 ms: wall {'met' if _p95(everything) < 50 else 'NOT met'}, "
          f"cpu {'met' if _p95(all_cpu) < 50 else 'NOT met'} (load average {os.getloadavg()[0]:.1f})")


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=700)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", help="SQLite file to build once and reuse")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
