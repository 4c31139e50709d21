"""Re-importing a partner's extract: unchanged rows are recognised by their records' keyed import
digests (casework.exchange.digest) without decrypting or sealing anything, and everything else
behaves as a full comparison does (docs/data-exchange.md, "Re-importing")."""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from casework import crypto
from casework.db import db
from casework.exchange import ImportFailed, import_dataset
from casework.models import CjStatus, Incident, Party, Person, PreventionActivity, RecordKind, Referral, SourceRef
from casework.services import keys, retention
from tests.conftest import SAMPLE
from tests.fixtures_auth import make_user
from tests.integration.test_import_export import PEOPLE_HEADER, dataset, snapshot
from tests.integration.test_keys import keyring_file, ring  # noqa: F401  (the fixture)

DIGESTED = (Person, Incident, Referral, PreventionActivity)
INCIDENTS = ("incident_ref,occurred_on,category,domestic_abuse,recorded_by,locality,area,rural,alcohol,"
             "drugs,mental_health,asb_type\nI1,2024-05-01,harassment,y,police,,,,,,,\nI2,2024-05-02,theft,n,police,,,,,,,")
PARTIES = "incident_ref,person_ref,role,cj_status\nI1,P1,victim,\nI1,P2,perpetrator,"


@pytest.fixture()
def police(session):  # type: ignore[no-untyped-def]
    from casework.models import AgencyKind
    from tests.factories import AgencyFactory

    return AgencyFactory(name="Dorset Police", kind=AgencyKind.POLICE)


@pytest.fixture(params=["checked first", "checked apart"])
def checking(request, app_ctx, monkeypatch):  # type: ignore[no-untyped-def]
    if request.param == "checked apart":
        monkeypatch.setitem(app_ctx.config, "IMPORT_CHECK_APART_BYTES", 0)
    return request.param


