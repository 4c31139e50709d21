"""Benchmark of `casework import`: the demo's police data set of about N incidents (default a
million) with their people, parties, areas and referrals (`casework demo generate`, the generator
`casework demo` loads), imported into a fresh, migrated database.

Reports, per run, the wall time of the `casework import` process (start-up included) and its
peak memory (ru_maxrss, from wait4, or, when larger, the sampled peak of the import and the process
checking a large data set alongside it, summed), and the time of a plain `executemany` of the same rows into
the same tables and indexes (no checks, no encryption, no blind indexes; the application's
time-ordered ids, refs resolved through a dict) in a fresh database of the same kind. Then the medians.

    .venv/bin/python bench/import.py --incidents 1000000
    .venv/bin/python bench/import.py --incidents 100000 --runs 3
    .venv/bin/python bench/import.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/import.py --reimport --incidents 200000 --runs 3

`--reimport` times, in each run, the first import, importing the same data set again unchanged,
then a copy of it with 1% of its rows changed, and prints the medians against the first import's.

Targets: the import within 3 minutes, within 3x the plain insert, under 1 GB of memory; re-importing
unchanged at most 20% of the first import's time, with 1% of rows changed at most 30%.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    CASEWORK,
    ROOT,
    casework,
    casework_env,
    demo_dataset,
    fresh_database,
)

TARGET_SECONDS = 180
TARGET_RATIO = 3.0
TARGET_RSS_MB = 1024


def run_import(data: Path, url: str, workdir: Path) -> tuple[float, float, float, str]:
    """Migrate a fresh database, then time `casework import` in a process of its own."""
    return time_import(data, migrated(url, workdir))


def migrated(url: str, workdir: Path) -> dict[str, str]:
    """Migrate the fresh database at `url`, add the agency; the environment that imports into it."""
    instance = workdir / "instance"
    instance.mkdir(exist_ok=True)
    env = casework_env(url, instance)
    casework("db", "upgrade", env=env)
    casework("agencies", "add", "Bench Police", "--kind", "police", env=env)
    return env


def time_import(data: Path, env: dict[str, str]) -> tuple[float, float, float, str]:
    """Time `casework import` of `data` in a process of its own: wall and CPU seconds, peak memory (MB)
    and what it printed."""
    start = time.perf_counter()
    process = subprocess.Popen([CASEWORK, "import", str(data), "--agency", "Bench Police", "--no-progress"],
                               env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = TreeMemory(process.pid)
    sampler.start()
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    sampler.stop.set()
    sampler.join()
    out, err = process.stdout.read().decode(), process.stderr.read().decode()  # type: ignore[union-attr]
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the import failed:\n{out}\n{err[-3000:]}")
    # The larger of the process's own peak and the sampled peak of it and its checking process together.
    return seconds, usage.ru_utime + usage.ru_stime, max(usage.ru_maxrss / 1024, sampler.peak_mb), out


class TreeMemory(threading.Thread):
    """The peak of the summed resident memory of a process and its children (the import checks a
    large data set in a child process of its own), sampled ten times a second from /proc. A sum of
    resident sets counts pages the two share twice: it overstates, never understates."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_mb = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.1):
            pids = [self.pid, *self._children(self.pid)]
            self.peak_mb = max(self.peak_mb, sum(self._rss_kib(pid) for pid in pids) / 1024)

    @staticmethod
    def _children(pid: int) -> list[int]:
        try:
            return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    @staticmethod
    def _rss_kib(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0


def run_plain(data: Path, url: str, workdir: Path) -> tuple[float, float]:
    """Migrate a fresh database, then time the plain insert (in a process of its own too)."""
    instance = workdir / "instance-plain"
    instance.mkdir(exist_ok=True)
    env = casework_env(url, instance)
    casework("db", "upgrade", env=env)
    casework("agencies", "add", "Bench Police", "--kind", "police", env=env)
    done = subprocess.run([sys.executable, __file__, "--plain-insert", str(data), "--database-url", url],
                          env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the plain insert failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    seconds, cpu = done.stdout.strip().splitlines()[-1].split()
    return float(seconds), float(cpu)


# --- the plain insert ---------------------------------------------------------------


def plain_insert(data: Path, url: str) -> tuple[float, float]:
    """executemany of the data set's rows into the app's tables; returns the seconds it took
    (from reading the first file to the commit) and the CPU seconds of the whole process."""
    from casework.db import make_engine
    from casework.exchange.bulk import Ids

    engine = make_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    conn = engine.raw_connection()
    cur = conn.cursor()
    mark = "?" if sqlite else "%s"
    now = dt.datetime.now(dt.UTC)
    now_db = now.replace(tzinfo=None).isoformat(" ") if sqlite else now

    ids = Ids()  # the application's ids (time-ordered), made as the importer makes them

    def new_id() -> object:
        u = ids()
        return u.hex if sqlite else u

    agency = cur.execute("SELECT id FROM agency").fetchone()[0]
    start = time.perf_counter()
    if sqlite:
        cur.execute("BEGIN IMMEDIATE")

    def insert(table: str, columns: list[str], rows) -> None:  # type: ignore[no-untyped-def]
        sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join([mark] * len(columns))})'
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 10_000:
                cur.executemany(sql, batch)
                batch = []
        if batch:
            cur.executemany(sql, batch)

    def read(name: str):  # type: ignore[no-untyped-def]
        path = data / name
        if not path.exists():
            return
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            yield from reader

    refs: list[tuple] = []
    sr_columns = ["id", "agency_id", "kind", "ref", "record_id", "created_at", "updated_at"]

    def flag(text: str) -> bool:
        return text.lower() in ("y", "yes", "true", "1")

    def blank(text: str) -> str | None:
        return text or None

    areas: dict[str, object] = {}

    def area_rows():  # type: ignore[no-untyped-def]
        for name, locality, asb, sv, rural in read("areas.csv"):
            areas[name] = area_id = new_id()
            yield (area_id, name, blank(locality), flag(asb), flag(sv), flag(rural), agency, now_db, now_db)

    insert("area", ["id", "name", "locality", "asb_priority", "sv_hotspot", "rural_hotspot", "owner_agency_id",
                    "created_at", "updated_at"], area_rows())

    people: dict[str, object] = {}

    def person_rows():  # type: ignore[no-untyped-def]
        for ref, surname, forenames, dob, gender, postcode, mh, sm, cn in read("people.csv"):
            people[ref] = person_id = new_id()
            refs.append((new_id(), agency, "person", ref, person_id, now_db, now_db))
            yield (person_id, surname.encode(), forenames.encode() if forenames else None,
                   dob.encode() if dob else None, blank(gender), postcode.encode() if postcode else None,
                   flag(mh), flag(sm), flag(cn), False, False, agency, 1, now_db, now_db)

    insert("person", ["id", "surname", "forenames", "date_of_birth", "gender", "postcode", "mental_health",
                      "substance_misuse", "complex_needs", "do_not_disclose_address", "restricted",
                      "owner_agency_id", "version", "created_at", "updated_at"], person_rows())
    insert("source_ref", sr_columns, refs)
    refs.clear()

    incidents: dict[str, object] = {}

    def incident_rows():  # type: ignore[no-untyped-def]
        for ref, on, category, da, recorder, locality, area, rural, alcohol, drugs, mh, asb in read("incidents.csv"):
            incidents[ref] = incident_id = new_id()
            refs.append((new_id(), agency, "incident", ref, incident_id, now_db, now_db))
            yield (incident_id, on, category, flag(da), recorder, blank(locality), areas.get(area), flag(rural),
                   flag(alcohol), flag(drugs), flag(mh), blank(asb), False, agency, 1, now_db, now_db)

    insert("incident", ["id", "occurred_on", "category", "domestic_abuse", "recorded_by", "locality", "area_id",
                        "rural", "alcohol", "drugs", "mental_health", "asb_type", "restricted", "owner_agency_id",
                        "version", "created_at", "updated_at"], incident_rows())
    insert("source_ref", sr_columns, refs)
    refs.clear()
    insert("party", ["id", "incident_id", "person_id", "role", "cj_status", "created_at", "updated_at"],
           ((new_id(), incidents[i], people[p], role, blank(cj), now_db, now_db)
            for i, p, role, cj in read("parties.csv")))

    def referral_rows():  # type: ignore[no-untyped-def]
        for ref, person, kind, on, started, ended, outcome, criteria, dash, cat, level in read("referrals.csv"):
            referral_id = new_id()
            refs.append((new_id(), agency, "referral", ref, referral_id, now_db, now_db))
            yield (referral_id, people[person], kind, on, "closed", True, agency, blank(criteria),
                   int(dash) if dash else None, int(cat) if cat else None, int(level) if level else None,
                   blank(started), blank(ended), blank(outcome), 1, now_db, now_db)

    insert("referral", ["id", "person_id", "type", "referred_on", "status", "imported", "owner_agency_id",
                        "criteria", "dash_score", "mappa_category", "mappa_level", "started_on", "ended_on",
                        "outcome", "version", "created_at", "updated_at"], referral_rows())

    def activity_rows():  # type: ignore[no-untyped-def]
        for ref, on, kind, friends, savings in read("prevention.csv"):
            activity_id = new_id()
            refs.append((new_id(), agency, "activity", ref, activity_id, now_db, now_db))
            yield (activity_id, on, kind, int(friends) if friends else None,
                   round(float(savings) * 100) if savings else None, agency, now_db, now_db)

    insert("prevention_activity", ["id", "occurred_on", "kind", "friends_recruited", "savings_pence",
                                   "owner_agency_id", "created_at", "updated_at"], activity_rows())
    insert("source_ref", sr_columns, refs)
    conn.commit()
    seconds = time.perf_counter() - start
    conn.close()
    engine.dispose()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return seconds, usage.ru_utime + usage.ru_stime


