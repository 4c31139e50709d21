"""Signing in: the password, then the second factor; failures counted and throttled.

- After 5 failed attempts (wrong password or wrong code) an account is locked
  for 15 minutes. The count and the lock are written in transactions of their
  own, so a failed request cannot roll them back.
- Failures are also limited per client address (Flask-Limiter's storage:
  memory, or Redis when CASEWORK_REDIS_URL is set, shared by every process).
- An unknown email gets the same message, after the same work (a password hash
  is checked against a dummy), and is "locked" after 5 failures too (counted in
  the limiter's storage), so nobody learns which emails have accounts.
- Password hashing runs outside any database transaction: a slow hash never
  holds SQLite's write lock.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass

from flask import current_app, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse
from limits.strategies import RateLimiter
from sqlalchemy import or_, select, update

from .. import crypto
from ..db import begin_mode, db, rowcount
from ..models import RecoveryCode, User
from ..models.base import utcnow
from ..services import audit
from ..services.users import hash_params, normalise_email

BAD_CREDENTIALS = "Enter a correct email address and password"
BAD_CODE = "Enter a correct code from your authenticator app, or an unused recovery code"
LOCKED = ("There have been too many failed attempts to sign in to this account. "
          "Wait 15 minutes, then try again.")
THROTTLED = "There have been too many failed sign-in attempts from your network. Try again later."
USED_CODE = ("That code has already been used. Wait for your authenticator app to show a new code, "
             "then enter it")
USED_RECOVERY_CODE = ("That recovery code has already been used. Enter a code from your authenticator app, "
                      "or another recovery code")


class Result(enum.Enum):
    NEED_CODE = "need_code"
    NEED_ENROLMENT = "need_enrolment"
    SIGNED_IN = "signed_in"
    BAD = "bad"
    LOCKED = "locked"
    THROTTLED = "throttled"
    USED = "used"  # a right code, already used: refused, but not a failed guess
    USED_RECOVERY = "used_recovery"  # the same, for a recovery code
    CORRECT = "correct"  # the current password, checked before a change


@dataclass(frozen=True)
class Attempt:
    result: Result
    user_id: uuid.UUID | None = None
    just_locked: bool = False  # this failure locked the account (not: it was locked already)

    @property
    def message(self) -> str | None:
        return {Result.BAD: BAD_CREDENTIALS, Result.LOCKED: LOCKED, Result.THROTTLED: THROTTLED,
                Result.USED: USED_CODE, Result.USED_RECOVERY: USED_RECOVERY_CODE}.get(self.result)


@dataclass(frozen=True)
class _Account:
    id: uuid.UUID
    agency_id: uuid.UUID
    active: bool
    password_hash: str | None
    locked_until: dt.datetime | None
    enrolled: bool


def _limiter() -> RateLimiter:
    limiter: Limiter = current_app.extensions["casework.limiter"]
    return limiter.limiter


def _address_limit() -> RateLimitItem:
    return parse(current_app.config["SIGN_IN_ADDRESS_LIMIT"])


def _unknown_email_limit() -> RateLimitItem:
    return parse(f"{current_app.config['LOCKOUT_ATTEMPTS']} per {current_app.config['LOCKOUT_MINUTES']} minutes")


def _address() -> str:
    return request.remote_addr or "unknown"


def _load(email: str) -> _Account | None:
    with db.new_session() as s, begin_mode("DEFERRED"):
        row = s.execute(select(User.id, User.agency_id, User.active, User.password_hash, User.locked_until,
                               User.totp_enrolled_at).where(User.email == email)).first()
    if row is None:
        return None
    return _Account(row.id, row.agency_id, row.active, row.password_hash, row.locked_until,
                    row.totp_enrolled_at is not None)


def address_throttled() -> bool:
    """Whether the client address is over its limit of failed attempts at any secret (a password,
    a code, a set-up link): then nothing more is checked from it until the window has passed."""
    return not _limiter().test(_address_limit(), "sign-in-address", _address())


def setup_link_failed() -> None:
    """A set-up link that names no one: counted against the client address, as a wrong password is,
    so links cannot be guessed at speed."""
    _limiter().hit(_address_limit(), "sign-in-address", _address())
    audit.record("set_up.failed", user=None, details={"step": "set-up link"})


def check_password(*, email: str, password: str) -> Attempt:
    """The first step. On success the caller asks for the second factor (or its enrolment)."""
    address = _address()
    if not _limiter().test(_address_limit(), "sign-in-address", address):
        audit.record("sign_in.throttled", user=None, details={"step": "password"})
        return Attempt(Result.THROTTLED)
    email = normalise_email(email)
    account = _load(email) if email else None
    now = utcnow()
    usable = account is not None and account.active and account.password_hash is not None
    if not usable:
        crypto.verify_password(None, password, **hash_params())  # the same work as for a real account
        _limiter().hit(_address_limit(), "sign-in-address", address)
        key = crypto.token_digest(email).hex()
        # Counted like an account's failures: the attempt that reaches the limit is told of the lock.
        _limiter().hit(_unknown_email_limit(), "sign-in-unknown", key)
        locked = not _limiter().test(_unknown_email_limit(), "sign-in-unknown", key)
        audit.record("sign_in.failed", user=_actor(account),
                     details={"step": "password", "reason": "inactive" if account else "unknown account"})
        return Attempt(Result.LOCKED if locked else Result.BAD)
    assert account is not None
    if account.locked_until is not None and account.locked_until > now:
        crypto.verify_password(account.password_hash, password)
        _limiter().hit(_address_limit(), "sign-in-address", address)
        audit.record("sign_in.refused_locked", user=_actor(account), details={"step": "password"})
        return Attempt(Result.LOCKED, account.id)
    if not crypto.verify_password(account.password_hash, password):
        return _failed(account, step="password")
    return Attempt(Result.NEED_CODE if account.enrolled else Result.NEED_ENROLMENT, account.id)


def check_current_password(*, user_id: uuid.UUID, password: str) -> Attempt:
    """A signed-in user's current password, asked before a change: checked as signing in checks it.
    A wrong one counts towards the same lock-out (so five end in a 15-minute lock) and towards the
    client address's limit; while the account is locked, or the address over its limit, nothing is
    checked. Run outside the request's transaction (it writes in transactions of its own)."""
    address = _address()
    if not _limiter().test(_address_limit(), "sign-in-address", address):
        audit.record("sign_in.throttled", user=None, details={"step": "current_password"})
        return Attempt(Result.THROTTLED, user_id)
    with db.new_session() as s, begin_mode("DEFERRED"):
        row = s.execute(select(User.id, User.agency_id, User.active, User.password_hash, User.locked_until,
                               User.totp_enrolled_at).where(User.id == user_id)).first()
    if row is None or not row.active or row.password_hash is None:
        return Attempt(Result.BAD, user_id)
    account = _Account(row.id, row.agency_id, row.active, row.password_hash, row.locked_until,
                       row.totp_enrolled_at is not None)
    if account.locked_until is not None and account.locked_until > utcnow():
        _limiter().hit(_address_limit(), "sign-in-address", address)
        audit.record("sign_in.refused_locked", user=_actor(account), details={"step": "current_password"})
        return Attempt(Result.LOCKED, account.id)
    if not crypto.verify_password(account.password_hash, password):
        return _failed(account, step="current_password")
    return Attempt(Result.CORRECT, account.id)


