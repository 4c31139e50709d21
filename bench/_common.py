"""Helpers for the benchmarks: the demo's data set for an import, and running `casework` against a
throw-away database."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASEWORK = str(Path(sys.executable).with_name("casework"))

def demo_dataset(directory: Path, *, incidents: int, seed: int = 1) -> Path:
    """The police's data set of the demo (`casework demo generate`: the generator `casework demo`
    loads, with its recurring victims and perpetrators, awkward names and seasonal peaks), sized
    so that it holds about `incidents` incidents: the demo is written for every partner, under
    `directory`, and the police's share of it is returned (made only once for a folder)."""
    from casework.demo import write_dataset
    from casework.demo.partners import DATASETS

    police = next(spec for spec in DATASETS if spec.key == "police")
    folder = directory / police.key
    if not (folder / "incidents.csv").exists():
        write_dataset(directory, incidents=round(incidents / police.share), seed=seed, end=DEMO_END)
    return folder


DEMO_END = dt.date(2026, 3, 31)  # the demo's last day: five whole financial years


def casework_env(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """The environment that points `casework` at a database and an instance folder of its own."""
    env = dict(os.environ)
    env.update({"CASEWORK_DATABASE_URL": database_url, "CASEWORK_INSTANCE_PATH": str(instance),
                "CASEWORK_KEYRING_FILE": str(instance / "keyring.json"), "CASEWORK_SECRET_KEY": "bench"})
    env.update(extra)
    return env


def casework(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([CASEWORK, *args], check=False, env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"casework {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


@contextmanager
def fresh_database(url: str | None, workdir: Path) -> Iterator[str]:
    """A new, empty database: a SQLite file in `workdir`, or a new database on the PostgreSQL
    server of `url` (dropped afterwards)."""
    if url is None or url.startswith("sqlite"):
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = make_url(url).set(drivername="postgresql+psycopg")
    name = f"casework_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
