"""Helpers for the benchmarks: a self-contained generator of data sets in the exchange format
(docs/data-exchange.md), and running `casework` against a throw-away database.

The generator is deterministic for a seed and streams its rows, so a data set of
a million incidents takes little memory to make.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASEWORK = str(Path(sys.executable).with_name("casework"))

SURNAMES = ["Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
            "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
            "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill",
            "O'Brien", "Öztürk", "Nowak", "Khan", "Ní Bhriain", "MacDonald", "Kowalczyk", "Ahmed", "Singh", "Murphy"]
FORENAMES = ["Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Noah", "Mia", "Jack", "Ivy", "Leo", "Lily",
             "Arthur", "Freya", "Muhammad", "Florence", "Oscar", "Sophia", "Charlie", "Grace", "Seán", "Zoë",
             "Dylan", "Olivia", "Jacob", "Emily", "Siân", "Tomasz", "Aisha", "Ella"]
OUTCODES = ["DT1", "DT2", "DT3", "DT4", "DT5", "DT6", "DT7", "DT8", "DT9", "DT10", "DT11", "BH15", "BH16",
            "BH20", "BH21", "BH22", "SP7", "SP8", "TA20", "BA12"]
AREAS = [("Weymouth Town Centre", "Weymouth", "y", "y", "n"), ("Weymouth Esplanade", "Weymouth", "y", "n", "n"),
         ("Dorchester Town Centre", "Dorchester", "y", "y", "n"), ("Bridport Town Centre", "Bridport", "y", "n", "n"),
         ("Portland Tophill", "Portland", "n", "y", "n"), ("Blandford Market Place", "Blandford Forum", "y", "n", "n"),
         ("Cranborne Chase", "Cranborne", "n", "n", "y"), ("Blackmore Vale", "Sturminster Newton", "n", "n", "y")]
LOCALITIES = ["Weymouth", "Dorchester", "Bridport", "Portland", "Blandford Forum", "Wimborne Minster", "Ferndown",
              "Gillingham", "Shaftesbury", "Sherborne", "Wareham", "Swanage"]
CATEGORIES = ["violence_with_injury", "violence_without_injury", "weapon_possession", "robbery", "stalking",
              "harassment", "sexual_offence", "asb", "criminal_damage", "arson", "burglary", "theft",
              "vehicle_crime", "fraud", "fly_tipping", "drug_offence", "public_order", "other"]
RECORDERS = ["police"] * 6 + ["council", "housing", "fire", "health", "probation"]
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def _flag(rng: random.Random, p: float) -> str:
    return "y" if rng.random() < p else "n"


def _date(rng: random.Random, start: dt.date, days: int) -> str:
    return (start + dt.timedelta(days=rng.randrange(days))).isoformat()


def generate(directory: Path, *, incidents: int, seed: int = 1) -> dict[str, int]:
    """Write a data set of `incidents` incidents, with about 0.75 people per incident, one or two
    parties each, referrals and prevention work. Returns the rows written per file."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    people = max(2, incidents * 3 // 4)
    counts: dict[str, int] = {}

    def writer(name: str, header: list[str]):  # type: ignore[no-untyped-def]
        out = (directory / name).open("w", encoding="utf-8", newline="")
        w = csv.writer(out, lineterminator="\r\n")
        w.writerow(header)
        return out, w

    out, w = writer("areas.csv", ["area", "locality", "asb_priority", "sv_hotspot", "rural_hotspot"])
    w.writerows(AREAS)
    out.close()
    counts["areas.csv"] = len(AREAS)

    out, w = writer("people.csv", ["person_ref", "surname", "forenames", "date_of_birth", "gender", "postcode",
                                   "mental_health", "substance_misuse", "complex_needs"])
    start = dt.date(1940, 1, 1)
    for n in range(1, people + 1):
        postcode = (f"{rng.choice(OUTCODES)} {rng.randrange(10)}{rng.choice(LETTERS)}{rng.choice(LETTERS)}"
                    if rng.random() < 0.9 else "")
        w.writerow([f"P{n:08d}", rng.choice(SURNAMES), rng.choice(FORENAMES) if rng.random() < 0.95 else "",
                    _date(rng, start, 365 * 65) if rng.random() < 0.9 else "",
                    rng.choice(["female", "male", "male", "female", "non_binary", "unknown", ""]), postcode,
                    _flag(rng, 0.1), _flag(rng, 0.1), _flag(rng, 0.05)])
    out.close()
    counts["people.csv"] = people

    inc_out, inc = writer("incidents.csv", ["incident_ref", "occurred_on", "category", "domestic_abuse",
                                            "recorded_by", "locality", "area", "rural", "alcohol", "drugs",
                                            "mental_health", "asb_type"])
    par_out, par = writer("parties.csv", ["incident_ref", "person_ref", "role", "cj_status"])
    start = dt.date(2020, 4, 1)
    parties = 0
    for n in range(1, incidents + 1):
        category = rng.choice(CATEGORIES)
        area = rng.choice(AREAS)[0] if rng.random() < 0.3 else ""
        inc.writerow([f"I{n:08d}", _date(rng, start, 365 * 5), category, _flag(rng, 0.2), rng.choice(RECORDERS),
                      rng.choice(LOCALITIES), area, _flag(rng, 0.05), _flag(rng, 0.15), _flag(rng, 0.1),
                      _flag(rng, 0.1), rng.choice(["personal", "nuisance", "environmental"]) if category == "asb"
                      else ""])
        victim = rng.randrange(1, people + 1)
        par.writerow([f"I{n:08d}", f"P{victim:08d}", "victim",
                      rng.choice(["", "", "", "entered", "withdrew", "concluded"])])
        parties += 1
        if rng.random() < 0.6:
            offender = rng.randrange(1, people + 1)
            par.writerow([f"I{n:08d}", f"P{offender:08d}", "perpetrator", ""])
            parties += 1
    inc_out.close()
    par_out.close()
    counts["incidents.csv"] = incidents
    counts["parties.csv"] = parties

    out, w = writer("referrals.csv", ["referral_ref", "person_ref", "type", "referred_on", "started_on", "ended_on",
                                      "outcome", "criteria", "dash_score", "mappa_category", "mappa_level"])
    referrals = max(1, incidents // 20)
    for n in range(1, referrals + 1):
        kind = rng.choice(["hrda", "hrda", "idva", "mappa", "perpetrator_programme"])
        row = [f"R{n:08d}", f"P{rng.randrange(1, people + 1):08d}", kind, _date(rng, start, 365 * 5)]
        extra = [""] * 7
        if kind == "hrda":
            extra[3] = rng.choice(["dash", "professional_judgement", "escalation"])
            extra[4] = str(rng.randrange(25))
        elif kind == "mappa":
            extra[5], extra[6] = str(rng.randrange(1, 4)), str(rng.randrange(1, 4))
        elif kind == "perpetrator_programme":
            extra[0] = _date(rng, dt.date(2025, 6, 1), 100)
            extra[1] = _date(rng, dt.date(2025, 10, 1), 100) if rng.random() < 0.5 else ""
            extra[2] = rng.choice(["completed", "left_early", "removed"]) if extra[1] else ""
        w.writerow(row + extra)
    out.close()
    counts["referrals.csv"] = referrals

    out, w = writer("prevention.csv", ["activity_ref", "occurred_on", "kind", "friends_recruited", "savings_gbp"])
    activities = max(1, incidents // 1000)
    for n in range(1, activities + 1):
        kind = rng.choice(["friends_against_scams", "scam_intervention", "other"])
        w.writerow([f"A{n:08d}", _date(rng, start, 365 * 5), kind,
                    str(rng.randrange(40)) if kind == "friends_against_scams" else "",
                    f"{rng.randrange(500000) / 100:.2f}" if rng.random() < 0.7 else ""])
    out.close()
    counts["prevention.csv"] = activities
    return counts


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
