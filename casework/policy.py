"""Who may do what, and who may see which record: the one place that decides.

Views and services ask this module; they never decide on their own.

Roles and permissions
    `ROLE_PERMISSIONS` maps each role to what it may do. An administrator
    manages users and agencies but sees no case data unless also given another
    role (segregation of duties). A later feature adds a `Permission` member and
    the roles that hold it here, and nowhere else.

Records
    A person, incident, case or referral is visible to users of the agency
    that owns it and of the agencies it is shared with (`Share` rows: by a
    referral, by listing at an HRDA meeting, or explicitly with a reason); a
    referral is also visible to its receiving agency. A restricted record is
    visible only to the users named on it (`RestrictedAccess`), whoever owns it.
    A user of the owning agency who may edit a person, case or incident restricts it or
    lifts the restriction (`can_restrict`); a named user who may edit it names
    others or removes them (`can_manage_restriction`); those named are active
    users who view records, of the owning agency or of one the record is shared
    with (`nameable_filter`). The rules that keep someone named are in
    `casework.services.restricted`.

    Identity matching is the exception: to stop duplicates, any user who may
    search people sees every match's identity (name, date of birth, gender and
    which agencies know them) whatever its agency; a restricted person they are
    not named on is never a match: a search by surname alone says "a restricted
    record may match; ask its owner" (`casework.services.identity`), whatever
    else is known of them (docs/visibility.md).

`can_view` answers for one loaded record; `visible_filter` gives the same
answer as a SQL condition, so lists and searches never fetch a record the user
may not see, and can count the ones left out.
`agency_open_filter` answers for a whole agency rather than one user: what an
agency's export may write in full.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import and_, exists, false, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from .models import Case, Incident, Person, Referral, RestrictedAccess, Role, Share


class Permission(enum.Enum):
    SEARCH_PEOPLE = "search_people"  # identity-only matches across the partnership
    VIEW_RECORDS = "view_records"  # people, incidents, cases, referrals: subject to can_view
    EDIT_RECORDS = "edit_records"
    SHARE_RECORDS = "share_records"
    REFER = "refer"
    DECIDE_REFERRALS = "decide_referrals"  # accept or decline IDVA, MAPPA, programme referrals to one's agency
    CHAIR_HRDA = "chair_hrda"
    VIEW_MEASURES = "view_measures"  # aggregate figures: every agency's records counted
    EXCHANGE_DATA = "exchange_data"  # import and export an agency's records
    VIEW_AUDIT = "view_audit"
    READ_SEARCH_TERMS = "read_search_terms"  # decrypted search terms on the audit page
    SEE_WHO_VIEWED = "see_who_viewed"  # on a person's page: who has looked at them
    MANAGE_USERS = "manage_users"
    MANAGE_AGENCIES = "manage_agencies"
    VIEW_JOBS = "view_jobs"  # the scheduled jobs: schedule, runs, errors (no case data)
    ATTEND_HRDA = "attend_hrda"  # take part in HRDA meetings one's agency is invited to (research, actions)
    OVERSEE_AGENCY = "oversee_agency"  # the home page of a manager: worsened measures, the agency's overdue work
    MANAGE_TEAM = "manage_team"  # the agency's caseworkers' workload; hand cases from one to another
    DECIDE_SHARE_REQUESTS = "decide_share_requests"  # accept or decline another agency's request to share
    EDIT_PLAN = "edit_plan"  # the Community Safety Plan: its activities, and refreshing it for a new year
    RECORD_LOCAL_PROBLEMS = "record_local_problems"  # a locality group's problems, actions and outcomes

    RECORD_ASB_REVIEWS = "record_asb_reviews"  # record an application for an ASB case review
    COORDINATE_ASB_REVIEWS = "coordinate_asb_reviews"  # every application: decide, panel, review, outcome, appeal

    RUN_DARDR = "run_dardr"  # start a review after a death (then only those named on it see it)
    VIEW_DARDR_LEARNING = "view_dardr_learning"  # every review's recommendations, never its personal details
    VIEW_BOARD_PACK = "view_board_pack"  # the partnership board's pack: aggregate figures, no case data


P = Permission

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CASEWORKER: frozenset({
        P.SEARCH_PEOPLE, P.VIEW_RECORDS, P.EDIT_RECORDS, P.SHARE_RECORDS, P.REFER, P.VIEW_MEASURES,
        P.DECIDE_REFERRALS, P.ATTEND_HRDA, P.RECORD_ASB_REVIEWS,
    }),
    Role.HRDA_CHAIR: frozenset({
        P.SEARCH_PEOPLE, P.VIEW_RECORDS, P.EDIT_RECORDS, P.SHARE_RECORDS, P.CHAIR_HRDA, P.VIEW_MEASURES,
        P.ATTEND_HRDA,
    }),
    Role.MANAGER: frozenset({
        P.SEARCH_PEOPLE, P.VIEW_RECORDS, P.VIEW_MEASURES, P.EXCHANGE_DATA, P.VIEW_AUDIT,
        P.READ_SEARCH_TERMS, P.SEE_WHO_VIEWED, P.OVERSEE_AGENCY, P.MANAGE_TEAM, P.DECIDE_SHARE_REQUESTS,
    }),
    # No case data: no VIEW_RECORDS, SEARCH_PEOPLE or READ_SEARCH_TERMS.
    Role.ADMIN: frozenset({P.MANAGE_USERS, P.MANAGE_AGENCIES, P.VIEW_AUDIT, P.VIEW_JOBS}),
    # The partnership's ASB case review coordinator (docs/asb-case-review.md): finds or adds the victim.
    Role.ASB_COORDINATOR: frozenset({
        P.SEARCH_PEOPLE, P.VIEW_RECORDS, P.EDIT_RECORDS, P.VIEW_MEASURES, P.RECORD_ASB_REVIEWS,
        P.COORDINATE_ASB_REVIEWS,
    }),
}

# The partnership's plan (issue 18): the board officer keeps it and reads the measures, never case records,
# so the role may go with any other (an administrator's too: docs/plan.md). Everyone signed in reads the
# plan and the local problems; an activity's update is written by a user of its lead or partner agencies.
ROLE_PERMISSIONS[Role.BOARD_OFFICER] = frozenset({P.VIEW_MEASURES, P.EDIT_PLAN, P.RECORD_LOCAL_PROBLEMS})
ROLE_PERMISSIONS[Role.ADMIN] |= {P.EDIT_PLAN}
ROLE_PERMISSIONS[Role.CASEWORKER] |= {P.RECORD_LOCAL_PROBLEMS}
ROLE_PERMISSIONS[Role.MANAGER] |= {P.RECORD_LOCAL_PROBLEMS}

# Reviews after a death (issue 18 §3, docs/dardr.md): the partnership's managers start them and read
# the learning across every review.
ROLE_PERMISSIONS[Role.MANAGER] = ROLE_PERMISSIONS[Role.MANAGER] | {P.RUN_DARDR, P.VIEW_DARDR_LEARNING}
# The board officer reads the learning for the board too (never a review's personal details).
ROLE_PERMISSIONS[Role.BOARD_OFFICER] |= {P.VIEW_DARDR_LEARNING}
# The board pack (issue 18 §5, docs/board-pack.md): the managers and board officers who take it to the board.
ROLE_PERMISSIONS[Role.MANAGER] |= {P.VIEW_BOARD_PACK}
ROLE_PERMISSIONS[Role.BOARD_OFFICER] |= {P.VIEW_BOARD_PACK}

# What makes a role one that sees case data: the administrator role is never given with one of these
# (`casework.services.users.roles_problem`), so no administrator can grant themselves case data.
CASE_DATA = frozenset({P.SEARCH_PEOPLE, P.VIEW_RECORDS, P.READ_SEARCH_TERMS, P.SEE_WHO_VIEWED, P.EXCHANGE_DATA})


def case_data_roles() -> frozenset[Role]:
    """The roles that see case data (people, incidents, cases, search terms)."""
    return frozenset(role for role, granted in ROLE_PERMISSIONS.items() if granted & CASE_DATA)


RESTRICTED_MATCH_NOTICE = "A restricted record may match; ask its owner."


class Actor(Protocol):
    """What the policy needs to know about a user."""

    id: Any
    agency_id: Any
    active: bool

    @property
    def roles(self) -> frozenset[Role]: ...


def permissions(user: Actor | None) -> frozenset[Permission]:
    # `current_user` is a proxy that finds the user again on every attribute read: once here.
    unwrap = getattr(user, "_get_current_object", None)
    if unwrap is not None:
        user = unwrap()
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return frozenset()
    return _granted(user.roles)


@functools.lru_cache(maxsize=256)
def _granted(roles: frozenset[Role]) -> frozenset[Permission]:
    """What `roles` may do together (asked some thirty times a page, of a handful of role sets)."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)


