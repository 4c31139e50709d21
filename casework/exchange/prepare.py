"""Preparing a fresh data set's rows in a process of its own, on another core, while this one
inserts them.

Most of an import's work is Python's, not the database's: parsing the cells, making ids,
sealing personal values and computing blind indexes, and turning each row into the driver's
values. For a data set whose every record is new, none of that needs the database, so a child
process does it (`Records`, the same definitions as the importing process uses) and sends the
rows a chunk at a time, ready for the driver; this process only inserts them. Fresh means the
agency has no refs yet (its first import), so that every ref in the data set makes a new record
and every reference is to a record of the data set. The child resolves those references itself:
it made the ids.

The one thing the child cannot know is whether a `casework:<id>` ref (what an export writes for a
record without a ref of the exporting agency) names a record that exists already: then the row
updates that record, or an incident's parties are replaced, which needs the database. The child
sends the ids of such refs with each chunk; when one names a record that existed before the import,
`NotFresh` is raised, the writing so far is rolled back, and the data set is written again in the
importing process alone, record by record (`importer.Writer`), exactly as a smaller one would be.

Nothing here checks the data set: the child stops at the first row with a problem (the writing
then fails, and the check, `apart`, reports what is wrong). Started fresh from the fork server
(`apart.context`), like the check, and killed with the importing process on Linux.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import traceback
import uuid
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import make_url

from .. import crypto
from ..models import RecordKind
from ..models.base import uuid_of_int
from .apart import _die_with_parent, _fewer_collections, context
from .bulk import driver_rows, generated_id
from .reader import Problems, Progress, Row, read_rows
from .records import ACTIVITY, INCIDENT, PERSON, REFERRAL, SOURCE_REF, TABLES, Records
from .schema import INCIDENTS, PARTIES, PEOPLE, PREVENTION, REFERRALS, FileSpec
from .unchanged import PartySums, party_sums

CHUNK = 2000  # rows per message
AHEAD = 24  # messages received and not yet written, at most (some 30 MB)


class NotFresh(Exception):
    """A `casework:<id>` ref of the data set names a record that existed before the import."""


class PrepareStopped(RuntimeError):
    """The preparing process stopped without finishing."""


class PrepareApart:
    """The preparation of `files`' rows in a child process (started at once; it waits for `start`)."""

    def __init__(self, files: dict[str, Path]) -> None:
        starter = context()
        self.receive, send = starter.Pipe(duplex=False)
        their_receive, self.send = starter.Pipe(duplex=False)
        self.process = starter.Process(target=_prepare, args=(files, their_receive, send), daemon=True,
                                       name="casework import preparation")
        self.process.start()
        send.close()  # the child holds the sending end: end-of-file here when it stops
        their_receive.close()
        self.queue: queue.Queue[tuple[Any, ...]] = queue.Queue(maxsize=AHEAD)
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, *, ring: crypto.Keyring, agency_id: uuid.UUID, now: dt.datetime, areas: dict[str, uuid.UUID],
              localities: dict[str, str], driver: str) -> None:
        """Begin, with what the rows need: the keys, the agency, the instant, the areas by name, the
        partnership's localities (`Records.locality`) and the database driver (`sqlite`,
        `postgresql+psycopg`) the values are converted for.

        A thread receives what the child sends into a queue of up to `AHEAD` messages: the child
        goes on preparing while this process is busy in the database (building a table's indexes,
        say), and the unpickling overlaps the inserting (the database works without Python's lock)."""
        try:
            self.send.send({"ring": ring.to_json(), "agency_id": agency_id, "now": now, "areas": dict(areas),
                            "localities": dict(localities), "driver": driver})
        except OSError:
            pass  # the child has stopped: `messages` says so
        self.thread = threading.Thread(target=self._receive, daemon=True, name="casework import receiver")
        self.thread.start()

    def _receive(self) -> None:
        while not self.stopping.is_set():
            try:
                message: tuple[Any, ...] = self.receive.recv()
            except (EOFError, OSError):
                message = ("stopped",)
            except BaseException:  # noqa: BLE001 - a message that cannot be read (out of memory, say)
                message = ("error", traceback.format_exc())
            while not self.stopping.is_set():
                try:
                    self.queue.put(message, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if message[0] in ("done", "error", "stopped"):
                return

    def messages(self) -> Iterator[tuple[Any, ...]]:
        """What the child sends, to its `done`."""
        while True:
            message = self.queue.get()
            if message[0] == "stopped":
                self.process.join(timeout=5)
                raise PrepareStopped(f"the preparation of the data set's rows stopped before it ended "
                                     f"(exit code {self.process.exitcode}); nothing was imported")
            if message[0] == "error":
                raise PrepareStopped(f"the preparation of the data set's rows failed; nothing was imported:\n"
                                     f"{message[1]}")
            yield message
            if message[0] == "done":
                return

    def close(self) -> None:
        self.send.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join()  # the receiving thread meets the end of the pipe
        self.stopping.set()
        if self.thread is not None:
            self.thread.join()
        self.receive.close()


def _prepare(files: dict[str, Path], receive: Connection, send: Connection) -> None:
    """The child process: wait for `start`, then prepare every file's rows."""
    _die_with_parent()
    _fewer_collections()
    try:
        try:
            start = receive.recv()
        except EOFError:
            return  # the importing process did not need it
        _Preparer(files, send, **start).run()
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the import
        send.send(("error", traceback.format_exc()))
    finally:
        send.close()


class _Preparer:
    def __init__(self, files: dict[str, Path], send: Connection, *, ring: str, agency_id: uuid.UUID,
                 now: dt.datetime, areas: dict[str, uuid.UUID], localities: dict[str, str], driver: str) -> None:
        self.files = files
        self.send = send
        self.make = Records(crypto.Keyring.from_json(ring), agency_id=agency_id, now=now, areas=areas,
                            localities=localities)
        self.dialect = make_url(f"{driver}://").get_dialect()()
        # The ids of the data set's refs, as integers (a UUID object would double the memory they take).
        self.people: dict[str, int] = {}
        self.incidents: dict[str, int] = {}
        self.party_people: set[int] = set()
        self.progress = Progress(1, enabled=False)
        self.party_sums: PartySums | None = None

    def run(self) -> None:
        for spec, table, kind in ((PEOPLE, PERSON, RecordKind.PERSON), (INCIDENTS, INCIDENT, RecordKind.INCIDENT),
                                  (PARTIES, None, None), (REFERRALS, REFERRAL, RecordKind.REFERRAL),
                                  (PREVENTION, ACTIVITY, RecordKind.ACTIVITY)):
            if spec.name not in self.files:
                continue
            self.send.send(("file", spec.name))
            if table is INCIDENT and PARTIES.name in self.files:
                self.party_sums = party_sums(self.files[PARTIES.name], self.make.digests)
            if not self._file(spec, table, kind):
                return
        self.send.send(("party people", b"".join(pid.to_bytes(16) for pid in self.party_people)))
        self.send.send(("done",))

    def _file(self, spec: FileSpec, table: Table | None, kind: RecordKind | None) -> bool:
        """Send the file's rows; False when it stopped at a row it cannot write (a problem, or a
        reference to nothing), having said so."""
        problems = Problems()
        chunk: list[Row] = []
        for row in read_rows(self.files[spec.name], spec, problems, progress=self.progress):
            if problems.count:
                break  # a row with a problem is never written
            chunk.append(row)
            if len(chunk) >= CHUNK:
                if not self._chunk(spec, table, kind, chunk):
                    return False
                chunk = []
        if problems.count:
            self.send.send(("problem", "the data set changed while it was being imported"))
            return False
        return not chunk or self._chunk(spec, table, kind, chunk)

    def _chunk(self, spec: FileSpec, table: Table | None, kind: RecordKind | None, chunk: list[Row]) -> bool:
        made: list[uuid.UUID] = []  # the ids of `casework:<id>` refs given to new records
        referenced: list[tuple[str, uuid.UUID]] = []  # (kind, id) of `casework:<id>` references
        rows: list[dict[str, Any]] = []
        refs: list[dict[str, Any]] = []

        def resolve(ref: str, known: dict[str, int], of: RecordKind, row: Row, column: str) -> uuid.UUID | None:
            number = known.get(ref)
            if number is not None:
                return uuid_of_int(number)
            found = generated_id(ref)
            if found is None:
                self.send.send(("problem", (f"{spec.name}:{row.line}: {column}: {ref!r} refers to no "
                                            f"{of.value} of the data set")))
                return None
            referenced.append((of.value, found))
            return found

        make = self.make
        if table is None:  # parties
            for row in chunk:
                v = row.values
                incident_id = resolve(v["incident_ref"], self.incidents, RecordKind.INCIDENT, row, "incident_ref")
                person_id = resolve(v["person_ref"], self.people, RecordKind.PERSON, row, "person_ref")
                if incident_id is None or person_id is None:
                    return False
                rows.append(make.party(v, incident_id, person_id))
                self.party_people.add(person_id.int)
            table_name = "party"
        else:
            assert spec.ref_column is not None and kind is not None
            known = self.people if table is PERSON else self.incidents if table is INCIDENT else None
            for row in chunk:
                v = row.values
                ref = v[spec.ref_column]
                if table is PERSON:
                    values = make.person(v)
                elif table is INCIDENT:
                    values = make.incident(v)
                elif table is REFERRAL:
                    person_id = resolve(v["person_ref"], self.people, RecordKind.PERSON, row, "person_ref")
                    if person_id is None:
                        return False
                    values = make.referral(v, person_id)
                else:
                    values = make.activity(v)
                record_id = generated_id(ref)
                if record_id is None:
                    record_id = make.new_id()
                else:
                    made.append(record_id)
                record, ref_row = make.new_record(table, kind, ref, values, record_id, row)
                if table is INCIDENT:
                    # Its parties digest (`digest`): its parties will be exactly its rows in parties.csv.
                    digest, _count = self.party_sums.digest(ref) if self.party_sums is not None else (None, 0)
                    record["parties_digest"] = digest
                    record["parties_at"] = make.now if digest is not None else None
                rows.append(record)
                refs.append(ref_row)
                if known is not None:
                    known[ref] = record_id.int
            table_name = table.name
        names, params = driver_rows(TABLES[table_name], rows, dialect=self.dialect, now=make.now, text=True)
        ref_names, ref_params = (driver_rows(SOURCE_REF, refs, dialect=self.dialect, now=make.now, text=True)
                                 if refs else ([], []))
        advanced, self.progress.done = self.progress.done, 0
        self.send.send(("rows", spec.name, table_name, names, params, ref_names, ref_params, made, referenced,
                        advanced))
        return True

