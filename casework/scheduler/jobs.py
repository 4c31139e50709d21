"""The scheduled jobs: each calls a service and returns a summary for the admin page.

A body runs inside an app context with a claimed slot (casework.scheduler.execute), and its
work is committed when it returns; raising marks the run failed with the error shown.
"""

from __future__ import annotations

from flask import current_app

from .. import crypto
from ..db import db
from ..measures.periods import today_in_london
from . import Job, JobFailed, prune_runs


def figures() -> str:
    """Check the stored figures (repeat marks, monthly figures) against the records, then that the
    audit trail is intact. A stored figure that differs fails the run (the admin page shows it);
    `casework measures rebuild` remakes them. Counts only: no personal values."""
    from .. import figures as stored
    from ..services import audit_chain

    findings = stored.check(db.session)
    if not findings.ok:
        raise JobFailed(f"{len(findings.marks)} stored repeat marks and {len(findings.months)} monthly figures "
                        "differ from the records; `casework measures rebuild` remakes them")
    verdict = audit_chain.verify()
    if not verdict.ok:
        raise JobFailed(str(verdict))
    return (f"stored figures agree with the records; audit trail intact ({verdict.entries} entries, "
            f"{verdict.checkpoints} checkpoints)")


def audit_checkpoint() -> str:
    """Append the audit chain's head to the checkpoint file (outside the database)."""
    from ..services import audit_chain

    cp = audit_chain.checkpoint()
    return f"checkpoint at position {cp.position}"


def reminders() -> str:
    """Add and remove the reminders shown on users' home pages."""
    from ..services import reminders as service

    return str(service.refresh(today=today_in_london()))


def expire_access() -> str:
    """End set-up links and sessions past their time; delete old ended sessions, kept forms and
    job run records."""
    from ..services import housekeeping

    expired = housekeeping.expire()
    return f"{expired}; {prune_runs()} old job runs deleted"


def retention_sweep() -> str:
    """Erase the personal data of records past their retention period, in batches of its own."""
    from ..services import retention

    total: dict[str, int] = {}
    skipped: list[str] = []
    while True:
        swept = retention.sweep(today=today_in_london(), limit=int(current_app.config["RETENTION_BATCH"]))
        db.session.commit()  # each batch stands on its own: a stopped sweep resumes where it was
        skipped = swept.skipped
        for kind, n in swept.erased.items():
            total[kind] = total.get(kind, 0) + n
        if swept.total == 0:
            break
    return str(retention.Swept(erased=total, skipped=skipped))


def retired_keys() -> str:
    """Check that no stored value is sealed under a key that is no longer in the keyring."""
    from ..services import keys

    status = keys.status(ring=crypto.current())
    stranded = {k: status.total_under(k) for k in {k for _, k in status.counts} if k not in status.keys}
    stranded = {k: n for k, n in stranded.items() if n}
    if stranded:
        detail = ", ".join(f"{n} under {'an unknown format' if k is None else f'key {k}'}"
                           for k, n in sorted(stranded.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)))
        raise JobFailed(f"values cannot be read: {detail}; restore the retired key from a keyring backup "
                        "and run `casework keys rotate`")
    note = (f"; {status.remaining} values not yet under the active key {status.active} "
            "(an unfinished rotation: run `casework keys rotate`)") if status.remaining else ""
    return f"no value under a retired key; keys in the keyring: {', '.join(map(str, status.keys))}{note}"


def send_email() -> str:
    """Send the outbox's messages that are due; fail (shown on the admin page) when the server is down."""
    from ..services import outbox

    try:
        result = outbox.send_due()
    except outbox.MailNotConfigured as e:
        raise JobFailed(str(e)) from None
    if result.retrying and not result.sent:
        raise JobFailed(f"the mail server could not take the messages ({result.retrying} will be tried again, "
                        f"{result.failed} failed): {result.errors[-1]}")
    if result.failed:
        raise JobFailed(str(result))
    return str(result)


def daily_digest() -> str:
    """Queue each user's daily email of reviews and tasks due (unless they turned it off)."""
    from ..services import digest

    return f"{digest.queue_digests()} digests queued"


JOBS = (
    Job("figures", "Stored figures and audit trail check", "daily 01:30", figures),
    Job("audit_checkpoint", "Audit trail checkpoint", "daily 00:15", audit_checkpoint),
    Job("reminders", "Reminders", "daily 05:00", reminders),
    Job("expire_access", "Expiry of set-up links, sessions and old job runs", "hourly :05", expire_access),
    Job("retention_sweep", "Retention sweep", "daily 02:30", retention_sweep),
    Job("retired_keys", "Check for values under retired keys", "weekly sun 04:00", retired_keys),
    Job("send_email", "Sending email from the outbox", "every 30 seconds", send_email),
    Job("daily_digest", "Daily email of reviews and tasks due", "daily 07:00", daily_digest),
)
