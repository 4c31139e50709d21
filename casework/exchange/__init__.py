"""The data exchange format (docs/data-exchange.md): importing and exporting a partner's records
as a folder of CSV files.

`import_dataset` checks every row of every file first and writes nothing when any
is wrong (`ImportFailed` lists each problem as `file:line: column: message`); a
good data set is then written within the session's transaction, which the caller
commits once. See `importer` for how records are matched and updated and
`exporter` for the refs an export uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from flask import current_app
from sqlalchemy import exists, select, text

from .. import figures
from ..db import db
from ..models import Agency, Area, SourceRef
from ..services import audit
from . import asb_reviews as asb_file
from .apart import CheckApart
from .bulk import SQLITE_CACHE_KIB, fewer_collections, sqlite_cache
from .errors import ImportFailed
from .exporter import ExportRefused, ExportReport, export_dataset
from .importer import Writer
from .prepare import NotFresh, PrepareApart
from .reader import Problems, Progress, open_data_file
from .report import FileCounts, ImportReport
from .validate import Lookup, check_dataset, find_files, locality_keys

__all__ = ["ExportRefused", "ExportReport", "FileCounts", "ImportFailed", "ImportReport", "export_dataset", "import_dataset"]


def import_dataset(directory: Path, *, agency: Agency, progress: bool = False) -> ImportReport:
    """Import the data set in `directory` as `agency`'s records, in the session's transaction.

    Every row of every file is checked; on any problem nothing is written and `ImportFailed` is
    raised. A small data set is checked before anything is written; a large one (from
    IMPORT_CHECK_APART_BYTES) is checked in a process of its own while this one writes, in a
    savepoint, and the writing counts only once the check has passed (`apart`). The session is
    flushed, never committed: the caller commits (or rolls back) once.
    """
    directory = Path(directory)
    db.session.flush()  # the caller's pending changes go first; the import bypasses the ORM
    problems = Problems()
    files = find_files(directory, problems)
    applications = asb_file.check(files, agency=agency, problems=problems)  # asb_case_reviews.csv
    size = sum(path.lstat().st_size for path in files.values())
    bar = Progress(0, enabled=progress)
    try:
        if not problems and size >= current_app.config["IMPORT_CHECK_APART_BYTES"]:
            report = _write_checking_apart(files, agency, problems, bar, size)
        else:
            checked = check_dataset(files, agency=agency, problems=problems, progress=bar)
            if problems:
                raise ImportFailed(problems.listed())
            with db.session.begin_nested():  # a problem found while writing leaves nothing written
                report = _write(files, agency, bar, checked.rows)
        with db.session.begin_nested():
            counts = report.files[asb_file.ASB_CASE_REVIEWS.name] if applications else None
            written = asb_file.write(applications, agency=agency)
            if counts is not None:
                counts.created, counts.updated, counts.unchanged = written
    finally:
        bar.finish()
    analyse_after_bulk_writing(sum(c.created for c in report.files.values()))
    # Records were written around the ORM: objects the session holds must be read afresh.
    db.session.expire_all()
    # The audit trail records the import here, once: agency, folder and counts.
    audit.record_exchange("import", agency_id=agency.id, file_name=directory.name,
                          counts={name: asdict(c) for name, c in report.files.items()})
    return report


def _write(files: dict[str, Path], agency: Agency, bar: Progress, rows: dict[str, int],
           written: Callable[[Writer], None] | None = None, prepared: PrepareApart | None = None) -> ImportReport:
    """Write the data set (its rows prepared by another process, when given: `prepare`). The repeat
    marks of everyone whose parties it wrote are refreshed once, at the end, with the same large
    SQLite page cache as the writing (the refresh reads every row just written); then `written`
    runs, and may still fail the import."""
    with sqlite_cache(db.session, SQLITE_CACHE_KIB), figures.bulk(db.session) as changed:
        with fewer_collections():
            writer = Writer(files, agency=agency, progress=bar, rows=rows, prepared=prepared)
            report = writer.write()
        changed.changed(people=writer.party_people, incidents=writer.changed_incidents)
        changed.nothing_written = not any(c.created or c.updated or c.removed for c in report.files.values())
    if written is not None:
        written(writer)
    return report


def _write_checking_apart(files: dict[str, Path], agency: Agency, problems: Problems, bar: Progress,
                          size: int) -> ImportReport:
    """Write while another process checks (`casework.exchange.apart`). Rows the check has not passed
    can fail the writing in any way (a ref given twice, a reference to nothing): then what the check
    found is what is reported, and the savepoint keeps the transaction usable for its lookups.

    An agency's first import has its rows prepared by a third process (`casework.exchange.prepare`),
    unless it turns out to name records that exist (`NotFresh`): then that writing is rolled back and
    the data set written again, record by record."""
    # The check is wanted only once everything is written: for an agency's first import it runs at a
    # lower priority, on what the writing leaves of the cores (the end of an import is the database's
    # work alone, on one core). A re-import's rows are mostly unchanged and written fast: there the
    # check takes as long as the writing, and a lower priority would only keep the import waiting.
    fresh = not db.session.scalar(select(exists().where(SourceRef.agency_id == agency.id)))
    checker = CheckApart(files, area_names=set(db.session.scalars(select(Area.name))), localities=locality_keys(),
                         lower_priority=fresh)
    prepared: PrepareApart | None = None
    finished = False

    def passed(writer: Writer | None = None) -> None:
        nonlocal finished
        finished = True
        missing = Problems()  # listed after the rows' own problems, as when checked first
        # After the writing, in its savepoint: what the writer made with a ref's own id answers nothing.
        checker.finish(Lookup(agency, missing, written=writer.generated if writer else frozenset()), problems)
        problems.merge(missing.found, missing.count)
        if problems:
            raise ImportFailed(problems.listed())

    bar.total = max(size, 1)
    try:
        prepared = PrepareApart(files) if fresh else None
        rows = line_counts(files)
        try:
            if prepared is not None:
                try:
                    with db.session.begin_nested():
                        return _write(files, agency, bar, rows, written=passed, prepared=prepared)
                except NotFresh:
                    prepared.close()  # rolled back: written again below, in this process alone
                    prepared = None
                    bar.done = 0
            with db.session.begin_nested():
                return _write(files, agency, bar, rows, written=passed)
        except Exception:
            if not finished:  # the savepoint is rolled back: the lookups see the database as before
                passed()  # raises ImportFailed when the data set has problems (as it nearly always has)
            raise
    finally:
        checker.close()
        if prepared is not None:
            prepared.close()


def line_counts(files: dict[str, Path]) -> dict[str, int]:
    """About how many rows each file holds (its lines but the header; a quoted line break in a cell
    counts one more): the writer's choice of how to load a big table needs no more."""
    counts = {}
    for name, path in files.items():
        lines = 0
        with open_data_file(path) as stream:
            while block := stream.read(1 << 20):
                lines += block.count(b"\n")
        counts[name] = max(lines - 1, 0)
    return counts


# From this many new rows, PostgreSQL's planner is given fresh statistics at the end of the import.
ANALYSE_FROM_ROWS = 10_000
ANALYSED_TABLES = ("person", "incident", "party", "source_ref", "referral", "prevention_activity", "party_mark",
                   "person_year_mark", "person_month_mark", "person_year_count", "measure_month")


def analyse_after_bulk_writing(rows: int) -> None:
    """PostgreSQL plans queries from statistics its autovacuum gathers some time after a change (or
    never, where it is turned off): after a bulk load the tables look empty to it, and a person's
    page takes a sequential scan of a million rows. So an import of many rows analyses the tables
    it wrote, in its own transaction (ANALYZE samples; seconds at a million rows). SQLite's plans
    come from its indexes alone, as they were designed and measured, so it is left without."""
    if rows < ANALYSE_FROM_ROWS or db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(text(f"ANALYZE {', '.join(ANALYSED_TABLES)}"))
