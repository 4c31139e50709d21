"""Configuration: defaults, then instance/config.py, then CASEWORK_* variables, then test_config.

In development the instance folder is created on first start with a generated
secret key and keyring, readable by the owner only. In production
(CASEWORK_ENV=production) nothing is generated: the secret key, the keyring
file, the database URL and the partnership's name must be given explicitly, or
the app refuses to start.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "SECRET_KEY": None,
    "DATABASE_URL": None,  # sqlite:///<instance>/casework.db
    "KEYRING_FILE": None,  # <instance>/keyring.json
    "REDIS_URL": None,
    "PROXY_COUNT": 0,
    "SQLITE_BUSY_TIMEOUT_MS": 10_000,
    "DASH_HIGH_FROM": 14,
    "DASH_MEDIUM_FROM": 10,
    "ESCALATION_INCIDENTS": 3,
    "ESCALATION_WINDOW_DAYS": 365,
    # The MARAC return's benchmarks (docs/marac-return.md): the area's women aged 16 and over
    # (Dorset Council area, ONS mid-2022 estimate, rounded) and its Black and minoritised share.
    "MARAC_ADULT_FEMALE_POPULATION": 170_000,
    "MARAC_MINORITISED_POPULATION_SHARE": 0.05,
    "ASB_REVIEW_COMPLAINTS": 3,
    "ASB_REVIEW_WINDOW_MONTHS": 6,
    "WTF_CSRF_TIME_LIMIT": None,
    "PAGE_SIZE": 25,
    # The largest request body (and form) accepted, in bytes: a larger one is answered 413 before it
    # is read. The largest form (the DASH checklist's 24 notes of 10,000 characters) fits; a route
    # that takes uploaded documents sets its own, larger limit for its requests alone (README).
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
    # The largest document kept with a record, in bytes (its upload route alone takes a body this
    # large; docs/documents.md), and the folder an upload is received into (encrypted under a
    # key of its own while it is checked; unset: the system's temporary folder).
    "DOCUMENT_MAX_BYTES": 25_000_000,
    "DOCUMENT_SPOOL_DIR": None,
    # From this many bytes of CSV, an import is checked in a process of its own while it is written
    # (casework.exchange.apart); below, it is checked before anything is written.
    "IMPORT_CHECK_APART_BYTES": 16 * 1024 * 1024,
    "LOG_FORMAT": None,  # json | text; unset: json in production, text elsewhere (casework.observability)
    "LOG_LEVEL": "INFO",
    "PG_BIN_DIR": None,  # where pg_dump/pg_restore are (casework backup); unset: the newest installed
    # accounts and sign-in (casework.auth)
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_ABSOLUTE_HOURS": 12,
    "LOCKOUT_ATTEMPTS": 5,
    "LOCKOUT_MINUTES": 15,
    "SIGN_IN_ADDRESS_LIMIT": "50 per 15 minutes",  # failed attempts from one client address
    "RESTRICTED_NOTICE_LIMIT": "20 per hour",  # searches one user is shown a restricted record's notice in
    "PASSWORD_HASH_TIME_COST": 3,  # argon2id
    "PASSWORD_HASH_MEMORY_KIB": 65536,
    "PASSWORD_HASH_PARALLELISM": 4,
    "AUDIT_CHECKPOINT_FILE": None,  # <instance>/audit-checkpoints
    "PUBLIC_URL": None,  # the service's public address, for links given to people (casework.links)
    "BASE_URL": None,  # another name for PUBLIC_URL (CASEWORK_BASE_URL); PUBLIC_URL wins when both are set
    # email through the outbox (casework.services.outbox, docs/email.md); no SMTP_HOST in development:
    # messages go to the log and the admin's outbox page instead
    "SMTP_HOST": None,
    "SMTP_PORT": 587,
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "SMTP_STARTTLS": True,
    "SMTP_TIMEOUT": 10,  # seconds a connection or a command may take
    "MAIL_FROM": None,  # required in production once SMTP_HOST is set
    "OUTBOX_MAX_ATTEMPTS": 20,  # tries, backing off to an hour apart (about 15 hours), before a message fails
    # The partnership running the service: named in every page's header, the privacy notice and the
    # accessibility statement. Required in production; development shows the demo's partnership.
    "PARTNERSHIP_NAME": None,
    # Where people write about their data or an accessibility problem (an e-mail address); unset, the
    # privacy notice and accessibility statement send them to the agencies' data protection officers.
    "CONTACT_EMAIL": None,
    # scheduled jobs and retention (casework.scheduler, casework.services.retention)
    "SCHEDULER_TIMEZONE": "Europe/London",
    "SCHEDULE": {},  # job name -> schedule, e.g. {"retention_sweep": "daily 03:00"}; see casework.scheduler
    "RETENTION": {
        "person": {"inactive_years": 6},  # no incident, referral or case activity for 6 years
        "case": {"closed_inactive_years": 6},  # closed, and nothing changed for 6 years
        "incident": {"years": 6},  # personal fields of incidents (the incident itself stays)
        "asb_review": {"years": 6},  # community ASB case review applications: 6 years after their last step
    },
    "RETENTION_BATCH": 500,  # records erased per transaction by the sweep
    "REMINDER_DAYS_AHEAD": 7,  # a case review shows this many days before it is due
    "ENDED_SESSIONS_KEEP_DAYS": 90,  # ended sessions (with their client address) kept this long
    "JOB_RUNS_KEEP_DAYS": 30,  # scheduled jobs' run records (each job's latest is always kept)
}

REQUIRED_IN_PRODUCTION = ("SECRET_KEY", "KEYRING_FILE", "DATABASE_URL", "PARTNERSHIP_NAME")
DEMO_PARTNERSHIP_NAME = "Dorset Community Safety Partnership"

# Every numeric setting and its range (least, greatest; None: no bound). A value outside it, or not a
# whole number, refuses to start: a page size of 0 or a lock-out after 0 attempts would otherwise
# fail later, on some request, far from its cause.
NUMERIC_RANGES: dict[str, tuple[int, int | None]] = {
    "PROXY_COUNT": (0, 10),
    "DOCUMENT_MAX_BYTES": (1, 1 << 31),
    "SQLITE_BUSY_TIMEOUT_MS": (0, None),
    "DASH_HIGH_FROM": (1, 24),  # the DASH checklist has 24 questions
    "DASH_MEDIUM_FROM": (1, 24),
    "ESCALATION_INCIDENTS": (2, None),
    "ESCALATION_WINDOW_DAYS": (1, None),
    "ASB_REVIEW_COMPLAINTS": (1, None),
    "ASB_REVIEW_WINDOW_MONTHS": (1, None),
    "WTF_CSRF_TIME_LIMIT": (1, None),  # or unset: the form's token lasts the session
    "PAGE_SIZE": (1, 500),
    "MARAC_ADULT_FEMALE_POPULATION": (1, None),
    "IMPORT_CHECK_APART_BYTES": (0, None),
    "SESSION_IDLE_MINUTES": (1, None),
    "SESSION_ABSOLUTE_HOURS": (1, None),
    "LOCKOUT_ATTEMPTS": (1, None),
    "LOCKOUT_MINUTES": (1, None),
    "PASSWORD_HASH_TIME_COST": (1, None),
    "PASSWORD_HASH_MEMORY_KIB": (8, None),  # argon2's least; also at least 8 KiB for each lane (below)
    "PASSWORD_HASH_PARALLELISM": (1, 64),
    "RETENTION_BATCH": (1, None),
    "REMINDER_DAYS_AHEAD": (0, None),
    "ENDED_SESSIONS_KEEP_DAYS": (1, None),
    "JOB_RUNS_KEEP_DAYS": (1, None),
    "SMTP_PORT": (1, 65535),
    "SMTP_TIMEOUT": (1, 300),
    "OUTBOX_MAX_ATTEMPTS": (1, None),
}
OPTIONAL_NUMBERS = frozenset({"WTF_CSRF_TIME_LIMIT"})


class ConfigurationError(RuntimeError):
    """The app cannot start with the configuration it was given."""


def default_instance_path() -> Path:
    env = os.environ.get("CASEWORK_INSTANCE_PATH")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parent.parent / "instance"


def load(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Apply the configuration layers in order and fill in development defaults."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile(os.path.join(app.instance_path, "config.py"), silent=True)
    app.config.from_prefixed_env("CASEWORK", loads=_loads)
    if test_config:
        app.config.from_mapping(test_config)
    check_numbers(app.config)
    if app.config["ENV"] == "production":
        missing = [k for k in REQUIRED_IN_PRODUCTION if not app.config.get(k)]
        if missing:
            names = ", ".join(f"CASEWORK_{k}" for k in missing)
            raise ConfigurationError(
                f"Refusing to start in production: {names} must be set explicitly "
                "(nothing is generated in production)."
            )
        app.config.setdefault("SESSION_COOKIE_SECURE", True)
        app.config["SESSION_COOKIE_NAME"] = "__Host-session"
        app.config["SESSION_COOKIE_SECURE"] = True
        if not Path(app.config["KEYRING_FILE"]).is_file():
            raise ConfigurationError(
                f"Refusing to start in production: the keyring file {app.config['KEYRING_FILE']} does not exist."
            )
        return
    instance = Path(app.instance_path)
    if not app.config["DATABASE_URL"] or not app.config["SECRET_KEY"] or not app.config["KEYRING_FILE"]:
        _ensure_private_dir(instance)
    if not app.config["DATABASE_URL"]:
        database = instance / "casework.db"
        if not database.exists():
            # Created owner-only; SQLite gives its WAL and shared-memory files the same mode.
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
        app.config["DATABASE_URL"] = f"sqlite:///{database}"
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _read_or_create_secret(instance / "secret_key")
    if not app.config["KEYRING_FILE"]:
        app.config["KEYRING_FILE"] = str(instance / "keyring.json")
    if not app.config["PARTNERSHIP_NAME"]:
        app.config["PARTNERSHIP_NAME"] = DEMO_PARTNERSHIP_NAME


def check_numbers(settings: Any) -> None:
    """Refuse to start, naming every setting at fault, when a numeric setting is out of its range."""
    problems = []
    for name, (least, greatest) in NUMERIC_RANGES.items():
        value = settings.get(name)
        if value is None and name in OPTIONAL_NUMBERS:
            continue
        allowed = (f"from {least} to {greatest}" if greatest is not None else f"{least} or more")
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"CASEWORK_{name} must be a whole number {allowed}, not {value!r}")
        elif value < least or (greatest is not None and value > greatest):
            problems.append(f"CASEWORK_{name} must be {allowed}, not {value}")
    lanes, memory = settings.get("PASSWORD_HASH_PARALLELISM"), settings.get("PASSWORD_HASH_MEMORY_KIB")
    if not problems and memory < 8 * lanes:
        problems.append(f"CASEWORK_PASSWORD_HASH_MEMORY_KIB must be at least 8 for each of the "
                        f"{lanes} lanes of CASEWORK_PASSWORD_HASH_PARALLELISM ({8 * lanes}), not {memory}")
    medium, high = settings.get("DASH_MEDIUM_FROM"), settings.get("DASH_HIGH_FROM")
    if not problems and medium >= high:
        problems.append(f"CASEWORK_DASH_MEDIUM_FROM ({medium}) must be less than CASEWORK_DASH_HIGH_FROM ({high})")
    if problems:
        raise ConfigurationError("Refusing to start: " + "; ".join(problems) + ".")


def _loads(value: str) -> Any:
    """Environment values: integers and booleans are parsed, everything else stays a string."""
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    try:
        return int(value)
    except ValueError:
        return value


def _ensure_private_dir(path: Path) -> None:
    """The instance folder, owner-only: made so, or made so now (the repository's own `instance/`
    comes out of a clone readable by all)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o700)


def write_private(path: Path, data: bytes) -> None:
    """Write a file readable by the owner only, atomically (a crash leaves the old file or the new)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _read_or_create_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    write_private(path, value.encode())
    return value
