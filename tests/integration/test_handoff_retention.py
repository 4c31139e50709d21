"""Case handovers and requests to share a record under retention, erasure and subject access: the
requests (and who asked and decided) are disclosed with the person, their reasons are erased with
the person, a waiting one is declined saying the record was erased; a handover (ids and times only)
is disclosed with the case and kept when the case is erased."""

from __future__ import annotations

import json

from sqlalchemy import select

from casework.db import db
from casework.models import Case, CaseHandover, CaseKind, CasePerson, CaseStatus, ShareRequest
from casework.models.share_request import DECLINED, WAITING
from casework.services import audit, retention, subject_access
from tests.factories import AgencyFactory, PersonFactory


def _world(user_factory):  # type: ignore[no-untyped-def]
    person = PersonFactory(surname="Handley")
    asker, manager = user_factory(email="asker@example.org"), user_factory(email="manager@example.org")
    requests = []
    for status, reason, declined in ((WAITING, "Safeguarding a child at the address", None),
                                     (DECLINED, "Housing needs the history", "Not enough reason given")):
        request = ShareRequest(person_id=person.id, owner_agency_id=person.owner_agency_id,
                               requesting_agency_id=AgencyFactory().id, requested_by_id=asker.id, status=status)
        request.reason, request.decline_reason = reason, declined
        db.session.add(request)
        db.session.flush()
        audit.record("share_request.create", user=asker, record=request, details={"person_id": str(person.id)})
        requests.append(request)
    case = Case(kind=CaseKind.DOMESTIC_ABUSE, status=CaseStatus.CLOSED, owner_agency_id=person.owner_agency_id)
    db.session.add(case)
    db.session.flush()
    db.session.add_all([CasePerson(case_id=case.id, person_id=person.id),
                        CaseHandover(case_id=case.id, from_user_id=asker.id, to_user_id=manager.id,
                                     by_user_id=manager.id)])
    db.session.commit()
    return person, case, requests


def test_subject_access_discloses_share_requests_with_their_audit_and_the_cases_handovers(app_ctx, user_factory):
    person, case, requests = _world(user_factory)
    doc = json.loads(subject_access.to_json(subject_access.document(person_id=person.id)))
    held = {r["id"]: r for r in doc["held_with_the_person"]["share_request"]}
    assert held[str(requests[1].id)]["reason"] == "Housing needs the history"
    assert held[str(requests[1].id)]["decline_reason"] == "Not enough reason given"
    asked = [a for a in doc["audit"] if a["action"] == "share_request.create"]
    assert sorted(a["record_id"] for a in asked) == sorted(str(r.id) for r in requests)
    assert {a["user_email"] for a in asked} == {"asker@example.org"}
    (handover,) = doc["held_with_the_cases"]["case_handover"]
    assert handover["case_id"] == str(case.id) and handover["to_user_id"] is not None


def test_erasing_a_person_erases_share_request_reasons_and_declines_a_waiting_one(app_ctx, user_factory):
    person, case, (waiting, decided) = _world(user_factory)
    removed = retention.erase(kind="person", record_id=person.id, cause="request", reason="Article 17")
    retention.erase(kind="case", record_id=case.id, cause="request", reason="Article 17")
    db.session.commit()
    db.session.expire_all()
    waiting, decided = db.session.get(ShareRequest, waiting.id), db.session.get(ShareRequest, decided.id)
    assert (waiting.reason, decided.reason) == (retention.ERASED, retention.ERASED)
    assert decided.decline_reason is None and decided.status == DECLINED
    assert (waiting.status, waiting.decline_reason) == (DECLINED, retention.SHARE_REQUEST_ERASED)
    assert waiting.decided_at is not None
    assert removed.fields["share_request"] == ["decline_reason", "reason"]
    assert removed.rows["share_request (declined)"] == 1
    assert db.session.scalar(select(CaseHandover.case_id)) == case.id  # ids and times: kept
