"""Every route and method of the app, with who may use it: checked by
tests/integration/test_access_policy.py, which fails for a route missing here.

To add a route: add `("METHOD", "blueprint.endpoint"): Route(...)`.
- `Route(PUBLIC)`: anyone, signed in or not.
- `Route(SIGNED_IN)` / `Route(roles("caseworker", "manager"))`: those roles; others get 403,
  anonymous users are sent to sign in.
- `record="person"` (or incident, case, referral) for a route with the record's id in its URL
  (named by `record_arg`): allowed roles may use it for a record of their own agency or one shared
  with it, and get 404 for another agency's record and for an id that does not exist.
- `args=lambda ctx: {...}` gives the other URL values (ctx: see the test's `Context`);
  `data=lambda ctx: {...}` the form posted (default: nothing, which a form refuses with 400).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ROLES = ("caseworker", "hrda_chair", "manager", "admin")
# The board officer (issue 18) sees no case data: checked once a route, apart from the walk of every
# route with each role and record (tests/integration/test_access_policy.py), which it would lengthen by
# a fifth.
ALL_ROLES = (*ROLES, "board_officer")
PUBLIC = frozenset({"*"})
SIGNED_IN = frozenset(ALL_ROLES)


def roles(*names: str) -> frozenset[str]:
    unknown = set(names) - set(ALL_ROLES)
    assert not unknown, f"unknown roles {unknown}"
    return frozenset(names)


@dataclass(frozen=True)
class Route:
    allowed: frozenset[str]
    record: str | None = None
    record_arg: str | None = None
    args: Callable[[Any], dict[str, Any]] | None = None
    data: Callable[[Any], dict[str, Any]] | None = None
    # Statuses an allowed user may get besides 2xx/3xx (e.g. 400 for an empty form).
    also_ok: frozenset[int] = field(default_factory=lambda: frozenset({400}))

    @property
    def public(self) -> bool:
        return self.allowed == PUBLIC


def _target_user(ctx: Any) -> dict[str, Any]:
    return {"user_id": ctx.target_user.id}


def _target_agency(ctx: Any) -> dict[str, Any]:
    return {"agency_id": ctx.target_user.agency_id}


def _asb_review(ctx: Any) -> dict[str, Any]:
    """An application received by the users' own agency, recorded by its caseworker (who sees it, as
    its managers do; its HRDA chair does not: 404), met and reviewed, with one recommendation the
    agency owns (ASB case reviews)."""
    import datetime as dt

    from casework.db import db
    from casework.models import Applicant, AsbRecommendation, AsbReview, ThresholdDecision
    from tests.factories import PersonFactory

    if not hasattr(ctx, "records"):  # a context that makes no records (tests/integration/test_security.py)
        return {"review_id": uuid.uuid4(), "recommendation_id": uuid.uuid4()}
    if ("asb_review", "own") not in ctx.records:
        person = PersonFactory(owner_agency_id=ctx.own_agency.id)
        review = AsbReview(review_ref=f"ASB-{uuid.uuid4().hex[:8]}", person_id=person.id,
                           received_on=dt.date(2025, 8, 1), receiving_agency_id=ctx.own_agency.id,
                           caseworker_id=ctx.users["caseworker"].id, applicant=Applicant.RELATIVE,
                           victim_consent=True, decision=ThresholdDecision.MET, decided_on=dt.date(2025, 8, 5),
                           review_held_on=dt.date(2025, 8, 20))
        review.applicant_name, review.behaviour, review.decision_reason = "Relative", "Noise", "Vulnerable"
        db.session.add(review)
        db.session.flush()
        recommendation = AsbRecommendation(review_id=review.id, owner_agency_id=ctx.own_agency.id,
                                           due_on=dt.date(2025, 9, 1))
        recommendation.text = "Visit"
        db.session.add(recommendation)
        db.session.commit()  # kept when a refused request rolls the session back
        ctx.records[("asb_review", "own")] = (review.id, recommendation.id)
    review_id, recommendation_id = ctx.records[("asb_review", "own")]
    return {"review_id": review_id, "recommendation_id": recommendation_id}


def _asb_review_routes() -> dict[tuple[str, str], Route]:
    viewers = roles("caseworker", "hrda_chair", "manager")

    def review(ctx: Any) -> dict[str, Any]:
        return {"review_id": _asb_review(ctx)["review_id"]}

    routes = {
        ("GET", "asb_reviews.index"): Route(viewers),
        ("GET", "asb_reviews.recommendations"): Route(viewers),
        # the yearly figures are for the partnership's website: the board officer reads them too
        ("GET", "asb_reviews.figures"): Route(roles("caseworker", "hrda_chair", "manager", "board_officer")),
        ("GET", "asb_reviews.apply_for_area"): Route(roles("caseworker")),
        ("POST", "asb_reviews.apply_for_area"): Route(roles("caseworker")),
        ("GET", "asb_reviews.apply_for_person"): Route(roles("caseworker"), record="person"),
        ("POST", "asb_reviews.apply_for_person"): Route(roles("caseworker"), record="person"),
        # (the HRDA chair: 404, not on the application)
        ("GET", "asb_reviews.show"): Route(viewers, also_ok=frozenset({404}), args=review),
        # (the HRDA chair: 403, neither recording applications nor overseeing the owner agency)
        ("POST", "asb_reviews.recommendation_done"): Route(viewers, also_ok=frozenset({400, 403}), args=lambda ctx: {
            "recommendation_id": _asb_review(ctx)["recommendation_id"]}),
    }
    for step in ("decide", "add_to_panel", "hold", "recommend", "outcome", "appeal"):
        routes[("POST", f"asb_reviews.{step}")] = Route(roles(), args=review)
    return routes


POLICY: dict[tuple[str, str], Route] = {
    # foundation
    ("GET", "static"): Route(PUBLIC, args=lambda ctx: {"filename": "css/casework.css"}),
    ("GET", "about.accessibility"): Route(PUBLIC),
    ("GET", "about.privacy"): Route(PUBLIC),
    ("GET", "health.healthz"): Route(PUBLIC, also_ok=frozenset({503})),
    ("GET", "home.index"): Route(SIGNED_IN),
    ("GET", "worklists.cases"): Route(roles("caseworker", "hrda_chair")),
    ("GET", "worklists.reviews"): Route(roles("caseworker", "hrda_chair")),
    ("GET", "worklists.tasks"): Route(roles("caseworker", "hrda_chair")),
    ("POST", "worklists.handed_seen"): Route(roles("caseworker", "hrda_chair")),
    ("GET", "team.index"): Route(roles("manager")),
    ("GET", "share_requests.ask"): Route(roles("caseworker", "hrda_chair"), also_ok=frozenset({404}),
                                         args=lambda ctx: {"token": "not-a-reference"}),
    ("POST", "share_requests.ask"): Route(roles("caseworker", "hrda_chair"), also_ok=frozenset({400, 404}),
                                          args=lambda ctx: {"token": "not-a-reference"}),
    ("GET", "share_requests.decide"): Route(roles("manager"), also_ok=frozenset({404}),
                                            args=lambda ctx: {"request_id": uuid.uuid4()}),
    ("POST", "share_requests.decide"): Route(roles("manager"), also_ok=frozenset({400, 404}),
                                             args=lambda ctx: {"request_id": uuid.uuid4()}),
    ("GET", "team.member"): Route(roles("manager"), also_ok=frozenset({404}),
                                  args=lambda ctx: {"user_id": ctx.target_user.id}),
    ("POST", "team.member"): Route(roles("manager"), also_ok=frozenset({400, 404}),
                                   args=lambda ctx: {"user_id": ctx.target_user.id}),
    # signing in and out
    ("GET", "auth.sign_in"): Route(PUBLIC),
    ("POST", "auth.sign_in"): Route(PUBLIC),
    ("GET", "auth.code"): Route(PUBLIC),
    ("POST", "auth.code"): Route(PUBLIC),
    ("GET", "auth.enrol"): Route(PUBLIC),
    ("POST", "auth.enrol"): Route(PUBLIC),
    ("GET", "auth.enrol_qr_code"): Route(PUBLIC, also_ok=frozenset({404})),
    ("GET", "auth.sign_out_page"): Route(SIGNED_IN),
    ("POST", "auth.sign_out"): Route(PUBLIC),
    ("GET", "auth.set_up"): Route(PUBLIC, args=lambda ctx: {"token": "not-a-token"}, also_ok=frozenset({404})),
    ("POST", "auth.set_up"): Route(PUBLIC, args=lambda ctx: {"token": "not-a-token"}, also_ok=frozenset({404})),
    # own account
    ("GET", "account.index"): Route(SIGNED_IN),
    ("POST", "account.change_password"): Route(SIGNED_IN),
    ("POST", "account.email_choices"): Route(SIGNED_IN),  # the daily digest's opt-out (issue 16)
    # administration
    ("GET", "admin.users_list"): Route(roles("admin")),
    ("GET", "admin.new_user"): Route(roles("admin")),
    ("POST", "admin.new_user"): Route(roles("admin")),
    ("GET", "admin.user"): Route(roles("admin"), args=_target_user),
    ("POST", "admin.user_roles"): Route(roles("admin"), args=_target_user),
    ("POST", "admin.deactivate"): Route(roles("admin"), args=_target_user),
    ("POST", "admin.reactivate"): Route(roles("admin"), args=_target_user),
    ("POST", "admin.reset_second_factor"): Route(roles("admin"), args=_target_user),
    # scheduled jobs and reminders (issue 7)
    ("GET", "jobs.index"): Route(roles("admin")),
    ("GET", "jobs.job"): Route(roles("admin"), args=lambda ctx: {"name": "audit_checkpoint"}),
    ("GET", "jobs.outbox_messages"): Route(roles("admin")),  # the email outbox (issue 16)
    ("POST", "reminders.dismiss"): Route(SIGNED_IN, also_ok=frozenset({400, 404}),
                                         args=lambda ctx: {"reminder_id": "00000000-0000-4000-8000-000000000000"}),
    ("POST", "admin.setup_link"): Route(roles("admin"), args=_target_user),
    ("GET", "admin.agencies_list"): Route(roles("admin")),
    ("GET", "admin.referral_routes_page"): Route(roles("admin")),
    ("POST", "admin.referral_routes_page"): Route(roles("admin")),
    ("POST", "admin.remove_referral_route"): Route(roles("admin"), also_ok=frozenset({404}), args=lambda ctx: {
        "route_id": "00000000-0000-4000-8000-000000000000"}),
    ("GET", "admin.reroute_referral"): Route(roles("admin"), also_ok=frozenset({404}), args=lambda ctx: {
        "referral_id": "00000000-0000-4000-8000-000000000000"}),
    ("POST", "admin.reroute_referral"): Route(roles("admin"), also_ok=frozenset({404}), args=lambda ctx: {
        "referral_id": "00000000-0000-4000-8000-000000000000"}),
    ("POST", "admin.agencies_list"): Route(roles("admin")),
    # The target user's agency has active users: deactivating it is refused (400), as is
    # reactivating an active agency.
    ("GET", "admin.agency"): Route(roles("admin"), args=_target_agency),
    ("POST", "admin.agency"): Route(roles("admin"), args=_target_agency),
    ("POST", "admin.deactivate_agency"): Route(roles("admin"), args=_target_agency),
    ("POST", "admin.reactivate_agency"): Route(roles("admin"), args=_target_agency),
    # --- measures (issue 6): partnership figures for everyone who may view measures; the records
    # behind a figure also need VIEW_RECORDS (the board officer, who reads the measures, has it not).
    ("GET", "measures.index"): Route(roles("caseworker", "hrda_chair", "manager", "board_officer")),
    ("GET", "measures.export"): Route(roles("caseworker", "hrda_chair", "manager", "board_officer"),
                                      args=lambda ctx: {"fmt": "csv"}),
    ("GET", "measures.show"): Route(roles("caseworker", "hrda_chair", "manager", "board_officer"),
                                    args=lambda ctx: {"measure_id": "ASB1"}),
    ("GET", "measures.export_measure"): Route(roles("caseworker", "hrda_chair", "manager", "board_officer"),
                                              args=lambda ctx: {"measure_id": "ASB1", "fmt": "ods"}),
    ("GET", "measures.records"): Route(roles("caseworker", "hrda_chair", "manager"),
                                       args=lambda ctx: {"measure_id": "ASB1"}),
    # --- end of measures ---
    # --- the plan's delivery and local problem-solving (issue 18): everyone signed in reads them; the
    # plan is changed by administrators and board officers; an update by its agencies' users (any role:
    # another agency's user gets 403, tests/integration/test_plan.py); a local problem is recorded by
    # caseworkers, managers and board officers. Not case records: any id not found answers 404.
    ("GET", "plan.index"): Route(SIGNED_IN),
    ("GET", "plan.year"): Route(SIGNED_IN, also_ok=frozenset({404}), args=lambda ctx: {"plan_id": uuid.uuid4()}),
    ("GET", "plan.activity"): Route(SIGNED_IN, also_ok=frozenset({404}),
                                    args=lambda ctx: {"activity_id": uuid.uuid4()}),
    ("POST", "plan.add_update"): Route(SIGNED_IN, also_ok=frozenset({404}),
                                       args=lambda ctx: {"activity_id": uuid.uuid4()}),
    ("GET", "plan.new_activity"): Route(roles("admin", "board_officer"), also_ok=frozenset({404}),
                                        args=lambda ctx: {"priority_id": uuid.uuid4()}),
    ("POST", "plan.new_activity"): Route(roles("admin", "board_officer"), also_ok=frozenset({404}),
                                         args=lambda ctx: {"priority_id": uuid.uuid4()}),
    ("GET", "plan.edit_activity"): Route(roles("admin", "board_officer"), also_ok=frozenset({404}),
                                         args=lambda ctx: {"activity_id": uuid.uuid4()}),
    ("POST", "plan.edit_activity"): Route(roles("admin", "board_officer"), also_ok=frozenset({404}),
                                          args=lambda ctx: {"activity_id": uuid.uuid4()}),
    ("GET", "plan.refresh"): Route(roles("admin", "board_officer"), also_ok=frozenset({404}),
                                   args=lambda ctx: {"plan_id": uuid.uuid4()}),
    ("POST", "plan.refresh"): Route(roles("admin", "board_officer"), also_ok=frozenset({404}),
                                    args=lambda ctx: {"plan_id": uuid.uuid4()}),
    ("GET", "local_problems.index"): Route(SIGNED_IN),
    ("GET", "local_problems.new"): Route(roles("caseworker", "manager", "board_officer")),
    ("POST", "local_problems.new"): Route(roles("caseworker", "manager", "board_officer")),
    ("GET", "local_problems.show"): Route(SIGNED_IN, also_ok=frozenset({404}),
                                          args=lambda ctx: {"problem_id": uuid.uuid4()}),
    ("POST", "local_problems.add_action"): Route(roles("caseworker", "manager", "board_officer"),
                                                 also_ok=frozenset({404}),
                                                 args=lambda ctx: {"problem_id": uuid.uuid4()}),
    ("POST", "local_problems.action_done"): Route(roles("caseworker", "manager", "board_officer"),
                                                  also_ok=frozenset({404}), args=lambda ctx: {
                                                      "problem_id": uuid.uuid4(), "problem_action_id": uuid.uuid4()}),
    ("GET", "local_problems.close"): Route(roles("caseworker", "manager", "board_officer"), also_ok=frozenset({404}),
                                           args=lambda ctx: {"problem_id": uuid.uuid4()}),
    ("POST", "local_problems.close"): Route(roles("caseworker", "manager", "board_officer"),
                                            also_ok=frozenset({404}), args=lambda ctx: {"problem_id": uuid.uuid4()}),

    # orders and powers (issue 17 §2): an order follows its person; only its holding agency changes it
    ("GET", "orders.new"): Route(roles("caseworker", "hrda_chair"), record="person"),
    ("POST", "orders.new"): Route(roles("caseworker", "hrda_chair"), record="person"),
    ("GET", "orders.show"): Route(roles("caseworker", "hrda_chair", "manager"), args=lambda ctx: _order(ctx)),
    ("GET", "orders.edit"): Route(roles("caseworker", "hrda_chair"), args=lambda ctx: _order(ctx)),
    ("POST", "orders.edit"): Route(roles("caseworker", "hrda_chair"), args=lambda ctx: _order(ctx)),
    ("GET", "orders.breach"): Route(roles("caseworker", "hrda_chair"), args=lambda ctx: _order(ctx)),
    ("POST", "orders.breach"): Route(roles("caseworker", "hrda_chair"), args=lambda ctx: _order(ctx)),
    ("GET", "order_measures.index"): Route(roles("caseworker", "hrda_chair", "manager", "board_officer")),
    ("GET", "order_measures.export"): Route(roles("caseworker", "hrda_chair", "manager", "board_officer"),
                                            args=lambda ctx: {"fmt": "csv"}),
    # audit
    ("GET", "audit.index"): Route(roles("manager", "admin")),
    # --- people and incidents (issue 4, sections 1 and 2) ---
    ("GET", "people.search"): Route(roles("caseworker", "hrda_chair", "manager")),
    ("GET", "people.new"): Route(roles("caseworker", "hrda_chair")),
    ("POST", "people.new"): Route(roles("caseworker", "hrda_chair")),
    ("GET", "people.show"): Route(roles("caseworker", "hrda_chair", "manager"), record="person"),
    ("POST", "people.show_address"): Route(roles("caseworker", "hrda_chair", "manager"), record="person"),
    ("GET", "people.edit"): Route(roles("caseworker", "hrda_chair"), record="person"),
    ("POST", "people.edit"): Route(roles("caseworker", "hrda_chair"), record="person"),
    ("GET", "people.merge_choose"): Route(roles("caseworker", "hrda_chair"), record="person"),
    ("GET", "people.merge_records"): Route(roles("caseworker", "hrda_chair"), record="person",
                                           args=lambda ctx: _own_person(ctx, "other_id")),
    ("POST", "people.merge_records"): Route(roles("caseworker", "hrda_chair"), record="person",
                                            args=lambda ctx: _own_person(ctx, "other_id")),
    ("GET", "incidents.index"): Route(roles("caseworker", "hrda_chair", "manager")),
    ("GET", "incidents.new"): Route(roles("caseworker", "hrda_chair")),
    ("POST", "incidents.new"): Route(roles("caseworker", "hrda_chair")),
    ("GET", "incidents.show"): Route(roles("caseworker", "hrda_chair", "manager"), record="incident"),
    ("GET", "incidents.edit"): Route(roles("caseworker", "hrda_chair"), record="incident"),
    ("POST", "incidents.edit"): Route(roles("caseworker", "hrda_chair"), record="incident"),
    ("GET", "incidents.find_person"): Route(roles("caseworker", "hrda_chair"), record="incident"),
    ("GET", "incidents.add_person"): Route(roles("caseworker", "hrda_chair"), record="incident",
                                           args=lambda ctx: _own_person(ctx, "person_id")),
    ("POST", "incidents.add_person"): Route(roles("caseworker", "hrda_chair"), record="incident",
                                            args=lambda ctx: _own_person(ctx, "person_id")),
    ("GET", "incidents.remove_person"): Route(roles("caseworker", "hrda_chair"), record="incident",
                                              args=lambda ctx: {"party_id": "00000000-0000-4000-8000-000000000000"},
                                              also_ok=frozenset({404})),
    ("POST", "incidents.remove_person"): Route(roles("caseworker", "hrda_chair"), record="incident",
                                               args=lambda ctx: {"party_id": "00000000-0000-4000-8000-000000000000"},
                                               also_ok=frozenset({400, 404})),
    # --- end of people and incidents ---
    # --- cases, DASH risk checklists and referrals (issue 4, sections 3 to 5) ---
    ("GET", "cases.index"): Route(roles("caseworker", "hrda_chair", "manager")),
    ("GET", "cases.new"): Route(roles("caseworker", "hrda_chair"), record="person"),
    ("POST", "cases.new"): Route(roles("caseworker", "hrda_chair"), record="person"),
    ("GET", "cases.show"): Route(roles("caseworker", "hrda_chair", "manager"), record="case"),
    ("GET", "chronology.person"): Route(roles("caseworker", "hrda_chair", "manager"), record="person"),
    ("GET", "chronology.case"): Route(roles("caseworker", "hrda_chair", "manager"), record="case"),
    ("GET", "cases.edit"): Route(roles("caseworker", "hrda_chair"), record="case"),
    ("POST", "cases.edit"): Route(roles("caseworker", "hrda_chair"), record="case"),
    ("POST", "cases.status"): Route(roles("caseworker", "hrda_chair"), record="case"),
    ("GET", "cases.close"): Route(roles("caseworker", "hrda_chair"), record="case"),
    ("POST", "cases.close"): Route(roles("caseworker", "hrda_chair"), record="case"),
    ("GET", "cases.find_person"): Route(roles("caseworker", "hrda_chair"), record="case"),
    ("POST", "cases.link_person"): Route(roles("caseworker", "hrda_chair"), record="case"),
    ("POST", "cases.link_incident"): Route(roles("caseworker", "hrda_chair"), record="case"),
    ("POST", "cases.add_note"): Route(roles("caseworker", "hrda_chair"), record="case"),
    ("POST", "cases.add_task"): Route(roles("caseworker", "hrda_chair"), record="case"),
    ("POST", "cases.task_done"): Route(roles("caseworker", "hrda_chair"), record="case"),
    ("GET", "assessments.new"): Route(roles("caseworker", "hrda_chair"), record="person"),
    ("POST", "assessments.new"): Route(roles("caseworker", "hrda_chair"), record="person"),
    ("GET", "assessments.show"): Route(roles("caseworker", "hrda_chair", "manager"),
                                      args=lambda ctx: _assessment(ctx, "complete")),
    ("GET", "assessments.edit"): Route(roles("caseworker", "hrda_chair"), args=lambda ctx: _assessment(ctx, "draft")),
    ("POST", "assessments.edit"): Route(roles("caseworker", "hrda_chair"), args=lambda ctx: _assessment(ctx, "draft")),
    ("GET", "referrals.index"): Route(roles("caseworker", "hrda_chair", "manager")),
    ("GET", "referrals.new"): Route(roles("caseworker"), record="person"),
    ("POST", "referrals.new"): Route(roles("caseworker"), record="person"),
    ("GET", "referrals.show"): Route(roles("caseworker", "hrda_chair", "manager"), record="referral"),
    # Deciding is for the receiving side only (the test's referrals name no receiving agency): 403.
    ("POST", "referrals.decide"): Route(roles("caseworker", "hrda_chair"), record="referral",
                                        also_ok=frozenset({400, 403})),
    ("POST", "referrals.programme"): Route(roles("caseworker", "hrda_chair"), record="referral",
                                           also_ok=frozenset({400, 403})),
    ("GET", "referrals.close"): Route(roles("caseworker", "hrda_chair"), record="referral",
                                      also_ok=frozenset({403})),
    ("POST", "referrals.close"): Route(roles("caseworker", "hrda_chair"), record="referral",
                                       also_ok=frozenset({400, 403})),
    # --- end of cases, DASH risk checklists and referrals ---
    # --- restricted people and cases (issue 3): the test's records are not restricted, so naming and
    # removing users is refused with 400; restricting and lifting are for the owning agency (403 for
    # a shared record) and need a confirmation the test does not post (400).
    **{(method, f"restricted.{kind}_{action}"): Route(
        roles("caseworker", "hrda_chair"), record=kind, record_arg="record_id", also_ok=also_ok)
       for kind in ("person", "case", "incident")
       for method, action, also_ok in (("GET", "page", frozenset({400})),
                                       ("POST", "restrict", frozenset({400, 403})),
                                       ("POST", "lift", frozenset({400, 403})),
                                       ("POST", "name", frozenset({400})),
                                       ("POST", "remove", frozenset({400})))},
    # Recovery: the test's records are not restricted, so there is nothing to recover (404).
    ("GET", "restricted.orphaned"): Route(roles("caseworker", "hrda_chair")),
    **{(method, "restricted.recover"): Route(
        roles("caseworker", "hrda_chair"), record="person", record_arg="record_id",
        args=lambda ctx: {"kind": "person"}, also_ok=frozenset({400, 404}))
       for method in ("GET", "POST")},
    # --- end of restricted people and cases ---
    # --- HRDA meetings (issue 5): `_meeting` is a meeting chaired by the users' own agency, which
    # it also invites; the referral routes are for HRDA referrals only (the test's are HRDA).
    ("GET", "meetings.index"): Route(roles("caseworker", "hrda_chair")),
    ("GET", "meetings.new"): Route(roles("hrda_chair")),
    ("POST", "meetings.new"): Route(roles("hrda_chair")),
    ("GET", "meetings.show"): Route(roles("caseworker", "hrda_chair"), args=lambda ctx: _meeting(ctx)),
    ("GET", "meetings.agenda"): Route(roles("caseworker", "hrda_chair"), args=lambda ctx: _meeting(ctx)),
    ("GET", "meetings.figures"): Route(roles("caseworker", "hrda_chair"), args=lambda ctx: _meeting(ctx)),
    ("GET", "meetings.change_state"): Route(roles("hrda_chair"), args=lambda ctx: {**_meeting(ctx),
                                                                                  "direction": "start"}),
    ("POST", "meetings.change_state"): Route(roles("hrda_chair"), args=lambda ctx: _meeting(ctx)),
    ("POST", "meetings.move"): Route(roles("hrda_chair"), args=lambda ctx: _meeting(ctx, case=True)),
    ("POST", "meetings.send_agenda"): Route(roles("hrda_chair"), args=lambda ctx: _meeting(ctx),
                                            also_ok=frozenset({400})),  # emailed to the invited (issue 16)
    ("POST", "meetings.research"): Route(roles("caseworker", "hrda_chair"),
                                         args=lambda ctx: _meeting(ctx, case=True)),
    ("POST", "meetings.minutes"): Route(roles("hrda_chair"), args=lambda ctx: _meeting(ctx, case=True)),
    ("POST", "meetings.add_action"): Route(roles("hrda_chair"), args=lambda ctx: _meeting(ctx, case=True)),
    ("GET", "meetings.my_actions"): Route(roles("caseworker", "hrda_chair")),
    ("POST", "meetings.update_action"): Route(roles("caseworker", "hrda_chair"), args=lambda ctx: _action(ctx)),
    ("GET", "hrda.queue"): Route(roles("hrda_chair")),
    ("GET", "hrda.review"): Route(roles("hrda_chair"), record="referral"),
    ("POST", "hrda.decide"): Route(roles("hrda_chair"), record="referral", also_ok=frozenset({400, 403})),
    ("POST", "hrda.place"): Route(roles("hrda_chair"), record="referral", also_ok=frozenset({400, 403})),
    ("GET", "hrda.outstanding"): Route(roles("hrda_chair")),
    ("GET", "hrda.figures"): Route(roles("hrda_chair")),
    # --- end of HRDA meetings ---
    # --- printed forms (issue 16): the same roles and records as each record's page; the walks ask for
    # the ODT (a PDF takes a second or more to render: tests/integration/test_printing.py renders one).
    ("GET", "printing.dash_checklist"): Route(roles("caseworker", "hrda_chair", "manager"),
                                              args=lambda ctx: {**_assessment(ctx, "complete"), "fmt": "odt"}),
    ("GET", "printing.referral"): Route(roles("caseworker", "hrda_chair", "manager"), record="referral",
                                        args=lambda ctx: {"fmt": "odt"}),
    ("GET", "printing.meeting_case"): Route(roles("caseworker", "hrda_chair"),
                                            args=lambda ctx: {**_meeting(ctx, case=True), "fmt": "odt"}),
    ("GET", "printing.person_chronology"): Route(roles("caseworker", "hrda_chair", "manager"), record="person",
                                                 args=lambda ctx: {"fmt": "odt"}),
    ("GET", "printing.case_chronology"): Route(roles("caseworker", "hrda_chair", "manager"), record="case",
                                               args=lambda ctx: {"fmt": "odt"}),
    # --- end of printed forms ---

    # ASB case reviews (issue 17): the coordinator's steps are no other role's (403); an application
    # is seen by the coordinator, its panel, its caseworker and the receiving agency's managers (404
    # for anyone else, as for an id that does not exist).
    **_asb_review_routes(),
}


def _meeting(ctx: Any, case: bool = False) -> dict[str, Any]:
    """A meeting chaired by and inviting the users' own agency, with one case (HRDA meetings)."""
    import datetime as dt

    from casework.db import db
    from casework.models import Meeting, MeetingAgency, MeetingCase
    from tests.factories import PersonFactory, ReferralFactory

    if not hasattr(ctx, "records"):  # a context that makes no records (tests/integration/test_security.py)
        import uuid

        return {"meeting_id": uuid.uuid4(), **({"case_id": uuid.uuid4()} if case else {})}
    if ("meeting", "own") not in ctx.records:
        meeting = Meeting(agency_id=ctx.own_agency.id, starts_at=dt.datetime(2030, 1, 7, 10, tzinfo=dt.UTC),
                          place="Room 1")
        meeting.invited = [MeetingAgency(agency_id=ctx.own_agency.id)]
        person = PersonFactory(owner_agency_id=ctx.own_agency.id)
        referral = ReferralFactory(person_id=person.id, owner_agency_id=ctx.own_agency.id, status="accepted")
        db.session.add(meeting)
        db.session.flush()
        db.session.add(MeetingCase(meeting_id=meeting.id, referral_id=referral.id, position=1))
        db.session.commit()  # kept when a refused request rolls the session back
        ctx.records[("meeting", "own")] = meeting
    meeting = ctx.records[("meeting", "own")]
    values: dict[str, Any] = {"meeting_id": meeting.id}
    if case:
        values["case_id"] = meeting.cases[0].id
    return values