# --- re-importing ---------------------------------------------------------------------

TARGET_UNCHANGED = 0.20  # re-importing the same data set: at most this share of the first import's time
TARGET_CHANGED = 0.30  # with 1% of its rows changed


def changed_copy(data: Path, folder: Path, *, every: int = 100) -> tuple[Path, dict[str, int]]:
    """A copy of the data set with one row in `every` of people.csv (a forename: encrypted),
    incidents.csv (the drugs flag) and parties.csv (a victim's criminal justice status) changed,
    the other files as they are; and how many rows of each file changed."""
    folder.mkdir(parents=True, exist_ok=True)
    changes = {"people.csv": ("forenames", lambda v, row: (v + "e") if v else "Ann"),
               "incidents.csv": ("drugs", lambda v, row: "n" if v.lower() in ("y", "yes", "true", "1") else "y"),
               "parties.csv": ("cj_status", lambda v, row: None if row["role"] != "victim"
                               else ("" if v else "entered"))}
    changed: dict[str, int] = {}
    for path in sorted(data.glob("*.csv")):
        if path.name not in changes:
            (folder / path.name).write_bytes(path.read_bytes())
            continue
        column, change = changes[path.name]
        with path.open(encoding="utf-8-sig", newline="") as source, \
                (folder / path.name).open("w", encoding="utf-8", newline="") as target:
            reader = csv.DictReader(source)
            writer = csv.DictWriter(target, fieldnames=reader.fieldnames or [])
            writer.writeheader()
            changed[path.name] = 0
            for number, row in enumerate(reader):
                if number % every == every - 1 and (new := change(row[column], row)) is not None:
                    row[column] = new
                    changed[path.name] += 1
                writer.writerow(row)
    return folder, changed


