"""Accounts: password hashes, one-time codes, tokens and recovery codes."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

# argon2id with RFC 9106's second recommended parameters (64 MiB, 3 passes) unless configured.
PASSWORD_HASH_DEFAULTS = {"time_cost": 3, "memory_kib": 65536, "parallelism": 4}


def _password_hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    from argon2 import PasswordHasher, Type

    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID)


def hash_password(password: str, **params: int) -> str:
    """An argon2id hash of a password (PHC string: the parameters travel with it)."""
    return _password_hasher(**{**PASSWORD_HASH_DEFAULTS, **params}).hash(password)


def verify_password(password_hash: str | None, password: str, **params: int) -> bool:
    """Whether the password matches. With no hash (an unknown email, a user not yet set up) a dummy
    hash of the same cost (`params`, as for `hash_password`) is checked, so the time is the same."""
    from argon2 import exceptions as argon2_errors

    if not password_hash:
        password_hash = _dummy_password_hash(**params)
        password = password + "\x00never"
    try:
        return _password_hasher(**PASSWORD_HASH_DEFAULTS).verify(password_hash, password)
    except (argon2_errors.VerifyMismatchError, argon2_errors.VerificationError, argon2_errors.InvalidHashError):
        return False


_DUMMY_HASHES: dict[tuple[tuple[str, int], ...], str] = {}


def prepare_dummy_password_hash(**params: int) -> None:
    """Make the dummy hash ahead of the first sign-in attempt, so no attempt pays for making it."""
    _dummy_password_hash(**params)


def _dummy_password_hash(**params: int) -> str:
    key = tuple(sorted(params.items()))
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hash_password(secrets.token_urlsafe(16), **params)
    return _DUMMY_HASHES[key]


def new_token() -> str:
    """A random, URL-safe token of 256 bits (session ids, set-up links, kept forms)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    """What is stored for a token: its SHA-256 (a database copy gives no usable token)."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_totp_secret() -> str:
    import pyotp

    return pyotp.random_base32()


def totp_uri(secret: str, *, account: str, issuer: str) -> str:
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def totp_now(secret: str, at: dt.datetime | None = None) -> str:
    import pyotp

    return pyotp.TOTP(secret).at(at or dt.datetime.now(dt.UTC))


def totp_step_matched(secret: str, code: str, *, at: dt.datetime | None = None, window: int = 1) -> int | None:
    """The 30-second time step whose code this is (one step either side allowed), or None.

    The caller refuses a step not later than the last one used, so each code works once.
    """
    import pyotp

    code = re.sub(r"\s+", "", code or "")
    if not re.fullmatch(r"[0-9]{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    at = at or dt.datetime.now(dt.UTC)
    now_step = totp.timecode(at)
    found = None
    for step in range(now_step - window, now_step + window + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def new_recovery_code() -> str:
    """80 bits in 16 characters, shown as XXXX-XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def recovery_code_digest(code: str) -> str:
    """The stored form of a recovery code. 80 random bits make a plain SHA-256 safe to keep."""
    norm = re.sub(r"[^A-Z0-9]", "", (code or "").upper())
    return hashlib.sha256(b"casework-recovery|" + norm.encode("ascii", "ignore")).hexdigest()