class Crypto:
    """Counts the values unsealed and sealed while it watches."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.unsealed = self.sealed = 0
        real_unseal, real_seal = crypto.unseal, crypto.seal

        def unseal(*args: Any, **kwargs: Any) -> bytes:
            self.unsealed += 1
            return real_unseal(*args, **kwargs)

        def seal(*args: Any, **kwargs: Any) -> bytes:
            self.sealed += 1
            return real_seal(*args, **kwargs)

        monkeypatch.setattr(crypto, "unseal", unseal)
        monkeypatch.setattr(crypto, "seal", seal)


@pytest.fixture()
def watched(monkeypatch) -> Iterator[Crypto]:  # type: ignore[no-untyped-def]
    yield Crypto(monkeypatch)


def people_file(*rows: str) -> str:
    return "\n".join([PEOPLE_HEADER, *rows])


def small(tmp_path: Path, name: str, *people_rows: str) -> Path:
    rows = people_rows or ("P1,Smith,Ann,1980-02-03,female,DT1 1XJ,n,n,n", "P2,Jones,Bob,,male,,n,n,n")
    return dataset(tmp_path, name, people=people_file(*rows), incidents=INCIDENTS, parties=PARTIES)


def counts(report: Any) -> dict[str, tuple[int, int, int, int, int]]:
    return {name: (c.created, c.updated, c.unchanged, c.removed, c.protected) for name, c in report.files.items()}


def digests() -> dict[str, int]:
    """How many records of each digested table hold a digest."""
    return {m.__tablename__: db.session.scalar(select(text("count(*)")).select_from(m).where(
        m.import_digest.is_not(None))) for m in DIGESTED}


def person(ref: str) -> Person:
    db.session.expire_all()
    record_id = db.session.scalar(select(SourceRef.record_id).where(SourceRef.kind == RecordKind.PERSON,
                                                                  SourceRef.ref == ref))
    return db.session.get(Person, record_id)


@pytest.mark.usefixtures("checking")
def test_an_unchanged_reimport_decrypts_nothing_writes_nothing_and_reports_unchanged(police, watched):
    import_dataset(SAMPLE, agency=police)
    assert digests() == {"person": 1510, "incident": 1500, "referral": 138, "prevention_activity": 25}
    before = snapshot()
    watched.unsealed = watched.sealed = 0
    report = import_dataset(SAMPLE, agency=police)
    assert (watched.unsealed, watched.sealed) == (0, 0)
    assert snapshot() == before
    assert counts(report) == {"areas.csv": (0, 0, 10, 0, 0), "people.csv": (0, 0, 1510, 0, 0),
                              "incidents.csv": (0, 0, 1500, 0, 0), "parties.csv": (0, 0, 2311, 0, 0),
                              "referrals.csv": (0, 0, 138, 0, 0), "prevention.csv": (0, 0, 25, 0, 0)}


@pytest.mark.parametrize(("row", "column", "value"), [
    ("P1,Smith,Anne,1980-02-03,female,DT1 1XJ,n,n,n", "forenames", "Anne"),          # encrypted
    ("P1,Smith,Ann,1980-02-04,female,DT1 1XJ,n,n,n", "date_of_birth", dt.date(1980, 2, 4)),  # encrypted
    ("P1,Smith,Ann,1980-02-03,female,dt11xx,n,n,n", "postcode", "DT1 1XX"),          # encrypted, normalised
    ("P1,Smith,Ann,1980-02-03,,DT1 1XJ,n,n,n", "gender", None),                       # plain
    ("P1,Smith,Ann,1980-02-03,female,DT1 1XJ,n,y,n", "substance_misuse", True),      # plain
])
def test_a_change_in_any_column_is_caught_and_updated(police, tmp_path, watched, row, column, value):
    import_dataset(small(tmp_path, "first"), agency=police)
    version = person("P1").version
    report = import_dataset(small(tmp_path, "second", row, "P2,Jones,Bob,,male,,n,n,n"), agency=police)
    assert counts(report)["people.csv"] == (0, 1, 1, 0, 0)
    changed = person("P1")
    assert (getattr(changed, column), changed.version) == (value, version + 1)
    # The updated record's digest is its new content's: the same file again decrypts nothing.
    watched.unsealed = 0
    report = import_dataset(small(tmp_path, "third", row, "P2,Jones,Bob,,male,,n,n,n"), agency=police)
    assert counts(report)["people.csv"] == (0, 0, 2, 0, 0) and watched.unsealed == 0


def test_a_changed_incident_referral_and_activity_are_updated(police, tmp_path):
    referrals = "referral_ref,person_ref,type,referred_on,dash_score\nR1,P1,hrda,2024-05-03,{}"
    activities = "activity_ref,occurred_on,kind,friends_recruited,savings_gbp\nA1,2024-05-01,other,1,{}"
    incidents = INCIDENTS
    first = dataset(tmp_path, "first", people=people_file("P1,Smith,,,,,,,", "P2,Jones,,,,,,,"), incidents=incidents,
                    referrals=referrals.format(14), prevention=activities.format("1.50"))
    import_dataset(first, agency=police)
    second = dataset(tmp_path, "second", people=people_file("P1,Smith,,,,,,,", "P2,Jones,,,,,,,"),
                     incidents=incidents.replace("I2,2024-05-02,theft,n", "I2,2024-05-02,theft,y"),
                     referrals=referrals.format(15), prevention=activities.format("1.51"))
    report = counts(import_dataset(second, agency=police))
    assert (report["incidents.csv"], report["referrals.csv"], report["prevention.csv"]) == (
        (0, 1, 1, 0, 0), (0, 1, 0, 0, 0), (0, 1, 0, 0, 0))
    db.session.expire_all()
    assert db.session.scalar(select(Referral.dash_score)) == 15
    assert db.session.scalar(select(PreventionActivity.savings_pence)) == 151
    assert db.session.scalar(select(Incident.domestic_abuse).where(Incident.occurred_on == dt.date(2024, 5, 2)))


@pytest.mark.usefixtures("checking")
def test_a_bad_row_in_a_reimport_still_writes_nothing(police, tmp_path):
    import_dataset(small(tmp_path, "first"), agency=police)
    before = snapshot()
    bad = small(tmp_path, "bad", "P1,Smith,Anne,1980-02-03,female,DT1 1XJ,n,n,n", "P2,Jones,Bob,2099-01-01,male,,n,n,n")
    with pytest.raises(ImportFailed) as failed:
        import_dataset(bad, agency=police)
    assert any(p.startswith("people.csv:3: date_of_birth:") for p in failed.value.problems)
    assert snapshot() == before


def test_a_record_changed_on_its_page_is_compared_in_full_and_put_back(police, tmp_path, watched):
    """Today's behaviour: the extract's values win over an edit made here since the last import. The
    edit (through the ORM, as a page saves) gives the record a later updated_at, so its digest no
    longer matches."""
    folder = small(tmp_path, "first")
    import_dataset(folder, agency=police)
    edited = person("P1")
    edited.forenames = "Annie"
    db.session.flush()
    watched.unsealed = 0
    report = import_dataset(folder, agency=police)
    assert counts(report)["people.csv"] == (0, 1, 1, 0, 0) and watched.unsealed > 0
    assert person("P1").forenames == "Ann"


def test_a_record_without_a_digest_is_compared_in_full_and_given_one(police, tmp_path, watched):
    """Records written before the digests (or after an index-key rotation) have none."""
    folder = small(tmp_path, "first")
    import_dataset(folder, agency=police)
    stamps = dict(db.session.execute(select(Person.id, Person.updated_at)).all())
    db.session.execute(update(Person).values(import_digest=None, updated_at=Person.updated_at))
    before = snapshot()
    watched.unsealed = 0
    report = import_dataset(folder, agency=police)
    assert counts(report)["people.csv"] == (0, 0, 2, 0, 0) and watched.unsealed > 0
    after = snapshot()
    assert after["incident"] == before["incident"] and after["party"] == before["party"]
    assert dict(db.session.execute(select(Person.id, Person.updated_at)).all()) == stamps  # not an edit
    assert digests()["person"] == 2
    watched.unsealed = 0
    import_dataset(folder, agency=police)
    assert watched.unsealed == 0


def test_rotating_the_data_key_keeps_the_digests(police, tmp_path, watched, ring, app_ctx):  # noqa: F811
    folder = small(tmp_path, "first")
    import_dataset(folder, agency=police)
    db.session.commit()
    keys.rotate_data_key(ring=ring, keyring_file=keyring_file(app_ctx))
    watched.unsealed = watched.sealed = 0
    report = import_dataset(folder, agency=police)
    assert counts(report)["people.csv"] == (0, 0, 2, 0, 0)
    assert (watched.unsealed, watched.sealed) == (0, 0)


def test_rotating_the_index_keys_forgets_the_digests_and_the_next_import_stores_new_ones(
        police, tmp_path, watched, ring, app_ctx):  # noqa: F811
    folder = small(tmp_path, "first")
    import_dataset(folder, agency=police)
    db.session.commit()
    old = dict(db.session.execute(select(Person.id, Person.import_digest)).all())
    stamps = dict(db.session.execute(select(Person.id, Person.updated_at)).all())
    keys.rotate_index_keys(ring=ring, keyring_file=keyring_file(app_ctx))
    db.session.expire_all()
    assert digests() == {"person": 0, "incident": 0, "referral": 0, "prevention_activity": 0}
    assert db.session.scalar(select(func.count()).select_from(Incident).where(Incident.parties_digest.is_not(None))) == 0
    assert dict(db.session.execute(select(Person.id, Person.updated_at)).all()) == stamps
    watched.unsealed = 0
    report = import_dataset(folder, agency=police)
    assert counts(report)["people.csv"] == (0, 0, 2, 0, 0) and watched.unsealed > 0
    new = dict(db.session.execute(select(Person.id, Person.import_digest)).all())
    assert all(new[i] is not None and new[i] != old[i] for i in old), "stored afresh, under the new key"
    watched.unsealed = 0
    assert counts(import_dataset(folder, agency=police))["people.csv"] == (0, 0, 2, 0, 0)
    assert watched.unsealed == 0


def test_two_records_of_the_same_values_have_unrelated_digests(police, tmp_path):
    """Bound to the agency and the row's ref (and keyed): a digest does not show which records hold
    equal values."""
    import_dataset(small(tmp_path, "first", "P1,Smith,Ann,1980-02-03,female,DT1 1XJ,n,n,n",
                         "P2,Smith,Ann,1980-02-03,female,DT1 1XJ,n,n,n"), agency=police)
    a, b = db.session.scalars(select(Person.import_digest)).all()
    assert a != b and len(a) == len(b) == crypto.DIGEST_BYTES


def _both_ways(folder: Path, police: Any) -> tuple[Any, Any]:
    """The import of `folder` compared in full (every digest cleared first) and by digest, each from
    the same database: the reports, and every person's values, by ref."""
    def state() -> dict[str, tuple[Any, ...]]:
        db.session.expire_all()
        rows = db.session.execute(select(SourceRef.ref, SourceRef.record_id).where(
            SourceRef.kind == RecordKind.PERSON)).all()
        found = {ref: db.session.get(Person, rid) for ref, rid in rows}
        return {ref: (p.id, p.surname, p.forenames, p.date_of_birth, p.postcode, p.version) for ref, p in found.items()}

    return _import_both_ways(folder, police, state)


