from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from casework.db import db
from casework.models import AuditEntry
from casework.services import audit, audit_chain


def _entries(n: int) -> None:
    for i in range(n):
        audit.record("test.event", user=None, details={"n": i})


def _raw(sql: str, **params: object) -> None:
    """Tamper with the table directly, as someone with database access could (on PostgreSQL the
    append-only trigger has to be bypassed, as its owner could)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
    db.session.execute(text(sql), params)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL session_replication_role = origin"))


def _verify(tmp_path):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return audit_chain.verify(path=tmp_path / "checkpoints")


def test_an_untouched_chain_verifies(app_ctx, tmp_path):
    _entries(5)
    audit_chain.checkpoint(path=tmp_path / "checkpoints")
    _entries(2)
    verdict = _verify(tmp_path)
    # The checkpoint is itself an entry (audit.checkpoint), after the five it vouches for.
    assert verdict.ok and verdict.entries == 8 and verdict.checkpoints == 1


def test_an_edited_entry_is_named(app_ctx, tmp_path):
    _entries(5)
    _raw("UPDATE audit_entry SET action = 'nothing.happened' WHERE position = 3")
    verdict = _verify(tmp_path)
    assert not verdict.ok and verdict.first_bad == 3 and "edited" in verdict.problem


def test_an_edited_search_term_is_detected(app_ctx, tmp_path):
    audit.record_search(kind="person", terms="Smith", result_count=2, user=None)
    other = AuditEntry(position=99, at=db.session.scalar(select(AuditEntry.at)), action="x",
                       prev_hash=b"\0" * 32, mac=b"\0" * 32)
    other.terms = "Jones"
    _raw("UPDATE audit_entry SET terms = :t WHERE position = 1", t=other.terms_sealed)
    assert _verify(tmp_path).first_bad == 1


def test_a_deleted_entry_is_named(app_ctx, tmp_path):
    _entries(5)
    _raw("DELETE FROM audit_entry WHERE position = 2")
    verdict = _verify(tmp_path)
    assert not verdict.ok and verdict.first_bad == 2 and "missing" in verdict.problem


def test_an_inserted_entry_is_named(app_ctx, tmp_path):
    _entries(4)
    # Make room after position 2 and slip an entry in, copying a real entry's hashes.
    for position in (4, 3):
        _raw("UPDATE audit_entry SET position = :p WHERE position = :q", p=position + 1, q=position)
    _raw("INSERT INTO audit_entry (id, position, at, action, prev_hash, mac, created_at, updated_at) "
         "SELECT :id, 3, at, 'forged', prev_hash, mac, created_at, updated_at FROM audit_entry WHERE position = 2",
         id=__import__("uuid").uuid4().hex if db.engine.dialect.name == "sqlite" else __import__("uuid").uuid4())
    verdict = _verify(tmp_path)
    assert not verdict.ok and verdict.first_bad == 3


def test_reordered_entries_are_named(app_ctx, tmp_path):
    _entries(5)
    _raw("UPDATE audit_entry SET position = 100 WHERE position = 2")
    _raw("UPDATE audit_entry SET position = 2 WHERE position = 4")
    _raw("UPDATE audit_entry SET position = 4 WHERE position = 100")
    verdict = _verify(tmp_path)
    assert not verdict.ok and verdict.first_bad == 2


def test_entries_missing_up_to_the_last_checkpoint_are_named(app_ctx, tmp_path):
    _entries(6)
    audit_chain.checkpoint(path=tmp_path / "checkpoints")
    _raw("DELETE FROM audit_entry WHERE position >= 5")
    verdict = _verify(tmp_path)
    assert not verdict.ok and verdict.first_bad == 5 and "missing" in verdict.problem


def test_a_forged_checkpoint_line_is_refused(app_ctx, tmp_path):
    _entries(2)
    audit_chain.checkpoint(path=tmp_path / "checkpoints")
    path = tmp_path / "checkpoints"
    path.write_text(path.read_text().replace('"position": 2', '"position": 1'))
    with pytest.raises(audit_chain.CheckpointFileError, match="line 1"):
        _verify(tmp_path)


def test_audit_commands_checkpoint_and_verify(runner, app_ctx, tmp_path):
    _entries(3)
    file = str(tmp_path / "cp")
    result = runner.invoke(["audit", "checkpoint", "--file", file])
    assert result.exit_code == 0 and "position 3" in result.output
    assert runner.invoke(["audit", "verify", "--file", file]).exit_code == 0
    _raw("DELETE FROM audit_entry WHERE position = 3")
    db.session.expire_all()
    result = runner.invoke(["audit", "verify", "--file", file])
    assert result.exit_code == 1 and "position 3" in result.output


def test_search_terms_are_stored_encrypted(app_ctx):
    audit.record_search(kind="person", terms="Pemberton-Smythe", result_count=3, user=None)
    raw = db.session.execute(text("SELECT terms, result_count FROM audit_entry")).one()
    assert b"Pemberton" not in bytes(raw.terms) and raw.result_count == 3


def test_postgresql_refuses_to_change_or_delete_audit_entries(app_ctx, db_kind):
    if db_kind != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    _entries(1)
    for sql in ("UPDATE audit_entry SET action = 'x'", "DELETE FROM audit_entry"):
        nested = db.session.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(sql))
        nested.rollback()


# --- on a database whose requests really commit and roll back --------------------------------


def _durable_entries(app, **where):  # type: ignore[no-untyped-def]
    with app.app_context(), db.new_session() as s:
        q = select(AuditEntry)
        for k, v in where.items():
            q = q.where(getattr(AuditEntry, k) == v)
        return list(s.scalars(q.order_by(AuditEntry.position)))


def test_a_refused_request_keeps_its_audit_entry_although_it_rolls_back(durable_app):
    from tests.factories import AgencyFactory
    from tests.fixtures_auth import make_user, sign_in

    with durable_app.app_context():
        user = make_user(roles=("manager",), agency=AgencyFactory())
        db.session.commit()
        client = sign_in(durable_app, user)
        db.session.commit()
        user_id = user.id
    response = client.post("/admin/users/new", data={"email": "x@example.org", "name": "X"})
    assert response.status_code == 403
    refused = _durable_entries(durable_app, user_id=user_id, action="access.refused")
    assert len(refused) == 1 and "manage_users" in refused[0].details
    with durable_app.app_context():
        assert audit_chain.verify(path=None).ok


def test_concurrent_writers_never_fork_the_chain(durable_app):
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with durable_app.app_context():
                for i in range(15):
                    audit.record("test.concurrent", user=None, details={"writer": n, "i": i})
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with durable_app.app_context():
        with db.new_session() as s:
            positions = list(s.scalars(select(AuditEntry.position).order_by(AuditEntry.position)))
        assert positions == list(range(1, len(positions) + 1))
        assert audit_chain.verify(path=None).ok


def test_views_and_changes_are_recorded_with_field_names_only(app_ctx):
    from tests.factories import PersonFactory
    from tests.fixtures_auth import make_user

    viewer = make_user(email="looker@example.org")
    person = PersonFactory(surname="Wakefield")
    db.session.flush()
    audit.record_view(person, user=viewer)
    audit.record_view(person, user=viewer, part="address")
    person.surname = "Whitfield"
    audit.record_change(person, action="person.update", fields=audit.changed_fields(person), user=viewer)
    seen = audit.viewers_of(person)
    assert [(v.user_email, v.part) for v in seen] == [("looker@example.org", "address"), ("looker@example.org", None)]
    change = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "person.update"))
    assert change.details == '{"fields": ["surname"]}'
    assert "Whitfield" not in (change.details or "") and "Wakefield" not in (change.details or "")


def test_exports_and_imports_are_recorded(app_ctx, tmp_path):
    from casework.exchange import export_dataset, import_dataset
    from tests.factories import AgencyFactory, PersonFactory

    agency = AgencyFactory()
    PersonFactory(owner_agency_id=agency.id)
    export_dataset(tmp_path / "out", agency=agency)
    import_dataset(tmp_path / "out", agency=agency)  # its own export back (another may not name its person)
    rows = db.session.execute(select(AuditEntry.action, AuditEntry.details)
                              .where(AuditEntry.action.like("exchange.%")).order_by(AuditEntry.position)).all()
    assert [r.action for r in rows] == ["exchange.export", "exchange.import"]
    assert "people" in rows[0].details
