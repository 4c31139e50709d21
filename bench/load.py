"""Load benchmark: concurrent signed-in users against gunicorn, on SQLite or PostgreSQL.

    .venv/bin/python bench/load.py --database-url sqlite:////tmp/bench/casework.db --instance /tmp/bench
    .venv/bin/python bench/load.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench --instance /tmp/pgb

It migrates the database, loads the demo data when it is empty (`casework demo --incidents N`),
makes `--users` users of the agency holding most people (password and TOTP, as in real life),
starts gunicorn with `--workers` workers on a loopback port, signs every user in, and then for
`--duration` seconds each user opens pages one after another with a pause between (`--think`):
searching people, opening people, incidents and cases, recording incidents, the home page. One
more client asks for /healthz back to back on the same server, for scale. It prints, per page,
the requests, errors, median and 95th percentile, and writes the same as JSON (`--out`).

With `--outbox N`, N email messages are queued before the run and an outbox sender runs during it in a
process of its own (bench/outbox.py `sender`: the scheduler's `send_email` job, `--outbox-every` seconds
apart, to a local SMTP sink), so the figures show the sender's effect (on recording an incident, say);
the report says how many it sent while the users worked. Without it no sender runs.

Pages are the PAGES list below: adding one (the dashboard, say) is one line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._web import Browser, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
PASSWORD = "bench passphrase for load testing"


@dataclass
class Sample:
    """Ids and terms the users pick from (of records their agency can see)."""

    people: list[str]
    surnames: list[str]
    incidents: list[str]
    cases: list[str]


def _record_incident(b: Browser, s: Sample, rng: random.Random) -> tuple[str, str, dict[str, str] | None]:
    day = dt.date.today() - dt.timedelta(days=rng.randrange(1, 300))
    return "POST", "/incidents/new", {"occurred_on-day": str(day.day), "occurred_on-month": str(day.month),
                                      "occurred_on-year": str(day.year), "category": "criminal_damage",
                                      "locality": "Weymouth"}


# (name, weight, request maker): a maker returns (method, path, form) from the sample; None skips a page
# whose records the data lacks. Add a page here to include it in the benchmark.
PAGES: list[tuple[str, int, Callable[[Browser, Sample, random.Random], tuple[str, str, dict[str, str] | None]]]] = [
    ("search people", 3, lambda b, s, r: ("GET", f"/people?surname={quote(r.choice(s.surnames))}", None)),
    ("open a person", 3, lambda b, s, r: ("GET", f"/people/{r.choice(s.people)}", None)),
    ("open an incident", 2, lambda b, s, r: ("GET", f"/incidents/{r.choice(s.incidents)}", None)),
    ("open a case", 2, lambda b, s, r: ("GET", f"/cases/{r.choice(s.cases)}", None)),
    ("record an incident", 1, _record_incident),
    ("home page", 1, lambda b, s, r: ("GET", "/", None)),
    ("dashboard", 1, lambda b, s, r: ("GET", "/measures", None)),  # the measures dashboard
]


def casework(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "casework"), *args], check=False, cwd=ROOT, env=env, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"casework {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(env: dict[str, str], users: int, incidents: int, *, vacuum: bool) -> tuple[list[tuple[str, str]], Sample]:
    """Migrate, load the demo data if empty, make the users and pick the sample (in this process)."""
    casework(env, "db", "upgrade")
    print(casework(env, "demo", "--incidents", str(incidents), "--if-empty").strip().splitlines()[-1])
    os.environ.update(env)
    from sqlalchemy import func, select

    from casework import create_app, crypto
    from casework.db import db
    from casework.models import Case, Incident, Person, Role, User

    app = create_app()
    with app.app_context():
        agency_id = db.session.execute(select(Person.owner_agency_id, func.count()).group_by(Person.owner_agency_id)
                                       .order_by(func.count().desc()).limit(1)).scalar_one()
        accounts = []
        hashed = crypto.hash_password(PASSWORD)
        for n in range(users):
            email = f"bench-{n:03d}@example.org"
            user = db.session.scalar(select(User).where(User.email == email))
            if user is None:
                user = User(email=email, name=f"Bench user {n}", agency_id=agency_id)
                user.totp_secret = crypto.new_totp_secret()
                user.totp_enrolled_at = user.password_changed_at = dt.datetime.now(dt.UTC)
                db.session.add(user)
            user.password_hash, user.agency_id, user.active = hashed, agency_id, True
            user.set_roles({Role.CASEWORKER, Role.MANAGER})  # the dashboard is a manager's page
            user.totp_last_step, user.failed_attempts, user.locked_until = None, 0, None
            accounts.append((email, user.totp_secret))
        db.session.commit()

        def ids(model: type, n: int = 2000) -> list[str]:
            return [str(i) for i in db.session.scalars(
                select(model.id).where(model.owner_agency_id == agency_id).order_by(model.id).limit(n))]

        people = ids(Person)
        surnames = sorted({p.surname for p in db.session.scalars(select(Person).where(
            Person.owner_agency_id == agency_id).limit(300))})
        sample = Sample(people=people, surnames=surnames, incidents=ids(Incident), cases=ids(Case))
        engine = app.extensions["casework.engine"]
        if engine.dialect.name == "postgresql" and vacuum:
            # What autovacuum does after a bulk load (it is off on some machines, this one included):
            # without it the visibility map is empty and no index-only scan avoids the table.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM (ANALYZE)")
    app.extensions["casework.engine"].dispose()
    return accounts, sample


_SENT_BEFORE = [0]  # messages sent before the run (the outbox of an earlier run's database)


def _start_sender(env: dict[str, str], messages: int, every: float) -> tuple[subprocess.Popen[str], ...]:
    """Queue `messages` messages, start an SMTP sink and the sender (bench/outbox.py): (sender, sink)."""
    from bench.outbox import _smtp_sink, queue_backlog, sent_count
    from tests.smtp_support import free_port

    os.environ.update(env)
    queue_backlog(messages)
    _SENT_BEFORE[0] = sent_count()
    port = free_port()
    sink = _smtp_sink(port)
    code = f"from bench.outbox import sender; sender({port}, {every})"
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.PIPE, text=True)
    return process, sink


def _stop_sender(sending: tuple[subprocess.Popen[str], ...]) -> dict[str, object]:
    """Stop the sender and the sink: what the sender did (its runs, the messages sent during the run, the
    seconds spent sending by its finished runs, retries and failures)."""
    import json

    from bench.outbox import sent_count

    for process in sending:
        process.terminate()
    out, _ = sending[0].communicate(timeout=60)
    sending[1].wait(timeout=60)
    runs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {"runs": len(runs), "sent": sent_count() - _SENT_BEFORE[0],
            "seconds_sending": round(sum(r["seconds"] for r in runs), 1),
            "retrying": sum(r["retrying"] for r in runs), "failed": sum(r["failed"] for r in runs)}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def database_arguments(parser: argparse.ArgumentParser) -> None:
    """The database, its instance folder and the demo's size (this benchmark's and bench/page_cost.py's)."""
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--instance", required=True, help="instance folder (keyring, secret key) for this database")
    parser.add_argument("--incidents", type=int, default=1_000_000, help="demo size when the database is empty")


