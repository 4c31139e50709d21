"""Users, their roles and second factor, their server-side sessions, and forms kept across a time-out."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Secret, enum_column, utcnow
from .vocab import Labelled


class Role(Labelled):
    """What a user does; `casework.policy` says what each role may do."""

    CASEWORKER = "caseworker", "Caseworker"
    HRDA_CHAIR = "hrda_chair", "HRDA chair"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Administrator"
    BOARD_OFFICER = "board_officer", "Board officer"  # the partnership's plan and measures; no case data

    ASB_COORDINATOR = "asb_coordinator", "ASB case review coordinator"


class User(Base):
    """Someone who signs in. Belongs to one agency; never deleted, only deactivated."""

    __tablename__ = "user_account"

    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(120))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    demo: Mapped[bool] = mapped_column(default=False)

    password_hash: Mapped[str | None] = mapped_column(String(255))  # argon2id; None until set up
    password_changed_at: Mapped[dt.datetime | None]
    # The one-time set-up link: only its SHA-256 is kept.
    setup_token_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    setup_expires_at: Mapped[dt.datetime | None]

    totp_secret = Secret(str)
    totp_enrolled_at: Mapped[dt.datetime | None]
    totp_last_step: Mapped[int | None]  # each code works once: later codes only

    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    last_sign_in_at: Mapped[dt.datetime | None]
    # A daily email of the reviews and tasks due (the outbox service); the user may turn it off.
    daily_digest: Mapped[bool] = mapped_column(default=True, server_default=true())

    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )
    agency = relationship("Agency", lazy="joined")

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(r.role for r in self.role_rows)

    def set_roles(self, roles: set[Role] | frozenset[Role]) -> None:
        keep = [r for r in self.role_rows if r.role in roles]
        have = {r.role for r in keep}
        self.role_rows = keep + [UserRole(role=r) for r in sorted(roles - have)]

    @property
    def totp_enrolled(self) -> bool:
        return self.totp_enrolled_at is not None

    def locked(self, now: dt.datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    # Flask-Login's protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class UserRole(Base):
    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[Role] = enum_column(Role)


class RecoveryCode(Base):
    """A one-time code to sign in without the authenticator app; only its hash is kept."""

    __tablename__ = "recovery_code"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[dt.datetime | None]


class UserSession(Base):
    """A signed-in session, kept on the server so that ending it ends it everywhere.

    The browser's cookie carries a random token; only its SHA-256 is stored, so
    a copy of the database cannot be used to sign in.
    """

    __tablename__ = "user_session"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]
    ended_because: Mapped[str | None] = mapped_column(String(32))
    client_address: Mapped[str | None] = mapped_column(String(64))


class FormStash(Base):
    """What a user had entered in a form posted after their session timed out, kept (encrypted)
    until they sign in again and return to the form."""

    __tablename__ = "form_stash"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(500))
    fields = Secret(str, nullable=False)  # JSON: [[name, value], ...]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class PendingSignIn(Base):
    """Someone who gave their password (or set it through a set-up link) and has still to give the
    second factor or set it up. The browser's cookie carries a random token; only its SHA-256 is kept.
    It works once, for ten minutes, and only while the password is the one it was begun with."""

    __tablename__ = "pending_sign_in"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(8))  # "code" or "enrol"
    next_path: Mapped[str | None] = mapped_column(String(500))
    password_changed_at: Mapped[dt.datetime | None]  # the password's version it was begun with
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
