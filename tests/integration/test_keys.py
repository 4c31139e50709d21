"""`casework keys`: status, data-key rotation (resumable), retiring keys, blind-index rotation."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from casework import crypto
from casework.config import write_private
from casework.db import db
from casework.models import Case, CaseKind, Person
from casework.services import keys
from tests.conftest import CliRunner, make_test_app, upgrade
from tests.factories import AgencyFactory, PersonFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def ring(app_ctx) -> Iterator[crypto.Keyring]:
    """The app's keyring; whatever a test does to it (and its file) is undone afterwards."""
    ring = crypto.current()
    saved = ring.to_json()
    yield ring
    write_private(Path(ring.path), saved.encode())
    ring._stamp = None
    ring.reload_if_changed()
    assert ring.to_json() == saved


def keyring_file(app) -> str:
    return app.config["KEYRING_FILE"]


def make_people(n: int) -> list[Person]:
    agency = AgencyFactory()
    people = [PersonFactory(owner_agency_id=agency.id, surname=f"Núñez-{i}", forenames="Siân",
                            date_of_birth=dt.date(1980, 1, 1) + dt.timedelta(days=i), phone=f"0770090{i:04d}")
              for i in range(n)]
    db.session.flush()
    return people


def stored(person: Person) -> dict[str, object]:
    """The person's values as read back from the database."""
    db.session.expire_all()
    again = db.session.get(Person, person.id)
    return {name: getattr(again, name) for name in ("surname", "forenames", "date_of_birth", "postcode", "phone")}


def person_counts(st: keys.KeyStatus) -> dict[tuple[str, int | None], int]:
    return {k: n for k, n in st.counts.items() if k[0].startswith("person.")}


class Boom(Exception):
    """Stands for the process being killed."""


def kill_after_commits(monkeypatch, n: int) -> None:
    """Let the service commit `n` times, then 'kill' it at the next commit (that batch is lost)."""
    real = db.session.commit
    seen = {"commits": 0}

    def commit() -> None:
        if seen["commits"] == n:
            raise Boom
        seen["commits"] += 1
        real()

    monkeypatch.setattr(db.session, "commit", commit)


# --- discovery and status ---------------------------------------------------------------


def test_every_secret_attribute_of_every_model_is_a_sealed_column():
    labels = {sc.label for sc in keys.sealed_columns()}
    assert {"person.surname", "person.date_of_birth", "person.safe_contact", "case.summary",
            "case.outcome"} <= labels
    assert all(sc.column.name == sc.name and sc.column.key == sc.name for sc in keys.sealed_columns())


def test_status_counts_values_under_each_key_column_by_column(session, ring, runner):
    make_people(3)
    case = Case(kind=next(iter(CaseKind)), summary="Summary", owner_agency_id=AgencyFactory().id)
    session.add(case)
    session.flush()
    st = keys.status(ring=ring)
    assert person_counts(st)[("person.surname", ring.active)] == 3
    assert person_counts(st)[("person.phone", ring.active)] == 3
    assert ("person.email", ring.active) not in st.counts  # no values, nothing counted
    assert st.counts[("case.summary", ring.active)] == 1
    assert st.remaining == 0 and not st.index_rotation_pending

    result = runner.invoke(["keys", "status"])
    assert result.exit_code == 0, result.output
    assert f"Active data key: {ring.active}" in result.output
    assert "person.surname: 3" in result.output
    assert "Every value is under the active key." in result.output


# --- data-key rotation ------------------------------------------------------------------


def test_rotation_moves_every_value_to_a_new_key_and_old_values_still_read_meanwhile(session, ring, app_ctx):
    people = make_people(5)
    before = {p.id: stored(p) for p in people}
    old_key = ring.active

    result = keys.rotate_data_key(ring=ring, keyring_file=keyring_file(app_ctx), batch_size=2)

    assert result.new_key and result.key_id == old_key + 1 and result.remaining == 0
    assert result.resealed >= 5 * 5
    assert crypto.Keyring.load(keyring_file(app_ctx)).active == result.key_id  # saved to the file
    assert old_key in ring.data_keys  # kept for reading until retired
    st = keys.status(ring=ring)
    assert st.total_under(old_key) == 0 and st.remaining == 0
    assert person_counts(st)[("person.surname", result.key_id)] == 5
    assert {p.id: stored(p) for p in people} == before


