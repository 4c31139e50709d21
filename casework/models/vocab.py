"""The partnership's vocabularies, with the words users see."""

from __future__ import annotations

import enum
from typing import Self


class Labelled(str, enum.Enum):
    """A str enum whose members carry a label for pages: `Category.ASB.label`."""

    label: str

    def __new__(cls, value: str, label: str | None = None) -> Self:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label or value.replace("_", " ").capitalize()
        return obj

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class AgencyKind(Labelled):
    POLICE = "police", "Police"
    COUNCIL = "council", "Council"
    HOUSING = "housing", "Housing"
    FIRE = "fire", "Fire and rescue"
    HEALTH = "health", "Health"
    PROBATION = "probation", "Probation"
    OTHER = "other", "Other"


class Category(Labelled):
    HOMICIDE = "homicide", "Homicide"
    VIOLENCE_WITH_INJURY = "violence_with_injury", "Violence with injury"
    VIOLENCE_WITHOUT_INJURY = "violence_without_injury", "Violence without injury"
    WEAPON_POSSESSION = "weapon_possession", "Possession of weapons"
    ROBBERY = "robbery", "Robbery"
    STALKING = "stalking", "Stalking"
    HARASSMENT = "harassment", "Harassment"
    SEXUAL_OFFENCE = "sexual_offence", "Sexual offence"
    ASB = "asb", "Anti-social behaviour"
    CRIMINAL_DAMAGE = "criminal_damage", "Criminal damage"
    ARSON = "arson", "Arson"
    BURGLARY = "burglary", "Burglary"
    THEFT = "theft", "Theft"
    VEHICLE_CRIME = "vehicle_crime", "Vehicle crime"
    FRAUD = "fraud", "Fraud"
    FLY_TIPPING = "fly_tipping", "Fly-tipping"
    WILDLIFE_CRIME = "wildlife_crime", "Wildlife crime"
    HERITAGE_CRIME = "heritage_crime", "Heritage crime"
    DRUG_OFFENCE = "drug_offence", "Drug offence"
    PUBLIC_ORDER = "public_order", "Public order"
    OTHER = "other", "Other"


SERIOUS_VIOLENCE = frozenset(
    {Category.HOMICIDE, Category.VIOLENCE_WITH_INJURY, Category.WEAPON_POSSESSION, Category.ROBBERY}
)


class AsbType(Labelled):
    PERSONAL = "personal", "Personal"
    NUISANCE = "nuisance", "Nuisance"
    ENVIRONMENTAL = "environmental", "Environmental"


class Gender(Labelled):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    NON_BINARY = "non_binary", "Non-binary"
    UNKNOWN = "unknown", "Not known"


class PartyRole(Labelled):
    VICTIM = "victim", "Victim"
    PERPETRATOR = "perpetrator", "Perpetrator"


class CjStatus(Labelled):
    ENTERED = "entered", "Entered proceedings"
    WITHDREW = "withdrew", "Withdrew"
    CONCLUDED = "concluded", "Concluded"


class ReferralType(Labelled):
    HRDA = "hrda", "HRDA"
    IDVA = "idva", "IDVA"
    MAPPA = "mappa", "MAPPA"
    PERPETRATOR_PROGRAMME = "perpetrator_programme", "Perpetrator programme"

    @property
    def with_article(self) -> str:
        """The kind inside a sentence, as it is said: "an HRDA" (aitch), "an IDVA", "a MAPPA"."""
        return {"hrda": "an HRDA", "idva": "an IDVA", "mappa": "a MAPPA"}.get(self.value, f"a {self.label.lower()}")


class ReferralStatus(Labelled):
    SUBMITTED = "submitted", "Submitted"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    CLOSED = "closed", "Closed"


class ProgrammeOutcome(Labelled):
    COMPLETED = "completed", "Completed"
    LEFT_EARLY = "left_early", "Left early"
    REMOVED = "removed", "Removed"


class HrdaCriteria(Labelled):
    DASH = "dash", "Visible high risk (DASH)"
    PROFESSIONAL_JUDGEMENT = "professional_judgement", "Professional judgement"
    ESCALATION = "escalation", "Potential escalation"


class PreventionKind(Labelled):
    FRIENDS_AGAINST_SCAMS = "friends_against_scams", "Friends Against Scams"
    SCAM_INTERVENTION = "scam_intervention", "Scam intervention"
    OTHER = "other", "Other"


class CaseKind(Labelled):
    DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse"
    STALKING = "stalking", "Stalking"
    SEXUAL_OFFENCE = "sexual_offence", "Sexual offence"
    ASB = "asb", "Anti-social behaviour"
    SERIOUS_VIOLENCE = "serious_violence", "Serious violence"
    RURAL_CRIME = "rural_crime", "Rural crime"
    FRAUD = "fraud", "Fraud"


class CaseStatus(Labelled):
    OPEN = "open", "Open"
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"


class RecordKind(Labelled):
    """What an agency's source reference points at."""

    PERSON = "person", "Person"
    INCIDENT = "incident", "Incident"
    REFERRAL = "referral", "Referral"
    ACTIVITY = "activity", "Prevention activity"
    ORDER = "order", "Order or power"  # orders.csv (issue 17 §2)
