"""Re-importing a partner's extract: unchanged rows are recognised by their records' keyed import
digests (casework.exchange.digest) without decrypting or sealing anything, and everything else
behaves as a full comparison does (docs/data-exchange.md, "Re-importing")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update

from casework import crypto
from casework.db import db
from casework.exchange import ImportFailed, import_dataset
from casework.models import Incident, Person, PreventionActivity, RecordKind, Referral, SourceRef
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
    """Bound to the record's id (and keyed): a digest does not show which records hold equal values."""
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

    results = []
    for clear in (True, False):
        savepoint = db.session.begin_nested()
        if clear:
            for model in DIGESTED:
                db.session.execute(update(model).values(import_digest=None, updated_at=model.updated_at))
        results.append((counts(import_dataset(folder, agency=police)), state()))
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
