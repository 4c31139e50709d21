"""What each page of the load benchmark costs the machine: one signed-in user opens each page of
bench/load.py's PAGES `--requests` times, one after another, through gunicorn with one worker, and
this prints per page the median time and the CPU the worker and the PostgreSQL server processes
spent per request (read from /proc before and after), then the mean weighted as the load benchmark
weights the pages. The load benchmark's capacity is about the machine's cores divided by that sum.

    .venv/bin/python bench/page_cost.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench \\
        --instance /tmp/pgb

Same database and instance folder as bench/load.py (it migrates, loads the demo when empty and makes
the users the same way). "record an incident" includes the GET of its form (for the CSRF token), as in
the load benchmark. The PostgreSQL figure counts every server process of the machine (on SQLite it is
about zero): run it with nothing else on the database. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import glob
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import load
from bench._web import Browser, wait_until_serving

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | str) -> float:
    """User and system CPU of a process so far (0 when it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def postgres_seconds() -> float:
    """CPU so far of every PostgreSQL server process (the backends serving the worker among them)."""
    total = 0.0
    for folder in glob.glob("/proc/[0-9]*"):
        try:
            if Path(folder, "comm").read_text().startswith("postgres"):
                total += cpu_seconds(folder.rsplit("/", 1)[1])
        except OSError:
            continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    load.database_arguments(parser)
    parser.add_argument("--requests", type=int, default=40, help="requests of each page (after 3 to warm up)")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    env = load.environment(args)
    accounts, sample = load.prepare(env, 1, args.incidents, vacuum=True)
    server = load.start_server(env, args.port, workers=1)
    try:
        wait_until_serving(load.HOST, args.port, timeout=120)
        worker = int(subprocess.check_output(["pgrep", "-P", str(server.pid)]).split()[0])
        browser = Browser(load.HOST, args.port)
        browser.sign_in(accounts[0][0], load.PASSWORD, accounts[0][1])
        rng = random.Random(1)
        print(f"{'page':<22}{'median ms':>10}{'worker CPU ms':>15}{'PostgreSQL CPU ms':>19}")
        weighted = [0.0, 0.0]
        weights = 0
        for name, weight, make in load.PAGES:
            times = []
            for n in range(args.requests + 3):
                if n == 3:
                    worker_before, postgres_before = cpu_seconds(worker), postgres_seconds()
                method, path, form = make(browser, sample, rng)
                if form is not None:
                    form = {"csrf_token": browser.csrf("/incidents/new"), **form}
                started = time.perf_counter()
                response = browser.request(method, path, form)
                times.append(time.perf_counter() - started)
                if response.status >= 400 or "/sign-in" in response.location:
                    raise SystemExit(f"{name}: {method} {path} answered {response.status}")
            worker_ms = (cpu_seconds(worker) - worker_before) / args.requests * 1000
            postgres_ms = (postgres_seconds() - postgres_before) / args.requests * 1000
            weighted[0] += weight * worker_ms
            weighted[1] += weight * postgres_ms
            weights += weight
            print(f"{name:<22}{statistics.median(times[3:]) * 1000:>10.1f}{worker_ms:>15.1f}{postgres_ms:>19.1f}")
        worker_ms, postgres_ms = weighted[0] / weights, weighted[1] / weights
        print(f"{'weighted as load.py':<22}{'':>10}{worker_ms:>15.1f}{postgres_ms:>19.1f}"
              f"   (together {worker_ms + postgres_ms:.1f} ms of CPU a request)")
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
