"""`casework scheduler`: the scheduler process; `casework scheduler jobs` and `run JOB`."""

from __future__ import annotations

import signal

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("scheduler", invoke_without_command=True)
@click.pass_context
@with_appcontext
def scheduler_group(ctx: click.Context) -> None:
    """Run the scheduled jobs (a process of its own: run exactly one, beside the web workers)."""
    if ctx.invoked_subcommand is not None:
        return
    from .. import scheduler

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        sched = scheduler.build(app)
    except scheduler.ScheduleError as e:
        raise click.ClickException(str(e)) from None

    def _stop(signum: int, _frame: object) -> None:
        scheduler.log.info("scheduler stopping (signal %s)", signum)
        sched.shutdown(wait=False)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    scheduler.log.info("scheduler started (%s): %s", scheduler.host_label(),
                       ", ".join(f"{j.name} {j.schedule(app).text}" for j in scheduler.registry().values()))
    sched.start()
    scheduler.log.info("scheduler stopped")


@scheduler_group.command("jobs")
@with_appcontext
def jobs() -> None:
    """List the jobs: schedule, last run and outcome, next run."""
    from .. import scheduler

    for state in scheduler.states():
        last = state.last_run
        last_text = f"{last.started_at:%Y-%m-%d %H:%M} {last.outcome}" if last else "never run"
        next_text = f"{state.next_run:%Y-%m-%d %H:%M} UTC" if state.next_run else "-"
        click.echo(f"{state.job.name}\t{state.schedule}\tlast: {last_text}\tnext: {next_text}")
        if last is not None and last.error:
            click.echo(f"\terror: {last.error}")


@scheduler_group.command("run")
@click.argument("job")
@with_appcontext
def run(job: str) -> None:
    """Run JOB once now (for its current slot: refused if that slot has already run)."""
    from .. import scheduler

    found = scheduler.registry().get(job)
    if found is None:
        raise click.ClickException(f"no job {job!r}: the jobs are {', '.join(scheduler.registry())}")
    result = scheduler.execute(found)
    if result is None:
        raise click.ClickException(f"{job} has already run for its current time slot; it runs again at the next")
    if result.outcome != "succeeded":
        raise click.ClickException(f"{job} failed: {result.error}")
    click.echo(f"{job}: {result.summary}")


COMMANDS = [scheduler_group]
