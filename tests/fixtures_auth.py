"""Fixtures for accounts and access: users of each role, clients signed in as them, an app whose
requests really commit (to prove what survives a rollback)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

# Cheap password hashing for the tests (production keeps argon2id at 64 MiB): read by the app's config.
os.environ.setdefault("CASEWORK_PASSWORD_HASH_TIME_COST", "1")
os.environ.setdefault("CASEWORK_PASSWORD_HASH_MEMORY_KIB", "1024")
os.environ.setdefault("CASEWORK_PASSWORD_HASH_PARALLELISM", "1")

from casework import crypto
from casework.auth import sessions
from casework.db import db
from casework.models import Agency, Role, User
from casework.models.base import utcnow
from casework.services import users

PASSWORD = "a long test passphrase"
ROLE_NAMES = tuple(r.value for r in Role)


def make_user(*, roles: tuple[str, ...] = ("caseworker",), agency: Agency | None = None, email: str | None = None,
              password: str | None = PASSWORD, enrolled: bool = True, active: bool = True) -> User:
    """A user in the current test's session (flushed)."""
    from tests.factories import AgencyFactory

    agency = agency or AgencyFactory()
    user = User(email=email or f"{'-'.join(roles)}-{uuid.uuid4().hex[:8]}@example.org", name="Test User",
                agency_id=agency.id, active=active)
    user.set_roles({Role(r) for r in roles})
    if password:
        user.password_hash = crypto.hash_password(password, **users.hash_params())
        user.password_changed_at = utcnow()
    if enrolled:
        user.totp_secret = crypto.new_totp_secret()
        user.totp_enrolled_at = utcnow()
    db.session.add(user)
    # Committed (in tests: the savepoint released), so a refused request's rollback keeps it.
    db.session.commit()
    return user


def sign_in(app: Flask, user: User, client: FlaskClient | None = None) -> FlaskClient:
    """A client with a server-side session for `user`, as after a full sign-in."""
    client = client or app.test_client()
    with app.test_request_context():
        token = sessions.start(user=user, client_address="127.0.0.1")
    db.session.commit()
    with client.session_transaction() as s:
        s["sid"] = token
    return client


@pytest.fixture()
def user_factory(app_ctx: Flask) -> Callable[..., User]:
    return make_user


@pytest.fixture()
def login(app_ctx: Flask) -> Callable[[User], FlaskClient]:
    return lambda user: sign_in(app_ctx, user)


@pytest.fixture()
def home_agency(app_ctx: Flask) -> Agency:
    from tests.factories import AgencyFactory

    return AgencyFactory(name="Home Agency")


def _role_client(role: str) -> Callable[..., FlaskClient]:
    @pytest.fixture()
    def fixture(app_ctx: Flask, home_agency: Agency) -> FlaskClient:
        client = sign_in(app_ctx, make_user(roles=(role,), agency=home_agency))
        return client

    return fixture


caseworker_client = _role_client("caseworker")
chair_client = _role_client("hrda_chair")
manager_client = _role_client("manager")
admin_client = _role_client("admin")


@pytest.fixture()
def reset_throttles(app: Flask) -> Iterator[None]:
    app.extensions["casework.limiter"].reset()
    yield
    app.extensions["casework.limiter"].reset()


@pytest.fixture(scope="session")
def durable_app(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app on a database of its own whose requests really commit and roll back (no savepoints):
    tests using it clean up by only ever adding data they can tell apart."""
    from tests.conftest import fresh_postgres_database, make_test_app, upgrade

    instance: Path = tmp_path_factory.mktemp("durable")
    if db_kind == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{instance / 'durable.db'}"])
    else:
        urls = fresh_postgres_database()
    url = next(urls)
    application = make_test_app(url, instance)
    upgrade(application)
    yield application
    application.extensions["casework.engine"].dispose()
    for _ in urls:  # let the PostgreSQL generator drop its database
        pass
