"""What an independent attack found in the import (issue 20): refs to records the agency may not use,
files that are links, text without a length limit, text a spreadsheet runs as a formula, and dates of
birth in the future. Each refused with a problem line, and nothing written."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from sqlalchemy import select

from casework.db import db
from casework.exchange import ExportRefused, ImportFailed, export_dataset, import_dataset, importer, prepare
from casework.models import AgencyKind, Incident, Party, PartyRole, Person, Referral, Share
from tests.factories import AgencyFactory, IncidentFactory, PersonFactory, ReferralFactory
from tests.integration.test_import_export import INCIDENT_HEADER, PEOPLE_HEADER, count, dataset, snapshot

PARTIES_HEADER = "incident_ref,person_ref,role,cj_status"
REFERRALS_HEADER = "referral_ref,person_ref,type,referred_on"
LINK_PROBLEM = "people.csv:1: -: a link to another file, not a file of the data set's folder: nothing was read from it"


@pytest.fixture()
def police(session):
    return AgencyFactory(name="Dorset Police", kind=AgencyKind.POLICE)


@pytest.fixture(params=["checked first", "checked apart"])
def checking(request, app_ctx, monkeypatch):
    """Both ways an import checks: before writing, and in a process of its own while writing (which,
    for an agency's first import, also prepares the rows in a process of its own)."""
    if request.param == "checked apart":
        monkeypatch.setitem(app_ctx.config, "IMPORT_CHECK_APART_BYTES", 0)
    return request.param


def refused(folder, agency) -> list[str]:
    before = snapshot()
    with pytest.raises(ImportFailed) as failed:
        import_dataset(folder, agency=agency)
    assert snapshot() == before
    return failed.value.problems


# --- finding 10: a file of the data set that is a link --------------------------------------------


@pytest.mark.usefixtures("checking")
def test_a_data_set_file_that_is_a_link_is_refused_without_reading_it(police, tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("the-session-signing-key\n")
    folder = dataset(tmp_path, incidents=f"{INCIDENT_HEADER}\nI1,2024-05-01,theft,n,police,,,,,,,")
    os.symlink(secret, folder / "people.csv")
    problems = refused(folder, police)
    assert problems == [LINK_PROBLEM]
    assert "signing" not in " ".join(problems)


@pytest.mark.usefixtures("checking")
def test_a_link_to_a_csv_file_inside_the_folder_is_refused_too(police, tmp_path):
    folder = dataset(tmp_path, elsewhere=f"{PEOPLE_HEADER}\nP1,Smith,,,,,,,")
    os.symlink(folder / "elsewhere.csv", folder / "people.csv")
    problems = refused(folder, police)
    assert LINK_PROBLEM in problems


@pytest.mark.usefixtures("checking")
@pytest.mark.parametrize("kind", ["folder", "pipe"])
def test_a_data_set_file_that_is_a_folder_or_a_pipe_is_refused(police, tmp_path, kind):
    folder = dataset(tmp_path, incidents=f"{INCIDENT_HEADER}\nI1,2024-05-01,theft,n,police,,,,,,,")
    if kind == "folder":
        (folder / "people.csv").mkdir()
        expected = "people.csv:1: -: a folder, not a file"
    else:
        os.mkfifo(folder / "people.csv")  # reading it would wait for ever
        expected = "people.csv:1: -: not a regular file (a device or a pipe): nothing was read from it"
    assert refused(folder, police) == [expected]


def test_a_file_swapped_for_a_link_after_the_folder_was_listed_is_not_read(tmp_path):
    from casework.exchange.reader import Problems, read_rows
    from casework.exchange.schema import PEOPLE

    secret = tmp_path / "secret_key"
    secret.write_text("the-session-signing-key\n")
    os.symlink(secret, tmp_path / "people.csv")
    problems = Problems()
    assert list(read_rows(tmp_path / "people.csv", PEOPLE, problems)) == []
    assert problems.listed() == ["people.csv:1: -: people.csv is a link, not a file of the data set"]


# --- finding 13 (part): a date of birth in the future -----------------------------------------------


@pytest.mark.usefixtures("checking")
def test_a_date_of_birth_after_today_is_refused_as_the_form_refuses_it(police, tmp_path):
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    folder = dataset(tmp_path, people=f"{PEOPLE_HEADER}\nP1,Smith,,9999-12-31,,,,,\nP2,Jones,,{tomorrow},,,,,\n"
                                      f"P3,Brown,,{dt.date.today()},,,,,")
    assert refused(folder, police) == ["people.csv:2: date_of_birth: 9999-12-31 must be today or in the past",
                                       f"people.csv:3: date_of_birth: {tomorrow} must be today or in the past"]
    assert count(Person) == 0


# --- finding 11: text without a length limit ------------------------------------------------------


@pytest.mark.usefixtures("checking")
def test_a_text_cell_longer_than_the_limit_is_refused(police, tmp_path):
    folder = dataset(tmp_path, people=f"{PEOPLE_HEADER}\nP1,{'S' * 201},,,,,,,\nP2,{'S' * 200},,,,,,,",
                     incidents=f"{INCIDENT_HEADER}\nI1,2024-05-01,theft,n,police,{'x' * 5_000},,,,,,")
    assert refused(folder, police) == [
        "people.csv:2: surname: must be 200 characters or fewer (this has 201)",
        "incidents.csv:2: locality: must be 200 characters or fewer (this has 5,000)"]


# --- finding 12: text a spreadsheet runs as a formula ----------------------------------------------


@pytest.mark.usefixtures("checking")
@pytest.mark.parametrize(("column", "cell"), [
    ("surname", "=1+1"), ("surname", "@SUM(1)"), ("surname", "-2+3"), ("forenames", "+cmd|' /C calc'!A0"),
    ("surname", " =HYPERLINK(\"http://x\")"), ("forenames", "\uff1d1+1"), ("person_ref", "=P1"),
])
def test_text_a_spreadsheet_would_run_as_a_formula_is_refused(police, tmp_path, column, cell):
    row = {"person_ref": "P1", "surname": "Smith", "forenames": ""}
    row[column] = '"' + cell.replace('"', '""') + '"'
    folder = dataset(tmp_path, people=f"{PEOPLE_HEADER}\n{row['person_ref']},{row['surname']},{row['forenames']},"
                                      ",,,,,")
    problems = refused(folder, police)
    assert len(problems) == 1 and problems[0].startswith(f"people.csv:2: {column}: ")
    assert "must not start with =, +, - or @ (a spreadsheet would run it as a formula)" in problems[0]


@pytest.mark.usefixtures("checking")
def test_real_names_and_places_are_accepted_and_export_exactly(police, tmp_path):
    names = ["O'Brien", "Smith-Jones", "de la Mare", "Ní Bhriain", "N'Diaye", "St. John", "-", "Åsa", "D'Arcy"]
    people = "\n".join(f"P{i},{name},Mary-Ann,1980-01-01,,BH15 1AA,,," for i, name in enumerate(names))
    folder = dataset(tmp_path, people=f"{PEOPLE_HEADER}\n{people}",
                     incidents=f"{INCIDENT_HEADER}\nI1,2024-05-01,theft,n,police,Sturminster Newton,,,,,,")
    import_dataset(folder, agency=police)
    out = tmp_path / "out"
    export_dataset(out, agency=police)
    exported = (out / "people.csv").read_text(encoding="utf-8")
    for name in names:
        assert f",{name},Mary-Ann,1980-01-01," in exported
    assert ",Sturminster Newton," in (out / "incidents.csv").read_text(encoding="utf-8")


# --- finding 2: `casework:<id>` refs to records the agency may not use ----------------------------


@pytest.fixture()
def council(session):
    return AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)


def theirs(owner, *, restricted: bool = False, shared_with=None) -> Person:
    someone = PersonFactory(owner_agency_id=owner.id, surname="Quennell", restricted=restricted)
    if shared_with is not None:
        db.session.add(Share(record_kind="person", record_id=someone.id, agency_id=shared_with.id, via="explicit"))
        db.session.flush()
    return someone


def party_of_a_new_incident(tmp_path, person_ref: str, name: str = "set"):
    return dataset(tmp_path, name, incidents=f"{INCIDENT_HEADER}\nI1,2024-05-01,theft,n,police,,,,,,,",
                   parties=f"{PARTIES_HEADER}\nI1,{person_ref},victim,")


@pytest.mark.usefixtures("checking")
@pytest.mark.parametrize("how", ["restricted", "restricted and shared", "not shared", "merged"])
def test_a_party_may_not_name_a_person_the_agency_may_not_use(police, council, tmp_path, how):
    someone = theirs(council, restricted=how.startswith("restricted"),
                     shared_with=police if how in ("restricted and shared", "merged") else None)
    if how == "merged":
        someone.merged_into_id = theirs(council, shared_with=police).id
        db.session.flush()
    problems = refused(party_of_a_new_incident(tmp_path, f"casework:{someone.id}"), police)
    assert problems == ["parties.csv:2: person_ref: not a record this agency may use"]
    assert count(Party) == 0 and count(Incident) == 0


@pytest.mark.usefixtures("checking")
def test_a_party_may_name_a_person_shared_with_the_agency(police, council, tmp_path):
    someone = theirs(council, shared_with=police)
    report = import_dataset(party_of_a_new_incident(tmp_path, f"casework:{someone.id}"), agency=police)
    assert report.files["parties.csv"].created == 1
    assert db.session.scalar(select(Party.person_id)) == someone.id


@pytest.mark.usefixtures("checking")
def test_a_person_row_naming_another_agencys_record_is_refused_with_its_parties(police, council, tmp_path):
    someone = theirs(council, restricted=True)
    folder = dataset(tmp_path, people=f"{PEOPLE_HEADER}\ncasework:{someone.id},Decoy,,,,,,,\nP1,Smith,,,,,,,",
                     incidents=f"{INCIDENT_HEADER}\nI1,2024-05-01,theft,n,police,,,,,,,",
                     parties=f"{PARTIES_HEADER}\nI1,casework:{someone.id},victim,\nI1,P1,perpetrator,")
    assert refused(folder, police) == ["people.csv:2: person_ref: not a record this agency may use",
                                       "parties.csv:2: person_ref: not a record this agency may use"]
    assert db.session.get(Person, someone.id).surname == "Quennell"


@pytest.mark.usefixtures("checking")
def test_a_referral_may_not_name_a_person_the_agency_may_not_use(police, council, tmp_path):
    someone = theirs(council, restricted=True)
    folder = dataset(tmp_path, referrals=f"{REFERRALS_HEADER}\nR1,casework:{someone.id},idva,2024-05-02")
    assert refused(folder, police) == ["referrals.csv:2: person_ref: not a record this agency may use"]
    assert count(Referral) == 0


@pytest.mark.usefixtures("checking")
def test_another_agencys_incident_referral_or_activity_may_not_be_named(police, council, tmp_path):
    incident = IncidentFactory(owner_agency_id=council.id)
    referral = ReferralFactory(person_id=theirs(council).id, owner_agency_id=council.id)
    own = PersonFactory(owner_agency_id=police.id)
    folder = dataset(tmp_path,
                     incidents=f"{INCIDENT_HEADER}\ncasework:{incident.id},2024-05-01,theft,n,police,,,,,,,",
                     parties=f"{PARTIES_HEADER}\ncasework:{incident.id},casework:{own.id},victim,",
                     referrals=f"{REFERRALS_HEADER}\ncasework:{referral.id},casework:{own.id},idva,2024-05-02")
    assert refused(folder, police) == ["incidents.csv:2: incident_ref: not a record this agency may use",
                                       "parties.csv:2: incident_ref: not a record this agency may use",
                                       "referrals.csv:2: referral_ref: not a record this agency may use"]


@pytest.mark.usefixtures("checking")
def test_a_link_the_database_holds_already_may_be_repeated_but_no_new_one_made(police, council, tmp_path):
    """An agency's export names the restricted people its incidents name: importing it back links
    nothing new, so it is accepted; a new incident naming the same person is not."""
    someone = theirs(council, restricted=True)
    incident = IncidentFactory(owner_agency_id=police.id)
    db.session.add(Party(incident_id=incident.id, person_id=someone.id, role=PartyRole.VICTIM))
    db.session.flush()
    export_dataset(tmp_path / "out", agency=police)
    report = import_dataset(tmp_path / "out", agency=police)
    assert report.files["parties.csv"].unchanged == 1 and report.files["people.csv"].protected == 1
    folder = dataset(tmp_path, people=f"{PEOPLE_HEADER}\ncasework:{someone.id},Restricted,,,,,,,",
                     incidents=f"{INCIDENT_HEADER}\nI2,2024-05-01,theft,n,police,,,,,,,",
                     parties=f"{PARTIES_HEADER}\nI2,casework:{someone.id},victim,\n"
                             f"casework:{incident.id},casework:{someone.id},perpetrator,")
    assert refused(folder, police) == ["parties.csv:2: person_ref: not a record this agency may use",
                                       "parties.csv:3: person_ref: not a record this agency may use"]


@pytest.fixture()
def prepared(app_ctx, monkeypatch):
    """Every data set checked apart, so a first import is prepared apart; whether the preparation
    was given up (`NotFresh`) for the writing record by record."""
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


def test_a_first_import_prepared_apart_refuses_a_person_the_agency_may_not_use(police, council, tmp_path,
                                                                                 prepared):
    someone = theirs(council, restricted=True)
    problems = refused(party_of_a_new_incident(tmp_path, f"casework:{someone.id}"), police)
    assert problems == ["parties.csv:2: person_ref: not a record this agency may use"]
    assert prepared == ["not fresh"]  # given up for the record-by-record writing, which refuses it


# --- finding 12: values stored before the formula rule ----------------------------------------------


def test_a_value_stored_before_the_formula_rule_stops_the_export_and_writes_nothing(police, tmp_path):
    PersonFactory(owner_agency_id=police.id, surname="Ashdown")
    export_dataset(tmp_path / "out", agency=police)
    earlier = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    old = PersonFactory(owner_agency_id=police.id, surname="=HYPERLINK(\"http://x\")")  # stored before the rule
    with pytest.raises(ExportRefused) as refused_export:
        export_dataset(tmp_path / "out", agency=police)
    assert refused_export.value.problems == [
        (f"people.csv:3: surname: the record 'casework:{old.id}' holds text a spreadsheet would run as a formula "
        "(stored before the rule that now refuses it): correct it on its page, then export again")]
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == earlier  # not one file replaced


def test_the_export_check_lists_such_values_and_writes_nothing(runner, police, tmp_path):
    PersonFactory(owner_agency_id=police.id, surname="Ashdown")
    db.session.commit()
    result = runner.invoke(["export", str(tmp_path / "out"), "--agency", "Dorset Police", "--check"])
    assert result.exit_code == 0 and "No stored value would run as a formula" in result.output
    assert not list((tmp_path / "out").iterdir())
    PersonFactory(owner_agency_id=police.id, surname="@SUM(1)")
    db.session.commit()
    result = runner.invoke(["export", str(tmp_path / "out"), "--agency", "Dorset Police"])
    assert result.exit_code == 1 and "people.csv:" in result.stderr and "surname: the record" in result.stderr
    assert "@SUM" not in result.output and not list((tmp_path / "out").iterdir())
