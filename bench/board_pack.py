"""Benchmark of the board pack (issue 18 §5) on a demo data set of N incidents (default a million):
gathering the pack and rendering it as HTML, ODT and PDF in one process (medians of several runs),
and the whole command (`casework board-pack --meeting ... --format pdf`, a new process: the app's
start included).

The demo database is the MARAC return bench's (bench/marac_return.py `prepare`: kept in bench/out/,
made on the first run with `casework db upgrade` and `casework demo`, which loads the plan, local
problems, a review after a death and the ASB case reviews).

    .venv/bin/python bench/board_pack.py                           # SQLite, 1,000,000 incidents
    .venv/bin/python bench/board_pack.py --incidents 100000 --runs 3
    .venv/bin/python bench/board_pack.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Target: the pack in any format within 10 seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import casework_env
from bench.marac_return import prepare, run

MEETING = dt.date(2026, 4, 14)  # after the demo's last day (31 March 2026): 2025-26-Q4's return
TARGET_SECONDS = 10.0


def measure(database: str, instance: Path, *, runs: int) -> None:
    env = casework_env(database, instance)
    os.environ.update(env)
    from casework import create_app
    from casework.db import db
    from casework.models.base import utcnow
    from casework.services import board_pack, board_pack_document
    from casework.views.shared.figure_labels import ASB_REVIEW_FIGURES as LABELS

    app = create_app()
    worst = 0.0
    with app.app_context(), app.test_request_context():
        times: dict[str, list[float]] = {"gather": [], "html": [], "odt": [], "pdf": []}
        cpu: dict[str, list[float]] = {name: [] for name in times}  # this process's CPU (not a server's)
        for _ in range(runs):
            db.session.rollback()
            started, started_cpu = time.perf_counter(), time.process_time()
            pack = board_pack.gather(meeting=MEETING, today=MEETING)
            times["gather"].append(time.perf_counter() - started)
            cpu["gather"].append(time.process_time() - started_cpu)
            for fmt in ("html", "odt", "pdf"):
                started, started_cpu = time.perf_counter(), time.process_time()
                data = board_pack_document.render(pack, fmt, made_by="bench", made_at=utcnow(), asb_labels=LABELS)
                times[fmt].append(time.perf_counter() - started)
                cpu[fmt].append(time.process_time() - started_cpu)
        print(f"{len(pack.priorities)} priorities, {sum(len(p.measures) for p in pack.priorities)} measures, "
              f"{sum(len(p.delivery.rows) for p in pack.priorities)} activities, {len(pack.problems)} open local "
              f"problems, {len(pack.recommendations)} overdue recommendations; PDF {len(data):,} bytes", flush=True)
        gather = statistics.median(times["gather"])
        for name, found in times.items():
            print(f"{name}: median {statistics.median(found):.2f}s (runs {', '.join(f'{t:.2f}' for t in found)}); "
                  f"CPU of this process median {statistics.median(cpu[name]):.2f}s")
        worst = gather + max(statistics.median(times[f]) for f in ("html", "odt", "pdf"))
    out = instance / "board-pack.pdf"
    started = time.perf_counter()
    run("board-pack", "--meeting", MEETING.isoformat(), "--format", "pdf", "--output", str(out), env=env)
    print(f"casework board-pack --meeting {MEETING} --format pdf: {time.perf_counter() - started:.2f}s "
          f"({out.stat().st_size:,} bytes)")
    print(f"slowest format, gathered and rendered: {worst:.2f}s: "
          f"{'within' if worst <= TARGET_SECONDS else 'OVER'} the {TARGET_SECONDS:.0f}s target "
          f"(load average {os.getloadavg()[0]:.1f})")


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
