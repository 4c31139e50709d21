"""Benchmark of the MARAC data return (issue 18 §4) on a demo data set of N incidents (default a
million): `marac_return.figures(quarter)` for each quarter of 2025-26 in one process (medians of
several runs), and the whole command (`casework marac-return --quarter ... --format csv`, a new
process: the app's start included).

The database is kept in bench/out/ (git-ignored) and reused; the first run makes it with
`casework db upgrade` and `casework demo` (which hears the demo's HRDA referrals at meetings and
gives a share of people equality information: casework/demo/board.py). The commands run this
checkout's code (not an installed `casework`).

    .venv/bin/python bench/marac_return.py                           # SQLite, 1,000,000 incidents
    .venv/bin/python bench/marac_return.py --incidents 100000 --runs 5
    .venv/bin/python bench/marac_return.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Target: a quarter's return within 2 seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, casework_env
from bench.measures import _postgres_database as _postgres

OUT = ROOT / "bench" / "out"
END = dt.date(2026, 3, 31)
QUARTERS = ("2025-26-Q1", "2025-26-Q2", "2025-26-Q3", "2025-26-Q4")
TARGET_SECONDS = 2.0


def run(*args: str, env: dict[str, str]) -> str:
    """`casework ARGS` with this checkout's code."""
    code = "import sys; sys.argv[0] = 'casework'; from casework.cli import main; main()"
    done = subprocess.run([sys.executable, "-c", code, *args], check=False, env={**env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"casework {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(url: str | None, incidents: int, seed: int, *, demo: str = "marac") -> tuple[str, Path]:
    kind = "pg" if url and not url.startswith("sqlite") else "sqlite"
    name = f"{demo}-{incidents}-seed{seed}"
    instance = OUT / f"{name}-{kind}"
    instance.mkdir(parents=True, exist_ok=True)
    database = f"sqlite:///{instance / 'casework.db'}" if kind == "sqlite" else _postgres(url, name.replace("-", "_"))
    env = casework_env(database, instance)
    started = time.perf_counter()
    print(run("db", "upgrade", env=env).strip(), f"({time.perf_counter() - started:.1f}s)", flush=True)
    if not (instance / "loaded").exists():
        started = time.perf_counter()
        out = run("demo", "--incidents", str(incidents), "--seed", str(seed), "--end", END.isoformat(), env=env)
        print(out.strip().splitlines()[-1], f"(wall {time.perf_counter() - started:.0f}s)", flush=True)
        (instance / "loaded").write_text(dt.datetime.now(dt.UTC).isoformat())
    return database, instance


def measure(database: str, instance: Path, *, runs: int) -> None:
    env = casework_env(database, instance)
    os.environ.update(env)
    from sqlalchemy import func, select

    from casework import create_app
    from casework.db import db
    from casework.measures.marac import parse_quarter
    from casework.models import Incident, MeetingCase, Person
    from casework.services import marac_return

    app = create_app()
    with app.app_context():
        counts = {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
                  for m in (Incident, Person, MeetingCase)}
        agreed = db.session.scalar(select(func.count()).select_from(Person).where(Person.equality_agreed_on.is_not(None)))
        print(f"{counts['incident']:,} incidents, {counts['person']:,} people ({agreed:,} with equality "
              f"information), {counts['meeting_case']:,} HRDA cases heard", flush=True)
        worst = 0.0
        for name in QUARTERS:
            quarter = parse_quarter(name)
            times = []
            for _ in range(runs):
                db.session.rollback()
                started = time.perf_counter()
                result = marac_return.figures(quarter)
                times.append(time.perf_counter() - started)
            median = statistics.median(times)
            worst = max(worst, median)
            print(f"figures({name}): {result.figure('cases').count:,} cases heard, median {median:.3f}s "
                  f"(runs {', '.join(f'{t:.3f}' for t in times)})", flush=True)
    started = time.perf_counter()
    out = run("marac-return", "--quarter", QUARTERS[-1], "--format", "csv", env=env)
    print(f"casework marac-return --quarter {QUARTERS[-1]} --format csv: {time.perf_counter() - started:.2f}s "
          f"({len(out.splitlines())} lines)")
    print(f"slowest quarter {worst:.3f}s: {'within' if worst <= TARGET_SECONDS else 'OVER'} the {TARGET_SECONDS}s target")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--demo", default="marac", help="the name of the kept demo database (bench/out/NAME-N-seedS-sqlite/, or the PostgreSQL database NAME_N_seedS): another benchmark's, to reuse its load (default: %(default)s)")
    args = parser.parse_args()
    database, instance = prepare(args.database_url, args.incidents, args.seed, demo=args.demo)
    measure(database, instance, runs=args.runs)


if __name__ == "__main__":
    main()