def _action(ctx: Any) -> dict[str, Any]:
    """An open action of the meeting above, for the users' own agency (HRDA meetings)."""
    import datetime as dt

    from casework.db import db
    from casework.models import Meeting, MeetingAction

    if not hasattr(ctx, "records"):  # a context that makes no records (tests/integration/test_security.py)
        import uuid

        return {"action_id": uuid.uuid4()}
    if ("meeting_action", "own") not in ctx.records:
        meeting = db.session.get(Meeting, _meeting(ctx)["meeting_id"])
        action = MeetingAction(meeting_case_id=meeting.cases[0].id, agency_id=ctx.own_agency.id,
                               due_on=dt.date(2030, 2, 1))
        action.text = "Call the victim"
        db.session.add(action)
        db.session.commit()
        ctx.records[("meeting_action", "own")] = action
    return {"action_id": ctx.records[("meeting_action", "own")].id}


def _assessment(ctx: Any, status: str) -> dict[str, Any]:
    """A DASH checklist (complete or draft) of a person of the user's own agency (cases, DASH, referrals)."""
    import datetime as dt

    from casework.db import db
    from casework.models import AssessmentStatus, RiskAssessment
    from casework.risk.dash import Checklist
    from tests.factories import PersonFactory

    if not hasattr(ctx, "records"):  # a context that makes no records (tests/integration/test_security.py)
        import uuid

        return {"assessment_id": uuid.uuid4()}
    key = ("risk_assessment", status)
    if key not in ctx.records:
        person = PersonFactory(owner_agency_id=ctx.own_agency.id)
        assessment = RiskAssessment(person_id=person.id, assessor_id=ctx.target_user.id,
                                    owner_agency_id=ctx.own_agency.id, assessed_on=dt.date(2025, 1, 6),
                                    status=AssessmentStatus(status))
        assessment.set_checklist(Checklist())
        db.session.add(assessment)
        db.session.commit()  # kept when a refused request rolls the session back
        ctx.records[key] = assessment
    return {"assessment_id": ctx.records[key].id}


