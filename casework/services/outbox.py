"""Email through an outbox: a change that should tell someone queues a message in its own
transaction (`queue`); the scheduler's `send_email` job sends what is due (`send_due`).

- Queued with the change: the message is a row written by the same session, so a rolled-back
  change sends nothing and a committed one is never lost.
- Sent once: a sender claims a batch in a transaction of its own (a lease: `claimed_until`,
  `claimed_by`), by one UPDATE whose subquery takes `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite
  runs one writer at a time, so its UPDATE is the claim); each message is marked sent in a
  transaction of its own straight after the server accepts it. A second scheduler process claims
  other messages or none. Every message has a unique Message-ID, so in the one case left (the
  process dies between the server's acceptance and the mark) a mail system can tell the copy.
- Retried: a server that is down or answers 4xx leaves the message queued, tried again after
  `backoff(attempts)`; a 5xx answer, or OUTBOX_MAX_ATTEMPTS tries, fails it for good. Failures
  show on the admin jobs page.
- No personal data: subjects and bodies are fixed words per kind (`WORDS`), with counts at most;
  the link goes to the page. A link's secret (a set-up link's token) is sealed in the row, cut out
  of what is logged or shown (`link_shown`), and cleared once the message is sent.
- Without CASEWORK_SMTP_HOST outside production, messages are written to the log instead (their
  links without secrets) and listed on the admin page; in production they wait, and the job fails
  saying what to set.

See docs/email.md for adding a kind of message.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select, update

from .. import links
from ..db import begin_mode, db, rowcount
from ..models import MessageKind, MessageState, OutboxMessage, User
from ..models.base import utcnow
from ..observability import scrub_error

log = logging.getLogger("casework.outbox")

LEASE = dt.timedelta(minutes=5)  # far longer than a batch takes: a crashed sender's claims lapse
BATCH = 100
SECRET_SHOWN = "[secret]"


@dataclass(frozen=True)
class Words:
    subject: str
    body: str  # "{link}" stands for the link; a digest's "{due}" for its counts


WORDS: dict[MessageKind, Words] = {
    MessageKind.SET_UP_LINK: Words(
        "Set up your Casework account",
        "An account has been made for you on Casework, or a new set-up link was asked for.\n\n"
        "Set your password and your authenticator app here (the link works once, for 72 hours):\n{link}\n\n"
        "If you did not expect this, tell your Casework administrator."),
    MessageKind.SECOND_FACTOR_RESET: Words(
        "Your Casework second factor was reset",
        "An administrator reset the second factor (authenticator app) of your Casework account.\n\n"
        "Sign in to set up your authenticator app again:\n{link}\n\n"
        "If you did not ask for this, tell your Casework administrator."),
    MessageKind.REFERRAL_RECEIVED: Words(
        "A new referral is waiting for your decision",
        "A new referral has been made to your service and is waiting for your decision.\n\n"
        "See it on Casework:\n{link}"),
    MessageKind.REFERRAL_DECIDED: Words(
        "A referral you made has been decided",
        "The receiving service has decided on a referral you made.\n\nSee the decision on Casework:\n{link}"),
    MessageKind.HRDA_ACTION: Words(
        "An HRDA action has been given to your agency",
        "An HRDA meeting has given an action to your agency.\n\nSee your agency's HRDA actions on Casework:\n{link}"),
    MessageKind.AGENDA_PUBLISHED: Words(
        "The agenda of an HRDA meeting you are invited to is ready",
        "The chair has published the agenda of an HRDA meeting your agency is invited to.\n\n"
        "See the meeting and its agenda on Casework:\n{link}"),
    MessageKind.DAILY_DIGEST: Words(
        "Your reviews and tasks due on Casework",
        "You have {due} on Casework.\n\nSee them on your home page:\n{link}\n\n"
        "You can stop these daily emails on your account page."),
}


# --- queueing --------------------------------------------------------------------------------


def queue(kind: MessageKind, *, to: User | str, endpoint: str, values: Mapping[str, Any] | None = None,
          secret: str | None = None, due: str | None = None) -> OutboxMessage | None:
    """Queue one message of `kind` to a user (or an address) in the current transaction.

    The link is the page `endpoint` with `values`; `secret` names the value that must not be logged
    or shown (a token). A user who is not active gets nothing (None). Flushes, never commits."""
    if isinstance(to, User):
        if not to.active:
            return None
        user_id, address = to.id, to.email
    else:
        user_id, address = None, to
    values = dict(values or {})
    words = WORDS[kind]
    message = OutboxMessage(
        message_id=make_msgid(idstring=uuid.uuid4().hex, domain=_mail_domain()),
        kind=kind, user_id=user_id, recipient=address, subject=words.subject,
        body=words.body.replace("{due}", due or ""), state=MessageState.QUEUED, attempts=0,
        next_attempt_at=utcnow())
    message.link = _path(endpoint, values)
    message.link_shown = (_path(endpoint, {**values, secret: "--secret--"}).replace("--secret--", SECRET_SHOWN)
                          if secret else message.link)
    db.session.add(message)
    db.session.flush()
    return message


def queue_many(kind: MessageKind, *, to: Iterable[User], endpoint: str,
               values: Mapping[str, Any] | None = None) -> int:
    """The same message to each of `to` (each active user once); returns how many were queued."""
    seen: set[uuid.UUID] = set()
    for user in to:
        if user.id not in seen and queue(kind, to=user, endpoint=endpoint, values=values) is not None:
            seen.add(user.id)
    return len(seen)


def agency_users(agency_ids: Iterable[Any], permission: Any) -> list[User]:
    """The active users of the agencies whose roles give `permission` (a `policy.Permission`)."""
    from .. import policy
    from ..models import UserRole

    ids = list(agency_ids)
    if not ids:
        return []
    roles = policy.roles_with(permission)
    return list(db.session.scalars(
        select(User).where(User.agency_id.in_(ids), User.active.is_(True),
                           User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(roles))))
        .order_by(User.email)))


def referral_page(referral: Any) -> tuple[str, dict[str, Any]]:
    """Where a message about a referral links: the HRDA chair's review page, or the referral's page."""
    from ..models import ReferralType

    if referral.type is ReferralType.HRDA:
        return "hrda.review", {"referral_id": referral.id}
    return "referrals.show", {"referral_id": referral.id}


def _path(endpoint: str, values: Mapping[str, Any]) -> str:
    """The page's path (the public address is put in front when the message is sent: a change is
    never refused because the address is not configured)."""
    return current_app.url_map.bind("localhost", script_name="/").build(endpoint, dict(values))


def _mail_domain() -> str:
    sender = current_app.config.get("MAIL_FROM") or "casework@localhost"
    return sender.rsplit("@", 1)[-1].strip("> ") or "localhost"


# --- sending -----------------------------------------------------------------------------------


def backoff(attempts: int) -> dt.timedelta:
    """How long a message waits after its `attempts`-th failed try: 30 seconds, doubling, at most an hour."""
    return min(dt.timedelta(seconds=30) * int(2 ** max(attempts - 1, 0)), dt.timedelta(hours=1))


class MailNotConfigured(Exception):
    """Messages cannot be sent: the message names the setting to give."""


@dataclass
class Sent:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    via: str = "smtp"

    def __str__(self) -> str:
        where = "written to the log (no SMTP server configured)" if self.via == "log" else "sent"
        text = f"{self.sent} messages {where}, {self.retrying} to retry, {self.failed} failed"
        return text + (f"; {self.errors[-1]}" if self.errors else "")


class _Smtp:
    """One connection to the configured server, opened at the first message, reused for a batch."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.conn: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        if self.conn is None:
            c = self.config
            conn = smtplib.SMTP(c["SMTP_HOST"], int(c["SMTP_PORT"]), timeout=float(c["SMTP_TIMEOUT"]))
            try:
                if c["SMTP_STARTTLS"]:
                    conn.starttls(context=ssl.create_default_context())
                if c.get("SMTP_USERNAME"):
                    conn.login(str(c["SMTP_USERNAME"]), str(c.get("SMTP_PASSWORD") or ""))
            except BaseException:
                conn.close()
                raise
            self.conn = conn
        self.conn.send_message(message)

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                self.conn.close()
            self.conn = None


