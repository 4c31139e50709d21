"""The data model: one aggregate per module. Importing this package registers every table."""

from .agency import Agency
from .area import Area
from .base import Base, Secret, secret_columns
from .case import Case, CaseIncident, CasePerson
from .incident import Incident, Party
from .person import Person
from .prevention import PreventionActivity
from .referral import Referral
from .source_ref import SourceRef
from .vocab import (
    AgencyKind,
    AsbType,
    CaseKind,
    CaseStatus,
    Category,
    CjStatus,
    Gender,
    HrdaCriteria,
    PartyRole,
    PreventionKind,
    ProgrammeOutcome,
    RecordKind,
    ReferralStatus,
    ReferralType,
)

__all__ = [
    "Agency", "AgencyKind", "Area", "AsbType", "Base", "Case", "CaseIncident", "CaseKind", "CasePerson",
    "CaseStatus", "Category", "CjStatus", "Gender", "HrdaCriteria", "Incident", "Party", "PartyRole",
    "Person", "PreventionActivity", "PreventionKind", "ProgrammeOutcome", "RecordKind", "Referral",
    "ReferralStatus", "ReferralType", "Secret", "SourceRef", "secret_columns",
]