def _import_both_ways(folder: Path, police: Any, state: Any) -> tuple[Any, Any]:
    """Import `folder` compared in full (every digest cleared first) and by digest, each from the same
    database (rolled back after): (the counts, `state()`) of each."""
    results = []
    for clear in (True, False):
        savepoint = db.session.begin_nested()
        if clear:
            for model in DIGESTED:
                db.session.execute(update(model).values(import_digest=None, updated_at=model.updated_at))
            db.session.execute(update(Incident).values(parties_digest=None, updated_at=Incident.updated_at))
        try:
            results.append((counts(import_dataset(folder, agency=police)), state()))
        except ImportFailed as e:
            raise AssertionError(e.problems) from e
        savepoint.rollback()
    return results[0], results[1]


def test_a_reimport_after_a_merge_behaves_as_a_full_comparison(police, tmp_path):
    from casework.services import merge

    folder = small(tmp_path, "first", "P1,Kowalski,Jan,1970-01-01,male,DT1 1XJ,n,n,n",
                   "P2,Kowalsky,Jan,1970-01-01,male,DT1 1XJ,n,n,n")
    import_dataset(folder, agency=police)
    user = make_user(roles=("caseworker",), agency=police)
    survivor, merged = person("P1"), person("P2")
    merge.merge(survivor=survivor, merged=merged, choices={}, survivor_version=survivor.version,
                merged_version=merged.version, by=user)
    db.session.flush()
    full, by_digest = _both_ways(folder, police)
    assert by_digest == full
    # Both refs lead to the survivor, which kept P1's values: P2's row (another spelling) updates it.
    assert full[0]["people.csv"] == (0, 1, 1, 0, 0)
    # The two rows change different columns of the one record: it holds some of each, which no
    # digest of either row describes.
    both = small(tmp_path, "both", "P1,Kowalski,Janek,1970-01-01,male,DT1 1XJ,n,n,n",
                 "P2,Kowalski,Jan,1970-01-01,male,BH15 1AA,n,n,n")
    import_dataset(both, agency=police)
    full, by_digest = _both_ways(both, police)
    assert by_digest == full
    assert full[0]["people.csv"] == (0, 2, 0, 0, 0)