def reimport(data: Path, args: argparse.Namespace, workdir: Path, kind: str, counts: dict[str, int]) -> None:
    """In each run, on a fresh database: the first import, the same data set again, then a copy with
    1% of its rows changed; each timed as its own `casework import` process. Then the medians."""
    changed_data, changed = changed_copy(data, workdir / "changed")
    print(f"changed copy: {', '.join(f'{n:,} rows of {name}' for name, n in changed.items())}", flush=True)
    times: dict[str, list[float]] = {"first": [], "unchanged": [], "changed": []}
    cpus: dict[str, list[float]] = {step: [] for step in times}
    for run in range(1, args.runs + 1):
        load = os.getloadavg()[0]
        with fresh_database(args.database_url, workdir) as url:
            env = migrated(url, workdir)
            outs = {}
            for step, folder in (("first", data), ("unchanged", data), ("changed", changed_data)):
                seconds, cpu, _peak, outs[step] = time_import(folder, env)
                times[step].append(seconds)
                cpus[step].append(cpu)
        first, unchanged, again = (times[step][-1] for step in ("first", "unchanged", "changed"))
        # CPU seconds of the import and its child processes: under a machine's load, a steadier measure.
        cpu_first, cpu_unchanged, cpu_again = (cpus[step][-1] for step in ("first", "unchanged", "changed"))
        print(f"run {run} ({kind}, load average {load:.1f} -> {os.getloadavg()[0]:.1f}): first import {first:.1f}s; "
              f"unchanged {unchanged:.1f}s ({unchanged / first:.0%}); 1% changed {again:.1f}s ({again / first:.0%}); "
              f"CPU seconds {cpu_first:.1f}, {cpu_unchanged:.1f} ({cpu_unchanged / cpu_first:.0%}), "
              f"{cpu_again:.1f} ({cpu_again / cpu_first:.0%})", flush=True)
        if run == 1:
            for step in ("unchanged", "changed"):
                print(f"  {step}:\n    " + outs[step].strip().replace("\n", "\n    "))
    first, unchanged, again = (statistics.median(times[step]) for step in ("first", "unchanged", "changed"))
    print(f"median of {args.runs} ({kind}, {counts['incidents.csv']:,} incidents): first import {first:.1f}s; "
          f"re-import unchanged {unchanged:.1f}s = {unchanged / first:.0%} (target <= {TARGET_UNCHANGED:.0%}); "
          f"1% changed {again:.1f}s = {again / first:.0%} (target <= {TARGET_CHANGED:.0%}); CPU seconds "
          f"{statistics.median(cpus['first']):.1f}, {statistics.median(cpus['unchanged']):.1f}, "
          f"{statistics.median(cpus['changed']):.1f}", flush=True)


