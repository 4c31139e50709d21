"""Referrals: make one for a person (HRDA, IDVA, MAPPA, perpetrator programme), the referral page
with the receiving side's decision, a perpetrator programme's progress, closing; the lists."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField

from ... import policy, words
from ...auth import navigation
from ...auth.guard import require, visible_or_404
from ...forms import Form, OnlyWhen, Required, choices
from ...models import (
    Agency,
    Case,
    Consent,
    Person,
    ProgrammeOutcome,
    Referral,
    ReferralStatus,
    ReferralType,
    RiskAssessment,
)
from ...policy import Permission
from ...risk.dash import Criterion
from ...services import assessments, audit, cases, lookups, referral_routes, referrals, versioning
from ..shared.confirm import confirm_page, confirmed
from ..shared.fields import DateInputField, MultiCheckbox
from ..shared.person_page import add_section
from ..shared.record_pages import (
    agency_names,
    form_version,
    not_a_victim,
    paged,
    stale_page,
    today,
    user_names,
)
from . import bp

navigation.add("Referrals", "referrals.index", Permission.VIEW_RECORDS, order=30)

LEVELS = [("1", "1"), ("2", "2"), ("3", "3")]
MAPPA_CATEGORIES = [("1", "1: registered sexual offenders"),
                    ("2", "2: violent offenders (12 months or more, or a hospital order) and other sexual offenders"),
                    ("3", "3: other dangerous offenders")]
MAPPA_LEVELS = [("1", "1: ordinary agency management"), ("2", "2: active multi-agency management"),
                ("3", "3: multi-agency management with senior staff")]
YES_NO = [("yes", "Yes"), ("no", "No")]


class ReferralForm(Form):
    type = HiddenField()
    assessment = HiddenField()
    receiving_agency = RadioField("Which service should receive the referral?", validate_choice=False)
    consent = RadioField("Did the person consent to the referral?", choices=choices(Consent.choices()),
                         validate_choice=False, validators=[Required("Select whether the person gave consent")])
    # Asked under each answer without consent (a reveal each, so each has its own box).
    lawful_basis_refused = TextAreaField("Lawful basis for sharing without consent", validators=[
        OnlyWhen("consent", {Consent.REFUSED.value}),
        Required("Enter the lawful basis for sharing without consent")])
    lawful_basis_not_sought = TextAreaField("Lawful basis for sharing without consent", validators=[
        OnlyWhen("consent", {Consent.NOT_SOUGHT.value}),
        Required("Enter the lawful basis for sharing without consent")])
    reason = TextAreaField("Reason for the referral")
    case = SelectField("Case", validate_choice=False)
    criteria = MultiCheckbox("HRDA referral criteria", choices=choices([(c.value, c.label) for c in Criterion]),
                             validate_choice=False)
    dash_score = StringField("DASH score", validators=[OnlyWhen("type", {ReferralType.HRDA.value})])
    children_in_household = RadioField("Are there children in the household?", choices=choices(YES_NO),
                                       validate_choice=False, validators=[
                                           OnlyWhen("type", {ReferralType.HRDA.value}),
                                           Required("Select whether there are children in the household")])
    mappa_category = RadioField("MAPPA category", choices=choices(MAPPA_CATEGORIES), validate_choice=False,
                                validators=[OnlyWhen("type", {ReferralType.MAPPA.value}),
                                            Required("Select the MAPPA category (1, 2 or 3)")])
    mappa_level = RadioField("MAPPA level", choices=choices(MAPPA_LEVELS), validate_choice=False,
                             validators=[OnlyWhen("type", {ReferralType.MAPPA.value}),
                                         Required("Select the MAPPA level (1, 2 or 3)")])


class DecisionForm(Form):
    decision = RadioField("Your decision", choices=choices([("accept", "Accept"), ("decline", "Decline")]),
                          validate_choice=False,
                          validators=[Required("Select whether you accept or decline the referral")])
    reason = TextAreaField("Reason for declining", validators=[
        OnlyWhen("decision", {"decline"}), Required("Enter the reason for declining")])
    version = HiddenField()


class ProgrammeForm(Form):
    started_on = DateInputField("Started")
    ended = RadioField("Has the programme ended?", choices=choices([("no", "No, not yet"), ("yes", "Yes")]),
                       validate_choice=False, default="no")
    # Asked under "Yes" only (a conditional reveal): for "No" what was posted is ignored and cleared.
    ended_on = DateInputField("Ended", required="Enter the date the programme ended",
                              validators=[OnlyWhen("ended", {"yes"})])
    outcome = RadioField("Outcome", choices=choices(ProgrammeOutcome.choices()), validate_choice=False,
                         validators=[OnlyWhen("ended", {"yes"}), Required("Select the programme's outcome")])
    version = HiddenField()


class CloseForm(Form):
    version = HiddenField()


def _int(value: str | None, field: Any, what: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit():
        field.errors = [f"{what} must be a whole number"]
        raise ValueError(what)
    return int(value)


def _get(model: type, value: str | None) -> Any:
    try:
        return lookups.record(model, uuid.UUID(value)) if value else None
    except ValueError:
        return None


def _kind(value: str | None) -> ReferralType | None:
    try:
        return ReferralType(value) if value else None
    except ValueError:
        return None


def _form_choices(form: ReferralForm, person: Person, kind: ReferralType | None) -> None:
    """The destination follows from the referral routes: only services someone can act on, by name."""
    services = referral_routes.services(kind) if kind is not None else []
    form.receiving_agency.choices = choices([(str(r.agency_id), r.agency.name) for r in services])
    if kind is not None and len(services) > 1:  # a choice to make: asked with the form's other questions
        form.receiving_agency.validators = [Required(f"Select the service receiving the {kind.label} referral")]
    form.case.choices = choices([("", "Not within a case")] + [
        (str(c.id), f"{c.kind.label} case opened {words.day(c.created_at)}")
        for c in cases.cases_of_person(person, viewer=current_user)])


def _assessment_for(person: Person, value: str | None) -> RiskAssessment | None:
    """The DASH checklist the form names, only when it is this person's, completed, and the user may
    see it (never another agency's draft): what the form shows and pre-fills from, on every path, as
    `referrals.refer` accepts it."""
    assessment: RiskAssessment | None = _get(RiskAssessment, value)
    if assessment is None or assessment.person_id != person.id or not assessment.complete \
            or not policy.can_view_assessment(current_user, assessment):
        return None
    return assessment


def _new_page(form: ReferralForm, person: Person, kind: ReferralType, status: int,
              extra_errors: list[dict[str, str]] | None = None) -> ResponseReturnValue:
    assessment = _assessment_for(person, form.assessment.data)
    proposal = None
    if kind is ReferralType.HRDA:
        proposal = assessments.hrda_proposal(person, assessment=assessment, today=today())
    return render_template("referrals/new.html", form=form, person=person, kind=kind, assessment=assessment,
                           proposal=proposal, errors=(extra_errors or []) + form.error_list(),
                           existing=referrals.open_referral_seen_by(person, kind, viewer=current_user)), status


@bp.route("/people/<uuid:person_id>/referrals/new", methods=["GET", "POST"])
@require(Permission.REFER)
def new(person_id: uuid.UUID) -> ResponseReturnValue:
    person = visible_or_404(Person, person_id)
    if request.method == "GET":
        kind = _kind(request.args.get("type"))
        victim = assessments.is_victim(person.id)
        if kind is None:
            return render_template("referrals/choose.html", person=person, victim=victim,
                                   kinds=[k for k in ReferralType if victim or k is not ReferralType.HRDA])
        if kind is ReferralType.HRDA and not victim:
            return not_a_victim(person, referrals.NOT_A_VICTIM.format(name=person.display_name))
        form = ReferralForm(formdata=None, data={"type": kind.value, "assessment": request.args.get("assessment", ""),
                                                 "case": request.args.get("case", "")})
        _form_choices(form, person, kind)
        assessment = _assessment_for(person, form.assessment.data)
        if kind is ReferralType.HRDA:
            proposal = assessments.hrda_proposal(person, assessment=assessment, today=today())
            form.criteria.data = [c.value for c in proposal.criteria]
            if assessment is not None:
                form.dash_score.data = str(assessment.score)
        return _new_page(form, person, kind, 200)
    form = ReferralForm()
    kind = _kind(form.type.data)
    if kind is None:
        abort(400)
    _form_choices(form, person, kind)
    valid = form.validate()
    numbers: dict[str, int | None] = {}
    for name, what in (("dash_score", "The DASH score"), ("mappa_category", "The MAPPA category"),
                       ("mappa_level", "The MAPPA level")):
        if not getattr(form, name).errors:
            try:
                numbers[name] = _int(getattr(form, name).data, getattr(form, name), what)
            except ValueError:
                valid = False  # the field says what is wrong
    if valid:
        try:
            referral = referrals.refer(
                person, kind=kind, receiving_agency=_get(Agency, form.receiving_agency.data),
                consent=Consent(form.consent.data) if form.consent.data in {c.value for c in Consent} else None,
                lawful_basis=form.lawful_basis_refused.data or form.lawful_basis_not_sought.data,
                reason=form.reason.data, by=current_user, today=today(),
                case=_get(Case, form.case.data), assessment=_get(RiskAssessment, form.assessment.data),
                criteria=form.criteria.data or [],
                children_in_household={"yes": True, "no": False}.get(form.children_in_household.data or ""),
                **numbers)
        except referrals.NotAllowed:
            abort(403)
        except referrals.NotAVictim as e:
            return not_a_victim(person, str(e))
        except referrals.AlreadyReferred as e:
            return _new_page(form, person, kind, 400, extra_errors=[{"text": str(e), "href": "#existing"}])
        except referrals.ReferralError as e:
            if e.field == "lawful_basis":
                e.field = f"lawful_basis_{form.consent.data}"
            field = getattr(form, e.field, None) if e.field else None
            (field if field is not None else form.receiving_agency).errors = [str(e)]
        else:
            flash(f"{kind.label} referral made")
            return redirect(url_for("referrals.show", referral_id=referral.id))
    return _new_page(form, person, kind, 400)


# --- the referral page -------------------------------------------------------------------------


def _referral_page(referral: Referral, *, status: int = 200, decision: DecisionForm | None = None,
                   programme: ProgrammeForm | None = None) -> ResponseReturnValue:
    viewer = current_user
    can_decide = policy.can_decide_referral(viewer, referral) and referral.status is ReferralStatus.SUBMITTED
    decision = decision or DecisionForm(formdata=None, data={"version": referral.version})
    programme = programme or ProgrammeForm(formdata=None, data={
        "started_on": referral.started_on, "ended": "yes" if referral.ended_on else "no",
        "ended_on": referral.ended_on, "outcome": referral.outcome.value if referral.outcome else "",
        "version": referral.version})
    follow_up = referrals.may_follow_up(viewer, referral)
    errors = decision.error_list() + programme.error_list()
    case = lookups.record(Case, referral.case_id) if referral.case_id else None
    return render_template(
        "referrals/show.html", referral=referral, person=referral.person,
        case=case if case is not None and policy.can_view(viewer, case) else None,
        criteria=referrals.criteria_of(referral), agencies=agency_names(),
        names=user_names({referral.referred_by_id, referral.decided_by_id}), can_decide=can_decide,
        outcome=referrals.outcome_of(referral, viewer=viewer),
        overdue=referral_routes.is_overdue(referral, today=today()),
        decision=decision, programme=programme, errors=errors,
        can_record_programme=follow_up and referral.type is ReferralType.PERPETRATOR_PROGRAMME
        and referral.status is ReferralStatus.ACCEPTED,
        can_close=follow_up and referral.status in (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED)), status


@bp.get("/referrals/<uuid:referral_id>")
@require(Permission.VIEW_RECORDS)
def show(referral_id: uuid.UUID) -> ResponseReturnValue:
    referral = visible_or_404(Referral, referral_id)
    audit.record_view(referral)
    return _referral_page(referral)


def _stale(error: versioning.StaleEdit, referral: Referral) -> ResponseReturnValue:
    return stale_page(error, kind="referral", back=url_for("referrals.show", referral_id=referral.id), labels={
        "status": "Status", "decision_reason": "Reason for the decision", "started_on": "Started",
        "ended_on": "Ended", "outcome": "Outcome"})


@bp.post("/referrals/<uuid:referral_id>/decision")
@require(Permission.EDIT_RECORDS)
def decide(referral_id: uuid.UUID) -> ResponseReturnValue:
    referral = visible_or_404(Referral, referral_id)
    if not policy.can_decide_referral(current_user, referral):
        audit.record("access.refused", record=referral, details={"reason": "not the receiving side"})
        abort(403)
    form = DecisionForm()
    if not form.validate() or form.decision.data not in ("accept", "decline"):
        if not form.errors:
            form.decision.errors = ["Select whether you accept or decline the referral"]
        return _referral_page(referral, status=400, decision=form)
    try:
        referrals.decide(referral, accept=form.decision.data == "accept", reason=form.reason.data,
                         version=form_version(form), by=current_user)
    except versioning.StaleEdit as e:
        return _stale(e, referral)
    except referrals.ReferralError as e:
        (form.reason if e.field == "reason" else form.decision).errors = [str(e)]
        return _referral_page(referral, status=400, decision=form)
    flash(f"Referral {referral.status.label.lower()}")
    return redirect(url_for("referrals.show", referral_id=referral.id))


@bp.post("/referrals/<uuid:referral_id>/programme")
@require(Permission.EDIT_RECORDS)
def programme(referral_id: uuid.UUID) -> ResponseReturnValue:
    referral = visible_or_404(Referral, referral_id)
    if not referrals.may_follow_up(current_user, referral):
        abort(403)
    form = ProgrammeForm()
    if form.validate():
        outcome = form.outcome.data if form.outcome.data in {o.value for o in ProgrammeOutcome} else None
        try:
            referrals.record_programme(referral, version=form_version(form), started_on=form.started_on.data,
                                       ended_on=form.ended_on.data,
                                       outcome=ProgrammeOutcome(outcome) if outcome else None, by=current_user)
        except versioning.StaleEdit as e:
            return _stale(e, referral)
        except referrals.ReferralError as e:
            getattr(form, e.field or "started_on").errors = [str(e)]
        else:
            flash("Programme details saved")
            return redirect(url_for("referrals.show", referral_id=referral.id))
    return _referral_page(referral, status=400, programme=form)


@bp.route("/referrals/<uuid:referral_id>/close", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def close(referral_id: uuid.UUID) -> ResponseReturnValue:
    """Close the referral, after a page saying what closing it changes."""
    referral = visible_or_404(Referral, referral_id)
    if not referrals.may_follow_up(current_user, referral):
        abort(403)
    if not confirmed():
        name = referral.person.display_name
        kind = referral.type.label
        effects = [(f"The {kind} referral of {name} will be closed: its decision and details stay on the record, "
                   "and nothing more can be recorded on it.")]
        if referral.type is ReferralType.PERPETRATOR_PROGRAMME:
            effects.append("Programme details can no longer be changed.")
        effects.append(f"A new {kind} referral of {name} can then be made; it will count as a repeat "
                       "referral if made within 365 days of this one." if referral.type is ReferralType.HRDA
                       else f"A new {kind} referral of {name} can then be made.")
        return confirm_page(heading=f"Close the {kind} referral?", caption=name, effects=effects,
                            action=url_for("referrals.close", referral_id=referral.id), button="Close the referral",
                            back=url_for("referrals.show", referral_id=referral.id),
                            hidden={"version": request.args.get("version") or request.form.get("version")
                                    or referral.version})
    form = CloseForm()
    try:
        referrals.close(referral, version=form_version(form), by=current_user)
    except versioning.StaleEdit as e:
        return _stale(e, referral)
    except referrals.ReferralError as e:
        flash(str(e))
        return _referral_page(referral, status=400)
    flash("Referral closed")
    return redirect(url_for("referrals.show", referral_id=referral.id))


# --- lists ---------------------------------------------------------------------------------------

REFERRAL_SORTS = {"date": Referral.referred_on, "type": Referral.type, "status": Referral.status}


@bp.get("/referrals")
@require(Permission.VIEW_RECORDS)
def index() -> ResponseReturnValue:
    # The list opens on the referrals the agency received where a route leads to it, else on those it
    # made (a police caseworker looking for the referral they made finds it at once).
    box = request.args.get("box") or ("received" if referral_routes.receives(current_user.agency_id) else "sent")
    if box not in ("received", "sent"):
        box = "received"
    query = referrals.visible_referrals(current_user)
    if box == "received":
        query = query.where(Referral.receiving_agency_id == current_user.agency_id)
    else:
        query = query.where(Referral.owner_agency_id == current_user.agency_id)
    status = request.args.get("status", "")
    if status in {s.value for s in ReferralStatus}:
        query = query.where(Referral.status == ReferralStatus(status))
    kind = _kind(request.args.get("type"))
    if kind is not None:
        query = query.where(Referral.type == kind)
    if request.args.get("history") != "yes":
        query = query.where(Referral.imported.is_(False))
    listing = paged(query, sorts=REFERRAL_SORTS, default="-date")
    return render_template("referrals/index.html", listing=listing, box=box, status=status, kind=kind,
                           statuses=ReferralStatus, kinds=ReferralType, agencies=agency_names())


# --- on a person's page ------------------------------------------------------------------------


def _person_referrals(person: Person, viewer: Any) -> dict[str, Any]:
    found = referrals.of_person(person, viewer=viewer)
    return {"referrals": found, "outcomes": referrals.summaries(found, today=today()),
            "can_refer": policy.can(viewer, Permission.REFER)}


add_section("referrals/_person_section.html", _person_referrals, order=20)