def _own_person(ctx: Any, name: str) -> dict[str, Any]:
    """A person of the user's own agency as a second record in the URL (people and incidents); any id
    where the caller's context makes no records (the security headers test)."""
    import uuid

    return {name: ctx.record_id("person", "own") if hasattr(ctx, "record_id") else uuid.uuid4()}


# --- documents kept with a record (issue 16) ---
def _meeting_case(ctx: Any) -> dict[str, Any]:
    return {"meeting_case_id": _meeting(ctx, case=True)["case_id"]}


def _no_document(ctx: Any) -> dict[str, Any]:
    import uuid

    return {"document_id": uuid.uuid4()}  # (tests/integration/test_documents.py: a real one, and another agency's)


POLICY.update({
    **{(method, f"documents.new_for_{kind}"): Route(roles("caseworker", "hrda_chair"), record=kind)
       for method in ("GET", "POST") for kind in ("person", "case", "incident", "referral")},
    ("GET", "documents.new_for_meeting_case"): Route(roles("caseworker", "hrda_chair"), args=_meeting_case),
    ("POST", "documents.new_for_meeting_case"): Route(roles("caseworker", "hrda_chair"), args=_meeting_case),
    # an order's documents follow the order: seen with its person, added by its holding agency
    ("GET", "documents.new_for_order"): Route(roles("caseworker", "hrda_chair"), args=lambda ctx: _order(ctx)),
    ("POST", "documents.new_for_order"): Route(roles("caseworker", "hrda_chair"), args=lambda ctx: _order(ctx)),
    ("GET", "documents.download"): Route(roles("caseworker", "hrda_chair", "manager"), args=_no_document,
                                         also_ok=frozenset({404})),
    ("GET", "documents.delete"): Route(roles("caseworker", "hrda_chair", "manager"), args=_no_document,
                                       also_ok=frozenset({404})),
    ("POST", "documents.delete"): Route(roles("caseworker", "hrda_chair", "manager"), args=_no_document,
                                        also_ok=frozenset({400, 404})),
})

