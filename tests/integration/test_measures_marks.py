"""Stored repeat marks (`party_mark`) stay exactly what the rule gives through every writer: ORM
edits, statements run through the Session (as a merge does), imports; the check finds a
tampered mark and the rebuild mends it; measures from the marks equal measures from the rule."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from sqlalchemy import delete, func, select, update

from casework.exchange import import_dataset
from casework.figures import changing
from casework.figures import months as stored_months
from casework.figures.marks import (
    check_repeat_marks,
    rebuild_repeat_marks,
    refresh_repeat_marks,
)
from casework.measures import engine
from casework.measures.definitions import BY_ID
from casework.measures.periods import Period
from casework.models import (
    AgencyKind,
    AsbType,
    Category,
    Incident,
    Party,
    PartyRole,
    PreventionActivity,
    Referral,
    party_mark,
)
from casework.models.mark import person_year_count
from tests.factories import AgencyFactory
from tests.integration.test_measures_engine import Records

D = dt.date
V, P = PartyRole.VICTIM, PartyRole.PERPETRATOR


def stored(session, person) -> dict[tuple, bool]:  # type: ignore[no-untyped-def]
    """A person's stored DA victim marks, by incident date."""
    rows = session.execute(select(party_mark.c.occurred_on, party_mark.c.repeat_da).where(
        party_mark.c.person_id == person.id, party_mark.c.role == V)).all()
    return {(on if isinstance(on, dt.date) else D.fromisoformat(on)): bool(r) for on, r in rows}


def exact(session) -> bool:  # type: ignore[no-untyped-def]
    """The stored marks, yearly summaries and monthly figures are what the rule and records give."""
    found = check_repeat_marks(session)
    assert found == [], [d.describe() for d in found[:5]]
    assert stored_months.check_months(session) == []
    return True


def test_recording_an_incident_stores_its_marks(session):
    records = Records(session)
    victim = records.person()
    records.da(D(2024, 5, 1), victims=[victim])
    records.da(D(2024, 6, 1), victims=[victim])
    assert stored(session, victim) == {D(2024, 5, 1): False, D(2024, 6, 1): True}
    assert exact(session)


def test_a_new_incident_adds_to_its_months_figures_without_computing_the_month_again(session, monkeypatch):
    """An incident with no parties changes only the figures counted from incidents: each new one's are
    added to its month's (in an area, a locality, or neither), and the stored figures stay exact;
    one whose parties are written with it has its month computed again, once."""
    records = Records(session)
    hotspot = records.area(asb_priority=True, sv_hotspot=True, rural_hotspot=True)
    records.incident(D(2024, 5, 3), category=Category.ASB, area=hotspot, alcohol=True)
    records.da(D(2024, 5, 9), victims=[records.person()])
    assert exact(session)
    recomputed: list[set] = []
    refresh = stored_months.refresh_months
    monkeypatch.setattr(stored_months, "refresh_months",
                        lambda s, months: recomputed.append(set(months)) or refresh(s, months))
    records.incident(D(2024, 5, 20), category=Category.ASB, area=hotspot, alcohol=True, drugs=True)
    records.incident(D(2024, 5, 21), category=Category.VIOLENCE_WITH_INJURY, recorded_by=AgencyKind.POLICE,
                     area=hotspot)
    records.incident(D(2024, 7, 2), category=Category.FLY_TIPPING, rural=True)  # a month with no figures yet
    session.add_all([Incident(occurred_on=D(2024, 5, 22), category=Category.CRIMINAL_DAMAGE, domestic_abuse=False,
                              recorded_by=AgencyKind.COUNCIL, locality="Weymouth", owner_agency_id=records.agency.id)
                     for _ in range(3)])  # several in one flush, one key: added up
    session.flush()
    assert recomputed == []
    assert exact(session)
    records.da(D(2024, 5, 25), victims=[records.person()])  # its party's month is computed again
    assert recomputed == [{D(2024, 5, 1)}]
    assert exact(session)


def test_an_incident_dated_late_before_the_others_changes_their_marks(session):
    records = Records(session)
    victim = records.person()
    records.da(D(2024, 6, 1), victims=[victim])
    records.da(D(2024, 3, 1), victims=[victim])  # entered late, dated earlier
    assert stored(session, victim) == {D(2024, 3, 1): False, D(2024, 6, 1): True}
    assert exact(session)


