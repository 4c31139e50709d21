"""The data exchange format (docs/data-exchange.md): importing and exporting a partner's records
as a folder of CSV files.

`import_dataset` checks every row of every file first and writes nothing when any
is wrong (`ImportFailed` lists each problem as `file:line: column: message`); a
good data set is then written within the session's transaction, which the caller
commits once. See `importer` for how records are matched and updated and
`exporter` for the refs an export uses.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from sqlalchemy import text

from ..db import db
from ..models import Agency
from ..services import audit, upkeep
from .bulk import SQLITE_CACHE_KIB, sqlite_cache
from .errors import ImportFailed
from .exporter import ExportReport, export_dataset
from .importer import Writer
from .reader import Problems, Progress
from .report import FileCounts, ImportReport
from .validate import check_dataset

__all__ = ["ExportReport", "FileCounts", "ImportFailed", "ImportReport", "export_dataset", "import_dataset"]


def import_dataset(directory: Path, *, agency: Agency, progress: bool = False) -> ImportReport:
    """Import the data set in `directory` as `agency`'s records, in the session's transaction.

    Every row of every file is checked before anything is written; on any problem
    nothing is written and `ImportFailed` is raised. The session is flushed, never
    committed: the caller commits (or rolls back) once.
    """
    directory = Path(directory)
    db.session.flush()  # the caller's pending changes go first; the import bypasses the ORM
    problems = Problems()
    bar = Progress(0, enabled=progress)
    checked = check_dataset(directory, agency=agency, problems=problems, progress=bar)
    if problems:
        bar.finish()
        raise ImportFailed(problems.listed())
    # The repeat marks of everyone whose parties the import wrote are refreshed once, at the end,
    # with the same large SQLite page cache as the writing (the refresh reads every row just written).
    with sqlite_cache(db.session, SQLITE_CACHE_KIB), upkeep.deferred(db.session) as touched:
        writer = Writer(checked.files, agency=agency, progress=bar, rows=checked.rows)
        report = writer.write()
        touched.update(writer.party_people)
    bar.finish()
    analyse_after_bulk_writing(sum(c.created for c in report.files.values()))
    # Records were written around the ORM: objects the session holds must be read afresh.
    db.session.expire_all()
    # The audit trail records the import here, once: agency, folder and counts.
    audit.record_exchange("import", agency_id=agency.id, file_name=directory.name,
                          counts={name: asdict(c) for name, c in report.files.items()})
    return report



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
