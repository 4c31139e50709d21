"""ASB case reviews: apply for a victim (from their page) or an area, the application's page (the
threshold by rule, the decision, the panel, the review and its recommendations, the outcome and an
appeal), the list, the agency's recommendations and the yearly figures with their downloads."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import RadioField, SelectField, StringField, TextAreaField, ValidationError

from ... import policy
from ...auth import navigation
from ...auth.guard import require, visible_or_404
from ...forms import Form, OnlyWhen, Required, choices
from ...measures.export import MEDIA_TYPES, WRITERS, Table
from ...models import (
    Applicant,
    Area,
    AsbRecommendation,
    AsbReview,
    Person,
    ThresholdDecision,
)
from ...policy import Permission
from ...risk import asb_review as rule
from ...services import agencies as agency_service
from ...services import asb_reviews, audit, lookups, worklists
from ..shared.downloads import download as _download
from ..shared.fields import DateInputField
from ..shared.figure_labels import ASB_REVIEW_FIGURES as LABELS
from ..shared.person_page import add_section
from ..shared.record_pages import agency_names, page_number, today, user_names
from . import bp

navigation.add("ASB case reviews", "asb_reviews.index", Permission.VIEW_RECORDS, order=45)

YES_NO = [("yes", "Yes"), ("no", "No")]
WHO = [("victim", "The victim"), ("behalf", "Someone on the victim's behalf")]
ROLES_ON_BEHALF = [("", "Select who they are")] + [(a.value, a.label) for a in Applicant if a is not Applicant.VICTIM]


class ApplicationForm(Form):
    area = SelectField("Area", choices=[], validate_choice=False)
    affected_people = TextAreaField("People affected")
    received_on = DateInputField("Date received", required="Enter the date the application was received",
                                 past_only=True)
    agency = SelectField("Agency that received it", choices=[], validate_choice=False,
                         validators=[Required("Select the agency that received the application")])
    applicant = RadioField("Who applied?", choices=choices(WHO), validate_choice=False,
                           validators=[Required("Select who applied")])
    behalf_role = SelectField("They are", choices=choices(ROLES_ON_BEHALF), validate_choice=False, validators=[
        OnlyWhen("applicant", {"behalf"}), Required("Select who they are")])
    applicant_name = StringField("Their name", validators=[
        OnlyWhen("applicant", {"behalf"}), Required("Enter the name of who applied on the victim's behalf")])
    victim_consent = RadioField("Has the victim consented to the application?", choices=choices(YES_NO),
                                validate_choice=False, validators=[
                                    OnlyWhen("applicant", {"behalf"}),
                                    Required("Select whether the victim consented")])
    behaviour = TextAreaField("The behaviour", validators=[Required("Describe the behaviour")])


class DecisionForm(Form):
    decision = RadioField("Is the threshold met?", choices=choices(ThresholdDecision.choices()),
                          validate_choice=False, validators=[Required("Select whether the threshold is met")])
    decided_on = DateInputField("Date decided", required="Enter the date decided", past_only=True)
    reason = TextAreaField("Reason")


class PanelForm(Form):
    member = SelectField("Panel member", choices=[], validate_choice=False,
                         validators=[Required("Select a user or an agency")])


class HeldForm(Form):
    held_on = DateInputField("Date the review was held", required="Enter the date the review was held",
                             past_only=True)


class RecommendationForm(Form):
    text = TextAreaField("Recommendation", validators=[Required("Enter the recommendation")])
    owner_agency = SelectField("Owner agency", choices=[], validate_choice=False,
                               validators=[Required("Select the agency that owns the recommendation")])
    due_on = DateInputField("Due", required="Enter the date the recommendation is due")


class OutcomeForm(Form):
    sent_on = DateInputField("Date the outcome was sent", required="Enter the date the outcome was sent",
                             past_only=True)


class AppealForm(Form):
    received_on = DateInputField("Date the appeal was received", required="Enter the date the appeal was received",
                                 past_only=True)
    decided_on = DateInputField("Date the appeal was decided", past_only=True)
    upheld = RadioField("Was the appeal upheld?", choices=choices(YES_NO), validate_choice=False)


class DoneForm(Form):
    pass


FORMS: dict[str, type[Form]] = {"decision": DecisionForm, "panel": PanelForm, "held": HeldForm,
                                "recommendation": RecommendationForm, "outcome": OutcomeForm, "appeal": AppealForm}


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _agency_choices(field: Any, prompt: str) -> None:
    field.choices = choices([("", prompt)] + [(str(a.id), a.name) for a in agency_service.offered()])


def _review(review_id: uuid.UUID) -> AsbReview:
    review = asb_reviews.get(review_id, viewer=current_user)
    if review is None:
        abort(404)
    return review


# --- the list, and applying ---------------------------------------------------------------------


@bp.get("/asb-reviews")
@require(Permission.VIEW_RECORDS)
def index() -> ResponseReturnValue:
    return render_template("asb_reviews/index.html", reviews=asb_reviews.visible(current_user), today=today(),
                           steps=asb_reviews.steps, agencies=agency_names(),
                           can_apply=policy.can(current_user, Permission.RECORD_ASB_REVIEWS))


def _affected_ok(form: Form, field: Any) -> None:
    """The service's checks of the people affected, shown with the form's other errors at once."""
    try:
        asb_reviews.check_affected(asb_reviews.affected_list(field.data))
    except asb_reviews.AsbReviewError as e:
        raise ValidationError(str(e)) from None


def _apply(*, person: Person | None) -> ResponseReturnValue:
    form = ApplicationForm() if request.method == "POST" else ApplicationForm(
        formdata=None, data={"agency": str(current_user.agency_id)})
    _agency_choices(form.agency, "Select an agency")
    areas = lookups.areas()
    form.area.choices = choices([("", "Select an area")] + [(str(a.id), a.name) for a in areas])
    if person is None:
        form.area.validators = [Required("Select the area")]
        form.affected_people.validators = [Required("Enter the people affected by the behaviour, one on each line"),
                                           _affected_ok]
    if request.method == "POST" and form.validate():
        area = lookups.record(Area, _uuid(form.area.data)) if person is None and _uuid(form.area.data) else None
        try:
            review = asb_reviews.apply(
                person=person, area=area, received_on=form.received_on.data,
                agency_id=_uuid(form.agency.data) or uuid.uuid4(),
                applicant=Applicant(form.behalf_role.data if form.applicant.data == "behalf" else "victim"),
                applicant_name=form.applicant_name.data, victim_consent=form.victim_consent.data == "yes",
                behaviour=form.behaviour.data, by=current_user, today=today(),
                affected_people=asb_reviews.affected_list(form.affected_people.data) if person is None else None)
        except (asb_reviews.AsbReviewError, ValueError) as e:
            field = getattr(e, "field", None)
            message = str(e) if isinstance(e, asb_reviews.AsbReviewError) else "Select who applied"
            getattr(form, field if field and field in form else "applicant").errors = [message]
        else:
            flash(f"Application {review.review_ref} recorded")
            return redirect(url_for("asb_reviews.show", review_id=review.id))
    status = 400 if request.method == "POST" else 200
    return render_template("asb_reviews/new.html", form=form, person=person, errors=form.error_list()), status


@bp.route("/people/<uuid:person_id>/asb-review", methods=["GET", "POST"])
@require(Permission.RECORD_ASB_REVIEWS)
def apply_for_person(person_id: uuid.UUID) -> ResponseReturnValue:
    person = visible_or_404(Person, person_id)
    if person.merged_into_id is not None:
        abort(404)
    return _apply(person=person)


@bp.route("/asb-reviews/community", methods=["GET", "POST"])
@require(Permission.RECORD_ASB_REVIEWS)
def apply_for_area() -> ResponseReturnValue:
    return _apply(person=None)


# --- the application's page ----------------------------------------------------------------------


def _forms(review: AsbReview, posted: dict[str, Form]) -> dict[str, Form]:
    forms = {name: posted.get(name) or cls(formdata=None, prefix=name) for name, cls in FORMS.items()}
    _agency_choices(forms["recommendation"].owner_agency, "Select an agency")
    conflicted = asb_reviews.handled_by(review) if review.decision is ThresholdDecision.MET else {}
    users = lookups.active_users()
    names = agency_names()
    forms["panel"].member.choices = choices(
        [("", "Select a user or an agency")]
        + [(f"user:{u.id}", f"{u.name} ({names.get(u.agency_id, '')})") for u in users if u.id not in conflicted]
        + [(f"agency:{a.id}", f"{a.name} (the agency)") for a in agency_service.offered()])
    return forms


def _page(review: AsbReview, *, posted: dict[str, Form] | None = None, status: int = 200) -> ResponseReturnValue:
    posted = posted or {}
    forms = _forms(review, posted)
    errors = [e for f in posted.values() for e in f.error_list()]
    coordinator = policy.can(current_user, Permission.COORDINATE_ASB_REVIEWS)
    audit.record("record.view", record=review, record_kind="asb_review")
    return render_template(
        "asb_reviews/show.html", review=review, threshold=asb_reviews.threshold(review),
        steps=asb_reviews.steps(review), today=today(), forms=forms, errors=errors, coordinator=coordinator,
        agencies=agency_names(), users=user_names({m.user_id for m in review.panel} | {review.decided_by_id}),
        handled=asb_reviews.handled_by(review) if coordinator else {},
        may_update=lambda r: asb_reviews.may_update_recommendation(current_user, r),
        done_form=DoneForm(formdata=None), settings=asb_reviews.settings(),
        can_see_person=review.person is not None and policy.can_view(current_user, review.person)), status


@bp.get("/asb-reviews/<uuid:review_id>")
@require(Permission.VIEW_RECORDS)
def show(review_id: uuid.UUID) -> ResponseReturnValue:
    return _page(_review(review_id))


def _step(review_id: uuid.UUID, name: str, run: Any, done: str) -> ResponseReturnValue:
    review = _review(review_id)
    form = FORMS[name](prefix=name)
    if name == "recommendation":
        _agency_choices(form.owner_agency, "Select an agency")
    if form.validate():
        try:
            run(review, form)
        except asb_reviews.AsbReviewError as e:
            target = e.field if e.field in form else next(iter(f.name for f in form if f.name != "csrf_token"))
            form[target].errors = [str(e)]
        else:
            flash(done)
            return redirect(url_for("asb_reviews.show", review_id=review.id, _anchor=name))
    return _page(review, posted={name: form}, status=400)


def _decide(review: AsbReview, form: Any) -> None:
    asb_reviews.decide(review, decision=ThresholdDecision(form.decision.data), decided_on=form.decided_on.data,
                       reason=form.reason.data, by=current_user, today=today())


def _panel(review: AsbReview, form: Any) -> None:
    kind, _, value = (form.member.data or "").partition(":")
    member = _uuid(value)
    if member is None or kind not in {"user", "agency"}:
        raise asb_reviews.AsbReviewError("Select a user or an agency", "member")
    asb_reviews.add_panel_member(review, user_id=member if kind == "user" else None,
                                 agency_id=member if kind == "agency" else uuid.uuid4(), by=current_user)


def _held(review: AsbReview, form: Any) -> None:
    asb_reviews.hold_review(review, held_on=form.held_on.data, by=current_user, today=today())


def _recommend(review: AsbReview, form: Any) -> None:
    asb_reviews.recommend(review, text=form.text.data, owner_agency_id=_uuid(form.owner_agency.data) or uuid.uuid4(),
                          due_on=form.due_on.data, by=current_user)


def _outcome(review: AsbReview, form: Any) -> None:
    asb_reviews.send_outcome(review, sent_on=form.sent_on.data, by=current_user, today=today())


def _appeal(review: AsbReview, form: Any) -> None:
    upheld = {"yes": True, "no": False}.get(form.upheld.data or "")
    asb_reviews.record_appeal(review, received_on=form.received_on.data, decided_on=form.decided_on.data,
                              upheld=upheld, by=current_user, today=today())


# The coordinator's steps, each a form of the application's page posted to a URL of its own:
# (form, URL, endpoint, what it does, what the page then says).
STEPS = (("decision", "decision", "decide", _decide, "Threshold decision recorded"),
         ("panel", "panel", "add_to_panel", _panel, "Added to the panel"),
         ("held", "review", "hold", _held, "Review recorded"),
         ("recommendation", "recommendations", "recommend", _recommend, "Recommendation added"),
         ("outcome", "outcome", "outcome", _outcome, "Outcome recorded as sent"),
         ("appeal", "appeal", "appeal", _appeal, "Appeal recorded"))


def _step_view(name: str, run: Any, done: str) -> Any:
    def view(review_id: uuid.UUID) -> ResponseReturnValue:
        return _step(review_id, name, run, done)
    return view


for _name, _path, _endpoint, _run, _done in STEPS:
    bp.add_url_rule(f"/asb-reviews/<uuid:review_id>/{_path}", _endpoint,
                    require(Permission.COORDINATE_ASB_REVIEWS)(_step_view(_name, _run, _done)), methods=["POST"])


# --- recommendations: the owner agency's action list ------------------------------------------


@bp.get("/asb-reviews/recommendations")
@require(Permission.VIEW_RECORDS)
def recommendations() -> ResponseReturnValue:
    return render_template("asb_reviews/recommendations.html",
                           listing=worklists.asb_recommendations(current_user, today=today(), page=page_number()),
                           today=today(),
                           may_update=lambda r: asb_reviews.may_update_recommendation(current_user, r),
                           done_form=DoneForm(formdata=None))


@bp.post("/asb-recommendations/<uuid:recommendation_id>/done")
@require(Permission.VIEW_RECORDS)
def recommendation_done(recommendation_id: uuid.UUID) -> ResponseReturnValue:
    recommendation = lookups.record(AsbRecommendation, recommendation_id)
    seen = recommendation is not None and (
        recommendation.owner_agency_id == current_user.agency_id
        or asb_reviews.get(recommendation.review_id, viewer=current_user) is not None)
    if not seen or recommendation is None:
        abort(404)
    if not asb_reviews.may_update_recommendation(current_user, recommendation):
        abort(403)
    if not DoneForm().validate():
        abort(400)
    try:
        asb_reviews.complete_recommendation(recommendation, by=current_user, today=today())
    except asb_reviews.AsbReviewError as e:
        flash(str(e))
    else:
        flash("Recommendation marked done")
    back = request.form.get("back")
    if back == "review" and asb_reviews.get(recommendation.review_id, viewer=current_user) is not None:
        return redirect(url_for("asb_reviews.show", review_id=recommendation.review_id, _anchor="recommendations"))
    return redirect(url_for("asb_reviews.recommendations"))


# --- the yearly figures ------------------------------------------------------------------------


def figures_table(published: dict[str, object]) -> Table:
    return Table(f"ASB case reviews {published['year']}".replace("/", "-"), ["figure", "count"],
                 [[LABELS[k], published[k]] for k in rule.FIGURE_KEYS])  # type: ignore[list-item]


@bp.get("/asb-reviews/figures")
@require(Permission.VIEW_MEASURES)
def figures() -> ResponseReturnValue:
    day = today()
    year = (request.args.get("year") or rule.year_of(day)).strip()
    suppress = request.args.get("suppress") == "y"
    try:
        published = asb_reviews.figures(year=year, as_of=day)
    except rule.BadYear as e:
        return render_template("asb_reviews/figures.html", error=str(e), year=year, published=None,
                               labels=LABELS, keys=rule.FIGURE_KEYS, formats=list(WRITERS), suppress=suppress), 400
    shown = rule.suppressed(published) if suppress else published
    fmt = request.args.get("download")
    if fmt:
        if fmt not in WRITERS:
            abort(404)
        name = f"asb-case-reviews-{year.replace('/', '-')}.{fmt}"
        return _download(WRITERS[fmt]([figures_table(shown)]), MEDIA_TYPES[fmt], name)
    return render_template("asb_reviews/figures.html", published=shown, year=year, labels=LABELS,
                           keys=rule.FIGURE_KEYS, formats=list(WRITERS), suppress=suppress, error=None)


# --- on the home page and a person's page --------------------------------------------------------


@bp.app_template_global("asb_review_work")
def asb_review_work() -> dict[str, Any]:
    """For the home page: the steps due of the applications the user coordinates or is caseworker
    of, and their agency's open recommendations."""
    if not policy.can(current_user, Permission.VIEW_RECORDS):
        return {"clocks": [], "recommendations": None}
    day = today()
    return {"clocks": asb_reviews.clocks(current_user, today=day), "today": day,
            "recommendations": worklists.asb_recommendations(current_user, today=day)}


def _person_reviews(person: Person, viewer: Any) -> dict[str, Any]:
    return {"reviews": asb_reviews.visible(viewer, person_id=person.id),
            "can_apply": policy.can(viewer, Permission.RECORD_ASB_REVIEWS) and person.merged_into_id is None}


add_section("asb_reviews/_person_section.html", _person_reviews, order=25)