# --- the benchmark --------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server to make fresh databases on (default: SQLite files)")
    parser.add_argument("--data", type=Path,
                        help="keep the demo's data sets in this folder (made if missing; its police/ is imported)")
    parser.add_argument("--workdir", type=Path, help="where the SQLite databases go (default: a temporary folder)")
    parser.add_argument("--reimport", action="store_true",
                        help="time the first import, re-importing it unchanged, and with 1%% of its rows changed")
    parser.add_argument("--plain-insert", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.plain_insert:
        print(*plain_insert(args.plain_insert, args.database_url))
        return

    with tempfile.TemporaryDirectory(prefix="casework-bench-", dir=args.workdir) as tmp:
        workdir = Path(tmp)
        root = args.data or workdir / "data"
        started = time.perf_counter()
        made = not (root / "police" / "incidents.csv").exists()
        data = demo_dataset(root, incidents=args.incidents)
        if made:
            print(f"generated the demo in {time.perf_counter() - started:.1f}s", flush=True)
        counts = {f.name: sum(1 for _ in f.open("rb")) - 1 for f in sorted(data.glob("*.csv"))}
        print(f"data set: {data} ({', '.join(f'{n:,} {name}' for name, n in counts.items())}; "
              f"{sum(f.stat().st_size for f in data.glob('*.csv')) / 1e6:.0f} MB)")
        kind = "postgresql" if args.database_url and not args.database_url.startswith("sqlite") else "sqlite"
        if args.reimport:
            reimport(data, args, workdir, kind, counts)
            return
        imports, peaks, plains, import_cpus, plain_cpus = [], [], [], [], []
        for run in range(1, args.runs + 1):
            load = os.getloadavg()[0]
            with fresh_database(args.database_url, workdir) as url:
                seconds, cpu, peak, out = run_import(data, url, workdir)
            with fresh_database(args.database_url, workdir) as url:
                plain, plain_cpu = run_plain(data, url, workdir)
            imports.append(seconds)
            peaks.append(peak)
            plains.append(plain)
            import_cpus.append(cpu)
            plain_cpus.append(plain_cpu)
            print(f"run {run} ({kind}, load average {load:.1f} -> {os.getloadavg()[0]:.1f}): import {seconds:.1f}s "
                  f"({cpu:.1f}s CPU), peak memory {peak:.0f} MB; plain executemany {plain:.1f}s "
                  f"({plain_cpu:.1f}s CPU); ratio {seconds / plain:.2f}", flush=True)
            if run == 1:
                print("  " + out.strip().replace("\n", "\n  "))
        median_import, median_plain = statistics.median(imports), statistics.median(plains)
        median_peak = statistics.median(peaks)
        print(f"median of {args.runs} ({kind}, {counts['incidents.csv']:,} incidents): import {median_import:.1f}s "
              f"(target <= {TARGET_SECONDS}s), peak memory {median_peak:.0f} MB (target < {TARGET_RSS_MB} MB), "
              f"plain executemany {median_plain:.1f}s, ratio {median_import / median_plain:.2f} "
              f"(target <= {TARGET_RATIO}); CPU seconds: import {statistics.median(import_cpus):.1f}, "
              f"plain {statistics.median(plain_cpus):.1f}")


if __name__ == "__main__":
    main()