class _Log:
    """Development without a mail server: each message goes to the log, its link's secret cut out."""

    def send(self, message: EmailMessage, *, shown: str) -> None:
        log.info("email (not sent: no CASEWORK_SMTP_HOST) to %s: %s | %s", message["To"], message["Subject"],
                 shown.replace("\n", " "))

    def close(self) -> None:
        pass


def _transport() -> _Smtp | _Log:
    config = current_app.config
    if config.get("SMTP_HOST"):
        if not config.get("MAIL_FROM") and config["ENV"] == "production":
            raise MailNotConfigured("CASEWORK_MAIL_FROM is not set: set the address messages are sent from")
        return _Smtp(config)
    if config["ENV"] == "production":
        raise MailNotConfigured("CASEWORK_SMTP_HOST is not set: messages wait in the outbox until it is")
    return _Log()


def _claim(now: dt.datetime, limit: int) -> tuple[str, list[uuid.UUID]]:
    """Claim up to `limit` due messages for this sender, in a transaction of its own."""
    token = uuid.uuid4().hex
    with db.new_session() as s, begin_mode("IMMEDIATE"):
        due = (select(OutboxMessage.id)
               .where(OutboxMessage.state == MessageState.QUEUED, OutboxMessage.next_attempt_at <= now,
                      or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
               .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
        if s.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list(s.scalars(
            update(OutboxMessage).where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(claimed_until=now + LEASE, claimed_by=token)
            .returning(OutboxMessage.id).execution_options(synchronize_session=False)))
        s.commit()
    return token, ids


def _mark(message_id: uuid.UUID, token: str, **values: Any) -> None:
    """Record what became of one message, in a transaction of its own (only while the claim is ours)."""
    with db.new_session() as s, begin_mode("IMMEDIATE"):
        done = s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id,
                                                     OutboxMessage.claimed_by == token)
                         .values(claimed_until=None, claimed_by=None, updated_at=utcnow(), **values)
                         .execution_options(synchronize_session=False))
        s.commit()
    if rowcount(done) != 1:
        log.warning("outbox message %s: its claim had lapsed when it was marked", message_id)