def test_rotation_leaves_updated_at_and_the_version_alone(session, ring, app_ctx):
    person = make_people(1)[0]
    session.expire_all()
    person = session.get(Person, person.id)
    stamp, version = person.updated_at, person.version
    keys.rotate_data_key(ring=ring, keyring_file=keyring_file(app_ctx))
    session.expire_all()
    person = session.get(Person, person.id)
    assert crypto.key_id_of(person.surname_sealed) == ring.active
    assert (person.updated_at, person.version) == (stamp, version)


def test_a_killed_rotation_resumes_on_rerun_without_making_another_key(session, ring, app_ctx, monkeypatch):
    people = make_people(7)
    before = {p.id: stored(p) for p in people}
    old_key = ring.active
    kill_after_commits(monkeypatch, 2)  # the counting transaction, then one batch of 3 rows
    with pytest.raises(Boom):
        keys.rotate_data_key(ring=ring, keyring_file=keyring_file(app_ctx), batch_size=3)
    monkeypatch.undo()
    session.rollback()  # what the database does with a killed process's open transaction

    new_key = ring.active
    assert new_key == old_key + 1
    assert crypto.Keyring.load(keyring_file(app_ctx)).active == new_key
    st = keys.status(ring=ring)
    assert person_counts(st)[("person.surname", new_key)] == 3
    assert person_counts(st)[("person.surname", old_key)] == 4
    assert {p.id: stored(p) for p in people} == before  # every value readable mid-rotation

    result = keys.rotate_data_key(ring=ring, keyring_file=keyring_file(app_ctx), batch_size=3)
    assert (result.new_key, result.key_id, result.remaining) == (False, new_key, 0)
    assert keys.status(ring=ring).total_under(old_key) == 0
    assert {p.id: stored(p) for p in people} == before