def can(user: Actor | None, permission: Permission) -> bool:
    return permission in permissions(user)


# --- records ------------------------------------------------------------------

RECORD_MODELS: dict[str, type] = {"person": Person, "incident": Incident, "case": Case, "referral": Referral}


def kind_of(record_or_model: Any) -> str:
    model = record_or_model if isinstance(record_or_model, type) else type(record_or_model)
    for kind, cls in RECORD_MODELS.items():
        if issubclass(model, cls):
            return kind
    raise TypeError(f"{model.__name__} is not a record the access policy knows")


def _shared_with(kind: str, record_id: Any, agency_id: Any) -> ColumnElement[bool]:
    return exists().where(
        Share.record_kind == kind, Share.record_id == record_id, Share.agency_id == agency_id,
        Share.revoked_at.is_(None),
    )


def _named_on(kind: str, record_id: Any, user_id: Any) -> ColumnElement[bool]:
    return exists().where(
        RestrictedAccess.record_kind == kind, RestrictedAccess.record_id == record_id,
        RestrictedAccess.user_id == user_id,
    )


def visible_filter(user: Actor | None, model: type) -> ColumnElement[bool]:
    """A SQL condition on `model` true for exactly the rows `user` may see (see `can_view`)."""
    if not can(user, Permission.VIEW_RECORDS):
        return false()
    assert user is not None
    return _visible_filter(user.id, user.agency_id, model)


