"""What an independent attack found in the import (issue 20): refs to records the agency may not use,
files that are links, text without a length limit, text a spreadsheet runs as a formula, and dates of
birth in the future. Each refused with a problem line, and nothing written."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from casework.exchange import ImportFailed, export_dataset, import_dataset
from casework.models import AgencyKind, Person
from tests.factories import AgencyFactory
from tests.integration.test_import_export import INCIDENT_HEADER, PEOPLE_HEADER, count, dataset, snapshot

PARTIES_HEADER = "incident_ref,person_ref,role,cj_status"
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
