"""Users: creating them, setting them up, their roles, password and second factor, deactivating them."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select

from .. import crypto, policy
from ..db import db
from ..models import Agency, MessageKind, RecoveryCode, Role, User
from ..models.base import utcnow
from . import agencies as agency_service
from . import audit, outbox, referral_routes, restricted

SETUP_LINK_LIFETIME = dt.timedelta(hours=72)
PASSWORD_MIN, PASSWORD_MAX = 12, 128
RECOVERY_CODES = 10
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserError(Exception):
    """A user could not be created or changed; the message says why, in the user's words."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def hash_params() -> dict[str, int]:
    cfg = current_app.config
    return {"time_cost": cfg["PASSWORD_HASH_TIME_COST"], "memory_kib": cfg["PASSWORD_HASH_MEMORY_KIB"],
            "parallelism": cfg["PASSWORD_HASH_PARALLELISM"]}


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, email: str | None = None) -> str | None:
    """Why a password may not be used, or None."""
    if len(password) < PASSWORD_MIN:
        return f"Password must be {PASSWORD_MIN} characters or more"
    if len(password) > PASSWORD_MAX:
        return f"Password must be {PASSWORD_MAX} characters or fewer"
    if password.lower() in _common_passwords():
        return "Password is in a list of commonly used passwords that attackers try first: choose another"
    if email and normalise_email(email).split("@")[0] in password.lower():
        return "Password must not contain your email address"
    return None


def parse_roles(values: Iterable[str]) -> set[Role]:
    roles = set()
    for value in values:
        try:
            roles.add(Role(value))
        except ValueError:
            raise UserError(f"Unknown role {value!r}: use one of {', '.join(r.value for r in Role)}",
                            "roles") from None
    if not roles:
        raise UserError("Select at least one role", "roles")
    return roles


ADMIN_WITH_CASE_DATA = ("The administrator role cannot be given with {roles}, which see case data: someone who "
                        "needs both has two accounts, one to administer and one for casework")
OWN_ROLES = "You cannot change your own roles: another administrator must"


def roles_problem(roles: Iterable[Role]) -> str | None:
    """Why a user may not hold `roles` together, or None. An administrator manages users: one who
    could also hold a role that sees case data could give it to themselves, so the two never go
    together on one account."""
    role_set = set(roles)
    case_roles = role_set & policy.case_data_roles()
    if Role.ADMIN in role_set and case_roles:
        labels = sorted(r.label if r.label.split()[0].isupper() else r.label.lower() for r in case_roles)
        named = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
        return ADMIN_WITH_CASE_DATA.format(roles=named)
    return None


@dataclass(frozen=True)
class Invitation:
    user: User
    token: str  # for the one-time set-up link; shown once, only its hash is kept


def create(*, email: str, name: str, agency: Agency, roles: Iterable[Role | str], by: Any = None) -> Invitation:
    """Create a user who sets their own password through a one-time link valid for 72 hours."""
    email = normalise_email(email)
    if not EMAIL.match(email):
        raise UserError("Enter an email address in the correct format, like name@example.org", "email")
    name = " ".join((name or "").split()) or email.split("@")[0]
    if len(name) > 120:
        raise UserError("Name must be 120 characters or fewer", "name")
    if db.session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise UserError(f"A user with the email address {email} already exists", "email")
    role_set = parse_roles(r.value if isinstance(r, Role) else r for r in roles)
    problem = roles_problem(role_set)
    if problem:
        raise UserError(problem, "roles")
    agency_service.lock(agency, shared=True)
    if not agency.active:
        raise UserError(f"{agency.name} is no longer an active agency: choose another", "agency")
    user = User(email=email, name=name, agency_id=agency.id, active=True)
    user.set_roles(role_set)
    db.session.add(user)
    token = _new_setup_token(user)
    db.session.flush()
    audit.record("user.create", user=by, record=user, details={"roles": sorted(r.value for r in role_set)})
    _email_setup_link(user, token)
    return Invitation(user=user, token=token)


def renew_setup_link(*, user: User, by: Any = None) -> str:
    """A new set-up link (the old one stops working): for a lost link or a forgotten password."""
    token = _new_setup_token(user)
    db.session.flush()
    audit.record("user.setup_link", user=by, record=user)
    _email_setup_link(user, token)
    return token