# The condition depends on the user's id and agency alone, and building it costs more than a page's
# statement: made once for each (an expression is immutable, and used in any number of statements).
@functools.lru_cache(maxsize=1024)
def _visible_filter(user_id: Any, agency_id: Any, model: type) -> ColumnElement[bool]:
    kind = kind_of(model)
    agency_ok: list[ColumnElement[bool]] = [
        model.owner_agency_id == agency_id,  # type: ignore[attr-defined]
        _shared_with(kind, model.id, agency_id),  # type: ignore[attr-defined]
    ]
    if model is Referral or issubclass(model, Referral):
        agency_ok.append(model.receiving_agency_id == agency_id)
    open_to_agency = or_(*agency_ok)
    restricted = getattr(model, "restricted", None)
    if restricted is None:
        return open_to_agency
    return or_(
        and_(restricted.is_(False), open_to_agency),
        and_(restricted.is_(True), _named_on(kind, model.id, user_id)),  # type: ignore[attr-defined]
    )


def hidden_restricted_filter(user: Actor | None, model: type) -> ColumnElement[bool]:
    """A SQL condition on `model` (a person or case) true for its restricted rows `user` may not
    see: the complement, among restricted rows, of `visible_filter` (a restricted record is seen by
    the users named on it, and only by them)."""
    kind = kind_of(model)
    restricted: ColumnElement[bool] = model.restricted  # type: ignore[attr-defined]
    if not can(user, Permission.VIEW_RECORDS):
        return restricted.is_(True)
    assert user is not None
    return and_(restricted.is_(True), ~_named_on(kind, model.id, user.id))  # type: ignore[attr-defined]


def agency_open_filter(agency_id: Any, model: type) -> ColumnElement[bool]:
    """A SQL condition on `model` true for the rows open to a whole agency: owned by it or shared
    with it, and not restricted. What every user of the agency who views records may see in full,
    named or not; an agency's export (`casework.exchange.exporter`) writes such a record whole. A
    restricted record is only ever its named users', never a whole agency's."""
    kind = kind_of(model)
    open_to_agency = or_(
        model.owner_agency_id == agency_id,  # type: ignore[attr-defined]
        _shared_with(kind, model.id, agency_id),  # type: ignore[attr-defined]
    )
    restricted = getattr(model, "restricted", None)
    return open_to_agency if restricted is None else and_(restricted.is_(False), open_to_agency)


