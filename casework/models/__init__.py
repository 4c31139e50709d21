"""The data model: one aggregate per module. Importing this package registers every table."""

from .agency import Agency
from .area import Area
from .assessment import AssessmentStatus, RiskAssessment
from .audit import AuditEntry
from .base import Base, Secret, secret_columns
from .case import Case, CaseIncident, CaseNote, CasePerson, CaseTask
from .incident import Incident, Party
from .person import Person
from .prevention import PreventionActivity
from .referral import Consent, Referral
from .sharing import RestrictedAccess, Share
from .source_ref import SourceRef
from .user import FormStash, RecoveryCode, Role, User, UserRole, UserSession
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
    "Agency", "AgencyKind", "Area", "AsbType", "AuditEntry", "Base", "Case", "CaseIncident", "CaseKind",
    "CasePerson", "CaseStatus", "Category", "CjStatus", "FormStash", "Gender", "HrdaCriteria", "Incident",
    "Party", "PartyRole", "Person", "PreventionActivity", "PreventionKind", "ProgrammeOutcome",
    "RecordKind", "RecoveryCode", "Referral", "ReferralStatus", "ReferralType", "RestrictedAccess", "Role",
    "Secret", "Share", "SourceRef", "User", "UserRole", "UserSession", "secret_columns",
    "AssessmentStatus", "CaseNote", "CaseTask", "Consent", "RiskAssessment",
]

# operations: scheduled jobs, reminders, erasures (issue 7)
from .erasure import Erasure  # noqa: E402
from .jobs import JobRun, scheduler_job  # noqa: E402
from .reminder import Reminder  # noqa: E402

__all__ += ["Erasure", "JobRun", "Reminder", "scheduler_job"]

# stored repeat marks, derived from the repeat rule (issue 6, measures)
from .mark import party_mark  # noqa: E402

__all__ += ["party_mark"]

# HRDA meetings (issue 5)
from .meeting import (  # noqa: E402
    ActionStatus,
    Meeting,
    MeetingAction,
    MeetingAgency,
    MeetingCase,
    MeetingState,
    Research,
)

__all__ += ["ActionStatus", "Meeting", "MeetingAction", "MeetingAgency", "MeetingCase", "MeetingState", "Research"]