def _email(row: OutboxMessage, base: str) -> tuple[EmailMessage, str]:
    """The message to send, and what may be logged of its body (the link without its secret)."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config.get("MAIL_FROM") or "casework@localhost"
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id
    message["Date"] = format_datetime(utcnow())
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body.replace("{link}", base + (row.link or row.link_shown or "/")) + "\n")
    return message, row.body.replace("{link}", base + (row.link_shown or "/"))


def _failure(exc: BaseException) -> tuple[bool, str]:
    """Whether trying again may work, and the error as shown (no addresses, no values)."""
    permanent = False
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
    elif isinstance(exc, smtplib.SMTPResponseException):
        permanent = 500 <= exc.smtp_code < 600
    return not permanent, scrub_error(exc)


def send_due(*, now: dt.datetime | None = None, budget_s: float = 25.0, limit: int | None = None) -> Sent:
    """Send the messages due (claimed in batches) until none is left, `limit` are done or `budget_s`
    seconds have passed. A server that cannot be reached ends the run: every claimed message waits
    for its next try."""
    transport = _transport()
    result = Sent(via="log" if isinstance(transport, _Log) else "smtp")
    base = links.public_base()
    max_attempts = int(current_app.config["OUTBOX_MAX_ATTEMPTS"])
    started = time.monotonic()
    done = 0
    try:
        while time.monotonic() - started < budget_s and (limit is None or done < limit):
            at = now or utcnow()
            token, ids = _claim(at, BATCH if limit is None else min(BATCH, limit - done))
            if not ids:
                break
            # Read (and unseal) the batch in a session of its own, closed before anything is sent: no
            # transaction stays open while the server is talked to.
            with db.new_session() as s, begin_mode("DEFERRED"):
                rows = [(row.id, row.attempts, *_email(row, base)) for row in s.scalars(
                    select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                    .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id))]
                s.rollback()
            unreachable: str | None = None
            for row_id, attempts, message, shown in rows:
                done += 1
                row = _Tried(row_id, attempts)
                if unreachable is not None:
                    _retry(row, token, unreachable, at, max_attempts, result)
                    continue
                try:
                    if isinstance(transport, _Log):
                        transport.send(message, shown=shown)
                    else:
                        transport.send(message)
                except (smtplib.SMTPException, OSError) as e:
                    again, error = _failure(e)
                    if not again:
                        _mark(row.id, token, state=MessageState.FAILED, attempts=row.attempts + 1,
                              last_error=error)
                        result.failed += 1
                        result.errors.append(error)
                        continue
                    # The server is down or refusing for now: the rest of the batch waits too.
                    unreachable = error
                    transport.close()
                    _retry(row, token, error, at, max_attempts, result)
                    continue
                _mark(row.id, token, state=MessageState.SENT, sent_at=utcnow(), sent_via=result.via,
                      attempts=row.attempts + 1, link_sealed=None, last_error=None)
                result.sent += 1
            if unreachable is not None:
                break
    finally:
        transport.close()
    return result


@dataclass(frozen=True)
class _Tried:
    id: uuid.UUID
    attempts: int


def _retry(row: _Tried, token: str, error: str, at: dt.datetime, max_attempts: int, result: Sent) -> None:
    attempts = row.attempts + 1
    if attempts >= max_attempts:
        _mark(row.id, token, state=MessageState.FAILED, attempts=attempts, last_error=error)
        result.failed += 1
    else:
        _mark(row.id, token, attempts=attempts, next_attempt_at=at + backoff(attempts), last_error=error)
        result.retrying += 1
    result.errors.append(error)


# --- for the admin pages --------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    waiting: int
    retrying: int
    failed: int
    sent: int


def status() -> Status:
    counts = dict(db.session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all())
    retrying = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.state == MessageState.QUEUED, OutboxMessage.attempts > 0)) or 0
    return Status(waiting=counts.get(MessageState.QUEUED, 0), retrying=retrying,
                  failed=counts.get(MessageState.FAILED, 0), sent=counts.get(MessageState.SENT, 0))


def recent(*, limit: int = 100, state: MessageState | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage)
    if state is not None:
        query = query.where(OutboxMessage.state == state)
    return list(db.session.scalars(query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
                                   .limit(limit)))


def troubled(*, limit: int = 20) -> list[OutboxMessage]:
    """Messages that failed for good, and those waiting after a failed try, latest first."""
    return list(db.session.scalars(select(OutboxMessage).where(
        or_(OutboxMessage.state == MessageState.FAILED,
            (OutboxMessage.state == MessageState.QUEUED) & (OutboxMessage.attempts > 0)))
        .order_by(OutboxMessage.updated_at.desc()).limit(limit)))