def environment(args: argparse.Namespace) -> dict[str, str]:
    """The environment pointing `casework` and gunicorn at `args`' database and instance folder (made)."""
    instance = Path(args.instance).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "CASEWORK_INSTANCE_PATH": str(instance), "CASEWORK_DATABASE_URL": args.database_url,
            "CASEWORK_KEYRING_FILE": str(instance / "keyring.json"), "CASEWORK_LOG_LEVEL": "WARNING",
            "CASEWORK_SIGN_IN_ADDRESS_LIMIT": "1000 per 15 minutes"}


def start_server(env: dict[str, str], port: int, *, workers: int, threads: int | None = None) -> subprocess.Popen[bytes]:
    """gunicorn serving the app on a loopback port (its output dropped)."""
    return subprocess.Popen([str(BIN / "gunicorn"), "wsgi:app"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**env, "WEB_CONCURRENCY": str(workers),
                                                            "GUNICORN_BIND": f"{HOST}:{port}",
                                                            **({"GUNICORN_THREADS": str(threads)} if threads else {})})


def run(args: argparse.Namespace, during: Callable[[float], None] | None = None,
        events: list[tuple[float, str, str]] | None = None) -> dict:  # type: ignore[type-arg]
    """The benchmark. `during(start)`, if given, runs in a thread of its own while the users work
    (bench/restart.py restarts the database); `events` collects (seconds from the start, page, status or
    the exception's name, with "+traceback" when a page showed one) for every request."""
    env = environment(args)
    if args.redis_url:
        env["CASEWORK_REDIS_URL"] = args.redis_url
    accounts, sample = prepare(env, args.users, args.incidents, vacuum=args.vacuum)
    sending = _start_sender(env, args.outbox, args.outbox_every) if args.outbox else None
    pages = [(name, weight, make) for name, weight, make in PAGES
             if not (name == "open a case" and not sample.cases) and not (name == "open a person" and not sample.people)]
    server = start_server(env, args.port, workers=args.workers, threads=args.threads)
    results: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    health: list[float] = []
    lock = threading.Lock()
    try:
        wait_until_serving(HOST, args.port, timeout=120)
        browsers = []
        for email, secret in accounts:
            b = Browser(HOST, args.port)
            b.sign_in(email, PASSWORD, secret)
            browsers.append(b)
        start = time.monotonic()
        stop_at = start + args.duration

        def user(b: Browser, seed: int) -> None:
            rng = random.Random(seed)
            time.sleep(rng.uniform(0, args.think))  # users do not all start at the same instant
            names, weights = [p[0] for p in pages], [p[1] for p in pages]
            makers = {p[0]: p[2] for p in pages}
            while time.monotonic() < stop_at:
                name = rng.choices(names, weights)[0]
                method, path, form = makers[name](b, sample, rng)
                try:
                    if form is not None:
                        form = {"csrf_token": b.csrf("/incidents/new"), **form}
                    response = b.request(method, path, form)
                    ok = response.status < 400 and "/sign-in" not in response.location
                    if events is not None:
                        shown = "+traceback" if "Traceback" in response.body else ""
                        events.append((time.monotonic() - start, name, f"{response.status}{shown}"))
                    with lock:
                        results[name].append(response.seconds)
                        if not ok:
                            errors[name].append(f"{response.status} {path}")
                except Exception as e:  # noqa: BLE001 - counted as an error of the page
                    if events is not None:  # (a form's page that answered 503 has no token to post)
                        failed = "503" if "(status 503)" in str(e) else type(e).__name__
                        events.append((time.monotonic() - start, name, failed))
                    with lock:
                        errors[name].append(f"{type(e).__name__}: {e}")
                time.sleep(rng.uniform(0.5 * args.think, 1.5 * args.think))

        def healthz() -> None:
            b = Browser(HOST, args.port)
            while time.monotonic() < stop_at:
                response = b.get("/healthz")
                health.append(response.seconds)
                if response.status != 200:
                    errors["/healthz"].append(str(response.status))

        threads = [threading.Thread(target=user, args=(b, n)) for n, b in enumerate(browsers)]
        threads.append(threading.Thread(target=healthz))
        if during is not None:
            threads.append(threading.Thread(target=during, args=(start,)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
    finally:
        server.terminate()
        server.wait(timeout=60)
        sent = _stop_sender(sending) if sending else None
    report = {
        "database": args.database_url.split(":")[0], "users": args.users, "workers": args.workers,
        "threads": args.threads or "default",
        "duration_s": round(elapsed, 1), "think_s": args.think,
        "pages": {name: {"requests": len(v), "errors": len(errors.get(name, [])),
                         "median_ms": round(statistics.median(v) * 1000, 1) if v else None,
                         "p95_ms": round(percentile(v, 95) * 1000, 1) if v else None}
                  for name, v in sorted(results.items())},
        "requests_per_s": round(sum(len(v) for v in results.values()) / elapsed, 1),
        "healthz": {"requests_per_s": round(len(health) / elapsed, 1),
                    "median_ms": round(statistics.median(health) * 1000, 2) if health else None,
                    "p95_ms": round(percentile(health, 95) * 1000, 2) if health else None},
        "errors": {k: v[:5] for k, v in errors.items()},
        "outbox": sent,
    }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    database_arguments(parser)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per worker (GUNICORN_THREADS; default: gunicorn.conf.py's)")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a user's requests (s)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--vacuum", action=argparse.BooleanOptionalAction, default=True,
                        help="on PostgreSQL, VACUUM (ANALYZE) before the run, as autovacuum would (default: yes)")
    parser.add_argument("--outbox", type=int, default=0, metavar="N",
                        help="queue N email messages and run an outbox sender during the run (default: no sender)")
    parser.add_argument("--outbox-every", type=float, default=30.0, metavar="SECONDS",
                        help="seconds between the sender's runs (the scheduler's send_email job: 30)")
    args = parser.parse_args()
    report = run(args)
    print(f"{report['database']}: {report['users']} users, {report['workers']} workers "
          f"({report['threads']} threads each), "
          f"{report['duration_s']} s, {report['requests_per_s']} requests/s")
    print(f"{'page':<22}{'requests':>9}{'errors':>8}{'median ms':>11}{'p95 ms':>9}")
    for name, row in report["pages"].items():
        print(f"{name:<22}{row['requests']:>9}{row['errors']:>8}{row['median_ms']:>11}{row['p95_ms']:>9}")
    h = report["healthz"]
    print(f"/healthz (one client, back to back): {h['requests_per_s']} requests/s, median {h['median_ms']} ms, "
          f"p95 {h['p95_ms']} ms")
    if report["outbox"]:
        print("outbox sender during the run:", json.dumps(report["outbox"]))
    if report["errors"]:
        print("errors:", json.dumps(report["errors"], indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