def can_view(user: Actor | None, record: Any) -> bool:
    """Whether `user` may see `record` (a person, incident, case or referral). Callers answer 404
    when not, so nobody learns that a record they may not see exists."""
    if record is None or not can(user, Permission.VIEW_RECORDS):
        return False
    from .db import db

    model = type(record)
    answers = _answers_of_this_request()
    key = (getattr(user, "id", None), model, record.id)
    if answers is not None and key in answers:
        return answers[key]
    row = db.session.execute(
        select(true()).where(model.id == record.id, visible_filter(user, model))
    ).first()
    if answers is not None:
        answers[key] = row is not None
    return row is not None


def _answers_of_this_request() -> dict[Any, bool] | None:
    """Where a page that only reads keeps its answers: it asks about the same record several times
    (the page, its sections, its edit links). Only for GET and HEAD requests: nothing they do
    shares, restricts or names, so an answer cannot change while one is served; any other
    request asks afresh every time."""
    from flask import has_request_context, request

    if not has_request_context() or request.method not in ("GET", "HEAD"):
        return None
    # On the request itself, not `g`: an app context (and its `g`) can outlive one request.
    answers = request.environ.setdefault("casework.can_view", {})
    return answers  # type: ignore[no-any-return]


def can_edit(user: Actor | None, record: Any) -> bool:
    return can(user, Permission.EDIT_RECORDS) and can_view(user, record)


# --- restricted records -------------------------------------------------------------------


def roles_with(permission: Permission) -> frozenset[Role]:
    return frozenset(role for role, granted in ROLE_PERMISSIONS.items() if permission in granted)


def can_restrict(user: Actor | None, record: Any) -> bool:
    """Whether `user` may mark `record` (a person, case or incident) restricted or lift its restriction: a
    user of the agency that owns it who may edit it. A user of an agency it is shared with may not:
    they could otherwise hide the owner's own record from the owner, or open it to everyone."""
    if user is None or getattr(record, "restricted", None) is None:
        return False
    return record.owner_agency_id == user.agency_id and can_edit(user, record)


def can_manage_restriction(user: Actor | None, record: Any) -> bool:
    """Whether `user` may name users on a restricted record or remove them: someone named on it who
    may edit it (on a restricted record, seeing it means being named)."""
    return bool(getattr(record, "restricted", False)) and can_edit(user, record)


def nameable_filter(record: Any, user_model: type) -> ColumnElement[bool]:
    """A SQL condition on users true for those who may be named on restricted `record`: active, in a
    role that views records, of the agency that owns it or of one it is shared with. Naming never
    reaches an agency the record has not been shared with: sharing stays a deliberate act, with a
    reason, of its own."""
    from .models import UserRole

    kind = kind_of(record)
    return and_(
        user_model.active.is_(True),  # type: ignore[attr-defined]
        exists().where(UserRole.user_id == user_model.id,  # type: ignore[attr-defined]
                       UserRole.role.in_(roles_with(Permission.VIEW_RECORDS))),
        or_(user_model.agency_id == record.owner_agency_id,  # type: ignore[attr-defined]
            _shared_with(kind, record.id, user_model.agency_id)),  # type: ignore[attr-defined]
    )


def keeper_filter(record: Any, user_model: type) -> ColumnElement[bool]:
    """A SQL condition on users true for those who keep restricted `record` within its owner's reach:
    active, of the agency that owns it, in a role that edits records. A restricted record always
    keeps one named (`casework.services.restricted` refuses a removal that would leave none), or
    else its owning agency may recover it (`can_recover_restriction`): an agency it is shared with
    must never be able to hide the owner's own record from the owner."""
    from .models import UserRole

    return and_(
        user_model.active.is_(True),  # type: ignore[attr-defined]
        user_model.agency_id == record.owner_agency_id,  # type: ignore[attr-defined]
        exists().where(UserRole.user_id == user_model.id,  # type: ignore[attr-defined]
                       UserRole.role.in_(roles_with(Permission.EDIT_RECORDS))),
    )


def may_recover_restrictions(user: Actor | None) -> bool:
    """Whether `user` may name themselves on their agency's restricted records that nobody of the
    agency could manage any more (the list, and the recovery page of each): someone who edits records."""
    return can(user, Permission.EDIT_RECORDS)