def test_editing_the_date_or_kind_of_an_incident_moves_the_marks(session):
    records = Records(session)
    victim = records.person()
    first = records.da(D(2024, 5, 1), victims=[victim])
    records.da(D(2024, 6, 1), victims=[victim])
    first.occurred_on = D(2023, 5, 1)  # more than a year earlier: no longer a repeat
    session.flush()
    assert stored(session, victim) == {D(2023, 5, 1): False, D(2024, 6, 1): False}
    first.occurred_on = D(2024, 5, 2)
    first.domestic_abuse = False  # no longer DA: not marked at all
    session.flush()
    assert stored(session, victim) == {D(2024, 6, 1): False}
    assert exact(session)


def test_changing_a_party_and_removing_one_refresh_both_people(session):
    records = Records(session)
    victim, other = records.people(2)
    records.da(D(2024, 5, 1), victims=[victim])
    second = records.da(D(2024, 6, 1), victims=[victim])
    party = session.scalar(select(Party).where(Party.incident_id == second.id))
    party.person_id = other.id
    session.flush()
    assert stored(session, victim) == {D(2024, 5, 1): False}
    assert stored(session, other) == {D(2024, 6, 1): False}
    party.person_id = victim.id
    session.flush()
    assert stored(session, victim)[D(2024, 6, 1)] is True
    session.delete(party)
    session.flush()
    assert stored(session, victim) == {D(2024, 5, 1): False}
    party = Party(incident_id=second.id, person_id=victim.id, role=P)  # a perpetrator now
    session.add(party)
    session.flush()
    assert stored(session, victim) == {D(2024, 5, 1): False}
    assert exact(session)


def test_deleting_an_incident_removes_its_marks_and_those_that_depended_on_it(session):
    records = Records(session)
    victim = records.person()
    first = records.da(D(2024, 5, 1), victims=[victim])
    records.da(D(2024, 6, 1), victims=[victim])
    session.expire_all()  # the parties are not loaded: the database's cascade removes them
    session.delete(session.get(Incident, first.id))
    session.flush()
    assert stored(session, victim) == {D(2024, 6, 1): False}
    assert exact(session)


def test_a_merge_moving_parties_with_statements_refreshes_both_people(session):
    records = Records(session)
    survivor, duplicate = records.people(2)
    records.da(D(2024, 5, 1), victims=[survivor])
    records.da(D(2024, 6, 1), victims=[duplicate])
    assert stored(session, survivor) == {D(2024, 5, 1): False}
    with changing(session, people={survivor.id, duplicate.id}):
        session.execute(update(Party).where(Party.person_id == duplicate.id).values(person_id=survivor.id))
    assert stored(session, survivor) == {D(2024, 5, 1): False, D(2024, 6, 1): True}
    assert stored(session, duplicate) == {}
    assert exact(session)


def test_statements_on_incidents_and_parties_through_the_session_keep_marks_exact(session):
    records = Records(session)
    victim = records.person()
    first = records.da(D(2024, 5, 1), victims=[victim])
    second = records.da(D(2024, 6, 1), victims=[victim])
    third = records.da(D(2024, 7, 1), victims=[victim])
    with changing(session, incidents=[first.id]):
        session.execute(update(Incident.__table__).where(Incident.__table__.c.id == first.id)
                        .values(occurred_on=D(2022, 1, 1)))
    assert stored(session, victim) == {D(2022, 1, 1): False, D(2024, 6, 1): False, D(2024, 7, 1): True}
    with changing(session, incidents=[third.id]):
        session.execute(update(Incident), [{"id": third.id, "version": third.version, "domestic_abuse": False}])
    assert stored(session, victim) == {D(2022, 1, 1): False, D(2024, 6, 1): False}
    with changing(session, incidents=[second.id]):
        session.execute(delete(Incident).where(Incident.id == second.id))
    assert stored(session, victim) == {D(2022, 1, 1): False}
    assert exact(session)


def test_an_update_of_other_columns_leaves_the_marks_alone(session):
    records = Records(session)
    victim = records.person()
    incident = records.da(D(2024, 5, 1), victims=[victim])
    session.execute(update(party_mark).values(repeat_da=True))  # tampered, to see whether it is redone
    incident.alcohol = True  # counts in the monthly figures, moves no mark
    session.flush()
    assert stored(session, victim) == {D(2024, 5, 1): True}


