"""Sending queued email: 10,000 messages from the outbox to a local SMTP server, messages per second.

    .venv/bin/python bench/outbox.py --messages 10000 --runs 3 [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

For SQLite (a file in a temporary folder) and, with --postgres, a throw-away database on that server:
migrates an empty database, then for each run queues the messages (one transaction, as many changes
would), and times `outbox.send_due` (claims in batches, one SMTP connection per batch, each message
marked sent in a transaction of its own) until the outbox is empty. The SMTP server is aiosmtpd's
Sink (accepts and discards), in a process of its own on a free port. Prints each run and the median.

The outbox's effect on the p95 of recording an incident is bench/load.py's `--outbox N`: N messages queued
before the run, sent during it by `sender` (below) in a process of its own as the scheduler's job sends
them, to the same kind of sink.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import fresh_database
from tests.smtp_support import free_port


def _smtp_sink(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                               "-c", "aiosmtpd.handlers.Sink"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import socket

    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the SMTP sink did not start")


def queue_backlog(messages: int) -> None:
    """Queue `messages` messages (one transaction) in the database of the environment's CASEWORK_* settings."""
    from casework import create_app
    from casework.db import db
    from casework.models import MessageKind
    from casework.services import outbox

    app = create_app()
    with app.app_context():
        for n in range(messages):
            outbox.queue(MessageKind.REFERRAL_RECEIVED, to=f"user{n}@example.org", endpoint="referrals.show",
                         values={"referral_id": "01a24e84-a0c0-7d06-9311-a3d18ad6751e"})
        db.session.commit()
    app.extensions["casework.engine"].dispose()


def sent_count() -> int:
    """How many messages of the outbox are sent (in the database of the environment's settings)."""
    from sqlalchemy import func, select

    from casework import create_app
    from casework.db import db
    from casework.models import MessageState, OutboxMessage

    app = create_app()
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                  .where(OutboxMessage.state == MessageState.SENT))
    app.extensions["casework.engine"].dispose()
    return int(count or 0)


def sender(port: int, every: float) -> None:
    """Send the outbox as the scheduler's `send_email` job does (`outbox.send_due()`: batches for up to
    25 s), every `every` seconds, to the SMTP server on `port`, until killed; a JSON line for each run."""
    import json
    import signal

    from casework import create_app
    from casework.services import outbox

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = create_app({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_STARTTLS": False,
                      "MAIL_FROM": "casework@example.org", "PUBLIC_URL": "https://casework.example.org"})
    while True:
        started = time.monotonic()
        with app.app_context():
            result = outbox.send_due()
        print(json.dumps({"at": time.time(), "seconds": round(time.monotonic() - started, 2), "sent": result.sent,
                          "retrying": result.retrying, "failed": result.failed}), flush=True)
        time.sleep(max(0.0, every - (time.monotonic() - started)))


def run_database(url: str, instance: Path, *, messages: int, runs: int, port: int) -> list[float]:
    from alembic import command
    from sqlalchemy import delete

    from casework import create_app
    from casework.db import db
    from casework.migrate import alembic_config
    from casework.models import MessageKind, OutboxMessage
    from casework.services import outbox

    app = create_app({"ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": "bench",
                      "KEYRING_FILE": str(instance / "keyring.json"), "PARTNERSHIP_NAME": "Bench",
                      "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_STARTTLS": False,
                      "MAIL_FROM": "casework@example.org", "PUBLIC_URL": "https://casework.example.org"})
    rates = []
    with app.app_context():
        command.upgrade(alembic_config(), "head")
        for _ in range(runs):
            db.session.execute(delete(OutboxMessage))
            for n in range(messages):
                outbox.queue(MessageKind.REFERRAL_RECEIVED, to=f"user{n}@example.org", endpoint="referrals.show",
                             values={"referral_id": "01a24e84-a0c0-7d06-9311-a3d18ad6751e"})
            db.session.commit()
            started = time.perf_counter()
            sent = 0
            while True:
                result = outbox.send_due(budget_s=3600)
                sent += result.sent
                if result.sent == 0 or result.retrying or result.failed:
                    break
            elapsed = time.perf_counter() - started
            if sent != messages:
                raise RuntimeError(f"sent {sent} of {messages}: {result}")
            rates.append(messages / elapsed)
            print(f"  {messages} sent in {elapsed:.1f} s: {messages / elapsed:.0f} messages/s", flush=True)
    app.extensions["casework.engine"].dispose()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL server's URL (a database is made on it)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    port = free_port()
    server = _smtp_sink(port)
    try:
        for label, url in (("SQLite", None), ("PostgreSQL", args.postgres)):
            if (label == "PostgreSQL" and not url) or (label == "SQLite" and args.no_sqlite):
                continue
            with tempfile.TemporaryDirectory(prefix="casework-outbox-") as folder, \
                    fresh_database(url, Path(folder)) as database:
                print(f"{label}:", flush=True)
                rates = run_database(database, Path(folder), messages=args.messages, runs=args.runs, port=port)
                print(f"{label}: median of {len(rates)} runs: {statistics.median(rates):.0f} messages/s", flush=True)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