def test_a_reimport_after_an_erasure_behaves_as_a_full_comparison(police, tmp_path):
    folder = small(tmp_path, "first")
    import_dataset(folder, agency=police)
    retention.erase(kind="person", record_id=person("P1").id, cause="request", reason="test")
    full, by_digest = _both_ways(folder, police)
    assert by_digest == full


# --- whole files passed over (casework.exchange.unchanged) ----------------------------------------


def _state() -> dict[str, Any]:
    """What an import decides: every person's and incident's values and version, every party, by
    record (timestamps and digests aside: they say when, not what)."""
    db.session.expire_all()
    people = {p.id: (p.surname, p.forenames, p.date_of_birth, p.postcode, p.gender, p.version)
              for p in db.session.scalars(select(Person))}
    incidents = {i.id: (i.occurred_on, i.category, i.domestic_abuse, i.locality, i.area_id, i.version)
                 for i in db.session.scalars(select(Incident))}
    parties = set(db.session.execute(select(Party.incident_id, Party.person_id, Party.role, Party.cj_status)).all())
    return {"people": people, "incidents": incidents, "parties": parties}


def _full_and_by_digest(folder: Path, police: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, int]:
    """The import of `folder` compared in full (every digest cleared first) and by digest, from the
    same database: (counts, state) each, and how many rows the second passed over whole."""
    from casework.exchange.unchanged import Unchanged

    passed = []
    for method in ("people", "incidents"):
        real = getattr(Unchanged, method)

        def spy(self: Any, *args: Any, _real: Any = real) -> set[str]:
            found = _real(self, *args)
            passed.append(len(found))
            return found  # type: ignore[no-any-return]

        monkeypatch.setattr(Unchanged, method, spy)
    full, by_digest = _import_both_ways(folder, police, _state)
    return full, by_digest, sum(passed)  # the full comparison passes over nothing (no digest matches)