def can_recover_restriction(user: Actor | None, record: Any, *, kept: bool) -> bool:
    """Whether `user` may name themselves on restricted `record` without being named by someone on
    it: a user of the agency that owns it who may edit records, and only while `kept` is false
    (nobody named keeps it: see `keeper_filter`; e.g. the last keeper left the agency). The step is
    audited apart from ordinary naming, with its reason."""
    if user is None or not getattr(record, "restricted", False) or kept:
        return False
    if getattr(record, "merged_into_id", None) is not None:
        return False
    return record.owner_agency_id == user.agency_id and may_recover_restrictions(user)


# --- referral decisions and risk assessments --------------------------------


def can_decide_referral(user: Actor | None, referral: Referral) -> bool:
    """Whether `user` may accept or decline `referral` (and place an accepted HRDA one on a meeting):
    someone of its receiving agency holding the deciding role of the referral route that brought it
    there (`casework.services.referral_routes`: the route of its type to that agency), the role the
    last-decider rule keeps someone in. A referral to an agency with no route for its type has no
    decider until an administrator moves it along a route. Imported history is never decided."""
    from .db import db
    from .models import ReferralRoute, ReferralType

    if user is None or referral.imported or referral.receiving_agency_id != user.agency_id:
        return False
    role = db.session.scalar(select(ReferralRoute.role).where(
        ReferralRoute.type == referral.type, ReferralRoute.agency_id == referral.receiving_agency_id))
    needed = Permission.CHAIR_HRDA if referral.type == ReferralType.HRDA else Permission.DECIDE_REFERRALS
    return role is not None and role in user.roles and can(user, needed) and can_view(user, referral)


def assessment_filter(user: Actor | None, model: type) -> ColumnElement[bool]:
    """A SQL condition on RiskAssessment rows of people `user` may see: a completed assessment
    follows its person; a draft is seen only by the agency writing it."""
    if not can(user, Permission.VIEW_RECORDS):
        return false()
    assert user is not None
    return or_(model.status == "complete", model.owner_agency_id == user.agency_id)  # type: ignore[attr-defined]


def can_view_assessment(user: Actor | None, assessment: Any) -> bool:
    if not can(user, Permission.VIEW_RECORDS) or not can_view(user, assessment.person):
        return False
    assert user is not None
    return bool(assessment.status == "complete" or assessment.owner_agency_id == user.agency_id)


def can_edit_assessment(user: Actor | None, assessment: Any) -> bool:
    """Only a draft is edited, and only by its own agency; a completed checklist is kept as it was."""
    if user is None or not can(user, Permission.EDIT_RECORDS) or assessment.status != "draft":
        return False
    return assessment.owner_agency_id == user.agency_id and can_view(user, assessment.person)


@dataclass(frozen=True)
class ReferralElsewhere:
    """An open referral of a person the user may see, which the user may not see themselves: only
    that one exists, of which kind, and the agency that made it (whom to ask). Never its date, id,
    receiving agency, reason or status."""

    kind: Any
    holder: str


def open_referral_view(user: Actor | None, referral: Referral | None, *, person: Any,
                       holder: str) -> Referral | ReferralElsewhere | None:
    """What `user` may be told of `person`'s open `referral` of a kind (it blocks a second one):
    the referral itself when they may see it; else, when they may see the person and refer, that it
    exists and which agency made it, since their own referral would be refused (as the partnership
    already shows which agencies know a person); else nothing. See docs/visibility.md."""
    if referral is None or not can_view(user, person):
        return None
    if can_view(user, referral):
        return referral
    if not can(user, Permission.REFER):
        return None
    return ReferralElsewhere(kind=referral.type, holder=holder)


# --- HRDA meetings ---------------------------------------------------------------


def chairs_meeting(user: Actor | None, meeting: Any) -> bool:
    """An HRDA chair of the agency running the meeting."""
    return user is not None and can(user, Permission.CHAIR_HRDA) and meeting.agency_id == user.agency_id


def takes_part_in_meeting(user: Actor | None, meeting: Any) -> bool:
    """Whether `user` sees a meeting's content (cases, research, minutes, actions): its chairs, and
    the caseworkers and chairs of the agencies invited to it. Nobody else, whatever their role."""
    if user is None or not can(user, Permission.ATTEND_HRDA):
        return False
    if chairs_meeting(user, meeting):
        return True
    return any(invited.agency_id == user.agency_id for invited in meeting.invited)


