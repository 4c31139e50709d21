"""The person-level repeat rules the caseworker pages show: current repeat flags, potential
escalation, repeat HRDA referrals and the ASB case review threshold (against the real database)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from casework.models import AsbType, Category, PartyRole, ReferralType
from casework.risk.repeats import (
    RepeatKind,
    asb_review_events,
    asb_review_threshold,
    current_repeat_flags,
    escalation_events,
    potential_escalation,
    repeat_hrda_referrals,
    repeat_people,
    shift_days,
    shift_months,
    would_be_repeat_hrda,
)
from tests.integration.test_measures_engine import Records

D = dt.date
V, P = PartyRole.VICTIM, PartyRole.PERPETRATOR


def test_current_repeat_flag_holds_for_a_repeat_dated_from_today_minus_364(session):
    records = Records(session)
    person = records.person()
    records.da(D(2024, 1, 1), victims=[person])
    records.da(D(2024, 3, 1), victims=[person])
    today_364 = D(2024, 3, 1) + dt.timedelta(days=364)
    assert current_repeat_flags(session, person.id, today=today_364)[(RepeatKind.DA, V)] is True
    assert current_repeat_flags(session, person.id, today=today_364 + dt.timedelta(days=1))[(RepeatKind.DA, V)] is False
    flags = current_repeat_flags(session, person.id, today=D(2024, 3, 1))
    assert [key for key, held in flags.items() if held] == [(RepeatKind.DA, V)]
    assert list(session.scalars(repeat_people(RepeatKind.DA, V, today=D(2024, 3, 1)))) == [person.id]


def test_potential_escalation_needs_three_da_incidents_within_365_days(session):
    records = Records(session)
    escalating, spread_out, same_day = records.people(3)
    for on in (D(2024, 1, 1), D(2024, 6, 1), D(2024, 12, 31)):  # 365 days from first to last
        records.da(on, victims=[escalating])
    for on in (D(2024, 1, 1), D(2024, 6, 1), D(2025, 1, 1)):  # 366 days
        records.da(on, victims=[spread_out])
    for _ in range(3):  # on one day: they count separately
        records.da(D(2024, 8, 1), victims=[same_day])
    found = {(row.person_id, row.occurred_on) for row in session.execute(escalation_events())}
    assert found == {(escalating.id, D(2024, 12, 31)), (same_day.id, D(2024, 8, 1))}
    assert potential_escalation(session, escalating.id, today=D(2025, 1, 1)) is True
    assert potential_escalation(session, spread_out.id, today=D(2025, 1, 1)) is False
    assert potential_escalation(session, spread_out.id, today=D(2025, 1, 1), incidents=2) is True
    assert potential_escalation(session, escalating.id, today=D(2025, 12, 31)) is False  # 365 days later


def test_escalation_counts_only_domestic_abuse_as_victim(session):
    records = Records(session)
    person = records.person()
    records.da(D(2024, 1, 1), victims=[person])
    records.da(D(2024, 2, 1), perpetrators=[person])
    records.incident(D(2024, 3, 1), victims=[person])
    assert session.execute(escalation_events(person_ids=[person.id])).all() == []


def test_asb_case_review_threshold_is_three_asb_incidents_within_six_months(session):
    records = Records(session)
    within, outside = records.people(2)
    # 31 Aug minus six months is 29 Feb (clamped to the month's end) on both databases.
    for on in (D(2024, 2, 29), D(2024, 5, 1), D(2024, 8, 31)):
        records.incident(on, victims=[within], category=Category.ASB, asb_type=AsbType.NUISANCE)
    for on in (D(2024, 2, 28), D(2024, 5, 1), D(2024, 8, 31)):
        records.incident(on, victims=[outside], category=Category.ASB, asb_type=AsbType.PERSONAL)
    found = {row.person_id for row in session.execute(asb_review_events())}
    assert found == {within.id}
    assert asb_review_threshold(session, within.id, today=D(2024, 9, 1)) is True
    assert asb_review_threshold(session, within.id, today=D(2025, 2, 28)) is True
    assert asb_review_threshold(session, within.id, today=D(2025, 3, 1)) is False
    assert asb_review_threshold(session, outside.id, today=D(2024, 9, 1), complaints=2) is True


def test_a_new_hrda_referral_within_365_days_of_the_last_is_a_repeat(session):
    records = Records(session)
    victim = records.person()
    records.referral(victim, D(2024, 1, 1))
    assert would_be_repeat_hrda(session, victim.id, referred_on=D(2024, 12, 31)) is True  # 365 days
    assert would_be_repeat_hrda(session, victim.id, referred_on=D(2025, 1, 1)) is False
    assert would_be_repeat_hrda(session, victim.id, referred_on=D(2024, 1, 1)) is False  # same day
    records.referral(victim, D(2024, 12, 31), type=ReferralType.HRDA)
    records.referral(victim, D(2024, 6, 1), type=ReferralType.MAPPA)
    rows = session.execute(repeat_hrda_referrals(referred_from=D(2024, 4, 1))).all()
    assert [row.referred_on for row in rows] == [D(2024, 12, 31)]


def test_date_shifts_agree_on_both_databases(session):
    cases = [(D(2024, 3, 1), -365, D(2023, 3, 2)), (D(2025, 2, 28), -365, D(2024, 2, 29)),
             (D(2024, 12, 31), 1, D(2025, 1, 1))]
    for day, n, expected in cases:
        assert _as_date(session.scalar(select(shift_days(_date(day), n)))) == expected
    month_cases = [(D(2024, 8, 31), -6, D(2024, 2, 29)), (D(2023, 8, 31), -6, D(2023, 2, 28)),
                   (D(2024, 8, 15), -6, D(2024, 2, 15)), (D(2024, 1, 31), 1, D(2024, 2, 29)),
                   (D(2024, 3, 31), -1, D(2024, 2, 29)), (D(2024, 12, 31), 2, D(2025, 2, 28))]
    for day, n, expected in month_cases:
        assert _as_date(session.scalar(select(shift_months(_date(day), n)))) == expected, (day, n)


def _date(day: dt.date):  # type: ignore[no-untyped-def]
    from sqlalchemy import Date, literal

    return literal(day, Date())


def _as_date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
