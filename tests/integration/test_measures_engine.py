"""The measures engine against the real database (run with --db sqlite and --db postgresql):
programme starters, HRDA referrals, money, flags, areas, empty periods and late changes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import update

from casework.figures import changing
from casework.measures.engine import Figure, compute
from casework.measures.periods import Period, parse_period
from casework.models import (
    AgencyKind,
    Area,
    AsbType,
    Category,
    CjStatus,
    Incident,
    Party,
    PartyRole,
    Person,
    PreventionActivity,
    PreventionKind,
    Referral,
    ReferralStatus,
    ReferralType,
)
from tests.factories import AgencyFactory, AreaFactory, PersonFactory

D = dt.date
V, P = PartyRole.VICTIM, PartyRole.PERPETRATOR


class Records:
    """Small builders for the records the measures count (all owned by one agency)."""

    def __init__(self, session) -> None:  # type: ignore[no-untyped-def]
        self.session = session
        self.agency = AgencyFactory()

    def person(self) -> Person:
        return PersonFactory(owner_agency_id=self.agency.id)

    def people(self, n: int) -> list[Person]:
        return [self.person() for _ in range(n)]

    def area(self, **flags: bool) -> Area:
        return AreaFactory(owner_agency_id=self.agency.id, **flags)

    def incident(self, on: dt.date, *, category: Category = Category.VIOLENCE_WITHOUT_INJURY, da: bool = False,
                 victims: tuple[Person, ...] | list[Person] = (), perpetrators: tuple[Person, ...] | list[Person] = (),
                 recorded_by: AgencyKind = AgencyKind.POLICE, area: Area | None = None,
                 asb_type: AsbType | None = None, cj_status: CjStatus | None = None, **flags: bool) -> Incident:
        if category is Category.ASB and asb_type is None:
            asb_type = AsbType.NUISANCE
        incident = Incident(occurred_on=on, category=category, domestic_abuse=da, recorded_by=recorded_by,
                            area_id=area.id if area else None, asb_type=asb_type,
                            owner_agency_id=self.agency.id, **flags)
        self.session.add(incident)
        for person in victims:
            self.session.add(Party(incident_id=incident.id, person_id=person.id, role=V, cj_status=cj_status))
        for person in perpetrators:
            self.session.add(Party(incident_id=incident.id, person_id=person.id, role=P))
        self.session.flush()
        return incident

    def da(self, on: dt.date, **kwargs) -> Incident:  # type: ignore[no-untyped-def]
        return self.incident(on, da=True, **kwargs)

    def referral(self, person: Person, on: dt.date, *, type: ReferralType = ReferralType.HRDA,
                 started_on: dt.date | None = None, status: ReferralStatus = ReferralStatus.SUBMITTED) -> Referral:
        referral = Referral(person_id=person.id, type=type, referred_on=on, started_on=started_on, status=status,
                            owner_agency_id=self.agency.id)
        self.session.add(referral)
        self.session.flush()
        return referral

    def starter(self, person: Person, started_on: dt.date) -> Referral:
        return self.referral(person, started_on - dt.timedelta(days=20), type=ReferralType.PERPETRATOR_PROGRAMME,
                             started_on=started_on)

    def activity(self, on: dt.date, *, kind: PreventionKind = PreventionKind.SCAM_INTERVENTION,
                 friends: int | None = None, pence: int | None = None) -> PreventionActivity:
        activity = PreventionActivity(occurred_on=on, kind=kind, friends_recruited=friends, savings_pence=pence,
                                      owner_agency_id=self.agency.id)
        self.session.add(activity)
        self.session.flush()
        return activity

    def figures(self, period: str = "2024/25") -> dict[str, Figure]:
        p = parse_period(period)
        return compute(self.session, [p])[p]


def test_programme_cohort_is_people_whose_first_start_is_in_the_period(session):
    records = Records(session)
    first, second, blank = records.people(3)
    records.starter(first, D(2024, 4, 1))
    records.starter(second, D(2023, 6, 1))
    records.starter(second, D(2024, 6, 1))  # a second start never moves anyone to a later cohort
    records.referral(blank, D(2024, 5, 1), type=ReferralType.PERPETRATOR_PROGRAMME)  # referred, never started
    assert (records.figures()["DA4"].numerator, records.figures()["DA4"].denominator) == (0, 1)
    assert records.figures("2023/24")["DA4"].denominator == 1


def test_reoffence_counts_from_the_day_after_the_start_to_day_365(session):
    records = Records(session)
    start = D(2024, 6, 1)
    on_start_day, day_1, day_365, day_366 = records.people(4)
    for person, days in ((on_start_day, 0), (day_1, 1), (day_365, 365), (day_366, 366)):
        records.starter(person, start)
        records.da(start + dt.timedelta(days=days), perpetrators=[person])
    da4 = records.figures()["DA4"]
    assert (da4.numerator, da4.denominator) == (2, 4)


def test_reoffence_is_measured_from_the_first_start_not_a_second_one(session):
    records = Records(session)
    person = records.person()
    records.starter(person, D(2024, 4, 10))
    records.starter(person, D(2024, 9, 1))
    records.da(D(2025, 6, 1), perpetrators=[person])  # within a year of the second start only
    da4 = records.figures()["DA4"]
    assert (da4.numerator, da4.denominator) == (0, 1)


def test_reoffence_recorded_by_another_agency_counts_but_not_as_victim_or_outside_da(session):
    records = Records(session)
    council, as_victim, not_da = records.people(3)
    for person in (council, as_victim, not_da):
        records.starter(person, D(2024, 5, 1))
    records.da(D(2024, 7, 1), perpetrators=[council], recorded_by=AgencyKind.COUNCIL)
    records.da(D(2024, 7, 1), victims=[as_victim])
    records.incident(D(2024, 7, 1), perpetrators=[not_da])
    da4 = records.figures()["DA4"]
    assert (da4.numerator, da4.denominator) == (1, 3)


def test_hrda_referral_is_a_repeat_when_an_earlier_one_is_from_365_days_to_one_day_before(session):
    records = Records(session)
    d = D(2024, 9, 1)
    day_365, day_366, same_day, idva = records.people(4)
    records.referral(day_365, d - dt.timedelta(days=365))  # in 2023/24: counts in the look-back
    records.referral(day_365, d, status=ReferralStatus.DECLINED)  # declined still counts
    records.referral(day_366, d - dt.timedelta(days=366))
    records.referral(day_366, d)
    records.referral(same_day, d)
    records.referral(same_day, d)
    records.referral(idva, d - dt.timedelta(days=10), type=ReferralType.IDVA)
    records.referral(idva, d)
    hrda1 = records.figures()["HRDA1"]
    assert (hrda1.numerator, hrda1.denominator) == (1, 5)  # referrals, not people
    assert hrda1.value == Decimal("0.2")


def test_savings_are_summed_in_pence_and_blank_amounts_count_as_nothing(session):
    records = Records(session)
    for _ in range(10):
        records.activity(D(2024, 5, 1), pence=10)  # ten times 0.10: floating point makes 0.9999999999999999
    records.activity(D(2024, 5, 1), pence=None)
    records.activity(D(2025, 3, 31), pence=1)
    records.activity(D(2025, 4, 1), pence=5000)  # next period
    records.activity(D(2024, 6, 1), kind=PreventionKind.FRIENDS_AGAINST_SCAMS, friends=7, pence=None)
    records.activity(D(2024, 6, 1), kind=PreventionKind.FRIENDS_AGAINST_SCAMS, friends=None)
    records.activity(D(2024, 6, 1), kind=PreventionKind.OTHER, friends=100)  # not Friends Against Scams
    figures = records.figures()
    assert figures["FR2"].value == Decimal("1.01")
    assert figures["FR1"].value == 7


def test_blank_amounts_alone_sum_to_zero(session):
    records = Records(session)
    records.activity(D(2024, 5, 1), kind=PreventionKind.FRIENDS_AGAINST_SCAMS)
    figures = records.figures()
    assert (figures["FR1"].value, f"{figures['FR2'].value:.2f}") == (0, "0.00")


def test_an_empty_period_counts_nothing_and_has_no_proportions(session):
    figures = Records(session).figures("1999/00")
    assert all(f.value in (0, None, Decimal("0.00")) for f in figures.values())
    assert figures["DA1"] == Figure(None, 0, 0)
    assert figures["SO1"] == Figure(0)


def test_police_counts_flags_and_designated_areas(session):
    records = Records(session)
    hot = records.area(asb_priority=True, sv_hotspot=True, rural_hotspot=True)
    plain = records.area()
    records.incident(D(2024, 5, 1), category=Category.ASB, area=hot, alcohol=True, drugs=True)
    records.incident(D(2024, 5, 1), category=Category.ASB, area=plain, mental_health=True)
    records.incident(D(2024, 5, 1), category=Category.ASB, area=None)
    records.incident(D(2024, 5, 1), category=Category.ASB, area=hot, recorded_by=AgencyKind.COUNCIL)
    records.incident(D(2024, 5, 1), category=Category.ROBBERY, area=hot, rural=True)
    records.incident(D(2024, 5, 1), category=Category.VIOLENCE_WITHOUT_INJURY, area=hot)  # not SV
    records.incident(D(2024, 5, 1), category=Category.FLY_TIPPING, recorded_by=AgencyKind.COUNCIL, rural=True)
    records.incident(D(2024, 5, 1), category=Category.STALKING, da=True)
    records.incident(D(2024, 5, 1), category=Category.STALKING, da=True, recorded_by=AgencyKind.HOUSING)
    records.incident(D(2024, 5, 1), category=Category.STALKING)
    records.incident(D(2024, 5, 1), category=Category.SEXUAL_OFFENCE, alcohol=True)
    records.incident(D(2024, 5, 1), category=Category.SEXUAL_OFFENCE, recorded_by=AgencyKind.HEALTH)
    f = records.figures()
    assert {k: f[k].value for k in ("ASB1", "ASB2", "RUR1", "RUR2", "RUR3", "SV1", "SV2", "DA2", "SO1")} == {
        "ASB1": 3, "ASB2": 1, "RUR1": 1, "RUR2": 1, "RUR3": 1, "SV1": 1, "SV2": 1, "DA2": 1, "SO1": 1}
    assert [(f[k].numerator, f[k].denominator) for k in ("ASB5", "ASB6", "ASB7", "SO2")] == [
        (1, 3), (1, 3), (1, 3), (1, 1)]
    assert (f["DA1"].denominator, f["DA3"].denominator) == (2, 2)  # DA incidents from every recorder


def test_withdrawn_victims_count_rows_of_police_sexual_offences_with_a_cj_status(session):
    records = Records(session)
    twice, once, blank, perpetrator = records.people(4)
    records.incident(D(2024, 5, 1), category=Category.SEXUAL_OFFENCE, victims=[twice], perpetrators=[perpetrator],
                     cj_status=CjStatus.WITHDREW)
    records.incident(D(2024, 6, 1), category=Category.SEXUAL_OFFENCE, victims=[twice, once],
                     cj_status=CjStatus.WITHDREW)
    records.incident(D(2024, 7, 1), category=Category.SEXUAL_OFFENCE, victims=[once], cj_status=CjStatus.CONCLUDED)
    records.incident(D(2024, 7, 1), category=Category.SEXUAL_OFFENCE, victims=[once], cj_status=CjStatus.ENTERED)
    records.incident(D(2024, 7, 1), category=Category.SEXUAL_OFFENCE, victims=[blank])
    records.incident(D(2024, 7, 1), category=Category.SEXUAL_OFFENCE, victims=[blank], cj_status=CjStatus.WITHDREW,
                     recorded_by=AgencyKind.HEALTH)
    so3 = records.figures()["SO3"]
    assert (so3.numerator, so3.denominator) == (3, 5)


def test_records_entered_late_edited_or_merged_change_the_next_computation(session):
    records = Records(session)
    victim, duplicate = records.people(2)
    records.da(D(2024, 6, 1), victims=[victim])
    assert records.figures()["DA1"].numerator == 0

    late = records.da(D(2024, 1, 1), victims=[duplicate])  # entered late, under a duplicate record
    assert records.figures()["DA1"].numerator == 0
    # The merge (a later feature) moves the duplicate's parties to the survivor.
    with changing(session, people={victim.id, duplicate.id}):  # announced, as the merge does
        session.execute(update(Party).where(Party.person_id == duplicate.id).values(person_id=victim.id))
        session.execute(update(Person).where(Person.id == duplicate.id).values(merged_into_id=victim.id))
    assert records.figures()["DA1"].numerator == 1

    late.occurred_on = D(2023, 5, 1)  # corrected: more than a year earlier
    session.flush()
    assert records.figures()["DA1"].numerator == 0


def test_current_and_previous_periods_come_from_one_computation(session):
    records = Records(session)
    records.incident(D(2024, 3, 31), category=Category.ASB)
    records.incident(D(2024, 4, 1), category=Category.ASB)
    records.incident(D(2025, 3, 31), category=Category.ASB)
    records.incident(D(2025, 4, 1), category=Category.ASB)
    current, previous = Period(2024), Period(2023)
    figures = compute(session, [current, previous])
    assert (figures[current]["ASB1"].value, figures[previous]["ASB1"].value) == (2, 1)