def meeting_content_filter(user: Actor | None, meeting_model: type, invited_model: type) -> ColumnElement[bool]:
    """`takes_part_in_meeting` as a SQL condition on `meeting_model` (with its invited agencies in
    `invited_model`): its chairs, and the caseworkers and chairs of the agencies invited to it."""
    if user is None or not can(user, Permission.ATTEND_HRDA):
        return false()
    invited = exists().where(invited_model.meeting_id == meeting_model.id,  # type: ignore[attr-defined]
                             invited_model.agency_id == user.agency_id)  # type: ignore[attr-defined]
    if can(user, Permission.CHAIR_HRDA):
        return or_(meeting_model.agency_id == user.agency_id, invited)  # type: ignore[attr-defined]
    return invited


# --- a chronology ------------------------------------------------------------------


class Shown(enum.Enum):
    """How much of one of a person's records their chronology shows a viewer."""

    RECORD = "record"  # the record itself, with a link
    IDENTITY = "identity"  # only that it exists: which agency recorded it, and when


def incident_shown(user: Actor | None, *, visible: bool, restricted: bool) -> Shown | None:
    """What `user`, who may see a person, is shown in the person's chronology of an incident the person
    is a party to: the incident when they may see it (`visible`: `visible_filter`); else, unless it is
    restricted, its identity only (the agency that recorded it and its date, as identity matching shows
    which agencies know a person: whom to ask); a restricted incident they are not named on, nothing.
    See docs/visibility.md."""
    if not can(user, Permission.VIEW_RECORDS):
        return None
    if visible:
        return Shown.RECORD
    return None if restricted else Shown.IDENTITY


def incident_identity_filter(user: Actor | None, *, visible: ColumnElement[bool] | None = None
                             ) -> ColumnElement[bool]:
    """A SQL condition on Incident rows for which `incident_shown` shows at least the identity
    (`visible`: `visible_filter(user, Incident)` when the caller has made it already)."""
    if not can(user, Permission.VIEW_RECORDS):
        return false()
    return or_(Incident.restricted.is_(False), visible if visible is not None else visible_filter(user, Incident))


# --- identity-only matches ---------------------------------------------------


@dataclass(frozen=True)
class IdentityMatch:
    """What any user who may search people sees of a match from any agency."""

    person_id: Any
    name: str
    date_of_birth: Any
    gender: Any
    known_to: tuple[str, ...]  # agency names
    visible: bool  # whether the user may open the full record


@dataclass(frozen=True)
class RestrictedMatch:
    """A restricted person the user is not named on: nothing about them but who to ask."""

    owner_agency: str
    notice: str = RESTRICTED_MATCH_NOTICE


def identity_view(user: Actor | None, person: Person, *, known_to: tuple[str, ...], owner_agency: str,
                  visible: bool) -> IdentityMatch | RestrictedMatch | None:
    """What `user` may be shown of `person` as a possible match (None: nothing at all)."""
    if not can(user, Permission.SEARCH_PEOPLE):
        return None
    if person.restricted and not visible:
        return RestrictedMatch(owner_agency=owner_agency)
    return IdentityMatch(person_id=person.id, name=person.display_name, date_of_birth=person.date_of_birth,
                         gender=person.gender, known_to=known_to, visible=visible)


# --- the partnership's plan (issue 18) ------------------------------------------------------


def can_update_activity(user: Actor | None, activity: Any) -> bool:
    """Whether `user` may write a progress update on a plan activity: an active user of its lead
    agency or of one of its partner agencies, whatever their role."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    return user.agency_id == activity.lead_agency_id or user.agency_id in activity.partner_ids


def can_change_local_problem(user: Actor | None, problem: Any) -> bool:
    """Whether `user` may add actions to a local problem, mark them done or close it: someone who
    records local problems, of one of the group's partner agencies, or a board officer."""
    if not can(user, Permission.RECORD_LOCAL_PROBLEMS):
        return False
    assert user is not None
    return user.agency_id in problem.partner_ids or can(user, Permission.EDIT_PLAN)


# --- orders and powers (issue 17 §2) ------------------------------------------------


