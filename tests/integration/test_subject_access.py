"""`casework subject-access`: everything held about a person, decrypted, with who saw it, in a file
readable by its owner only; other people appear only by their role."""

from __future__ import annotations

import datetime as dt
import json
import stat

from sqlalchemy import select

from casework.db import db
from casework.models import (
    AuditEntry,
    Case,
    CaseKind,
    CaseNote,
    CasePerson,
    CaseStatus,
    PartyRole,
    Share,
)
from casework.services import audit
from tests.factories import (
    AgencyFactory,
    IncidentFactory,
    PartyFactory,
    PersonFactory,
    ReferralFactory,
)


def test_subject_access_writes_everything_held_with_the_audit_of_who_saw_it(app_ctx, runner, tmp_path,
                                                                             user_factory):
    viewer = user_factory(email="viewer@example.org")
    person = PersonFactory(surname="Quorrelwood", forenames="Ada", phone="07700 900123")
    PersonFactory(surname="Quorelwood", merged_into_id=person.id)
    other = PersonFactory(surname="Thirdparty")
    incident = IncidentFactory(occurred_on=dt.date(2024, 5, 1))
    PartyFactory(incident=incident, person_id=person.id, role=PartyRole.VICTIM)
    PartyFactory(incident=incident, person_id=other.id, role=PartyRole.PERPETRATOR)
    referral = ReferralFactory(person_id=person.id, reason="Fear of further violence")
    other_referral = ReferralFactory(person_id=other.id, reason="Not about Ada")
    case = Case(kind=next(iter(CaseKind)), status=CaseStatus.OPEN, owner_agency_id=person.owner_agency_id,
                summary="Support plan")
    db.session.add(case)
    db.session.flush()
    referral.case_id = other_referral.case_id = case.id
    db.session.add_all([CasePerson(case_id=case.id, person_id=person.id), CasePerson(case_id=case.id, person_id=other.id),
                        CaseNote(case_id=case.id, author_id=viewer.id, text="Called Ada"),
                        Share(record_kind="person", record_id=person.id, agency_id=AgencyFactory().id,
                              via="explicit", reason="Safeguarding")])
    db.session.commit()
    audit.record_view(person, user=viewer)
    out = tmp_path / "sar.json"

    result = runner.invoke(["subject-access", str(person.id), "--output", str(out)])

    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    doc = json.loads(out.read_text())
    assert doc["person"]["surname"] == "Quorrelwood" and doc["person"]["phone"] == "07700 900123"
    assert "bi_surname" not in doc["person"]
    assert [d["surname"] for d in doc["merged_duplicates"]] == ["Quorelwood"]
    assert [r["reason"] for r in doc["held_with_the_person"]["referral"]] == ["Fear of further violence"]
    assert doc["incidents"][0]["occurred_on"] == "2024-05-01"
    assert doc["incidents"][0]["other_parties"] == ["perpetrator"]
    assert doc["cases"][0]["summary"] == "Support plan"
    assert [n["text"] for n in doc["held_with_the_cases"]["case_note"]] == ["Called Ada"]
    assert [r["reason"] for r in doc["held_with_the_cases"]["referral"]] == ["Fear of further violence"]
    assert [s["reason"] for s in doc["shares"]] == ["Safeguarding"]
    views = [a for a in doc["audit"] if a["action"] == "record.view"]
    assert [(a["user_email"], a["record_id"]) for a in views] == [("viewer@example.org", str(person.id))]
    text = out.read_text()
    assert "Thirdparty" not in text and "Not about Ada" not in text, "other people only by their role"
    assert str(other.id) not in text
    logged = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "person.subject_access",
                                                        AuditEntry.record_id == person.id))
    assert logged is not None and json.loads(logged.details)["counts"]["incidents"] == 1


def test_subject_access_never_overwrites_a_file_and_names_a_missing_person(app_ctx, runner, tmp_path):
    person = PersonFactory()
    db.session.commit()
    existing = tmp_path / "exists.json"
    existing.write_text("keep me")

    refused = runner.invoke(["subject-access", str(person.id), "--output", str(existing)])
    missing = runner.invoke(["subject-access", "00000000-0000-4000-8000-000000000000", "-o",
                             str(tmp_path / "new.json")])
    malformed = runner.invoke(["subject-access", "nobody"])

    assert refused.exit_code != 0 and "already exists" in refused.output
    assert existing.read_text() == "keep me"
    assert missing.exit_code != 0 and "there is no person with id" in missing.output
    assert not (tmp_path / "new.json").exists()
    assert malformed.exit_code != 0 and "is not a person id" in malformed.output


def test_subject_access_after_erasure_shows_the_erasure_not_the_values(app_ctx, runner, tmp_path):
    from casework.services import retention

    person = PersonFactory(surname="Quorrelwood")
    db.session.flush()
    retention.erase(kind="person", record_id=person.id, cause="request", reason="Article 17")
    db.session.commit()
    out = tmp_path / "after.json"

    assert runner.invoke(["subject-access", str(person.id), "-o", str(out)]).exit_code == 0
    doc = json.loads(out.read_text())
    assert doc["person"]["surname"] == retention.ERASED and doc["person"]["forenames"] is None
    assert doc["erasures"][0]["cause"] == "request"
    assert "Quorrelwood" not in out.read_text()
