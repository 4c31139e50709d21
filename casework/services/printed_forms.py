"""What each printable form says (`casework.printing.Document`), built from a record the caller has
checked the viewer may see: the DASH checklist, a referral (for HRDA, the SafeLives-style MARAC
referral form), the minutes and safety plan of a case heard at an HRDA meeting, and a chronology.

A form holds what the record's page shows the viewer, no more: a person the viewer may not see is
named as the page names them (`person_names`); the victim's address and safe-contact instructions
are never printed (a do-not-disclose address must not travel on paper; docs/printing.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from .. import policy
from ..db import db
from ..models import Agency, Meeting, MeetingCase, Person, Referral, ReferralType, RiskAssessment, User
from ..printing import Document, Facts, Section, Table, Text
from ..risk import dash
from ..words import day
from . import chronology, meetings, person_names, referrals

YES_NO = {True: "Yes", False: "No", None: "Not known"}


def _agencies() -> dict[Any, str]:
    return {i: n for i, n in db.session.execute(select(Agency.id, Agency.name))}


def _users(ids: set[Any]) -> dict[Any, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {i: n for i, n in db.session.execute(select(User.id, User.name).where(User.id.in_(ids)))}


def _document(title: str, about: str, sections: list[Section], *, viewer: Any, at: dt.datetime) -> Document:
    agency = db.session.scalar(select(Agency.name).where(Agency.id == viewer.agency_id))
    return Document(title=title, about=about, printed_by=f"{viewer.name}, {agency}" if agency else viewer.name,
                    printed_at=at, sections=sections)


# --- the DASH checklist ------------------------------------------------------------------------


def _assessment_facts(assessment: RiskAssessment, assessor: str) -> list[tuple[str, str]]:
    rows = [("Status", assessment.status.label), ("Date", day(assessment.assessed_on)), ("Assessor", assessor),
            ("Score", f"{assessment.score} of {dash.QUESTION_COUNT} (yes answers)"),
            ("Risk level", assessment.level.label)]
    if assessment.judged_high:
        rows.append(("Professional judgement", f"Raised to high: {assessment.judgement_reason or ''}"))
    else:
        rows.append(("Professional judgement", "Not used: the level is the score's"))
    return rows


def dash_checklist(assessment: RiskAssessment, *, viewer: Any, at: dt.datetime) -> Document:
    """The checklist's 24 answers with their notes, its score, level and the professional judgement."""
    person = assessment.person
    assessor = _users({assessment.assessor_id}).get(assessment.assessor_id, "")
    checklist = assessment.checklist
    answers = [[f"{n}. {text}", checklist.answers[n].label if n in checklist.answers else "Not answered",
                checklist.notes.get(n) or ""] for n, text in dash.QUESTIONS.items()]
    title = "DASH risk checklist" + ("" if assessment.complete else " (draft)")
    sections = [Section("Summary", [Facts([("Person", person.display_name),
                                           ("Date of birth", day(person.date_of_birth) or "Not known"),
                                           *_assessment_facts(assessment, assessor)])]),
                Section("Answers", [Table("The 24 questions with their answers and notes",
                                          ["Question", "Answer", "Notes"], answers)])]
    return _document(title, person.display_name, sections, viewer=viewer, at=at)


# --- a referral --------------------------------------------------------------------------------


def _risk(referral: Referral, *, viewer: Any) -> list[Any]:
    """The risk part of an HRDA (MARAC) referral: the criteria, the DASH score and, when the viewer
    may see it, the checklist it was made from."""
    rows = [("Criteria met", ", ".join(c.label for c in referrals.criteria_of(referral)) or "Not recorded"),
            ("DASH score", str(referral.dash_score) if referral.dash_score is not None else "Not given")]
    assessment = db.session.get(RiskAssessment, referral.assessment_id) if referral.assessment_id else None
    if assessment is not None and policy.can_view_assessment(viewer, assessment):
        assessor = _users({assessment.assessor_id}).get(assessment.assessor_id, "")
        rows += [(f"DASH checklist: {label.lower()}", value)
                 for label, value in _assessment_facts(assessment, assessor) if label != "Status"]
    return [Facts(rows), Text("Reason for the referral (the risk, in the referrer's words)", referral.reason)]


