"""A PostgreSQL server of one's own, in a temporary folder on a free port, that a fault test or
benchmark may stop and start at will (never the machine's shared server).

    with Cluster.started() as pg:
        url = pg.url("casework")   # a database made on it
        pg.stop(); pg.start()

initdb refuses to run as root: as root, the server runs as the `postgres` user (runuser).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PG_BIN_DIRS = ("/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin",
               "/usr/local/bin", "/usr/bin")


def pg_bin(name: str) -> str | None:
    for folder in (os.environ.get("CASEWORK_PG_BIN_DIR", ""), *PG_BIN_DIRS):
        if folder and (Path(folder) / name).exists():
            return str(Path(folder) / name)
    return shutil.which(name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    folder: Path
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, check=False, capture_output=True, text=True)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        return done

    @classmethod
    @contextlib.contextmanager
    def started(cls) -> Iterator[Cluster]:
        # A folder of its own directly in the temporary directory: the `postgres` user must reach it.
        folder = Path(tempfile.mkdtemp(prefix="casework-pg-"))
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
        cluster = cls(folder, free_port())
        initdb = pg_bin("initdb")
        if initdb is None:
            raise FileNotFoundError("initdb is not installed (postgresql server package)")
        cluster._run(initdb, "-D", str(cluster.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                     "--no-sync")
        with (cluster.data / "postgresql.conf").open("a") as conf:
            conf.write(f"\nport = {cluster.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{folder}'\nfsync = on\nmax_connections = 60\n")
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop(mode="immediate", check=False)
            shutil.rmtree(folder, ignore_errors=True)

    def start(self) -> float:
        """Start the server; returns the seconds until it accepted connections."""
        started = time.monotonic()
        self._run(pg_bin("pg_ctl") or "pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"),
                  "-w", "-t", "60", "start")
        return time.monotonic() - started

    def stop(self, *, mode: str = "fast", check: bool = True) -> None:
        self._run(pg_bin("pg_ctl") or "pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=check)

    def url(self, database: str) -> str:
        """A new database on this server, and its SQLAlchemy URL."""
        from sqlalchemy import create_engine, text

        admin = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres",
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        admin.dispose()
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"