def _email_setup_link(user: User, token: str) -> None:
    """The set-up link itself, emailed to the user (the administrator still sees it, to give by hand)."""
    outbox.queue(MessageKind.SET_UP_LINK, to=user, endpoint="auth.set_up", values={"token": token},
                 secret="token")


def _new_setup_token(user: User) -> str:
    token = crypto.new_token()
    user.setup_token_hash = crypto.token_digest(token)
    user.setup_expires_at = utcnow() + SETUP_LINK_LIFETIME
    return token


def by_setup_token(token: str) -> User | None:
    """The user a set-up link is for, while it is valid."""
    user = db.session.scalar(select(User).where(User.setup_token_hash == crypto.token_digest(token or "")))
    if user is None or not user.active or user.setup_expires_at is None or user.setup_expires_at < utcnow():
        return None
    return user


def set_password(*, user: User, password: str, by_setup_link: bool = False) -> None:
    """Set a password (policy checked); every session of the user ends."""
    problem = password_problem(password, email=user.email)
    if problem:
        raise UserError(problem, "password")
    from ..auth import pending, sessions

    user.password_hash = crypto.hash_password(password, **hash_params())
    user.password_changed_at = utcnow()
    user.setup_token_hash = None
    user.setup_expires_at = None
    user.failed_attempts = 0
    user.locked_until = None
    sessions.end_all(user_id=user.id, reason="password_changed")
    pending.end_all(user_id=user.id)
    db.session.flush()
    audit.record("user.password_set" if by_setup_link else "user.password_change", user=user, record=user)


def set_roles(*, user: User, roles: Iterable[Role | str], by: Any) -> int:
    """Give `user` exactly `roles`: never one's own, and never the administrator role with a role that
    sees case data (`roles_problem`). Returns how many restricted records this left with nobody named
    who can manage them for their agency (`restricted.left_unkept`): the agency recovers them."""
    if by is not None and user.id == by.id:
        audit.record("user.roles_refused", user=by, record=user, details={"reason": "own roles"})
        raise UserError(OWN_ROLES, "roles")
    role_set = parse_roles(r.value if isinstance(r, Role) else r for r in roles)
    problem = roles_problem(role_set)
    if problem:
        audit.record("user.roles_refused", user=by, record=user,
                     details={"reason": "administrator with case data", "roles": sorted(r.value for r in role_set)})
        raise UserError(problem, "roles")
    try:
        referral_routes.guard_user_change(user, roles_after=role_set, active_after=user.active)
    except referral_routes.RouteError as e:
        audit.record("user.roles_refused", user=by, record=user, details={"reason": "last decider of a route"})
        raise UserError(str(e), "roles") from None
    user.set_roles(role_set)
    db.session.flush()
    audit.record("user.roles", user=by, record=user, details={"roles": sorted(r.value for r in role_set)})
    return restricted.left_unkept(user)


def deactivate(*, user: User, by: Any = None) -> int:
    """A deactivated user cannot sign in, and their sessions end at once. Never refused for the
    restricted records they are named on; returns how many of those now have nobody named who can
    manage them for their agency (`restricted.left_unkept`), so the admin tells the agency."""
    from ..auth import sessions

    if by is not None and user.id == by.id:
        raise UserError("You cannot deactivate yourself")
    try:
        referral_routes.guard_user_change(user, roles_after=user.roles, active_after=False)
    except referral_routes.RouteError as e:
        raise UserError(str(e)) from None
    user.active = False
    sessions.end_all(user_id=user.id, reason="deactivated")
    db.session.flush()
    audit.record("user.deactivate", user=by, record=user)
    return restricted.left_unkept(user)


def reactivate(*, user: User, by: Any = None) -> None:
    """Let a deactivated user sign in again; refused while their agency is inactive."""
    agency = db.session.get(Agency, user.agency_id)
    if agency is not None:
        agency_service.lock(agency, shared=True)
    if agency is not None and not agency.active:
        raise UserError(f"{agency.name} is inactive: reactivate the agency first")
    user.active = True
    db.session.flush()
    audit.record("user.reactivate", user=by, record=user)


def reset_second_factor(*, user: User, by: Any = None) -> None:
    """Forget the authenticator and recovery codes: the next sign-in enrols a new one."""
    from ..auth import sessions

    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    sessions.end_all(user_id=user.id, reason="second_factor_reset")
    db.session.flush()
    audit.record("user.second_factor_reset", user=by, record=user)
    outbox.queue(MessageKind.SECOND_FACTOR_RESET, to=user, endpoint="auth.sign_in")


