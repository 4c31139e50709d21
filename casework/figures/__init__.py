"""The stored figures: derived tables the measures read instead of passing over every record, and
their upkeep, in one place (docs/figures.md).

- `party_mark` (the repeat rule's marks per party), `person_year_mark` / `person_month_mark` (per
  person and year or month) and `person_year_count` (those counted): `marks`;
- `measure_month` (the measures' additive raw figures per month and locality): `months`.

Their tables are defined with the other models (`casework.models.mark`), so that one metadata holds
the whole schema; the measures read them (`casework.measures.stored`).

The interface:

- `install(strict=...)`: register the upkeep's events (`create_app` calls it, and so every CLI
  command and the scheduler): ORM flushes of single rows keep the figures exact by themselves;
- `changing(session, people=..., incidents=..., months=...)`: a block of statements that changes
  those records; `changed(...)`: the same, announced after a write the Session never saw;
  `bulk(session)`: a writer of many rows, refreshed once at its end;
- `check(session)`, `rebuild(session)`: compare with the records, or remake everything;
  `unbuilt(session)`: the tables left empty by a migration, which `casework db upgrade` rebuilds.

A statement on a watched column outside `changing` / `bulk` trips `tripwire` (raises under test).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, exists, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from ..models import Area, Incident, Party, PreventionActivity, Referral
from ..models.mark import measure_month, party_mark, person_month_mark, person_year_count, person_year_mark
from ..risk.repeats import RepeatKind, is_kind
from . import tripwire, upkeep
from .marks import Discrepancy, check_repeat_marks, rebuild_repeat_marks
from .months import check_months
from .tripwire import NotAnnounced
from .upkeep import Bulk, bulk, changed, changing

__all__ = ["Bulk", "Discrepancy", "Findings", "NotAnnounced", "bulk", "changed", "changing", "check", "install",
           "rebuild", "unbuilt"]


@dataclass(frozen=True)
class Findings:
    """What `check` found: stored marks and monthly figures that differ from the records."""

    marks: list[Discrepancy] = field(default_factory=list)
    months: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.marks and not self.months

    def lines(self) -> list[str]:
        return [*(d.describe() for d in self.marks), *self.months]


def check(session: Session, *, limit: int | None = None) -> Findings:
    """Recompute every stored figure from the records and compare (reads only)."""
    return Findings(check_repeat_marks(session, limit=limit), check_months(session))


def rebuild(session: Session) -> int:
    """Remake every stored figure from the records, in the session's transaction; returns the number
    of repeat marks."""
    return rebuild_repeat_marks(session)


def unbuilt(session: Session) -> list[str]:
    """The derived tables that are empty while the records they are made from are not: left so by a
    migration that created them (docs/figures.md). A database with only records no figure counts
    is listed too; rebuilding it costs little and leaves it as it was."""
    connection = session.connection()
    i, p = Incident.__table__, Party.__table__
    marked = select(p.c.incident_id).select_from(p.join(i, i.c.id == p.c.incident_id)).where(
        or_(*(is_kind(kind, i) for kind in RepeatKind)))
    counted = [select(t.c.id) for t in (i, Referral.__table__, PreventionActivity.__table__)]
    found = []
    if _any(connection, marked):
        found += [t.name for t in (party_mark, person_year_mark, person_month_mark, person_year_count)
                  if not _any(connection, select(t))]
    if any(_any(connection, query) for query in counted) and not _any(connection, select(measure_month)):
        found.append(measure_month.name)
    return found


def _any(connection: Connection, query: Any) -> bool:
    return bool(connection.scalar(select(exists(query))))


# --- the events ---------------------------------------------------------------------------------------

_settings = {"installed": False, "strict": False}


def install(*, strict: bool) -> None:
    """Register the upkeep's mapper and session events, once per process. `strict`: an unannounced
    write of a watched column raises (under test) instead of logging an error."""
    _settings["strict"] = strict
    if _settings["installed"]:
        return
    _settings["installed"] = True
    for flags, name in (({"inserting": True}, "after_insert"), ({}, "after_update"),
                        ({"deleting": True}, "before_delete")):
        event.listen(Party, name, _party(flags))
        event.listen(Incident, name, _incident(flags))
    for name, whole in (("after_insert", True), ("after_update", False), ("after_delete", True)):
        event.listen(Referral, name, _referral(whole))
        event.listen(PreventionActivity, name, _activity(whole))
    event.listen(Area, "after_update", _area_updated)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _statement)
    event.listen(Session, "after_soft_rollback", _rolled_back)


def _party(flags: dict[str, bool]) -> Any:
    def listener(_mapper: Any, connection: Connection, party: Party) -> None:
        upkeep.party_written(connection, party, **flags)
    return listener


def _incident(flags: dict[str, bool]) -> Any:
    def listener(_mapper: Any, connection: Connection, incident: Incident) -> None:
        upkeep.incident_written(connection, incident, **flags)
    return listener


def _referral(whole: bool) -> Any:
    def listener(_mapper: Any, connection: Connection, referral: Referral) -> None:
        upkeep.referral_written(connection, referral, whole=whole)
    return listener


def _activity(whole: bool) -> Any:
    def listener(_mapper: Any, _connection: Connection, activity: PreventionActivity) -> None:
        upkeep.activity_written(activity, whole=whole)
    return listener


def _area_updated(_mapper: Any, _connection: Connection, area: Area) -> None:
    upkeep.area_updated(area)


def _after_flush(session: Session, _context: Any) -> None:
    upkeep.after_flush(session)


def _statement(state: ORMExecuteState) -> None:
    tripwire.check(state, strict=bool(_settings["strict"]))


def _rolled_back(session: Session, _previous: SessionTransaction) -> None:
    upkeep.forget_pending(session)
