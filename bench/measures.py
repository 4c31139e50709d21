"""Benchmark of the measures: all of them for a period and its previous period, on a demo data set
of N incidents (default a million), with one plain scan of the incidents table in the same run
(`SELECT category, count(*) FROM incident GROUP BY category`) so the figure reads as a ratio; then
the dashboard page and a few measure pages (target: under 1 second each).

The generated database is kept in bench/out/ (git-ignored) and reused: the first run makes it
with `casework db upgrade` and `casework demo` (the demo generator through the ordinary importer,
which also stores the repeat marks), later runs only `casework db upgrade` it (a migration that
adds derived data computes it then). Medians of several runs are reported.

    .venv/bin/python bench/measures.py                      # SQLite, 1,000,000 incidents
    .venv/bin/python bench/measures.py --incidents 100000 --runs 5
    .venv/bin/python bench/measures.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Targets: all measures for a period and its previous within 5 seconds; each page within 1 second.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, casework, casework_env

OUT = ROOT / "bench" / "out"
END = dt.date(2026, 3, 31)  # the demo's last day: five whole financial years, 2021/22 to 2025/26
TARGET_SECONDS = 5.0
TARGET_PAGE_SECONDS = 1.0
PAGES = ("/measures?period={p}", "/measures/ASB1?period={p}", "/measures/DA1?period={p}",
         "/measures/SV3?period={p}", "/measures/HRDA1?period={p}")


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def prepare(url: str | None, incidents: int, seed: int, *, kind: str = "measures") -> tuple[str, Path]:
    """The database (made and loaded on the first run) and its instance folder; `kind` names them (a
    benchmark that adds tables of its own keeps its own, so it never migrates another's database on
    a shared PostgreSQL server)."""
    name = f"{kind}-{incidents}-seed{seed}"
    instance = OUT / f"{name}-{'pg' if url and not url.startswith('sqlite') else 'sqlite'}"
    instance.mkdir(parents=True, exist_ok=True)
    if url is None or url.startswith("sqlite"):
        database = f"sqlite:///{instance / 'casework.db'}"
    else:
        database = _postgres_database(url, name.replace("-", "_"))
    env = casework_env(database, instance)
    started = time.perf_counter()
    print(casework("db", "upgrade", env=env).strip(), f"({time.perf_counter() - started:.1f}s)", flush=True)
    if not (instance / "loaded").exists():
        started = time.perf_counter()
        out = casework("demo", "--incidents", str(incidents), "--seed", str(seed), "--end", END.isoformat(), env=env)
        print(out.strip().splitlines()[-1], f"(wall {time.perf_counter() - started:.0f}s)", flush=True)
        (instance / "loaded").write_text(dt.datetime.now(dt.UTC).isoformat())
    return database, instance


def _postgres_database(url: str, name: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = make_url(url).set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.set(database=name).render_as_string(hide_password=False)


def measure(database: str, instance: Path, *, period_name: str, runs: int, marks: bool) -> None:
    os.environ.update(casework_env(database, instance))
    from sqlalchemy import func, select, text

    from casework import create_app
    from casework.db import begin_mode, db
    from casework.measures.engine import compute
    from casework.measures.periods import parse_period
    from casework.models import Incident

    app = create_app()
    period = parse_period(period_name)
    # Reads: on SQLite, DEFERRED transactions never wait for the write lock (as the web app's GETs).
    with app.app_context(), begin_mode("DEFERRED"):
        kind = db.engine.dialect.name
        incidents = db.session.scalar(select(func.count()).select_from(Incident))
        print(f"{kind}: {incidents:,} incidents; measures of {period.name} and {period.previous.name}", flush=True)
        all_measures, all_cpu, scans = [], [], []
        for run in range(1, runs + 1):
            db.session.rollback()  # a fresh transaction (snapshot) for each run
            started, started_cpu = time.perf_counter(), cpu()
            compute(db.session, [period, period.previous])
            seconds, seconds_cpu = time.perf_counter() - started, cpu() - started_cpu
            db.session.rollback()
            started = time.perf_counter()
            db.session.execute(text("SELECT category, count(*) FROM incident GROUP BY category")).all()
            scan = time.perf_counter() - started
            all_measures.append(seconds)
            all_cpu.append(seconds_cpu)
            scans.append(scan)
            print(f"  run {run}: all measures {seconds:.2f}s ({seconds_cpu:.2f}s CPU); plain scan {scan:.2f}s; "
                  f"ratio {seconds / scan:.1f}; load average {os.getloadavg()[0]:.1f}", flush=True)
        m, s = statistics.median(all_measures), statistics.median(scans)
        print(f"median of {runs} ({kind}, {incidents:,} incidents): all measures {m:.2f}s "
              f"({statistics.median(all_cpu):.2f}s CPU; target <= {TARGET_SECONDS:.0f}s), plain GROUP BY scan "
              f"{s:.2f}s, ratio {m / s:.1f}", flush=True)
        _pages(app, period_name, runs)
        if marks:
            _marks(db)


def _pages(app, period_name: str, runs: int) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from casework import crypto
    from casework.auth import sessions
    from casework.db import db
    from casework.models import Agency, Role, User
    from casework.models.base import utcnow
    from casework.services import users

    email = "bench-manager@example.org"
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        agency = db.session.scalars(select(Agency).order_by(Agency.name)).first()
        user = User(email=email, name="Bench Manager", agency_id=agency.id, active=True)
        user.set_roles({Role.MANAGER})
        user.password_hash = crypto.hash_password("a long bench passphrase", **users.hash_params())
        user.password_changed_at = utcnow()
        user.totp_secret = crypto.new_totp_secret()
        user.totp_enrolled_at = utcnow()
        db.session.add(user)
        db.session.commit()
    client = app.test_client()
    with app.test_request_context():
        token = sessions.start(user=user, client_address="127.0.0.1")
    db.session.commit()
    with client.session_transaction() as s:
        s["sid"] = token
    for template in PAGES:
        url = template.format(p=period_name)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url}: {response.status_code}")
        print(f"  page {url}: median {statistics.median(times):.2f}s of {runs} "
              f"(target < {TARGET_PAGE_SECONDS:.0f}s; min {min(times):.2f}s)", flush=True)


def _marks(db) -> None:  # type: ignore[no-untyped-def]
    from casework.figures.marks import check_repeat_marks, rebuild_repeat_marks

    started = time.perf_counter()
    found = check_repeat_marks(db.session, limit=10)
    print(f"  check of the stored repeat marks: {len(found)} differences, {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    rows = rebuild_repeat_marks(db.session)
    db.session.rollback()
    print(f"  full rebuild of the stored repeat marks: {rows:,} rows, {time.perf_counter() - started:.1f}s "
          "(rolled back)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--period", default="2024/25")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (default: a SQLite file)")
    parser.add_argument("--marks", action="store_true", help="also time the marks check and a full rebuild")
    parser.add_argument("--demo", default="measures", help="the name of the kept demo database (bench/out/NAME-N-seedS-sqlite/, or the PostgreSQL database NAME_N_seedS): another benchmark's, to reuse its load (default: %(default)s)")
    args = parser.parse_args()
    database, instance = prepare(args.database_url, args.incidents, args.seed, kind=args.demo)
    measure(database, instance, period_name=args.period, runs=args.runs, marks=args.marks)


if __name__ == "__main__":
    main()