def check_code(*, user_id: uuid.UUID, code: str) -> Attempt:
    """The second step: a code from the authenticator (each works once) or an unused recovery code."""
    address = _address()
    if not _limiter().test(_address_limit(), "sign-in-address", address):
        audit.record("sign_in.throttled", user=None, details={"step": "code"})
        return Attempt(Result.THROTTLED)
    with db.new_session() as s, begin_mode("DEFERRED"):
        user = s.get(User, user_id)
        secret = user.totp_secret if user is not None else None
    if user is None or not user.active or not user.totp_enrolled or not secret:
        return Attempt(Result.BAD)
    account = _Account(user.id, user.agency_id, user.active, user.password_hash, user.locked_until, True)
    if user.locked():
        audit.record("sign_in.refused_locked", user=_actor(account), details={"step": "code"})
        return Attempt(Result.LOCKED, user.id)
    compact = "".join(code.split())
    if len(compact) <= 6:
        step = crypto.totp_step_matched(secret, compact)
        # The step is claimed atomically: the same code sent twice at once still works only once.
        if step is not None and _claim(update(User).where(
                User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                .values(totp_last_step=step)):
            return Attempt(Result.SIGNED_IN, user.id)
        if step is not None:
            # The right code, used already (to set up the authenticator, or a moment ago): whoever
            # sends it knows it, so it is no guess; refused, and not counted towards the lock-out.
            audit.record("sign_in.code_reused", user=_actor(account), details={"step": "code"})
            return Attempt(Result.USED, user.id)
        return _failed(account, step="code")
    digest = crypto.recovery_code_digest(compact)
    if not _claim(update(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == digest, RecoveryCode.used_at.is_(None))
            .values(used_at=utcnow())):
        with db.new_session() as s, begin_mode("DEFERRED"):
            used = s.scalar(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id,
                                                          RecoveryCode.code_hash == digest))
        if used is not None:  # one of theirs, used before: no guess either
            audit.record("sign_in.code_reused", user=_actor(account), details={"step": "recovery_code"})
            return Attempt(Result.USED_RECOVERY, user.id)
        return _failed(account, step="code")
    audit.record("sign_in.recovery_code_used", user=_actor(account), record=user)
    return Attempt(Result.SIGNED_IN, user.id)


def _claim(statement) -> bool:  # type: ignore[no-untyped-def]
    with db.new_session() as s, begin_mode("IMMEDIATE"):
        claimed = rowcount(s.execute(statement)) == 1
        s.commit()
    return claimed


def _failed(account: _Account, *, step: str) -> Attempt:
    """Count a failure against the account (in its own transaction), locking it at the limit."""
    cfg = current_app.config
    _limiter().hit(_address_limit(), "sign-in-address", _address())
    now = utcnow()
    with db.new_session() as s, begin_mode("IMMEDIATE"):
        count = s.execute(update(User).where(User.id == account.id)
                          .values(failed_attempts=User.failed_attempts + 1)
                          .returning(User.failed_attempts)).scalar_one()
        locked = count >= cfg["LOCKOUT_ATTEMPTS"]
        if locked:
            s.execute(update(User).where(User.id == account.id).values(
                failed_attempts=0, locked_until=now + dt.timedelta(minutes=cfg["LOCKOUT_MINUTES"])))
        s.commit()
    audit.record("sign_in.failed", user=_actor(account), details={"step": step, "attempt": count})
    if locked:
        audit.record("sign_in.locked", user=_actor(account), details={"minutes": cfg["LOCKOUT_MINUTES"]})
        return Attempt(Result.LOCKED, account.id, just_locked=True)
    return Attempt(Result.BAD, account.id)


def succeeded(user: User) -> None:
    """The second factor checked: clear the failure count (in the request's transaction)."""
    user.failed_attempts = 0
    user.locked_until = None
    user.last_sign_in_at = utcnow()


class _Actor:
    def __init__(self, account: _Account) -> None:
        self.id = account.id
        self.agency_id = account.agency_id


def _actor(account: _Account | None) -> _Actor | None:
    return _Actor(account) if account is not None else None
