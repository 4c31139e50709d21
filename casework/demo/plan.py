"""The demo's Community Safety Plan (2023-26, refreshed each year up to today's) with the plan's
summary of activity for each priority and a history of progress updates, and a few local problems
of the locality groups. Dates are counted back from the demo's end date, so the home pages' flags
(no update for 90 days) and the charts look as they would on the day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select

from ..db import db
from ..models import (
    ActivityStatus,
    ActivityUpdate,
    Agency,
    Area,
    LocalProblem,
    LocalProblemAction,
    LocalProblemPartner,
    Plan,
    PlanActivity,
)
from ..services import plan as plans

TITLE = "Dorset Community Safety Plan"
POLICE, COUNCIL, FIRE, PROBATION = "Dorset Police", "Dorset Council", "Dorset & Wiltshire Fire and Rescue", \
    "Probation Service (Dorset)"
HEALTH, HOUSING, DA_FORUM, YOUTH = "NHS Dorset", "Sovereign Network Group", "Dorset Domestic Abuse Forum", \
    "Combined Youth Justice Service"

S = ActivityStatus
NS, OK, RISK, OFF, DONE = S.NOT_STARTED, S.ON_TRACK, S.AT_RISK, S.OFF_TRACK, S.COMPLETE

ISSUES = (
    ("Mental health", ("Many victims, perpetrators and people causing anti-social behaviour have poor mental "
                      "health; every priority's work involves mental health services early.")),
    ("Substance misuse", ("Alcohol and drugs drive violence, anti-social behaviour and domestic abuse; treatment "
                         "services are partners in each priority.")),
    ("Complex cases and multiple need", ("People whose needs cross several services are managed together, with "
                                        "one plan, through the complex case panels.")),
    ("Violence against women and girls", ("The partnership's commitments under the national VAWG strategy run "
                                         "through the domestic abuse, stalking and sexual offences priorities.")),
)

# name, aim, measures, activities: (title, lead, partners, due (None: ongoing), updates: (days ago, status, text))
Activity = tuple[str, str, tuple[str, ...], dt.date | None, tuple[tuple[int, ActivityStatus, str], ...]]
PRIORITIES: tuple[tuple[str, str, str, tuple[Activity, ...]], ...] = (
    ("Domestic abuse and stalking",
     "Fewer people harmed by domestic abuse and stalking, and fewer harmed again.", "DA1 DA2 DA3 DA4 HRDA1", (
         (("Deliver the Domestic Abuse Strategy action plan, including the duties of Part 4 of the Domestic Abuse "
          "Act 2021 for safe accommodation"), COUNCIL, (DA_FORUM, HOUSING), None, (
              (610, OK, "Strategy agreed by the board; needs assessment of safe accommodation refreshed."),
              (380, OK, "Two further dispersed units of safe accommodation opened in Weymouth and Bridport."),
              (150, OK, ("Annual return to the Department made on time; sanctuary scheme waiting list down to six "
                        "weeks.")),
              (40, OK, ("Action plan reviewed at the Domestic Abuse Local Partnership Board; two actions carried "
                       "into next year.")))),
         ("Roll out the Drive approach for high-harm perpetrators across the county", PROBATION,
          (POLICE, COUNCIL), dt.date(2026, 3, 31), (
              (540, NS, "Funding bid submitted with the Police and Crime Commissioner."),
              (400, OK, "Funding confirmed for two years; case managers recruited."),
              (230, RISK, "Referrals below the expected number: MARAC chairs reminded of the criteria."),
              (80, OK, "Referrals back on profile after briefings to MARAC; 31 perpetrators engaged."))),
         ("Improve the response to stalking: specialist advocacy and the use of Stalking Protection Orders",
          POLICE, (DA_FORUM,), None, (
              (500, OK, "Stalking advocate in post, hosted by the Domestic Abuse Forum."),
              (260, OK, "Twelve Stalking Protection Orders applied for this year against four last year."),
              (30, OK, "Stalking clinic meeting monthly with mental health practitioners."))),
         ("Train frontline staff of every partner in recognising coercive control and making referrals to MARAC",
          COUNCIL, (HEALTH, HOUSING, FIRE), dt.date(2025, 12, 31), (
              (450, NS, "Training offer agreed; trainers booked."),
              (300, OK, "Forty sessions delivered to 620 staff."),
              (200, DONE, ("Target reached: 1,140 staff trained across the partnership; e-learning stays "
                          "available.")))),
         ("Review the MARAC's repeat rate and its data return with SafeLives", DA_FORUM, (POLICE,),
          dt.date(2026, 6, 30), (
              (320, OK, "SafeLives' self-assessment started; steering group meets monthly."),
              (190, RISK, ("The repeat rate has risen to 34%; the review of cases that return within a year is "
                          "behind.")))),
     )),
    ("Sexual offences",
     "More victims supported to report and to stay with a prosecution; fewer offences involving alcohol.",
     "SO1 SO2 SO3", (
         ("Commission an independent sexual violence advisory service for adults and children", COUNCIL,
          (HEALTH, POLICE), dt.date(2025, 9, 30), (
              (520, OK, "Specification drafted with the Sexual Assault Referral Centre."),
              (330, OK, "Tender published; three bids received."),
              (260, DONE, "Contract awarded; the service started on 1 October."))),
         ("Promote the night-time economy safety campaign and Ask for Angela in licensed premises", POLICE,
          (COUNCIL,), None, (
              (400, OK, "Campaign launched with the licensing team; 140 venues signed up."),
              (220, OK, "Test purchases with volunteers: 85% of venues responded correctly."),
              (35, OK, "Summer campaign run in Bournemouth and Weymouth with street marshals."))),
         ("Keep victims informed through the court process to reduce withdrawals", POLICE, (DA_FORUM,),
          None, (
              (350, OK, "Victim care officers attached to the rape and serious sexual offences team."),
              (170, OFF, ("Court backlog: average wait for trial now 19 months, and withdrawals are rising. "
                         "Raised with the Local Criminal Justice Board.")),
              (60, RISK, ("Additional ISVA capacity agreed for victims waiting over a year; too soon to see the "
                         "effect.")))),
     )),
    ("Anti-social behaviour",
     "Less anti-social behaviour, especially in the priority areas, and fewer repeat victims.",
     "ASB1 ASB2 ASB3 ASB4 ASB5 ASB6 ASB7", (
         ("Run the ASB case review (Community Trigger) to the national standard, and publish its figures",
          COUNCIL, (POLICE, HOUSING), None, (
              (480, OK, "Process revised with the Police and Crime Commissioner's office."),
              (300, OK, "Twelve reviews held; figures published on the council's website."),
              (70, OK, "Victims' representatives now attend; feedback forms introduced."))),
         ("Deliver Safer Streets patrols and a problem-solving plan in the priority town centres", POLICE,
          (COUNCIL, HEALTH), dt.date(2026, 3, 31), (
              (440, OK, "Patrol plans agreed for Bournemouth, Boscombe and Poole town centres."),
              (250, RISK, "Summer demand reduced patrol hours by a quarter."),
              (25, OK, "Patrols restored; outreach workers join two evenings a week."))),
         ("Early intervention for young people at risk of ASB, with the youth service and schools",
          YOUTH, (POLICE, COUNCIL), None, (
              (420, OK, "Referral route from neighbourhood teams agreed."),
              (280, OK, "86 young people worked with; 70% with no further ASB in six months."),
              (45, OK, "Second cohort started with two secondary schools in Weymouth."))),
         ("Make the most of Public Space Protection Orders and review them before they lapse", COUNCIL,
          (POLICE,), dt.date(2026, 10, 31), (
              (360, NS, "Review timetable agreed."),
              (65, OK, "Consultation on the town-centre orders closed with 1,900 replies."))),
     )),
    ("Rural crime",
     ("Rural communities protected from the crimes that most affect them: wildlife, heritage, farm and "
     "fly-tipping."), "RUR1 RUR2 RUR3", (
         ("Run joint operations against hare coursing and poaching in the hotspots", POLICE, (COUNCIL,), None, (
             (470, OK, "Operation plan shared with the landowners' groups."),
             (290, OK, "Six joint operations over the season; nine vehicles seized."),
             (55, OK, "Season debrief held; drone team now on call at weekends."))),
         ("Reduce fly-tipping through enforcement, cameras and the duty of care campaign", COUNCIL,
          (POLICE, FIRE), None, (
              (430, OK, "Twelve mobile cameras bought and placed on hotspots."),
              (240, OFF, ("Reports up 18% on last year; prosecutions slower than planned for lack of "
                         "investigators.")),
              (40, RISK, "A second enforcement officer recruited; backlog halved."))),
         ("Extend Rural and Farm Watch and the rural crime newsletter", POLICE, (), None, (
             (400, OK, "Newsletter reaches 3,200 households."),
             (210, OK, "Farm Watch grown to 640 members."))),
     )),
    ("Fraud",
     "Fewer people, and especially older and vulnerable people, lose money to fraud and scams.", "FR1 FR2", (
         ("Recruit Friends Against Scams and deliver scam awareness sessions", COUNCIL, (POLICE, HEALTH), None, (
             (460, OK, "Trading Standards' programme for the year agreed."),
             (280, OK, "410 Friends Against Scams recruited this year."),
             (50, OK, "Sessions extended to GP surgeries' waiting rooms."))),
         ("Install call blockers for repeat victims of scam calls", COUNCIL, (POLICE,), dt.date(2026, 3, 31), (
             (380, OK, "120 call blockers installed; 98% of scam calls blocked."),
             (75, OK, "A further 60 installed for people referred by the banks."))),
         ("Work with banks under the Banking Protocol to stop frauds as they happen", POLICE, (), None, (
             (440, OK, "Refresher briefings given to 35 branches."),
             (300, OK, "£410,000 saved through interventions in branches this year."),
             (20, OK, "Protocol extended to building societies."))),
     )),
    ("Serious violence",
     ("Fewer people hurt by serious violence, by understanding its causes and acting early (the Serious "
     "Violence Duty)."), "SV1 SV2 SV3 SV4", (
         ("Publish the strategic needs assessment and the response strategy under the Serious Violence Duty",
          COUNCIL, (POLICE, HEALTH, PROBATION, YOUTH), dt.date(2024, 1, 31), (
              (800, OK, "Data sharing agreement signed by every specified authority."),
              (700, DONE, "Strategy and needs assessment published."))),
         ("Deliver knife crime awareness in schools and youth settings", POLICE, (YOUTH, COUNCIL), None, (
             (420, OK, "Sessions booked with 32 secondary schools."),
             (230, OK, "Knife arch operations at two transport hubs; amnesty bins emptied."),
             (15, OK, "Sessions evaluated by the university: pupils' knowledge improved in every school."))),
         ("Navigators in the emergency departments for young people injured by violence", HEALTH,
          (YOUTH, POLICE), dt.date(2026, 9, 30), (
              (360, NS, "Funding agreed with the Violence Reduction Unit."),
              (250, RISK, "Recruitment slower than planned; one of two posts filled."))),
         ("Focused deterrence for the people most involved in serious violence", PROBATION, (POLICE, YOUTH),
          None, ()),
     )),
)

# group, title, description, locality or area, categories, started (days ago), partners,
# actions: (text, owner, due (days from the start), done (days from the start) or None), closed: (days ago, outcome)
PROBLEMS = (
    ("Weymouth and Portland", "Fly-tipping at the Lodmoor lay-bys",
     "Household and trade waste dumped most weeks in the lay-bys by the country park, at night.",
     ("locality", "Weymouth"), ("fly_tipping",), 240, (COUNCIL, POLICE),
     (("Place a mobile camera and signs at the two worst lay-bys", COUNCIL, 30, 21),
      ("Duty of care visits to the small traders advertising waste collection", COUNCIL, 60, 75),
      ("Add the lay-bys to the night patrols' route", POLICE, 45, None)), None),
    ("Bournemouth, Christchurch and Poole", "Street drinking and begging in Boscombe precinct",
     "Groups drinking through the day, with intimidation of shoppers and rough sleeping in doorways.",
     ("area", "Boscombe"), ("asb", "public_order"), 300, (POLICE, COUNCIL, HEALTH, HOUSING),
     (("Outreach with the drug and alcohol service twice a week", HEALTH, 30, 28),
      ("Offers of accommodation to the six people sleeping rough", HOUSING, 60, 90),
      ("Enforce the Public Space Protection Order's alcohol condition", POLICE, 30, 40),
      ("Design review of the precinct's lighting and seating", COUNCIL, 120, None)), None),
    ("North Dorset", "Hare coursing around Blandford Forum",
     "Coursing on farmland at weekends through the autumn, with threats to farmers who intervene.",
     ("locality", "Blandford Forum"), ("wildlife_crime", "criminal_damage"), 420, (POLICE, COUNCIL),
     (("Joint patrols with the rural crime team on weekend mornings", POLICE, 14, 10),
      ("Farm Watch messages on vehicles seen", POLICE, 30, 30)),
     (60, ("Coursing reports fell away through the winter after the joint patrols; patrols carry on under the "
          "rural crime team's normal plan."))),
)


def _financial_year(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def load_plan_demo(*, agencies: Mapping[str, Agency], today: dt.date) -> Plan | None:
    """The demo's plan, its years and updates, and its local problems; nothing when a plan exists."""
    if db.session.scalar(select(Plan.id).limit(1)) is not None:
        return None
    ids = {name: agency.id for name, agency in agencies.items()}
    plan = plans.create(title=TITLE, first_year=2023, last_year=2026, year=2023,
                        priorities=[(name, aim, measures) for name, aim, measures, _ in PRIORITIES], issues=ISSUES)
    started = dt.datetime(2023, 4, 1, 9, tzinfo=dt.UTC)
    pending: list[tuple[int, PlanActivity, tuple[tuple[int, ActivityStatus, str], ...]]] = []
    for priority, (_, _, _, activities) in zip(plan.priorities, PRIORITIES, strict=True):
        for position, (title, lead, partners, due, updates) in enumerate(activities, start=1):
            activity = PlanActivity(position=position, title=title, lead_agency_id=ids[lead], due_on=due,
                                    created_at=started)
            priority.activities.append(activity)
            db.session.flush()
            plans._set_partners(activity, [ids[p] for p in partners])
            pending.append((position, activity, updates))
    db.session.flush()
    last_year = max(_financial_year(today), 2023)
    for year in range(2023, last_year + 1):
        if year > 2023:
            plan = plans.copy_to_next_year(plan, today=dt.date(year, 4, 1))
        current = {a.copied_from_id: a for p in plan.priorities for a in p.activities} if year > 2023 else {}
        next_pending = []
        for position, activity, updates in pending:
            here = current.get(activity.id, activity) if year > 2023 else activity
            if year > 2023 and activity.id not in current:
                continue  # completed the year before: not carried on
            for days_ago, status, text in updates:
                on = today - dt.timedelta(days=days_ago)
                if _financial_year(on) == year or (year == 2023 and _financial_year(on) < 2023) or (
                        year == last_year and _financial_year(on) > year):
                    db.session.add(ActivityUpdate(activity_id=here.id, status=status, narrative=text, updated_on=on,
                                                  agency_id=here.lead_agency_id))
            next_pending.append((position, here, updates))
        pending = next_pending
        db.session.flush()
    _load_problems(ids, today)
    return plan


def _load_problems(ids: Mapping[str, object], today: dt.date) -> None:
    if db.session.scalar(select(LocalProblem.id).limit(1)) is not None:
        return
    for group, title, description, (kind, place), categories, days_ago, partners, actions, closed in PROBLEMS:
        area = db.session.scalar(select(Area).where(Area.name == place)) if kind == "area" else None
        if kind == "area" and area is None:
            continue
        start = today - dt.timedelta(days=days_ago)
        problem = LocalProblem(group_name=f"{group} Partnership Co-ordinating Group", title=title,
                               description=description, locality=place if kind == "locality" else None,
                               area_id=area.id if area else None, categories=" ".join(categories), started_on=start)
        problem.partners = [LocalProblemPartner(agency_id=ids[p]) for p in partners]
        db.session.add(problem)
        db.session.flush()
        for text, owner, due, done in actions:
            problem.actions.append(LocalProblemAction(
                problem_id=problem.id, text=text, owner_agency_id=ids[owner], due_on=start + dt.timedelta(days=due),
                done_on=start + dt.timedelta(days=done) if done is not None and done <= days_ago else None))
        if closed is not None:
            problem.closed_on = today - dt.timedelta(days=closed[0])
            problem.outcome = closed[1]
    db.session.flush()
