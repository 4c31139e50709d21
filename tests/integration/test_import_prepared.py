"""An agency's first large import has its rows prepared in a process of its own
(`casework.exchange.prepare`): the records it writes are the records the import writes alone, and a
data set naming records that exist is written again, record by record."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, text

from casework import crypto
from casework.db import db
from casework.exchange import ImportFailed, apart, export_dataset, import_dataset, importer, prepare
from casework.figures.marks import check_repeat_marks
from casework.models import AgencyKind, Party, PartyRole, Person, Share, SourceRef
from tests.conftest import SAMPLE
from tests.factories import AgencyFactory, IncidentFactory
from tests.integration.test_import_export import PEOPLE_HEADER, _read_folder, dataset, sample_copy, snapshot


@pytest.fixture()
def police(session):
    return AgencyFactory(name="Dorset Police", kind=AgencyKind.POLICE)


@pytest.fixture()
def prepared(app_ctx, monkeypatch):
    """Every data set checked apart (so a first import is prepared apart); the writers that ran,
    with whether the preparation was given up (`NotFresh`)."""
    monkeypatch.setitem(app_ctx.config, "IMPORT_CHECK_APART_BYTES", 0)
    runs: list[str] = []
    write = importer.Writer.write_prepared

    def spy(self, prepared, indexes):
        try:
            write(self, prepared, indexes)
        except prepare.NotFresh:
            runs.append("not fresh")
            raise
        runs.append("prepared")

    monkeypatch.setattr(importer.Writer, "write_prepared", spy)
    return runs


# What an agency's records hold, by their refs: every column but ids, owners and ciphertexts (whose
# nonces differ), with the people's blind indexes and the plain values their ciphertexts hold.
RECORD_QUERIES = {
    "person": """SELECT r.ref, t.gender, t.mental_health, t.substance_misuse, t.complex_needs,
                        t.do_not_disclose_address, t.restricted, t.merged_into_id, t.version, t.bi_surname,
                        t.bi_full_name, t.bi_phonetic, t.bi_dob, t.bi_postcode, t.bi_phonetic_yob,
                        t.address, t.phone, t.email, t.safe_contact, t.created_at = t.updated_at
                 FROM person t JOIN source_ref r ON r.record_id = t.id WHERE r.agency_id = :agency""",
    "incident": """SELECT r.ref, t.occurred_on, t.category, t.domestic_abuse, t.recorded_by, t.locality,
                          t.area_id, t.rural, t.alcohol, t.drugs, t.mental_health, t.asb_type, t.restricted,
                          t.version, t.created_at = t.updated_at
                   FROM incident t JOIN source_ref r ON r.record_id = t.id WHERE r.agency_id = :agency""",
    "party": """SELECT ri.ref, rp.ref, t.role, t.cj_status, t.created_at = t.updated_at
                FROM party t JOIN source_ref ri ON ri.record_id = t.incident_id
                JOIN source_ref rp ON rp.record_id = t.person_id
                WHERE ri.agency_id = :agency AND rp.agency_id = :agency""",
    "referral": """SELECT r.ref, rp.ref, t.type, t.referred_on, t.status, t.imported, t.receiving_agency_id,
                          t.criteria, t.dash_score, t.mappa_category, t.mappa_level, t.started_on, t.ended_on,
                          t.outcome, t.children_in_household, t.version
                   FROM referral t JOIN source_ref r ON r.record_id = t.id
                   JOIN source_ref rp ON rp.record_id = t.person_id
                   WHERE r.agency_id = :agency AND rp.agency_id = :agency""",
    "prevention_activity": """SELECT r.ref, t.occurred_on, t.kind, t.friends_recruited, t.savings_pence
                              FROM prevention_activity t JOIN source_ref r ON r.record_id = t.id
                              WHERE r.agency_id = :agency""",
    "source_ref": "SELECT kind, ref, created_at = updated_at FROM source_ref WHERE agency_id = :agency",
}


def records_of(agency) -> dict[str, list[tuple]]:
    found = {name: sorted((tuple(r) for r in db.session.execute(text(query), {"agency": agency.id.hex
                                                                             if _sqlite() else agency.id})),
                          key=repr)
             for name, query in RECORD_QUERIES.items()}
    people = db.session.scalars(select(Person).join(SourceRef, SourceRef.record_id == Person.id)
                                .where(SourceRef.agency_id == agency.id)).all()
    found["plain"] = sorted(((p.surname, p.forenames, p.date_of_birth, p.postcode) for p in people), key=repr)
    return found


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def test_a_first_import_is_prepared_apart_and_writes_what_the_import_alone_writes(police, tmp_path, prepared,
                                                                                app_ctx, monkeypatch):
    report = import_dataset(SAMPLE, agency=police)
    assert prepared == ["prepared"]
    assert {name: c.created for name, c in report.files.items()} == {
        "areas.csv": 10, "people.csv": 1510, "incidents.csv": 1500, "parties.csv": 2311, "referrals.csv": 138,
        "prevention.csv": 25}
    assert check_repeat_marks(db.session) == []
    export_dataset(tmp_path / "prepared", agency=police)

    # The same data set as another agency's first import, written by the importing process alone.
    monkeypatch.setitem(app_ctx.config, "IMPORT_CHECK_APART_BYTES", 10**12)
    council = AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)
    import_dataset(SAMPLE, agency=council)
    assert prepared == ["prepared"]  # not again
    export_dataset(tmp_path / "alone", agency=council)
    alone, apart = records_of(council), records_of(police)
    assert all(alone.values()) and apart == alone
    assert check_repeat_marks(db.session) == []
    files = _read_folder(tmp_path / "prepared")
    assert {k: v for k, v in files.items() if k != "areas.csv"} == {
        k: v for k, v in _read_folder(tmp_path / "alone").items() if k != "areas.csv"}
    # The personal values are sealed to their rows: found by blind index, read through the ORM.
    found = db.session.scalars(select(Person).where(
        Person.bi_surname == crypto.index_of(crypto.current(), "surname", "Harris"),
        Person.owner_agency_id == police.id)).all()
    assert found and {p.surname for p in found} == {"Harris"}


@pytest.mark.parametrize("apart", [True, False], ids=["checked apart", "checked first"])
def test_an_import_naming_records_that_exist_is_written_again_record_by_record(police, tmp_path, prepared, apart,
                                                                             app_ctx, monkeypatch):
    council = AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)
    import_dataset(dataset(tmp_path, "c", people=f"{PEOPLE_HEADER}\nC1,Smith,,,,,,,\nC2,Other,,,,,,,"),
                   agency=council)
    assert prepared == ["prepared"]
    smith = db.session.scalars(select(Person).where(Person.bi_surname == crypto.index_of(
        crypto.current(), "surname", "Smith"))).one()
    incident = IncidentFactory(owner_agency_id=police.id)
    db.session.add(Party(incident_id=incident.id, person_id=smith.id, role=PartyRole.VICTIM))
    db.session.flush()
    out = tmp_path / "out"
    export_dataset(out, agency=police)  # names Smith and the incident by their ids: `casework:<id>`

    fire = AgencyFactory(name="Dorset Fire", kind=AgencyKind.FIRE)
    for kind, record in (("person", smith), ("incident", incident)):  # else fire may not name them (issue 20)
        db.session.add(Share(record_kind=kind, record_id=record.id, agency_id=fire.id, via="explicit"))
    db.session.flush()
    before = snapshot()
    if not apart:
        monkeypatch.setitem(app_ctx.config, "IMPORT_CHECK_APART_BYTES", 10**12)
    report = import_dataset(out, agency=fire)
    assert prepared == ["prepared", "not fresh"] if apart else ["prepared"]
    counts = {name: (c.created, c.updated, c.unchanged, c.protected) for name, c in report.files.items()}
    # Smith and the incident are other agencies' records shared with fire: left as they are; nothing is
    # made twice.
    assert counts["people.csv"] == (0, 0, 0, 1) and counts["incidents.csv"] == (0, 0, 0, 1)
    assert counts["parties.csv"] == (0, 0, 0, 1)
    after = snapshot()
    assert {t: len(rows) for t, rows in after.items()} == {t: len(rows) for t, rows in before.items()}


def test_parties_of_an_incident_that_exists_are_written_record_by_record(police, tmp_path, prepared):
    incident = IncidentFactory(owner_agency_id=police.id)
    db.session.flush()
    folder = dataset(tmp_path, people=f"{PEOPLE_HEADER}\nP1,Smith,Ann,,,,,,",
                     parties=f"incident_ref,person_ref,role,cj_status\ncasework:{incident.id},P1,victim,")
    report = import_dataset(folder, agency=police)
    assert prepared == ["not fresh"]
    assert report.files["parties.csv"].created == 1
    party = db.session.scalars(select(Party).where(Party.incident_id == incident.id)).one()
    assert party.role == PartyRole.VICTIM
    assert check_repeat_marks(db.session) == []


def test_a_reference_to_a_person_that_exists_is_that_person(police, tmp_path, prepared):
    council = AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)
    import_dataset(dataset(tmp_path, "c", people=f"{PEOPLE_HEADER}\nC1,Smith,,,,,,,"), agency=council)
    smith = db.session.scalars(select(Person)).one()
    # Shared with the police, as the pages require before a user adds them to an incident (issue 20).
    db.session.add(Share(record_kind="person", record_id=smith.id, agency_id=police.id, via="explicit"))
    db.session.flush()
    folder = dataset(tmp_path, incidents="incident_ref,occurred_on,category,domestic_abuse,recorded_by\n"
                                         "I1,2024-05-01,theft,n,police",
                     parties=f"incident_ref,person_ref,role,cj_status\nI1,casework:{smith.id},victim,")
    import_dataset(folder, agency=police)
    assert prepared == ["prepared", "prepared"]
    assert db.session.scalars(select(Party.person_id)).all() == [smith.id]
    assert check_repeat_marks(db.session) == []


def test_a_bad_data_set_prepared_apart_lists_its_problems_and_writes_nothing(police, tmp_path, prepared):
    folder = dataset(tmp_path, people=f"{PEOPLE_HEADER}\nP1,Smith,,,,,,,\nP2,Jones,,1980-02-30,,,,,",
                     parties="incident_ref,person_ref,role,cj_status\nI9,P1,victim,")
    before = snapshot()
    with pytest.raises(ImportFailed) as failed:
        import_dataset(folder, agency=police)
    assert len(failed.value.problems) == 2
    assert any(p.startswith("people.csv:3: date_of_birth:") for p in failed.value.problems)
    assert any(p.startswith("parties.csv:2: incident_ref:") for p in failed.value.problems)
    assert snapshot() == before


@pytest.mark.parametrize(("process", "error"), [(apart.CheckApart, apart.CheckStopped),
                                                (prepare.PrepareApart, prepare.PrepareStopped)],
                         ids=["the check", "the preparation"])
def test_an_import_whose_process_apart_stops_is_refused(police, tmp_path, monkeypatch, app_ctx, process, error):
    """The process checking a re-import, or preparing a first import, dies before it can report:
    nothing is imported."""
    if process is apart.CheckApart:
        import_dataset(SAMPLE, agency=police)  # a re-import is checked apart, not prepared
    started = process.__init__

    def start_then_kill(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        started(self, *args, **kwargs)
        self.process.kill()

    monkeypatch.setattr(process, "__init__", start_then_kill)
    monkeypatch.setitem(app_ctx.config, "IMPORT_CHECK_APART_BYTES", 0)
    before = snapshot()
    with pytest.raises(error, match="stopped before it ended"):
        import_dataset(sample_copy(tmp_path), agency=police)
    assert snapshot() == before


def test_the_keyring_crosses_to_the_preparing_process_whole():
    ring = crypto.Keyring.generate()
    ring.add_data_key()
    again = crypto.Keyring.from_json(ring.to_json())
    assert again == ring and again.path is None
    row_id = uuid.uuid4()
    sealed = crypto.seal(ring, b"Smith", table="person", column="surname", row_id=row_id)
    assert crypto.unseal(again, sealed, table="person", column="surname", row_id=row_id) == b"Smith"
    assert crypto.key_id_of(sealed) == again.active == 2
    with pytest.raises(crypto.KeyringError, match="keyring is malformed"):
        crypto.Keyring.from_json('{"format": 1}')
    with pytest.raises(crypto.KeyringError, match="keyring cannot be read"):
        crypto.Keyring.from_json("{")


def test_a_generated_export_imports_prepared_apart_and_exports_identically(police, tmp_path, prepared):
    """An export names the records its agency has no ref for by their ids; imported into a database
    without them, the preparation gives the new records those ids."""
    folder = Path(tmp_path / "export")
    empty = db.session.begin_nested()
    council = AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)
    import_dataset(SAMPLE, agency=council)
    export_dataset(folder, agency=None)
    exported = _read_folder(folder)
    empty.rollback()
    prepared.clear()
    council = AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)
    import_dataset(folder, agency=council)
    assert prepared == ["prepared"]
    export_dataset(tmp_path / "again", agency=None)
    assert _read_folder(tmp_path / "again") == exported


def test_a_message_that_cannot_be_read_fails_the_import_rather_than_hanging(police, tmp_path, monkeypatch, app_ctx):
    class Unreadable:
        def __init__(self, pipe):  # type: ignore[no-untyped-def]
            self.pipe = pipe

        def recv(self):  # type: ignore[no-untyped-def]
            raise MemoryError("no room to unpickle the chunk")

        def close(self) -> None:
            self.pipe.close()

    started = prepare.PrepareApart.start

    def start_unreadable(self, **kwargs):  # type: ignore[no-untyped-def]
        self.receive = Unreadable(self.receive)
        started(self, **kwargs)

    monkeypatch.setattr(prepare.PrepareApart, "start", start_unreadable)
    monkeypatch.setitem(app_ctx.config, "IMPORT_CHECK_APART_BYTES", 0)
    before = snapshot()
    with pytest.raises(prepare.PrepareStopped, match="no room to unpickle"):
        import_dataset(sample_copy(tmp_path), agency=police)
    assert snapshot() == before