def _edit_sample(tmp_path: Path, rng: random.Random) -> Path:
    """A copy of the sample data set with some rows changed, removed and added, as a partner's next
    extract would be."""
    folder = tmp_path / f"edited-{rng.random():.6f}"
    shutil.copytree(SAMPLE, folder)
    people = (folder / "people.csv").read_text().splitlines()
    for i in rng.sample(range(1, len(people)), 15):
        cells = people[i].split(",")
        cells[2] = cells[2] + "a"  # forenames
        people[i] = ",".join(cells)
    (folder / "people.csv").write_text("\n".join(people) + "\n")
    incidents = (folder / "incidents.csv").read_text().splitlines()
    for i in rng.sample(range(1, len(incidents)), 15):
        cells = incidents[i].split(",")
        cells[3] = "n" if cells[3] == "y" else "y"  # domestic_abuse
        incidents[i] = ",".join(cells)
    (folder / "incidents.csv").write_text("\n".join(incidents) + "\n")
    parties = (folder / "parties.csv").read_text().splitlines()
    header, rows = parties[0], parties[1:]
    victims = [i for i, row in enumerate(rows) if row.split(",")[2] == "victim"]
    for i in rng.sample(victims, 10):
        cells = rows[i].split(",")
        cells[3] = "" if cells[3] else "entered"  # cj_status (a victim's)
        rows[i] = ",".join(cells)
    removed = set(rng.sample(range(len(rows)), 10))
    rows = [row for i, row in enumerate(rows) if i not in removed]
    person_refs = [line.split(",")[0] for line in people[1:]]
    incident_refs = [line.split(",")[0] for line in incidents[1:]]
    taken = {tuple(row.split(",")[:3]) for row in rows}
    while len(rows) < len(parties) - 1 + 5:
        row = (rng.choice(incident_refs), rng.choice(person_refs), rng.choice(["victim", "perpetrator"]))
        if row not in taken:
            taken.add(row)
            rows.append(",".join(row) + ",")
    rng.shuffle(rows)  # the order of rows does not matter
    (folder / "parties.csv").write_text("\n".join([header, *rows]) + "\n")
    return folder


def _edit_records(police: Any, rng: random.Random) -> None:
    """Changes made in Casework since the import: a party added and one removed on an incident's page,
    a person and an incident edited, a party's status changed, and an incident restricted."""
    from casework.models import PartyRole
    from casework.services import incidents as incident_service

    user = make_user(roles=("caseworker",), agency=police)
    all_incidents = db.session.scalars(select(Incident).order_by(Incident.id)).all()
    all_people = db.session.scalars(select(Person).order_by(Person.id)).all()
    for incident in rng.sample(all_incidents, 5):
        person = rng.choice(all_people)
        if not db.session.scalar(select(Party.id).where(Party.incident_id == incident.id,
                                                         Party.person_id == person.id,
                                                         Party.role == PartyRole.VICTIM)):
            incident_service.add_party(incident=incident, person=person, role=PartyRole.VICTIM, cj_status=None, by=user)
    parties = db.session.scalars(select(Party).order_by(Party.id)).all()
    for party in rng.sample(parties, 5):
        incident = db.session.get(Incident, party.incident_id)
        incident_service.remove_party(incident=incident, party_id=party.id, by=user)
    for party in rng.sample(db.session.scalars(select(Party).where(Party.role == PartyRole.VICTIM)
                                               .order_by(Party.id)).all(), 3):
        party.cj_status = None if party.cj_status is not None else rng.choice(list(CjStatus))
    for person in rng.sample(all_people, 5):
        person.forenames = "Edited"
    for incident in rng.sample(all_incidents, 5):
        incident.alcohol = not incident.alcohol
    rng.choice(all_incidents).restricted = True
    db.session.flush()


