"""The Dorset partnership the demo brings, and how its data sets are split between them.

Refs are per agency, and a data set's parties and referrals can only point at
people of the same agency, so the split follows who records what:

- Dorset Police: the designated areas (shared by the partnership, so they
  come first), most incidents, and every referral: HRDA and IDVA referrals
  of DA victims, and the MAPPA and perpetrator-programme referrals of
  perpetrators. In life probation makes many of the latter, but they must
  point at the same person records as the incidents for the DA4 and repeat
  measures to link them, so they ride in the police extract.
- Dorset Council: ASB and fly-tipping in its own (non-BCP) area, and the
  Trading Standards fraud-prevention work (Friends Against Scams, scam
  interventions).
- The housing association: tenants' ASB, neighbour harassment and some DA,
  with people of its own (the same victim may also be a police record: a
  duplicate for matching to find, as in life).
- The fire service: deliberate fires and criminal damage, often rural.
- NHS Dorset: assaults seen in A&E, shared anonymised under the serious
  violence duty, so without parties.

Probation, the Domestic Abuse Forum and the Youth Justice Service bring no
extract of their own; they are there for their staff to work cases.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Partner:
    name: str
    kind: str  # an AgencyKind value


POLICE = Partner("Dorset Police", "police")
COUNCIL = Partner("Dorset Council", "council")
FIRE = Partner("Dorset & Wiltshire Fire and Rescue", "fire")
PROBATION = Partner("Probation Service (Dorset)", "probation")
HEALTH = Partner("NHS Dorset", "health")
HOUSING = Partner("Sovereign Network Group", "housing")
DA_FORUM = Partner("Dorset Domestic Abuse Forum", "other")
YOUTH_JUSTICE = Partner("Combined Youth Justice Service", "other")

PARTNERS = (POLICE, COUNCIL, FIRE, PROBATION, HEALTH, HOUSING, DA_FORUM, YOUTH_JUSTICE)


@dataclass(frozen=True)
class DataSetSpec:
    key: str  # also the subdirectory it is written to
    partner: Partner
    files: tuple[str, ...]
    share: float  # of all incidents


# In import order: the police bring the areas the others refer to.
DATASETS = (
    DataSetSpec("police", POLICE, ("areas", "people", "incidents", "parties", "referrals"), 0.80),
    DataSetSpec("council", COUNCIL, ("people", "incidents", "parties", "prevention"), 0.09),
    DataSetSpec("housing", HOUSING, ("people", "incidents", "parties"), 0.04),
    DataSetSpec("fire", FIRE, ("people", "incidents", "parties"), 0.04),
    DataSetSpec("health", HEALTH, ("incidents",), 0.03),
)

COLUMNS = {
    "areas": ("area", "locality", "asb_priority", "sv_hotspot", "rural_hotspot"),
    "people": ("person_ref", "surname", "forenames", "date_of_birth", "gender", "postcode", "mental_health",
               "substance_misuse", "complex_needs"),
    "incidents": ("incident_ref", "occurred_on", "category", "domestic_abuse", "recorded_by", "locality", "area",
                  "rural", "alcohol", "drugs", "mental_health", "asb_type"),
    "parties": ("incident_ref", "person_ref", "role", "cj_status"),
    "referrals": ("referral_ref", "person_ref", "type", "referred_on", "started_on", "ended_on", "outcome",
                  "criteria", "dash_score", "mappa_category", "mappa_level"),
    "prevention": ("activity_ref", "occurred_on", "kind", "friends_recruited", "savings_gbp"),
}
