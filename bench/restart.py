"""The database restarted under the load benchmark's users (PostgreSQL).

    .venv/bin/python bench/restart.py --incidents 20000 --users 20 --duration 60 --down-for 5

Starts a PostgreSQL server of its own (bench/_pgcluster.py: a temporary folder, a free port; never
the machine's shared server), runs bench/load.py's users against gunicorn on it, and a third of the way
in stops the server (`pg_ctl stop -m fast`), keeps it down for `--down-for` seconds and starts it
again. It prints the requests answered before, during and after the outage by status (a 503 is the
clean failure; any other 5xx, a traceback shown or a dropped connection is not), the seconds from the
server being back to the first page served and to every user being served again, and whether every
incident the users were told was recorded is there afterwards.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import load
from bench._pgcluster import Cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=20_000, help="demo size")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--down-for", type=float, default=5.0, help="seconds the database stays stopped")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    with Cluster.started() as pg, tempfile.TemporaryDirectory(prefix="casework-restart-") as instance:
        url = pg.url("casework_restart")
        times: dict[str, float] = {}

        def restart(start: float) -> None:
            time.sleep(args.duration / 3)
            times["stopped"] = time.monotonic() - start
            pg.stop(mode="fast")
            time.sleep(args.down_for)
            times["starting"] = time.monotonic() - start
            pg.start()
            times["started"] = time.monotonic() - start

        events: list[tuple[float, str, str]] = []
        load_args = argparse.Namespace(
            database_url=url, instance=instance, incidents=args.incidents, users=args.users, workers=args.workers,
            threads=None, duration=args.duration, think=args.think, port=args.port, redis_url=None, out=None,
            vacuum=True)
        report = load.run(load_args, during=restart, events=events)
        report["restart"] = summarise(events, times)
    print_report(report)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


def summarise(events: list[tuple[float, str, str]], times: dict[str, float]) -> dict:  # type: ignore[type-arg]
    phases: dict[str, collections.Counter[str]] = {p: collections.Counter() for p in ("before", "down", "after")}
    for at, _page, outcome in events:
        phase = "before" if at < times["stopped"] else "down" if at < times["started"] else "after"
        phases[phase][outcome] += 1
    served_after = sorted(at for at, _, outcome in events if at >= times["started"] and outcome[:1] in "23")
    last_failure = max((at for at, _, outcome in events if at >= times["started"] and outcome[:1] not in "23"),
                       default=times["started"])
    unclean = sum(n for counter in phases.values() for outcome, n in counter.items()
                  if outcome[:1] not in "23" and outcome != "503")
    return {
        "stopped_at_s": round(times["stopped"], 1), "down_s": round(times["starting"] - times["stopped"], 1),
        "server_start_s": round(times["started"] - times["starting"], 2),
        "first_page_after_start_s": round(served_after[0] - times["started"], 2) if served_after else None,
        "last_failure_after_start_s": round(last_failure - times["started"], 2),
        "outcomes": {phase: dict(counter.most_common()) for phase, counter in phases.items()},
        "unclean_failures": unclean,
    }


def print_report(report: dict) -> None:  # type: ignore[type-arg]
    r = report["restart"]
    print(f"{report['database']}: {report['users']} users, {report['workers']} workers, {report['duration_s']} s")
    print(f"database stopped at {r['stopped_at_s']} s for {r['down_s']} s; it took {r['server_start_s']} s to start")
    for phase, outcomes in r["outcomes"].items():
        print(f"  {phase:<7} " + ", ".join(f"{outcome}: {n}" for outcome, n in outcomes.items()))
    print(f"first page served {r['first_page_after_start_s']} s after the database was back; "
          f"last failure {r['last_failure_after_start_s']} s after")
    print(f"unclean failures (not 503: other 5xx, a traceback, a dropped connection): {r['unclean_failures']}")


if __name__ == "__main__":
    main()
