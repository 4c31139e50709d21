"""The DASH risk checklist: start one for a person (optionally within a case), save it as a draft or
complete it, see its score, level and the HRDA referral it proposes; a person's history."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import BooleanField, HiddenField, RadioField, TextAreaField

from ... import policy
from ...auth.guard import require, visible_or_404
from ...db import db
from ...forms import Form, OnlyWhen, Required, choices
from ...models import Case, Person, ReferralType, RiskAssessment
from ...policy import Permission
from ...risk import dash
from ...services import assessments, audit, lookups, referrals, versioning
from ..shared.person_page import add_section
from ..shared.record_pages import form_version, not_a_victim, stale_page, today, user_names
from . import bp

ANSWER_CHOICES = [(a.value, a.label) for a in dash.Answer]


class ChecklistForm(Form):
    case = HiddenField()
    version = HiddenField()

    def answers(self) -> dict[int, str | None]:
        return {n: getattr(self, f"q{n}").data or None for n in dash.QUESTIONS}

    def notes(self) -> dict[int, str | None]:
        return {n: getattr(self, f"n{n}").data for n in dash.QUESTIONS}

    def questions(self) -> list[tuple[int, str, Any, Any]]:
        return [(n, text, getattr(self, f"q{n}"), getattr(self, f"n{n}")) for n, text in dash.QUESTIONS.items()]


# One radio group (yes / no / not known; checked by the DASH rules) and one notes box a question.
for _n, _text in dash.QUESTIONS.items():
    setattr(ChecklistForm, f"q{_n}", RadioField(f"{_n}. {_text}", choices=choices(ANSWER_CHOICES),
                                                validate_choice=False))
    setattr(ChecklistForm, f"n{_n}", TextAreaField(f"Notes on question {_n}"))
# After the questions, as on the page (the error summary lists errors in the fields' order).
ChecklistForm.judged_high = BooleanField("I judge the risk to be high (professional judgement)")
ChecklistForm.reason = TextAreaField("Why you judge the risk to be high", validators=[
    OnlyWhen("judged_high", {True}), Required("Explain why you judge the risk to be high")])


def _form_of(assessment: RiskAssessment) -> ChecklistForm:
    checklist = assessment.checklist
    data: dict[str, Any] = {"judged_high": assessment.judged_high, "reason": assessment.judgement_reason,
                            "case": str(assessment.case_id or ""), "version": assessment.version}
    for n in dash.QUESTIONS:
        data[f"q{n}"] = checklist.answers[n].value if n in checklist.answers else None
        data[f"n{n}"] = checklist.notes.get(n, "")
    return ChecklistForm(data=data)


def _case_of(value: str | None) -> Case | None:
    if not value:
        return None
    case: Case = visible_or_404(Case, value)
    if not policy.can_edit(current_user, case):
        abort(404)
    return case


def _save_error(form: ChecklistForm, error: assessments.AssessmentError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    (field if field is not None else form.q1).errors = [str(error)]


def _page(template: str, form: ChecklistForm, person: Person, status: int, **context: Any) -> ResponseReturnValue:
    return render_template(template, form=form, person=person, errors=form.error_list(),
                           bands=assessments.bands(), **context), status


@bp.route("/people/<uuid:person_id>/risk-assessments/new", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def new(person_id: uuid.UUID) -> ResponseReturnValue:
    person = visible_or_404(Person, person_id)
    if not assessments.is_victim(person.id):
        return not_a_victim(person, assessments.NOT_A_VICTIM.format(name=person.display_name))
    if request.method == "GET":
        form = ChecklistForm(formdata=None, data={"case": request.args.get("case", "")})
        case = _case_of(form.case.data)
        return _page("assessments/form.html", form, person, 200, case=case, assessment=None)
    form = ChecklistForm()
    case = _case_of(form.case.data)
    complete = request.form.get("action") == "complete"
    if form.validate():
        try:
            assessment = assessments.start(person, by=current_user, answers=form.answers(), notes=form.notes(),
                                           judged_high=bool(form.judged_high.data), reason=form.reason.data,
                                           complete=complete, today=today(), case=case)
        except assessments.NotAVictim as e:
            return not_a_victim(person, str(e))
        except assessments.AssessmentError as e:
            _save_error(form, e)
        else:
            flash("DASH checklist completed" if complete else "Draft saved: you can finish it later")
            return redirect(url_for("assessments.show", assessment_id=assessment.id))
    return _page("assessments/form.html", form, person, 400, case=case, assessment=None)


def _visible(assessment_id: uuid.UUID) -> RiskAssessment:
    assessment = lookups.record(RiskAssessment, assessment_id)
    if assessment is None or not policy.can_view_assessment(current_user, assessment):
        if assessment is not None:
            audit.record("access.refused", record=assessment, details={"reason": "record not visible"})
        abort(404)
    return assessment


@bp.get("/risk-assessments/<uuid:assessment_id>")
@require(Permission.VIEW_RECORDS)
def show(assessment_id: uuid.UUID) -> ResponseReturnValue:
    assessment = _visible(assessment_id)
    audit.record_view(assessment)
    person = assessment.person
    proposal = open_hrda = None
    if assessment.complete:
        proposal = assessments.hrda_proposal(person, assessment=assessment, today=today())
        open_hrda = referrals.open_referral_seen_by(person, ReferralType.HRDA, viewer=current_user)
    checklist = assessment.checklist
    rows = [(n, text, checklist.answers.get(n), checklist.notes.get(n)) for n, text in dash.QUESTIONS.items()]
    return render_template(
        "assessments/show.html", assessment=assessment, person=person, answer_rows=rows, proposal=proposal,
        open_hrda=open_hrda, names=user_names({assessment.assessor_id}), bands=assessments.bands(),
        can_edit=policy.can_edit_assessment(current_user, assessment),
        can_refer=policy.can(current_user, Permission.REFER) and assessments.is_victim(person.id))


@bp.route("/risk-assessments/<uuid:assessment_id>/edit", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def edit(assessment_id: uuid.UUID) -> ResponseReturnValue:
    assessment = _visible(assessment_id)
    if not policy.can_edit_assessment(current_user, assessment):
        flash("A completed checklist is kept as it was: start a new one to assess again")
        return redirect(url_for("assessments.show", assessment_id=assessment.id))
    person = assessment.person
    case = lookups.record(Case, assessment.case_id) if assessment.case_id else None
    if request.method == "GET":
        return _page("assessments/form.html", _form_of(assessment), person, 200, case=case, assessment=assessment)
    form = ChecklistForm()
    complete = request.form.get("action") == "complete"
    if form.validate():
        try:
            assessments.save_draft(assessment, version=form_version(form), by=current_user, answers=form.answers(),
                                   notes=form.notes(), judged_high=bool(form.judged_high.data),
                                   reason=form.reason.data, complete=complete, today=today())
        except versioning.StaleEdit as e:
            return stale_page(e, kind="risk assessment", labels=STALE_LABELS,
                              back=url_for("assessments.show", assessment_id=assessment.id),
                              shown={"answers": "changed", "notes": "changed"})
        except assessments.NotAVictim as e:
            db.session.rollback()
            return not_a_victim(person, str(e))
        except assessments.AssessmentError as e:
            _save_error(form, e)
        else:
            flash("DASH checklist completed" if complete else "Draft saved")
            return redirect(url_for("assessments.show", assessment_id=assessment.id))
    return _page("assessments/form.html", form, person, 400, case=case, assessment=assessment)


STALE_LABELS = {"answers": "Answers", "notes": "Notes", "score": "Score", "level": "Risk level",
                "judged_high": "Professional judgement", "judgement_reason": "Reason for the judgement",
                "status": "Status"}


# --- on a person's page ----------------------------------------------------------------------


def _person_assessments(person: Person, viewer: Any) -> dict[str, Any]:
    found = assessments.history(person, viewer=viewer)
    return {"assessments": found, "assessors": user_names({a.assessor_id for a in found}),
            "can_assess": policy.can_edit(viewer, person) and assessments.is_victim(person.id)}


add_section("assessments/_person_section.html", _person_assessments, order=30)
