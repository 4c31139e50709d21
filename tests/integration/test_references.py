"""Short references: made for every new person, incident, case and referral (by the pages, the
import and the migration for existing rows), shown instead of ids, and found by typing them."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import func, inspect, select, text

from casework import crypto
from casework.db import db
from casework.exchange import import_dataset
from casework.models import Case, CaseKind, Incident, Person, Referral
from casework.models.base import new_id
from tests.conftest import SAMPLE, CliRunner, Page, fresh_postgres_database, make_test_app
from tests.factories import AgencyFactory, IncidentFactory, PersonFactory, ReferralFactory
from tests.fixtures_auth import make_user, sign_in

REFERENCE = re.compile(r"[PNCR]-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}")


def test_the_migration_gives_existing_records_references_and_their_name_parts_indexes(db_kind, tmp_path):
    """Rows made before 0015 get a unique reference each, and people their parts' and forename's indexes."""
    if db_kind == "sqlite":
        database = contextlib.nullcontext(f"sqlite:///{tmp_path / 'refs.db'}")
    else:
        database = contextlib.contextmanager(fresh_postgres_database)()
    with database as url:
        app = make_test_app(url, tmp_path)
        runner = CliRunner(app)
        assert runner.invoke(args=["db", "upgrade", "0012"]).exit_code == 0
        ring = app.extensions["casework.keyring"]
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with app.app_context():
            agency = new_id()
            hexed = (lambda u: u.hex) if db_kind == "sqlite" else (lambda u: u)
            db.session.execute(text("INSERT INTO agency (id, name, kind, active, created_at, updated_at) "
                                    "VALUES (:id, 'Police', 'police', true, :now, :now)"),
                               {"id": hexed(agency), "now": now})
            people = {}
            for surname, forenames in (("O'Connor-Núñez", "Zoe Ann"), ("Smith", "Sam"), ("de la Cruz", None)):
                pid = new_id()
                sealed = {name: (crypto.seal(ring, value.encode(), table="person", column=name, row_id=pid)
                                 if value else None) for name, value in (("surname", surname), ("forenames", forenames))}
                db.session.execute(text(
                    "INSERT INTO person (id, surname, forenames, owner_agency_id, do_not_disclose_address, "
                    "mental_health, substance_misuse, complex_needs, restricted, version, created_at, updated_at) "
                    "VALUES (:id, :surname, :forenames, :agency, false, false, false, false, false, 1, :now, :now)"),
                    {"id": hexed(pid), "agency": hexed(agency), "now": now, **sealed})
                people[surname] = pid
            db.session.commit()
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        with app.app_context():
            rows = {uuid.UUID(str(r.id)) if not isinstance(r.id, uuid.UUID) else r.id: r for r in db.session.execute(
                text("SELECT id, reference, bi_surname_part1, bi_surname_part2, bi_surname_part3, bi_forename "
                     "FROM person"))}
            refs = [r.reference for r in rows.values()]
            assert all(REFERENCE.fullmatch(ref) and ref.startswith("P-") for ref in refs)
            assert len(set(refs)) == 3
            both = rows[people["O'Connor-Núñez"]]
            assert bytes(both.bi_surname_part1) == crypto.index_of(ring, "surname_part", "O'Connor")
            assert bytes(both.bi_surname_part2) == crypto.index_of(ring, "surname_part", "Nunez")
            assert both.bi_surname_part3 is None
            assert bytes(both.bi_forename) == crypto.index_of(ring, "forename", "zoe")
            assert rows[people["Smith"]].bi_surname_part1 is None  # one part: the surname's own index
            assert bytes(rows[people["de la Cruz"]].bi_surname_part3) == crypto.index_of(ring, "surname_part", "Cruz")
            db.session.close()
            with db.engine.connect() as conn:
                unique = {i["name"]: i["unique"] for i in inspect(conn).get_indexes("person")}
            assert unique["ix_person_reference"]
        assert runner.invoke(args=["db", "downgrade", "0012"]).exit_code == 0
        app.extensions["casework.engine"].dispose()


@pytest.fixture()
def records(app_ctx, home_agency):  # type: ignore[no-untyped-def]
    person = PersonFactory(owner_agency_id=home_agency.id, surname="Price", forenames="Lisa")
    incident = IncidentFactory(owner_agency_id=home_agency.id)
    case = Case(kind=CaseKind.DOMESTIC_ABUSE, owner_agency_id=home_agency.id)
    db.session.add(case)
    referral = ReferralFactory(person_id=person.id, owner_agency_id=home_agency.id)
    db.session.flush()
    return {"person": person, "incident": incident, "case": case, "referral": referral}


def test_every_new_record_has_a_reference_of_its_kind_shown_as_its_reference(app_ctx, home_agency, records):
    client = sign_in(app_ctx, make_user(agency=home_agency))
    pages = {"person": f"/people/{records['person'].id}", "incident": f"/incidents/{records['incident'].id}",
             "case": f"/cases/{records['case'].id}", "referral": f"/referrals/{records['referral'].id}"}
    for kind, record in records.items():
        prefix = {"person": "P", "incident": "N", "case": "C", "referral": "R"}[kind]
        assert REFERENCE.fullmatch(record.reference) and record.reference.startswith(prefix + "-")
        page = Page(client.get(pages[kind]))
        assert page.status_code == 200
        shown = {dt_.get_text(strip=True): dd.get_text(strip=True)
                 for dt_, dd in zip(page.select("dt.govuk-summary-list__key"), page.select("dd.govuk-summary-list__value"),
                                    strict=False)}
        assert shown["Reference"] == record.reference, kind
        assert str(record.id) not in page.select_one("main").get_text()


def test_the_lists_show_each_records_reference_under_its_link(app_ctx, home_agency, records):
    client = sign_in(app_ctx, make_user(agency=home_agency))
    db.session.commit()
    for kind, address in (("person", "/people?surname=Price"), ("case", "/cases"), ("incident", "/incidents"),
                          ("referral", "/referrals?box=sent")):
        page = Page(client.get(address))
        first_cells = [row.select_one("td").get_text(" ", strip=True) for row in page.select("tbody tr")]
        assert any(records[kind].reference in cell for cell in first_cells), (kind, first_cells)


def test_a_reference_typed_however_into_the_people_search_goes_to_the_record(app_ctx, home_agency, records):
    client = sign_in(app_ctx, make_user(agency=home_agency))
    for kind, record in records.items():
        spaced = record.reference.lower().replace("-", " ").replace("0", "o").replace("1", "l")
        for box, typed in (("surname", record.reference), ("reference", spaced)):
            response = client.get("/people", query_string={box: typed})
            assert response.status_code == 302, (kind, box, typed)
            assert response.headers["Location"].endswith(str(record.id)), kind


def test_a_reference_of_a_record_the_user_may_not_see_is_not_told_apart_from_none(app_ctx, home_agency, records):
    stranger = sign_in(app_ctx, make_user(agency=AgencyFactory(name="Elsewhere")))
    for typed in (records["case"].reference, "C-00000-00000"):
        page = Page(stranger.get("/people", query_string={"surname": typed}))
        assert page.status_code == 404
        assert page.select_one(".govuk-error-summary").get_text(" ", strip=True).endswith(
            f"No record you can see has the reference {typed}")


def test_a_person_reference_finds_them_in_a_find_box_and_an_incident_reference_links_it_to_a_case(
        app_ctx, home_agency, records):
    client = sign_in(app_ctx, make_user(agency=home_agency))
    incident, person, case = records["incident"], records["person"], records["case"]
    page = Page(client.get(f"/incidents/{incident.id}/people",
                           query_string={"reference": person.reference.replace("-", "")}))
    assert page.status_code == 200, page.text[:300]
    assert "Lisa Price" in page.text  # the one result, found by her reference
    other = IncidentFactory(owner_agency_id=home_agency.id)
    db.session.commit()
    response = client.post(f"/cases/{case.id}/incidents", data={"incident_reference": other.reference.lower()})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert other.id in {link.incident_id for link in db.session.get(Case, case.id).incidents}


def test_imported_records_have_references(app_ctx):
    police = AgencyFactory(name="Dorset Police")
    import_dataset(SAMPLE, agency=police)
    for model in (Person, Incident, Referral):
        refs = db.session.scalars(select(model.reference)).all()
        assert refs and all(REFERENCE.fullmatch(r) for r in refs), model
        assert db.session.scalar(select(func.count(func.distinct(model.reference)))) == len(refs)