def can_view_order(user: Actor | None, order: Any) -> bool:
    """An order or power, its conditions and breaches are seen by whoever may see its person: a
    restricted person's orders only by those named on the person (docs/orders.md)."""
    return can_view(user, order.person)


def order_filter(user: Actor | None, order_model: type) -> ColumnElement[bool]:
    """`can_view_order` as a SQL condition on `order_model` (rows of people `user` may see)."""
    if not can(user, Permission.VIEW_RECORDS):
        return false()
    # Correlated: asked of the orders a query has already narrowed down, never of every person.
    return exists().where(Person.id == order_model.person_id, visible_filter(user, Person))  # type: ignore[attr-defined]


def can_edit_order(user: Actor | None, order: Any) -> bool:
    """Only the agency holding an order changes it (its dates, conditions, status, incidents)."""
    return (user is not None and order.owner_agency_id == user.agency_id
            and can_edit(user, order.person))


def can_record_breach(user: Actor | None, order: Any) -> bool:
    """Any user who may edit the order's person records a breach of it (the police often learn of
    the breach of a council's notice)."""
    return can_edit(user, order.person)


# --- ASB case reviews -------------------------------------------------------------------------


def asb_review_filter(user: Actor | None, model: type) -> ColumnElement[bool]:
    """Who sees an ASB case review application (`AsbReview`): the coordinator (every one), the users
    on its panel, the receiving agency's managers and the applicant's caseworker; nobody else."""
    if user is None or not permissions(user):
        return false()
    if can(user, Permission.COORDINATE_ASB_REVIEWS):
        return true()
    from .models import AsbReviewPanel

    seen: list[ColumnElement[bool]] = [
        model.caseworker_id == user.id,  # type: ignore[attr-defined]
        exists().where(AsbReviewPanel.review_id == model.id,  # type: ignore[attr-defined]
                       AsbReviewPanel.user_id == user.id),
    ]
    if can(user, Permission.OVERSEE_AGENCY):
        seen.append(model.receiving_agency_id == user.agency_id)  # type: ignore[attr-defined]
    return or_(*seen)


def can_view_asb_review(user: Actor | None, review: Any) -> bool:
    if user is None or not permissions(user):
        return False
    if can(user, Permission.COORDINATE_ASB_REVIEWS) or review.caseworker_id == user.id:
        return True
    if can(user, Permission.OVERSEE_AGENCY) and review.receiving_agency_id == user.agency_id:
        return True
    return any(m.user_id == user.id for m in review.panel)


# --- reviews after a death (DARDR, docs/dardr.md) -----------------------------------------------

DARDR_KIND = "dardr"  # the `RestrictedAccess.record_kind` of a review


def dardr_filter(user: Actor | None, model: type) -> ColumnElement[bool]:
    """A SQL condition on reviews true for those `user` is named on: a review is always restricted,
    whatever the user's agency or role."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return false()
    return _named_on(DARDR_KIND, model.id, user.id)  # type: ignore[attr-defined]


def can_view_dardr(user: Actor | None, review: Any) -> bool:
    """Whether `user` may see (and record on) `review`: they are named on it. Callers answer 404."""
    if review is None or user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    from .db import db

    return db.session.scalar(select(_named_on(DARDR_KIND, review.id, user.id))) is True


def dardr_roles() -> frozenset[Role]:
    """The roles whose users may be named on a review: those who see case data or start reviews (an
    administrator alone sees no case data)."""
    return roles_with(Permission.VIEW_RECORDS) | roles_with(Permission.RUN_DARDR)


def can_update_recommendation(user: Actor | None, recommendation: Any, *, named: bool) -> bool:
    """Whether `user` may record progress on a review's recommendation: someone named on the review
    (`named`), or a manager of the agency that owns the recommendation (its action list)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    return named or (user.agency_id == recommendation.owner_agency_id and can(user, Permission.OVERSEE_AGENCY))


def can_see_equality(user: Actor | None, person: Any) -> bool:
    """Whether `user` may read and record a person's equality information (special category data):
    a caseworker (or chair) of the agency that owns the person's record who may see it. Others see
    it only as the MARAC return's counts (docs/marac-return.md)."""
    return (user is not None and getattr(person, "owner_agency_id", None) == user.agency_id
            and can_edit(user, person))