def referral_form(referral: Referral, *, viewer: Any, at: dt.datetime) -> Document:
    """A referral as its page shows it; for HRDA the MARAC referral form's parts in its order: the
    victim, the risk, consent or the lawful basis, children in the household, the referrer."""
    agencies = _agencies()
    users = _users({referral.referred_by_id, referral.decided_by_id})
    shown = person_names.for_viewer(viewer, referral.person)
    hrda = referral.type is ReferralType.HRDA
    person = [("Name", shown.text), ("Date of birth", day(shown.date_of_birth) or "Not known")]
    if shown.visible and referral.person.gender is not None:
        person.append(("Gender", referral.person.gender.label))
    referrer = [("Agency", agencies.get(referral.owner_agency_id, "")),
                ("Referred by", users.get(referral.referred_by_id, "Not recorded")),
                ("Referred on", day(referral.referred_on)),
                ("Receiving agency", agencies.get(referral.receiving_agency_id, "Not named")),
                ("Reference", referral.reference), ("Status", referral.status.label)]
    consent = [("Consent to share", referral.consent.label if referral.consent else "Not recorded")]
    if referral.lawful_basis:
        consent.append(("Lawful basis for sharing without consent", referral.lawful_basis))
    sections = [Section("The victim" if hrda or referral.type is ReferralType.IDVA else "The person", [Facts(person)])]
    if hrda:
        sections.append(Section("The risk", _risk(referral, viewer=viewer)))
    else:
        sections.append(Section("The referral", [Text("Reason for the referral", referral.reason)]))
    sections.append(Section("Consent, or the lawful basis for sharing", [Facts(consent)]))
    if hrda:
        sections.append(Section("Children in the household", [Facts([("Children in the household",
                                                                       YES_NO[referral.children_in_household])])]))
    elif referral.type is ReferralType.MAPPA:
        sections.append(Section("MAPPA", [Facts([("Category", str(referral.mappa_category or "Not given")),
                                                 ("Level", str(referral.mappa_level or "Not given"))])]))
    elif referral.type is ReferralType.PERPETRATOR_PROGRAMME:
        sections.append(Section("The programme", [Facts([
            ("Started", day(referral.started_on) or "Not yet"), ("Ended", day(referral.ended_on) or "Not yet"),
            ("Outcome", referral.outcome.label if referral.outcome else "Not yet")])]))
    sections.append(Section("The referrer", [Facts(referrer)]))
    if referral.decided_at is not None:
        sections.append(Section("The decision", [
            Facts([("Decided", f"{day(referral.decided_at)}, by {users.get(referral.decided_by_id, 'someone')}"),
                   ("Decision", referral.status.label)]),
            Text("Reason for the decision", referral.decision_reason, empty="None given")]))
    title = "HRDA (MARAC) referral" if hrda else f"{referral.type.label} referral"
    return _document(title, shown.text, sections, viewer=viewer, at=at)


# --- the minutes of a case heard at an HRDA meeting -------------------------------------------------


def meeting_minutes(meeting: Meeting, item: MeetingCase, *, viewer: Any, at: dt.datetime) -> Document:
    """One case of an HRDA meeting: the meeting, the case, each agency's research, the discussion,
    the safety plan and the actions agreed (with their progress)."""
    agencies = _agencies()
    referral = item.referral
    shown = person_names.for_viewer(viewer, referral.person)
    local = meetings.local_time(meeting)
    where = ", ".join(p for p in (meeting.place, "online" if meeting.online else None) if p)
    attending = sorted(agencies.get(a, "") for a in meetings.participant_agency_ids(meeting))
    authors = _users({r.author_id for r in item.research})
    research = [[agencies.get(r.agency_id, ""), f"{day(r.checked_on)}, {authors.get(r.author_id, '')}",
                 r.facts or "None", r.opinion or "None"] for r in item.research]
    actions = [[a.text or "", agencies.get(a.agency_id, "") + (f" ({a.person_name})" if a.person_name else ""),
                day(a.due_on), a.status.label, a.progress or ""] for a in item.actions]
    sections = [
        Section("The meeting", [Facts([("Date", f"{local.day} {local:%B %Y, %H:%M}"), ("Where", where or "Not given"),
                                       ("State", meeting.state.label),
                                       ("Chaired by", agencies.get(meeting.agency_id, "")),
                                       ("Agencies taking part", ", ".join(attending))])]),
        Section("The case", [Facts([
            ("Victim", shown.text), ("Date of birth", day(shown.date_of_birth) or "Not known"),
            ("Referred on", day(referral.referred_on)), ("Referring agency", agencies.get(referral.owner_agency_id, "")),
            ("DASH score", str(referral.dash_score) if referral.dash_score is not None else "Not given"),
            ("Criteria met", ", ".join(c.label for c in referrals.criteria_of(referral)) or "Not recorded"),
            ("Children in the household", YES_NO[referral.children_in_household])])]),
        Section("Research", [Table("Each agency's research", ["Agency", "Checked", "Facts", "Opinion"], research,
                                   empty="No research recorded")]),
        Section("Minutes", [Text("Discussion", item.discussion), Text("Safety plan", item.safety_plan)]),
        Section("Actions", [Table("Actions agreed", ["Action", "Agency", "Due", "Status", "Progress"], actions,
                                  empty="No actions agreed")]),
    ]
    return _document("HRDA meeting: minutes and safety plan", shown.text, sections, viewer=viewer, at=at)


# --- a chronology ------------------------------------------------------------------------------


def chronology_document(record: Person | Any, built: chronology.Chronology, *, about: str, viewer: Any,
                        at: dt.datetime) -> Document:
    """A chronology (every item of `built`, newest first) of a person or a case."""
    shown = [chronology.KINDS[k] for k in chronology.KINDS if k in built.kinds]
    filtered = built.kinds != frozenset(chronology.KINDS)
    rows = [[day(item.on), chronology.KINDS[item.kind], item.title, item.text or ""] for item in built.items]
    facts = [("About", about), ("Items", str(built.total)),
             ("Showing", ", ".join(shown) if filtered else "Every kind of item")]
    sections = [Section("Summary", [Facts(facts)]),
                Section("Chronology", [Table("Everything recorded, newest first", ["Date", "Kind", "What", "Details"],
                                             rows, empty="Nothing recorded")])]
    return _document("Chronology", about, sections, viewer=viewer, at=at)