@pytest.mark.usefixtures("checking")  # checked apart: the first import's rows are prepared apart (`prepare`)
@pytest.mark.parametrize("seed", [1, 2])
def test_a_reimport_passing_over_unchanged_rows_decides_as_a_full_comparison(police, tmp_path, monkeypatch, seed):
    """Edits in Casework since the last import, and a next extract with rows changed, removed, added
    and reordered: passing over the rows found unchanged (people, and incidents with their parties)
    gives the same records, parties and counts as comparing every row in full."""
    rng = random.Random(seed)
    import_dataset(SAMPLE, agency=police)
    _edit_records(police, rng)
    for folder in (SAMPLE, _edit_sample(tmp_path, rng)):
        full, by_digest, passed = _full_and_by_digest(folder, police, monkeypatch)
        assert by_digest == full
        assert passed > 2500  # nearly every person and incident was passed over
        import_dataset(folder, agency=police)
    # Imported once more, the last extract is now wholly what the database holds.
    full, by_digest, passed = _full_and_by_digest(folder, police, monkeypatch)
    assert by_digest == full and all(c[1] == c[3] == 0 for c in full[0].values())


def test_an_incident_whose_parties_changed_only_in_casework_gets_them_back(police, tmp_path):
    """The incident's row is unchanged, but a party added on its page is not in parties.csv: the
    incident is not passed over, and its parties become its rows again, as ever."""
    from casework.models import PartyRole
    from casework.services import incidents as incident_service

    folder = small(tmp_path, "first")
    import_dataset(folder, agency=police)
    user = make_user(roles=("caseworker",), agency=police)
    incident = db.session.get(Incident, db.session.scalar(select(SourceRef.record_id).where(
        SourceRef.kind == RecordKind.INCIDENT, SourceRef.ref == "I2")))
    incident_service.add_party(incident=incident, person=person("P1"), role=PartyRole.VICTIM, cj_status=None, by=user)
    report = counts(import_dataset(folder, agency=police))
    assert report["incidents.csv"] == (0, 0, 2, 0, 0) and report["parties.csv"] == (0, 0, 2, 1, 0)
    assert db.session.scalar(select(func.count()).select_from(Party).where(Party.incident_id == incident.id)) == 0


def test_without_parties_csv_unchanged_incidents_keep_their_parties(police, tmp_path):
    folder = small(tmp_path, "first")
    import_dataset(folder, agency=police)
    before = snapshot()
    no_parties = dataset(tmp_path, "no-parties", people=people_file("P1,Smith,Ann,1980-02-03,female,DT1 1XJ,n,n,n",
                                                                    "P2,Jones,Bob,,male,,n,n,n"), incidents=INCIDENTS)
    report = counts(import_dataset(no_parties, agency=police))
    assert report["incidents.csv"] == (0, 0, 2, 0, 0) and "parties.csv" not in report
    assert snapshot() == before


def test_an_extract_found_wholly_unchanged_leaves_the_stored_figures_alone(police, tmp_path, monkeypatch):
    """Nothing written, nothing to refresh: the monthly figures are rebuilt only after a re-import that
    wrote something."""
    from casework.figures import months

    folder = small(tmp_path, "first")
    import_dataset(folder, agency=police)
    rebuilt = []
    real = months.note_all
    monkeypatch.setattr(months, "note_all", lambda session: (rebuilt.append(1), real(session)))
    import_dataset(folder, agency=police)
    assert rebuilt == []
    import_dataset(small(tmp_path, "second", "P1,Smith,Anne,1980-02-03,female,DT1 1XJ,n,n,n",
                         "P2,Jones,Bob,,male,,n,n,n"), agency=police)
    assert rebuilt == [1]
