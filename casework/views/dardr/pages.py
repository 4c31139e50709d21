"""Reviews after a death (DARDR): the register, a review's page and its steps (one page each), a
recommendation's progress, and the board's search of the learning (docs/dardr.md)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from ... import policy
from ...auth.guard import require, signed_in
from ...forms import Form, Required, choices
from ...measures.periods import today_in_london
from ...models import Agency, DardrAgencyRequest, LearningTheme, RecommendationStatus, ReviewDecision, User
from ...policy import Permission
from ...services import dardr, lookups
from ..shared.fields import DateInputField
from . import bp


class MultiCheckbox(SelectMultipleField):  # type: ignore[misc]  # WTForms has no types here
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _agencies() -> list[tuple[str, str]]:
    return [("", "Select an agency")] + [(str(a.id), a.name) for a in lookups.active_agencies()]


def _agency(value: str | None) -> Agency | None:
    try:
        return lookups.record(Agency, uuid.UUID(value or ""))
    except ValueError:
        return None


class NewReviewForm(Form):
    notified_on = DateInputField("Date the partnership was notified of the death",
                                 required="Enter the date the partnership was notified")
    subject = StringField("Name of the person who died", [Required("Enter the name of the person who died")])
    circumstances = TextAreaField("Circumstances (optional)")


class DecisionForm(Form):
    decision = RadioField("Will the partnership hold a review?", choices=choices(ReviewDecision.choices()),
                          validate_choice=False, validators=[Required("Select whether the partnership will hold a review")])
    decided_on = DateInputField("Date of the decision", required="Enter the date of the decision")
    reason = TextAreaField("Reason for the decision (required when no review is held)")


class PanelForm(Form):
    chair = StringField("Independent chair", [Required("Enter the independent chair's name")])
    panel = TextAreaField("Panel members and their agencies (optional)")


class RequestForm(Form):
    agency = SelectField("Agency asked for its report", [Required("Select the agency asked for its report")],
                         validate_choice=False)
    requested_on = DateInputField("Date of the request", required="Enter the date of the request")
    due_on = DateInputField("Date the report is due", required="Enter the date the report is due")


class ReceivedForm(Form):
    received_on = DateInputField("Date the report was received", required="Enter the date the report was received")


class ContactForm(Form):
    contacted_on = DateInputField("Date of the contact", required="Enter the date of the contact")
    summary = TextAreaField("What was said", [Required("Enter what was said")])


class MilestonesForm(Form):
    submitted_on = DateInputField("Date submitted to the Home Office quality assurance panel (optional)")
    qa_outcome = TextAreaField("The quality assurance panel's outcome (optional)")
    published_on = DateInputField("Date of publication (optional)")


class RecommendationForm(Form):
    text = TextAreaField("Recommendation", [Required("Enter the recommendation")])
    themes = MultiCheckbox("Learning themes", [Required("Select at least one learning theme")],
                           choices=choices(LearningTheme.choices()), validate_choice=False)
    agency = SelectField("Agency that owns it", [Required("Select the agency that owns the recommendation")],
                         validate_choice=False)
    due_on = DateInputField("Date it is due", required="Enter the date it is due")


class ProgressForm(Form):
    status = RadioField("Status", [Required("Select the recommendation's status")],
                        choices=choices(RecommendationStatus.choices()), validate_choice=False)
    evidence = TextAreaField("Evidence of what was done (required to complete it)")
    completed_on = DateInputField("Date it was completed")


class NameForm(Form):
    user = SelectField("User to name on the review", [Required("Select a user from the list")], validate_choice=False)


@dataclass(frozen=True)
class Step:
    title: str
    form: type[Form]
    save: Callable[[Any, Form, Any], object]  # (review, form, today): calls the service
    done: str
    fill: Callable[[Any, Form], None] | None = None


def _user(value: str | None) -> User | None:
    try:
        return lookups.record(User, uuid.UUID(value or ""))
    except ValueError:
        return None


def _fill_panel(review: Any, form: Any) -> None:
    form.chair.data, form.panel.data = review.chair, review.panel


def _fill_milestones(review: Any, form: Any) -> None:
    for name in ("submitted_on", "published_on"):
        getattr(form, name).process(None, getattr(review, name))
    form.qa_outcome.data = review.qa_outcome


def _fill_decision(review: Any, form: Any) -> None:
    form.decision.data = review.decision.value if review.decision else None
    form.decided_on.process(None, review.decided_on)
    form.reason.data = review.decision_reason


STEPS: dict[str, Step] = {
    "decision": Step("Record the decision", DecisionForm, lambda r, f, t: dardr.decide(
        r, decision=f.decision.data, decided_on=f.decided_on.data, reason=f.reason.data, by=current_user, today=t),
        "Decision recorded", _fill_decision),
    "panel": Step("Record the chair and panel", PanelForm, lambda r, f, t: dardr.set_panel(
        r, chair=f.chair.data, panel=f.panel.data, by=current_user), "Chair and panel recorded", _fill_panel),
    "report-request": Step("Ask an agency for its report", RequestForm, lambda r, f, t: dardr.request_report(
        r, agency=_agency(f.agency.data), requested_on=f.requested_on.data, due_on=f.due_on.data,
        by=current_user, today=t), "Report requested"),
    "family-contact": Step("Log a contact with the family", ContactForm, lambda r, f, t: dardr.add_contact(
        r, contacted_on=f.contacted_on.data, summary=f.summary.data, by=current_user, today=t), "Contact logged"),
    "home-office": Step("Home Office and publication", MilestonesForm, lambda r, f, t: dardr.milestones(
        r, submitted_on=f.submitted_on.data, qa_outcome=f.qa_outcome.data, published_on=f.published_on.data,
        by=current_user, today=t), "Dates recorded", _fill_milestones),
    "recommendation": Step("Add a recommendation", RecommendationForm, lambda r, f, t: dardr.add_recommendation(
        r, text=f.text.data, themes=f.themes.data, agency=_agency(f.agency.data), due_on=f.due_on.data,
        by=current_user, today=t), "Recommendation added"),
    "name": Step("Name a user on the review", NameForm, lambda r, f, t: dardr.name(
        r, user=_user(f.user.data), by=current_user), "User named"),
}


def _choices_for(review: Any, form: Form) -> None:
    if "agency" in form:
        form.agency.choices = choices(_agencies())
    if "user" in form:
        form.user.choices = choices([("", "Select a user")] + [
            (str(u.id), f"{u.name} ({u.agency.name})") for u in dardr.candidates(review)])


def _review_or_404(review_id: uuid.UUID) -> Any:
    review = dardr.get(review_id, viewer=current_user)
    if review is None:
        abort(404)
    return review


def _save(form: Form, save: Callable[[], object], message: str, target: str) -> ResponseReturnValue | None:
    """Validate, call the service, and redirect; or the errors (None)."""
    if form.validate():
        try:
            save()
        except dardr.DardrError as e:
            getattr(form, e.field if e.field and e.field in form else next(iter(form)).name).errors = [str(e)]
        else:
            flash(message)
            return redirect(target)
    return None


@bp.get("")
@signed_in
def index() -> ResponseReturnValue:
    if not dardr.may_use_register(current_user):
        abort(403)
    today = today_in_london()
    return render_template("dardr/index.html", rows=dardr.register(current_user, today=today), today=today,
                           may_start=dardr.may_start(current_user),
                           may_search=policy.can(current_user, Permission.VIEW_DARDR_LEARNING))


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.RUN_DARDR)
def new() -> ResponseReturnValue:
    form = NewReviewForm()
    if request.method == "POST":
        created: list[Any] = []

        def save() -> None:
            created.append(dardr.create(notified_on=form.notified_on.data, subject=form.subject.data,
                                        circumstances=form.circumstances.data, by=current_user,
                                        today=today_in_london()))

        if form.validate():
            try:
                save()
            except dardr.DardrError as e:
                getattr(form, e.field or "subject").errors = [str(e)]
            else:
                flash(f"Review {created[0].reference} started: only you are named on it")
                return redirect(url_for("dardr.show", review_id=created[0].id))
        return render_template("dardr/step.html", form=form, errors=form.error_list(), review=None,
                               title="Start a review after a death", button="Start the review"), 400
    return render_template("dardr/step.html", form=form, errors=[], review=None,
                           title="Start a review after a death", button="Start the review")


@bp.get("/<uuid:review_id>")
@signed_in
def show(review_id: uuid.UUID) -> ResponseReturnValue:
    review = _review_or_404(review_id)
    today = today_in_london()
    agencies = lookups.agency_names()
    return render_template("dardr/show.html", review=review, today=today, agencies=agencies,
                           stage=dardr.stage(review), decision_due=dardr.decision_due(review.notified_on),
                           decision_late=dardr.decision_late(review.notified_on, decided_on=review.decided_on,
                                                             today=today),
                           named=dardr.named_users(review))


@bp.route("/<uuid:review_id>/<any(" + ", ".join(repr(s) for s in STEPS) + "):step>", methods=["GET", "POST"])
@signed_in
def step(review_id: uuid.UUID, step: str) -> ResponseReturnValue:
    review = _review_or_404(review_id)
    chosen = STEPS[step]
    form = chosen.form()
    _choices_for(review, form)
    target = url_for("dardr.show", review_id=review.id)
    if request.method == "POST":
        done = _save(form, lambda: chosen.save(review, form, today_in_london()), chosen.done, target)
        if done is not None:
            return done
        status = 400
    else:
        if chosen.fill is not None:
            chosen.fill(review, form)
        status = 200
    return render_template("dardr/step.html", form=form, errors=form.error_list(), review=review,
                           title=chosen.title, button="Save"), status


@bp.route("/<uuid:review_id>/reports/<uuid:report_request_id>", methods=["GET", "POST"])
@signed_in
def received(review_id: uuid.UUID, report_request_id: uuid.UUID) -> ResponseReturnValue:
    review = _review_or_404(review_id)
    asked = lookups.record(DardrAgencyRequest, report_request_id)
    if asked is None or asked.review_id != review.id:
        abort(404)
    form = ReceivedForm()
    status = 200
    if request.method == "POST":
        done = _save(form, lambda: dardr.report_received(asked, received_on=form.received_on.data, by=current_user,
                                                         today=today_in_london()),
                     "Report received", url_for("dardr.show", review_id=review.id))
        if done is not None:
            return done
        status = 400
    return render_template("dardr/step.html", form=form, errors=form.error_list(), review=review,
                           title=f"Record {asked.agency.name}'s report as received", button="Save"), status


@bp.route("/recommendations/<uuid:recommendation_id>", methods=["GET", "POST"])
@signed_in
def recommendation(recommendation_id: uuid.UUID) -> ResponseReturnValue:
    found = dardr.recommendation_for(recommendation_id, viewer=current_user)
    if found is None:
        abort(404)
    item, named = found
    form = ProgressForm()
    status = 200
    if request.method == "POST":
        target = url_for("dardr.show", review_id=item.review_id) if named else url_for("home.index")
        done = _save(form, lambda: dardr.update_recommendation(
            item, status=form.status.data, evidence=form.evidence.data, completed_on=form.completed_on.data,
            by=current_user, today=today_in_london()), "Progress recorded", target)
        if done is not None:
            return done
        status = 400
    else:
        form.status.data = item.status.value
        form.evidence.data = item.evidence
        form.completed_on.process(None, item.completed_on)
    row = dardr.row_of(item, as_of=today_in_london())
    return render_template("dardr/recommendation.html", form=form, errors=form.error_list(), row=row,
                           review_id=item.review_id if named else None), status


@bp.get("/learning")
@require(Permission.VIEW_DARDR_LEARNING)
def learning() -> ResponseReturnValue:
    args = request.args
    agency = _agency(args.get("agency"))
    rows = dardr.search(current_user, words=args.get("words", "")[:200], theme=args.get("theme", ""),
                        status=args.get("status", ""), agency_id=agency.id if agency else None,
                        as_of=today_in_london())
    return render_template("dardr/learning.html", rows=rows, args=args, agencies=_agencies()[1:],
                           themes=LearningTheme.choices(), statuses=RecommendationStatus.choices())


@bp.app_template_global()
def dardr_home() -> dict[str, Any]:
    """For templates/home/_dardr.html: the links and the agency's action list."""
    if not current_user.is_authenticated:
        return {}
    return {"register": dardr.may_use_register(current_user),
            "learning": policy.can(current_user, Permission.VIEW_DARDR_LEARNING),
            "actions": dardr.agency_actions(current_user, today=today_in_london()),
            "today": today_in_london()}


class ConfirmForm(Form):
    pass


@bp.post("/<uuid:review_id>/people/<uuid:user_id>/remove")
@signed_in
def remove(review_id: uuid.UUID, user_id: uuid.UUID) -> ResponseReturnValue:
    """Remove a named user from the review, after a confirmation page (their access ends at once)."""
    from ..shared.confirm import confirm_page, confirmed

    review = _review_or_404(review_id)
    user = next((u for u in dardr.named_users(review) if u.id == user_id), None)
    if user is None or not ConfirmForm().validate():
        abort(404 if user is None else 400)
    back = url_for("dardr.show", review_id=review.id)
    if not confirmed():
        return confirm_page(heading=f"Remove {user.name} from review {review.reference}?",
                            caption="Review after a death",
                            effects=[f"{user.name} will no longer see this review, from now on."],
                            action=url_for("dardr.remove", review_id=review.id, user_id=user.id),
                            button="Remove them", back=back)
    try:
        dardr.remove(review, user=user, by=current_user)
    except dardr.DardrError as e:
        flash(str(e))  # nothing changed: the review says why
        return redirect(back)
    flash(f"{user.name} removed from the review")
    return redirect(back if user.id != current_user.id else url_for("dardr.index"))