def _order(ctx: Any) -> dict[str, Any]:
    """An order (a CPW issued in 2025) of a person of the user's own agency, held by that agency;
    any id where the caller's context makes no records."""
    import datetime as dt
    import uuid

    from casework.db import db
    from casework.models import Order, OrderKind
    from tests.factories import PersonFactory

    if not hasattr(ctx, "records"):
        return {"order_id": uuid.uuid4()}
    if ("order", "own") not in ctx.records:
        person = PersonFactory(owner_agency_id=ctx.own_agency.id)
        order = Order(person_id=person.id, kind=OrderKind.CPW, owner_agency_id=ctx.own_agency.id,
                      issued_on=dt.date(2025, 1, 6))
        db.session.add(order)
        db.session.commit()  # kept when a refused request rolls the session back
        ctx.records[("order", "own")] = order
    return {"order_id": ctx.records[("order", "own")].id}

# --- reviews after a death and the MARAC return (issue 18 §3-4) ---
# A review is seen only by those named on it: any other id answers 404 (tests/integration/test_dardr.py).
_ANY_ID = frozenset({400, 404})
POLICY.update({
    ("GET", "dardr.index"): Route(roles("manager")),  # or anyone named on a review
    ("GET", "dardr.new"): Route(roles("manager")),
    ("POST", "dardr.new"): Route(roles("manager")),
    ("GET", "dardr.learning"): Route(roles("manager", "board_officer")),
    **{(method, endpoint): Route(SIGNED_IN, also_ok=_ANY_ID, args=args) for method in ("GET", "POST")
       for endpoint, args in [
           ("dardr.step", lambda ctx: {"review_id": uuid.uuid4(), "step": "decision"}),
           ("dardr.received", lambda ctx: {"review_id": uuid.uuid4(), "report_request_id": uuid.uuid4()}),
           ("dardr.recommendation", lambda ctx: {"recommendation_id": uuid.uuid4()})]},
    ("GET", "dardr.show"): Route(SIGNED_IN, also_ok=_ANY_ID, args=lambda ctx: {"review_id": uuid.uuid4()}),
    ("GET", "marac_return.show"): Route(roles("caseworker", "hrda_chair", "manager", "board_officer")),
    # Equality information: the person's own agency only; a shared person answers 404 (test_marac_return.py).
    ("GET", "equality.edit"): Route(roles("caseworker", "hrda_chair"), record="person", also_ok=_ANY_ID),
    ("POST", "equality.edit"): Route(roles("caseworker", "hrda_chair"), record="person", also_ok=_ANY_ID),
})
POLICY[("POST", "dardr.remove")] = Route(SIGNED_IN, also_ok=_ANY_ID,
                                         args=lambda ctx: {"review_id": uuid.uuid4(), "user_id": uuid.uuid4()})

# --- the board pack (issue 18 §5): managers and board officers; without a meeting date the download is 400 ---
POLICY.update({
    ("GET", "board_pack.show"): Route(roles("manager", "board_officer")),
    ("GET", "board_pack.download"): Route(roles("manager", "board_officer"), also_ok=frozenset({400}),
                                          args=lambda ctx: {"fmt": "html"}),
})