def test_rerunning_rotate_through_the_cli_resumes_then_a_completed_rotation_can_be_retired(
        session, ring, app_ctx, runner, monkeypatch):
    make_people(4)
    old_key = ring.active
    kill_after_commits(monkeypatch, 1)  # killed right after the new key was saved, before any batch
    with pytest.raises(Boom):
        keys.rotate_data_key(ring=ring, keyring_file=keyring_file(app_ctx))
    monkeypatch.undo()
    session.rollback()

    result = runner.invoke(["keys", "status"])
    assert "a rotation is unfinished" in result.output

    refused = runner.invoke(["keys", "retire", str(old_key)])
    assert refused.exit_code == 1
    assert f"are still sealed under key {old_key}" in refused.output

    result = runner.invoke(["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert f"Resumed the rotation to data key {old_key + 1}" in result.output
    assert ring.active == old_key + 1

    nothing = runner.invoke(["keys", "rotate", "--resume"])
    assert "Nothing to do" in nothing.output and ring.active == old_key + 1

    retired = runner.invoke(["keys", "retire", str(old_key)])
    assert retired.exit_code == 0, retired.output
    assert old_key not in crypto.Keyring.load(keyring_file(app_ctx)).data_keys
    assert old_key not in ring.data_keys


def test_rotate_when_everything_is_under_the_active_key_makes_a_new_one(ring, runner, app_ctx):
    first = runner.invoke(["keys", "rotate"])
    second = runner.invoke(["keys", "rotate"])
    assert first.exit_code == second.exit_code == 0
    assert "Back up the keyring" in second.output
    assert crypto.Keyring.load(keyring_file(app_ctx)).active == ring.active
    assert f"Made data key {ring.active} the active key" in second.output


def test_the_active_or_an_unknown_key_cannot_be_retired(ring, runner):
    active = runner.invoke(["keys", "retire", str(ring.active)])
    unknown = runner.invoke(["keys", "retire", "99"])
    assert active.exit_code == unknown.exit_code == 1
    assert "is the active key" in active.output
    assert "there is no data key 99" in unknown.output


def test_an_unreadable_value_stops_rotation_naming_its_cell(session, ring, app_ctx, runner):
    person = make_people(1)[0]
    other = make_people(1)[0]
    # A ciphertext copied from another row (behind the ORM, whose flush would refuse to index it).
    session.execute(update(Person).where(Person.id == person.id).values(forenames_sealed=other.forenames_sealed))
    ring.add_data_key()
    ring.save()
    result = runner.invoke(["keys", "rotate"])
    assert result.exit_code == 1
    assert f"person.forenames of row {person.id}" in result.output
    assert "does not authenticate" in result.output


def test_a_second_key_operation_is_refused_while_one_runs(ring, app_ctx, runner):
    with keys._exclusive(keyring_file(app_ctx)):
        result = runner.invoke(["keys", "rotate"])
    assert result.exit_code == 1
    assert "another key operation is running" in result.output


# --- blind-index rotation ---------------------------------------------------------------


def find(surname: str, dob: dt.date) -> set:
    """People matching surname + date of birth through the blind indexes."""
    ring = crypto.current()
    return set(db.session.scalars(select(Person.id).where(
        Person.bi_surname == crypto.index_of(ring, "surname", surname),
        Person.bi_dob == crypto.index_of(ring, "dob", dob),
    )))


def test_index_rotation_replaces_the_keys_and_matching_keeps_working(session, ring, app_ctx, runner):
    people = make_people(3)
    target = people[1]
    old_keys = dict(ring.index_keys)
    old_index = target.bi_surname
    assert find("NUNEZ 1", target.date_of_birth) == {target.id}

    result = runner.invoke(["keys", "rotate", "--index", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "indexes of 3 people recomputed" in result.output

    assert ring.pending_index_keys is None
    assert set(ring.index_keys.values()).isdisjoint(old_keys.values())
    assert crypto.Keyring.load(keyring_file(app_ctx)).index_keys == ring.index_keys
    session.expire_all()
    assert session.get(Person, target.id).bi_surname != old_index
    assert find("NUNEZ 1", target.date_of_birth) == {target.id}
    assert find("nunez-1", target.date_of_birth) == {target.id}


def test_an_index_rotation_killed_part_way_changes_no_index(session, ring, app_ctx, monkeypatch):
    people = make_people(5)
    old_keys = dict(ring.index_keys)
    real = crypto.person_indexes
    calls = {"n": 0}

    def dies_on_the_fourth(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 4:
            raise Boom
        return real(*args, **kwargs)

    monkeypatch.setattr(crypto, "person_indexes", dies_on_the_fourth)
    with pytest.raises(Boom):
        keys.rotate_index_keys(ring=ring, keyring_file=keyring_file(app_ctx), batch_size=2)
    monkeypatch.undo()
    session.rollback()

    # Nothing in the database changed: the current keys still find everyone.
    assert ring.index_keys == old_keys and ring.pending_index_keys
    assert all(find(p.surname, p.date_of_birth) == {p.id} for p in people)

    result = keys.rotate_index_keys(ring=ring, keyring_file=keyring_file(app_ctx), batch_size=2)
    assert result.resumed and result.people == 5
    assert all(find(p.surname, p.date_of_birth) == {p.id} for p in people)


def test_an_index_rotation_killed_after_its_commit_is_repaired_by_a_rerun(
        session, ring, app_ctx, runner, monkeypatch):
    people = make_people(2)
    pending: dict[str, bytes] = {}
    real_finish = crypto.Keyring.finish_index_rotation

    def killed_before_finishing(self):  # type: ignore[no-untyped-def]
        pending.update(self.pending_index_keys)
        raise Boom

    monkeypatch.setattr(crypto.Keyring, "finish_index_rotation", killed_before_finishing)
    with pytest.raises(Boom):
        keys.rotate_index_keys(ring=ring, keyring_file=keyring_file(app_ctx))
    monkeypatch.setattr(crypto.Keyring, "finish_index_rotation", real_finish)

    # The database holds indexes under the pending keys; the keyring file still has them pending.
    assert crypto.Keyring.load(keyring_file(app_ctx)).pending_index_keys == pending
    assert "blind-index key rotation is pending" in runner.invoke(["keys", "status"]).output

    result = runner.invoke(["keys", "rotate", "--index"])
    assert result.exit_code == 0, result.output
    assert "Finished the interrupted blind-index key rotation" in result.output
    assert ring.index_keys == pending and ring.pending_index_keys is None
    assert all(find(p.surname, p.date_of_birth) == {p.id} for p in people)


# --- a real kill --------------------------------------------------------------------------

KILLED_ROTATION = textwrap.dedent("""
    import os, signal, sys
    from casework import create_app, crypto
    from casework.db import db
    from casework.services import keys

    app = create_app()
    with app.app_context():
        real = db.session.commit
        commits = {"n": 0}
        def commit():
            real()
            commits["n"] += 1
            if commits["n"] == 3:  # the counting transaction and two batches are committed
                os.kill(os.getpid(), signal.SIGKILL)
        db.session.commit = commit
        keys.rotate_data_key(ring=crypto.current(), keyring_file=app.config["KEYRING_FILE"], batch_size=10)
    sys.exit("not killed")
""")


def test_a_rotation_killed_with_sigkill_completes_on_rerun_with_every_value_readable(tmp_path):
    url = f"sqlite:///{tmp_path / 'casework.db'}"
    app = make_test_app(url, tmp_path)
    upgrade(app)
    with app.app_context():
        agency = AgencyFactory()
        for i in range(45):
            PersonFactory(owner_agency_id=agency.id, surname=f"Núñez {i}")
        db.session.commit()
        before = {p.id: stored(p) for p in db.session.scalars(select(Person))}

    env = {**os.environ, "CASEWORK_INSTANCE_PATH": str(tmp_path), "CASEWORK_DATABASE_URL": url,
           "CASEWORK_KEYRING_FILE": app.config["KEYRING_FILE"], "CASEWORK_SECRET_KEY": "test",
           "CASEWORK_ENV": "development"}
    killed = subprocess.run([sys.executable, "-c", KILLED_ROTATION], check=False, cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    # This app loaded its keyring before the kill: it takes up the rewritten file by itself.
    cli = CliRunner(app)
    try:
        with app.app_context():
            status = cli.invoke(["keys", "status"]).output
            assert "Active data key: 2" in status
            assert "person.surname: 20" in status  # two batches of 10 rows made it under key 2
            assert "person.surname: 25" in status  # the rest are still under key 1
            assert {p.id: stored(p) for p in db.session.scalars(select(Person))} == before

            rerun = cli.invoke(["keys", "rotate", "--batch-size", "10"])
            assert rerun.exit_code == 0, rerun.output
            assert "Resumed the rotation to data key 2" in rerun.output
            status = cli.invoke(["keys", "status"]).output
            assert "key 1 (in keyring): 0 values" in status
            assert "Every value is under the active key." in status
            assert {p.id: stored(p) for p in db.session.scalars(select(Person))} == before
    finally:
        app.extensions["casework.engine"].dispose()


def test_index_rotation_recomputes_the_surname_parts_and_forename_and_leaves_merged_people_unfound(
        session, ring, app_ctx):
    people = make_people(2)
    merged = PersonFactory(owner_agency_id=people[0].owner_agency_id, surname="Núñez-0", forenames="Siân",
                           merged_into_id=people[0].id)
    session.flush()
    before = {p.id: (p.bi_surname_part1, p.bi_surname_part2, p.bi_forename) for p in people}
    assert merged.bi_surname_part1 is None
    keys.rotate_index_keys(ring=ring, keyring_file=keyring_file(app_ctx), batch_size=2)
    session.expire_all()
    for p in people:
        again = session.get(Person, p.id)
        assert again.bi_surname_part1 == crypto.index_of(ring, "surname_part", "Núñez") != before[p.id][0]
        assert again.bi_surname_part2 == crypto.index_of(ring, "surname_part", p.surname.split("-")[1])
        assert again.bi_forename == crypto.index_of(ring, "forename", "Sian") != before[p.id][2]
    stub = session.get(Person, merged.id)
    assert (stub.bi_surname, stub.bi_surname_part1, stub.bi_forename) == (None, None, None)  # as its flush left it