def test_the_check_finds_a_tampered_mark_and_the_rebuild_mends_it(session):
    records = Records(session)
    victim = records.person()
    records.da(D(2024, 5, 1), victims=[victim])
    second = records.da(D(2024, 6, 1), victims=[victim])
    assert check_repeat_marks(session) == []
    session.execute(update(party_mark).where(party_mark.c.incident_id == second.id).values(repeat_da=False))
    session.execute(delete(party_mark).where(party_mark.c.occurred_on == D(2024, 5, 1)))
    found = {(d.incident_id, d.problem) for d in check_repeat_marks(session)}
    # The yearly summary no longer agrees with the (tampered) marks either.
    assert sorted(problem for _, problem in found) == ["missing", "wrong", "year"]
    assert (second.id, "wrong") in found
    assert "repeat_da False (should be True)" in next(
        d.describe() for d in check_repeat_marks(session) if d.problem == "wrong")
    rebuild_repeat_marks(session)
    assert exact(session)
    assert stored(session, victim) == {D(2024, 5, 1): False, D(2024, 6, 1): True}


def test_the_yearly_counts_follow_each_refresh_and_the_check_finds_a_wrong_one(session):
    records = Records(session)
    victim, other = records.people(2)
    first = records.da(D(2024, 5, 1), victims=[victim])
    records.da(D(2024, 6, 1), victims=[victim])
    records.da(D(2024, 7, 1), victims=[other])

    def counted() -> tuple[int, int]:
        row = session.execute(select(person_year_count.c.people, person_year_count.c.repeats).where(
            person_year_count.c.start_year == 2024, person_year_count.c.kind == "da",
            person_year_count.c.role == V)).one()
        return int(row.people), int(row.repeats)

    assert counted() == (2, 1) and exact(session)
    session.delete(first)  # the victim's June incident is no longer a repeat
    session.flush()
    assert counted() == (2, 0) and exact(session)
    session.execute(update(person_year_count).values(people=person_year_count.c.people + 1))
    found = [d for d in check_repeat_marks(session) if d.problem == "count"]
    assert found and "counted 3 people (0 repeats), should be 2 (0)" in found[0].describe()
    rebuild_repeat_marks(session)
    assert counted() == (2, 0) and exact(session)


def test_refreshing_many_people_at_once_is_a_full_rebuild_with_the_same_result(session):
    records = Records(session)
    people = records.people(3)
    for person in people:
        records.da(D(2024, 5, 1), victims=[person])
        records.da(D(2024, 6, 1), victims=[person])
    session.execute(delete(party_mark))
    assert refresh_repeat_marks(session, person_ids=[p.id for p in people]) == 3
    assert exact(session)


def test_monthly_figures_follow_referrals_programme_starts_activities_and_area_flags(session):
    records = Records(session)
    person = records.person()
    area = records.area(asb_priority=False)
    records.incident(D(2024, 5, 1), category=Category.ASB, area=area)
    first = records.referral(person, D(2024, 1, 10))
    records.referral(person, D(2024, 6, 1))  # a repeat of the first
    start = records.starter(person, D(2024, 7, 1))
    records.da(D(2024, 8, 1), perpetrators=[person])  # reoffends after the start
    activity = records.activity(D(2024, 9, 1), pence=1234)
    same_figures(session)
    assert exact(session)
    first.referred_on = D(2023, 1, 10)  # no longer within the year before: no repeat
    start.started_on = D(2024, 9, 1)  # the incident is now before the start
    activity.occurred_on = D(2023, 9, 1)
    area.asb_priority = True
    session.flush()
    same_figures(session)
    assert exact(session)
    figures = engine.compute(session, [Period(2024)])[Period(2024)]
    assert (figures["HRDA1"].numerator, figures["DA4"].numerator, figures["ASB2"].value) == (0, 0, 1)
    with changing(session, people=[person.id]):
        session.execute(update(Referral).where(Referral.id == first.id).values(referred_on=D(2024, 2, 1)))
    with changing(session, months=[activity.occurred_on]):
        session.execute(delete(PreventionActivity).where(PreventionActivity.id == activity.id))
    assert exact(session)
    assert engine.compute(session, [Period(2024)])[Period(2024)]["HRDA1"].numerator == 1


# --- imports -----------------------------------------------------------------------------------

PEOPLE = "person_ref,surname,forenames,date_of_birth,gender,postcode,mental_health,substance_misuse,complex_needs"
INCIDENTS = ("incident_ref,occurred_on,category,domestic_abuse,recorded_by,locality,area,rural,alcohol,drugs,"
             "mental_health,asb_type")


