"""Benchmark of the ASB case review (issue 17 §3): the threshold by rule for one application
(median and 95th percentile of `services.asb_reviews.threshold_for`, for the victim with the most
ASB complaints and for the area with the most) and the yearly figures for a year of 1,000
applications (the service in process, and `casework asb-reviews figures` as a command, wall time),
on the demo data set of N incidents (default a million), on SQLite or PostgreSQL.

The demo database is made as bench/measures.py makes its own (`casework demo`), under a name of
its own, and kept in bench/out/ (or on the PostgreSQL server) for the next run. A fifth of its ASB
incidents are given a `reported_on` a few days after they happened (some more than a month after),
and 1,000 applications received in 2025/26 are added (replacing any an earlier run added): for the
victims of ASB incidents, and a tenth for areas, most decided, some reviewed with recommendations,
a few appealed.

    PYTHONPATH=. .venv/bin/python bench/asb_review.py                       # SQLite, 1,000,000 incidents
    PYTHONPATH=. .venv/bin/python bench/asb_review.py --incidents 100000
    PYTHONPATH=. .venv/bin/python bench/asb_review.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Targets: the threshold under 50 ms; the figures under 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import CASEWORK, ROOT, casework_env
from bench.measures import prepare

THRESHOLD_MS = 50.0
FIGURES_S = 2.0
APPLICATIONS = 1000
YEAR = "2025/26"
RECEIVED = dt.date(2025, 9, 30)  # the application the threshold is timed for


def populate(seed: int) -> tuple[Any, Any]:
    """Reported dates and 1,000 applications; (the busiest victim's id, the busiest area's id)."""
    from sqlalchemy import bindparam, delete, func, select, update

    from casework.db import db
    from casework.models import (
        Agency,
        AsbRecommendation,
        AsbReview,
        Category,
        Incident,
        Party,
        PartyRole,
        ThresholdDecision,
    )
    from casework.risk.asb_review import financial_year, window
    from casework.risk.repeats import add_months

    rng = random.Random(seed)
    s = db.session
    s.execute(delete(AsbReview).where(AsbReview.review_ref.like("BENCH-%")))
    asb = s.execute(select(Incident.id, Incident.occurred_on).where(Incident.category == Category.ASB)
                    .order_by(Incident.id)).all()
    table = Incident.__table__
    changes = [{"iid": i, "rep": day + dt.timedelta(days=rng.randrange(0, 40))} for n, (i, day) in enumerate(asb)
               if n % 5 == 0]
    for at in range(0, len(changes), 5000):
        s.execute(update(table).where(table.c.id == bindparam("iid")).values(reported_on=bindparam("rep")),
                  changes[at:at + 5000])
    victims = s.execute(select(Party.person_id, func.count()).join(Incident, Incident.id == Party.incident_id)
                        .where(Incident.category == Category.ASB, Party.role == PartyRole.VICTIM)
                        .group_by(Party.person_id).order_by(func.count().desc()).limit(5000)).all()
    areas = s.execute(select(Incident.area_id, func.count()).where(Incident.category == Category.ASB,
                                                                     Incident.area_id.is_not(None))
                      .group_by(Incident.area_id).order_by(func.count().desc())).all()
    # The victim timed is the one with the most ASB complaints the rule looks at for RECEIVED (the busiest
    # victim of all time may have none in those months: a threshold of nothing to count).
    since = add_months(window(RECEIVED)[0], -1)
    busiest = s.execute(select(Party.person_id, func.count()).join(Incident, Incident.id == Party.incident_id)
                        .where(Incident.category == Category.ASB, Party.role == PartyRole.VICTIM,
                               Incident.occurred_on >= since, Incident.occurred_on <= RECEIVED)
                        .group_by(Party.person_id).order_by(func.count().desc()).limit(1)).first()
    agencies = list(s.scalars(select(Agency.id)))
    start, _ = financial_year(YEAR)
    for n in range(APPLICATIONS):
        received = start + dt.timedelta(days=rng.randrange(365))
        community = n % 10 == 0 and areas
        review = AsbReview(review_ref=f"BENCH-{n:05d}", received_on=received, receiving_agency_id=rng.choice(agencies),
                           person_id=None if community else rng.choice(victims)[0],
                           area_id=rng.choice(areas)[0] if community else None, imported=True)
        roll = rng.random()
        if roll < 0.9:
            met = rng.random() < 0.6
            review.decision = ThresholdDecision.MET if met else ThresholdDecision.NOT_MET
            review.decided_on = received + dt.timedelta(days=rng.randrange(3, 20))
            if met and rng.random() < 0.8:
                review.review_held_on = review.decided_on + dt.timedelta(days=rng.randrange(5, 25))
                for _ in range(rng.randrange(0, 3)):
                    review.recommendations.append(AsbRecommendation(
                        text="Bench recommendation", owner_agency_id=rng.choice(agencies),
                        due_on=review.review_held_on + dt.timedelta(days=30)))
            if rng.random() < 0.1:
                review.appeal_received_on = review.decided_on + dt.timedelta(days=rng.randrange(1, 30))
                review.appeal_upheld = rng.random() < 0.3
        s.add(review)
    s.commit()
    return (busiest or victims[0])[0], areas[0][0] if areas else None


def timed(fn: Any, runs: int, warmup: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds (this process's CPU: a PostgreSQL server's work is not in it) of `runs` calls."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def summary(wall: list[float], cpu: list[float]) -> str:
    return (f"median {statistics.median(wall):.1f} ms, p95 {p95(wall):.1f} ms (CPU median "
            f"{statistics.median(cpu):.1f} ms, p95 {p95(cpu):.1f} ms; load average {os.getloadavg()[0]:.1f})")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def run(args: argparse.Namespace) -> None:
    os.environ["PYTHONPATH"] = str(ROOT)  # `casework` (db upgrade, demo) runs this worktree's code
    database, instance = prepare(args.database_url, args.incidents, args.seed, kind=args.demo)
    env = casework_env(database, instance)
    env["PYTHONPATH"] = str(ROOT)
    os.environ.update(env)
    from casework import create_app
    from casework.db import db
    from casework.services import asb_reviews

    app = create_app()
    with app.app_context():
        victim, area = populate(args.seed)
        gc.collect()
        gc.freeze()  # as wsgi.py does once a worker has started
        received = RECEIVED
        personal = asb_reviews.threshold_for(received_on=received, person_id=victim)
        print(f"busiest victim: {len(personal.judged)} complaints looked at, {personal.counted} days, "
              f"met {personal.met}")
        times = timed(lambda: asb_reviews.threshold_for(received_on=received, person_id=victim), args.runs, args.warmup)
        print(f"threshold, personal: {summary(*times)} (target {THRESHOLD_MS:.0f} ms)")
        if area is not None:
            community = asb_reviews.threshold_for(received_on=received, area_id=area)
            print(f"busiest area: {len(community.judged)} complaints looked at, {community.counted} people, "
                  f"met {community.met}")
            times = timed(lambda: asb_reviews.threshold_for(received_on=received, area_id=area), args.runs,
                          args.warmup)
            print(f"threshold, community: {summary(*times)} (target {THRESHOLD_MS:.0f} ms)")
        times = timed(lambda: asb_reviews.figures(year=YEAR, as_of=dt.date(2026, 5, 1)), 10, 2)
        print(f"figures in process ({APPLICATIONS} applications): {summary(*times)}")
        db.session.close()

    def command(*args: str) -> tuple[float, float, subprocess.CompletedProcess[str]]:
        """Wall and CPU seconds (user and system, of the child) of a `casework` command."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run([CASEWORK, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        return time.perf_counter() - started, cpu, done

    start_wall, start_cpu, _ = command("localities", "list")  # starting `casework` and its app, a trivial query
    wall, cpu, done = command("asb-reviews", "figures", "--year", YEAR,
                              "--as-of", "2026-05-01")
    if done.returncode != 0:
        raise SystemExit(f"figures failed:\n{done.stdout}\n{done.stderr}")
    print(done.stdout.strip())
    print(f"`asb-reviews figures` command: wall {wall:.2f} s, CPU {cpu:.2f} s (target {FIGURES_S:.0f} s); "
          f"of which starting `casework` (as `casework localities list` does): wall {start_wall:.2f} s, "
          f"CPU {start_cpu:.2f} s (load average {os.getloadavg()[0]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="a PostgreSQL server's URL (default: SQLite in bench/out/)")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--demo", default="asb-review", help="the name of the kept demo database (bench/out/NAME-N-seedS-sqlite/, or the PostgreSQL database NAME_N_seedS): another benchmark's, to reuse its load (default: %(default)s)")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