def set_daily_digest(*, user: User, wanted: bool) -> None:
    """A user's own choice of the daily email of what is due (audited when it changes)."""
    if user.daily_digest == wanted:
        return
    user.daily_digest = wanted
    db.session.flush()
    audit.record("user.daily_digest", user=user, record=user, details={"wanted": wanted})


def begin_enrolment(*, user: User) -> str:
    """The secret for a new authenticator (kept until a code from it is confirmed)."""
    if user.totp_enrolled:
        raise UserError("This account already has an authenticator")
    if not user.totp_secret:
        user.totp_secret = crypto.new_totp_secret()
        db.session.flush()
    return user.totp_secret


def confirm_enrolment(*, user: User, code: str) -> list[str]:
    """Confirm the authenticator with a code from it; returns new recovery codes (shown once)."""
    if user.totp_enrolled or not user.totp_secret:
        raise UserError("Start setting up the authenticator again", "code")
    step = crypto.totp_step_matched(user.totp_secret, code)
    if step is None:
        raise UserError("Enter the 6-digit code your authenticator app shows now", "code")
    user.totp_enrolled_at = utcnow()
    user.totp_last_step = step
    codes = new_recovery_codes(user=user)
    audit.record("user.second_factor_enrol", user=user, record=user)
    return codes


def new_recovery_codes(*, user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [crypto.new_recovery_code() for _ in range(RECOVERY_CODES)]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=crypto.recovery_code_digest(code)))
    db.session.flush()
    return codes


def get(user_id: uuid.UUID) -> User | None:
    return db.session.get(User, user_id)


def listing() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)))


# --- demo users ----------------------------------------------------------------

DEMO_PASSWORD = "demo-casework-2025"
DEMO_USERS = (
    # email, name, role, agency (as the demo data names it)
    ("caseworker@demo.casework.test", "Casey Worker", Role.CASEWORKER, "Dorset Police"),
    ("chair@demo.casework.test", "Harriet Chair", Role.HRDA_CHAIR, "Dorset Council"),
    ("manager@demo.casework.test", "Morgan Manager", Role.MANAGER, "Dorset Police"),
    ("admin@demo.casework.test", "Ada Admin", Role.ADMIN, "Dorset Council"),
    # who decides the IDVA, MAPPA and perpetrator programme referrals of the demo's routes
    ("idva@demo.casework.test", "Ines Advocate", Role.CASEWORKER, "Dorset Domestic Abuse Forum"),
    ("probation@demo.casework.test", "Pat Probation", Role.CASEWORKER, "Probation Service (Dorset)"),
    # keeps the Community Safety Plan (issue 18)
    ("board@demo.casework.test", "Bea Board", Role.BOARD_OFFICER, "Dorset Council"),
    # runs the ASB case reviews (issue 17)
    ("asb@demo.casework.test", "Alex Review", Role.ASB_COORDINATOR, "Dorset Council"),
)


def create_demo_users(*, agencies: Mapping[str, Agency] | None = None) -> list[User]:
    """One user per role in the demo agencies, with the demo password and no authenticator yet
    (the first sign-in enrols it). Agencies come from `agencies` (by name) or are looked up by name;
    a missing one is created. Existing demo users are left as they are. Never in production."""
    from ..models import AgencyKind

    if current_app.config["ENV"] == "production":
        raise UserError("Demo users are never created in production")

    made = []
    for email, name, role, agency_name in DEMO_USERS:
        if by_email(email) is not None:
            continue
        agency = (agencies or {}).get(agency_name) or agency_service.by_name(agency_name) or agency_service.add(
            name=agency_name, kind=AgencyKind.POLICE if "Police" in agency_name else AgencyKind.COUNCIL)
        user = User(email=email, name=name, agency_id=agency.id, active=True, demo=True)
        user.set_roles({role})
        user.password_hash = crypto.hash_password(DEMO_PASSWORD, **hash_params())
        user.password_changed_at = utcnow() - dt.timedelta(seconds=1)
        db.session.add(user)
        made.append(user)
    db.session.flush()
    for user in made:
        audit.record("user.create", user=None, record=user, details={"demo": True})
    return made


def demo_users() -> list[User]:
    return list(db.session.scalars(select(User).where(User.demo.is_(True)).order_by(User.email)))
