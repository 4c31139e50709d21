"""Scheduled jobs: one run record per job and time slot, and the scheduler's own job store.

`JobRun` is what makes a job run at most once per slot: the scheduler process that inserts
the row first runs the job; any other (a second scheduler started by mistake) hits the unique
constraint and skips. `scheduler_job` is APScheduler's SQLAlchemy job store table, declared
here (with the columns APScheduler gives it) so that the migrations create it like any other.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Column,
    Float,
    LargeBinary,
    String,
    Table,
    Text,
    Unicode,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class JobRun(Base):
    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "slot"),)

    job: Mapped[str] = mapped_column(String(64))
    slot: Mapped[str] = mapped_column(String(40))  # the scheduled time it runs for, ISO 8601
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    outcome: Mapped[str] = mapped_column(String(16), index=True)  # running, succeeded, failed
    summary: Mapped[str | None] = mapped_column(String(500))  # counts, never personal values
    error: Mapped[str | None] = mapped_column(Text)  # exception type and scrubbed message
    host: Mapped[str | None] = mapped_column(String(120))  # host name and process id


# APScheduler 3's SQLAlchemyJobStore creates exactly these columns; the store is given this
# table's name and finds it present. Its rows are pickled job states (function, trigger, next run).
scheduler_job = Table(
    "scheduler_job",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
