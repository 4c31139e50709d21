"""The audit trail and the changes it records, on a database whose requests really commit: a
committed change never lacks its entry (on SQLite the entry is appended inside the request's own
transaction), an entry survives its request's rollback, a read-only transaction does not hold an
entry back, and the chain stays whole with concurrent writers of both kinds."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import select

from casework.db import begin_mode, db
from casework.models import Agency, AgencyKind, AuditEntry
from casework.services import agencies, audit, audit_chain


def _entries(app, **where):  # type: ignore[no-untyped-def]
    """Entries as another connection sees them (committed ones only; a reader takes no lock)."""
    with app.app_context(), begin_mode("DEFERRED"), db.new_session() as s:
        q = select(AuditEntry)
        for k, v in where.items():
            q = q.where(getattr(AuditEntry, k) == v)
        return list(s.scalars(q.order_by(AuditEntry.position)))


def _agency_committed(app, name: str) -> Agency | None:  # type: ignore[no-untyped-def]
    with app.app_context(), begin_mode("DEFERRED"), db.new_session() as s:
        return s.scalar(select(Agency).where(Agency.name == name))


def _chain_ok(app) -> bool:  # type: ignore[no-untyped-def]
    with app.app_context():
        return audit_chain.verify(path=None).ok


@pytest.fixture()
def admin_clients(durable_app):  # type: ignore[no-untyped-def]
    """Clients signed in as one administrator, each with a session of its own."""
    from tests.factories import AgencyFactory
    from tests.fixtures_auth import make_user, sign_in

    with durable_app.app_context():
        admin = make_user(roles=("admin",), agency=AgencyFactory(name=f"Admins {uuid.uuid4().hex[:8]}"))
        db.session.commit()

    def client():  # type: ignore[no-untyped-def]
        with durable_app.app_context():
            signed_in = sign_in(durable_app, db.session.merge(admin))
            db.session.commit()
        return signed_in

    return client


class Crash(Exception):
    """The process dying at the moment it would write an entry in a transaction of its own."""


def _crash_on_own_transaction_writes(monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    calls: list[int] = []

    def crash(events):  # type: ignore[no-untyped-def]
        calls.append(len(events))
        raise Crash

    monkeypatch.setattr(audit, "write", crash)
    return calls


def test_a_committed_change_always_has_its_entry(durable_app, admin_clients, monkeypatch, db_kind):
    """With the old SQLite behaviour (the entry written after the request's commit, in a transaction
    of its own) a crash at that moment kept the agency and lost its entry."""
    name = f"Atomic Agency {uuid.uuid4().hex[:8]}"
    admin_client = admin_clients()
    calls = _crash_on_own_transaction_writes(monkeypatch)
    try:
        response = admin_client.post("/admin/agencies", data={"name": name, "kind": "health"})
    except Crash:
        response = None
    monkeypatch.undo()
    agency = _agency_committed(durable_app, name)
    entries = _entries(durable_app, action="agency.create", record_id=agency.id) if agency else []
    assert (agency is not None) == (len(entries) == 1), "the change and its entry: both or neither"
    if db_kind == "sqlite":
        # The entry went into the request's own transaction: nothing was left to write afterwards.
        assert response is not None and response.status_code == 302 and agency is not None and calls == []
    else:
        # PostgreSQL writes the entry at once, before the change commits: the crash stops both.
        assert response is None and agency is None
    assert _chain_ok(durable_app)


def test_on_sqlite_an_entry_waits_in_the_session_and_is_committed_with_the_change(durable_app, db_kind):
    if db_kind != "sqlite":
        pytest.skip("PostgreSQL writes each entry at once")
    name = f"Waiting Agency {uuid.uuid4().hex[:8]}"
    with durable_app.app_context():
        agency = agencies.add(name=name, kind=AgencyKind.POLICE, by=None)
        assert [e.action for e in db.session.info[audit.PENDING]] == ["agency.create"]
        assert _entries(durable_app, record_id=agency.id) == [], "not before the change commits"
        db.session.commit()
        assert audit.PENDING not in db.session.info
    assert len(_entries(durable_app, record_id=agency.id)) == 1
    assert _chain_ok(durable_app)


def test_a_rolled_back_change_keeps_its_entry(durable_app):
    name = f"Rolled Back Agency {uuid.uuid4().hex[:8]}"
    with durable_app.app_context():
        agency_id = agencies.add(name=name, kind=AgencyKind.POLICE, by=None).id
        db.session.rollback()
    assert _agency_committed(durable_app, name) is None
    assert [e.action for e in _entries(durable_app, record_id=agency_id)] == ["agency.create"]
    assert _chain_ok(durable_app)


def test_when_the_commit_itself_fails_the_entries_are_written_on_their_own(durable_app):
    """The entries appended at the commit go with its rollback; they are written again after."""
    name = f"Failing Agency {uuid.uuid4().hex[:8]}"
    with durable_app.app_context():
        agency_id = agencies.add(name=name, kind=AgencyKind.POLICE, by=None).id
        db.session.add(Agency(name=name, kind=AgencyKind.POLICE))  # the same name: the commit fails
        with pytest.raises(Exception, match="(?i)unique"):
            db.session.commit()
        db.session.rollback()
    assert _agency_committed(durable_app, name) is None
    assert [e.action for e in _entries(durable_app, record_id=agency_id)] == ["agency.create"]
    assert _chain_ok(durable_app)


def test_a_read_only_transaction_does_not_hold_an_entry_back(durable_app):
    marker = uuid.uuid4()
    with durable_app.app_context(), begin_mode("DEFERRED"):
        db.session.execute(select(Agency.id).limit(1)).all()
        assert db.session.in_transaction()
        audit.record("test.read", user=None, record_kind="test", record_id=marker)
        assert len(_entries(durable_app, record_id=marker)) == 1, "written at once, not at the end"
        db.session.rollback()


def test_a_deferred_transaction_that_has_written_holds_its_entries_until_it_ends(durable_app, db_kind):
    name = f"Deferred Agency {uuid.uuid4().hex[:8]}"
    with durable_app.app_context(), begin_mode("DEFERRED"):
        agency = agencies.add(name=name, kind=AgencyKind.POLICE, by=None)  # the INSERT takes the lock
        waiting = _entries(durable_app, record_id=agency.id)
        assert waiting == [] if db_kind == "sqlite" else len(waiting) == 1
        db.session.commit()
    assert len(_entries(durable_app, record_id=agency.id)) == 1
    assert _chain_ok(durable_app)


def test_the_chain_stays_whole_with_writing_requests_and_lone_entries_at_once(durable_app, admin_clients):
    errors: list[BaseException] = []
    tag = uuid.uuid4().hex[:8]

    clients = [admin_clients(), admin_clients()]

    def requests(n: int) -> None:
        try:
            for i in range(5):
                response = clients[n].post("/admin/agencies", data={"name": f"Busy {tag} {n}-{i}",
                                                                       "kind": "other"})
                assert response.status_code == 302, response.status_code
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def lone(n: int) -> None:
        try:
            with durable_app.app_context():
                for i in range(8):
                    audit.record("test.concurrent", user=None, details={"writer": n, "i": i})
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=requests, args=(n,)) for n in range(2)]
    threads += [threading.Thread(target=lone, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with durable_app.app_context(), db.new_session() as s:
        positions = list(s.scalars(select(AuditEntry.position).order_by(AuditEntry.position)))
        made = s.scalars(select(Agency.id).where(Agency.name.like(f"Busy {tag} %"))).all()
    assert positions == list(range(1, len(positions) + 1))
    assert len(made) == 10
    assert all(len(_entries(durable_app, action="agency.create", record_id=a)) == 1 for a in made)
    assert _chain_ok(durable_app)