def write_set(folder: Path, incidents: list[tuple[str, str]], parties: list[tuple[str, str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "people": [PEOPLE, "P1,Smith,Ann,,,,n,n,n", "P2,Jones,Bob,,,,n,n,n"],
        "incidents": [INCIDENTS, *(f"{ref},{on},violence_without_injury,y,police,,,n,n,n,n," for ref, on in incidents)],
        "parties": ["incident_ref,person_ref,role,cj_status", *(f"{i},{p},{r}," for i, p, r in parties)],
    }
    for stem, lines in files.items():
        (folder / f"{stem}.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return folder


def test_imports_keep_marks_exact_through_new_changed_and_removed_rows(session, tmp_path):
    police = AgencyFactory(name="Marks Police", kind=AgencyKind.POLICE)
    import_dataset(write_set(tmp_path / "one", [("I1", "2024-05-01"), ("I2", "2024-06-01")],
                             [("I1", "P1", "victim"), ("I2", "P1", "victim")]), agency=police)
    assert session.scalar(select(func.count()).select_from(party_mark).where(party_mark.c.repeat_da.is_(True))) == 1
    assert exact(session)
    # Re-imported unchanged: nothing moves.
    import_dataset(tmp_path / "one", agency=police)
    assert exact(session)
    # I1 now dated more than a year before I2, I2's victim is now P2, and I3 is new.
    import_dataset(write_set(tmp_path / "two", [("I1", "2023-05-01"), ("I2", "2024-06-01"), ("I3", "2024-07-01")],
                             [("I1", "P1", "victim"), ("I2", "P2", "victim"), ("I3", "P2", "victim")]),
                   agency=police)
    assert exact(session)
    repeats = session.execute(select(party_mark.c.occurred_on).where(party_mark.c.repeat_da.is_(True))).scalars()
    assert [str(on) for on in repeats] == ["2024-07-01"]


# --- the marks give the rule's measures -----------------------------------------------------------


def random_records(session, rng: random.Random, *, people: int = 20, incidents: int = 160) -> list[Incident]:
    records = Records(session)
    folk = records.people(people)
    made = []
    kinds = [Category.ASB, Category.VIOLENCE_WITH_INJURY, Category.ROBBERY, Category.HARASSMENT, Category.STALKING]
    for _ in range(incidents):
        on = D(2022, 4, 1) + dt.timedelta(days=rng.randrange(3 * 365))
        chosen = rng.sample(folk, rng.choice([1, 1, 2, 3]))
        split = rng.randrange(len(chosen) + 1)
        category = rng.choice(kinds)
        made.append(records.incident(
            on, category=category, da=rng.random() < 0.4, victims=chosen[:split], perpetrators=chosen[split:],
            asb_type=rng.choice([AsbType.PERSONAL, AsbType.NUISANCE]) if category is Category.ASB else None,
            recorded_by=rng.choice([AgencyKind.POLICE, AgencyKind.COUNCIL]),
            locality=rng.choice(["Weymouth", "Bridport", None])))
    return made


def same_figures(session) -> None:  # type: ignore[no-untyped-def]
    """Stored figures, figures from the stored marks and figures from the rule's window agree."""
    periods = [Period(2022), Period(2023), Period(2024)]
    from_rule = engine.compute(session, periods, stored_marks=False)
    assert engine.compute(session, periods, precomputed=False) == from_rule
    assert engine.compute(session, periods) == from_rule
    for measure in (BY_ID["ASB3"], BY_ID["SV4"], BY_ID["DA1"], BY_ID["ASB1"]):
        first, last = D(2022, 4, 1), D(2025, 3, 31)
        assert engine.monthly(session, measure, first=first, last=last) == engine.monthly(
            session, measure, first=first, last=last, precomputed=False)
        assert engine.by_locality(session, measure, Period(2024)) == engine.by_locality(session, measure, Period(2024),
                                                                           precomputed=False)


def test_measures_from_the_marks_equal_measures_from_the_rule_through_random_edits(session):
    rng = random.Random(20240401)
    incidents = random_records(session, rng)
    same_figures(session)
    for _ in range(3):
        for incident in rng.sample(incidents, 20):
            change = rng.randrange(3)
            if change == 0:
                incident.occurred_on = incident.occurred_on + dt.timedelta(days=rng.randrange(-400, 400))
            elif change == 1:
                incident.domestic_abuse = not incident.domestic_abuse
            else:
                incident.category = rng.choice([Category.ASB, Category.ROBBERY, Category.FRAUD])
                incident.asb_type = AsbType.PERSONAL if incident.category is Category.ASB else None
        session.flush()
        parties = session.scalars(select(Party)).all()
        taken = {(p.incident_id, p.person_id, p.role) for p in parties}
        for party in rng.sample(parties, 10):
            target = (party.incident_id, rng.choice(parties).person_id, rng.choice([V, P]))
            if target not in taken:
                taken.discard((party.incident_id, party.person_id, party.role))
                taken.add(target)
                party.person_id, party.role = target[1], target[2]
                session.flush()
        same_figures(session)
        assert exact(session)
