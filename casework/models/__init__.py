"""The data model: one aggregate per module. Importing this package registers every table."""

from .agency import Agency
from .area import Area, Locality, locality_key
from .assessment import AssessmentStatus, RiskAssessment
from .audit import AuditEntry
from .base import Base, Secret, secret_columns
from .case import Case, CaseIncident, CaseNote, CasePerson, CaseTask
from .incident import Incident, Party
from .person import Person
from .prevention import PreventionActivity
from .referral import Consent, Referral, ReferralRoute
from .sharing import RestrictedAccess, Share
from .source_ref import SourceRef
from .user import FormStash, PendingSignIn, RecoveryCode, Role, User, UserRole, UserSession
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
    "Agency",
    "AgencyKind",
    "Area",
    "AsbType",
    "AssessmentStatus",
    "AuditEntry",
    "Base",
    "Case",
    "CaseIncident",
    "CaseKind",
    "CaseNote",
    "CasePerson",
    "CaseStatus",
    "CaseTask",
    "Category",
    "CjStatus",
    "Consent",
    "FormStash",
    "Gender",
    "HrdaCriteria",
    "Incident",
    "Locality",
    "Party",
    "PartyRole",
    "PendingSignIn",
    "Person",
    "PreventionActivity",
    "PreventionKind",
    "ProgrammeOutcome",
    "RecordKind",
    "RecoveryCode",
    "Referral",
    "ReferralRoute",
    "ReferralStatus",
    "ReferralType",
    "RestrictedAccess",
    "RiskAssessment",
    "Role",
    "Secret",
    "Share",
    "SourceRef",
    "User",
    "UserRole",
    "UserSession",
    "locality_key",
    "secret_columns",
]

# operations: scheduled jobs, reminders, erasures (issue 7)
from .erasure import Erasure
from .jobs import JobRun, scheduler_job
from .reminder import Reminder

__all__ += ["Erasure", "JobRun", "Reminder", "scheduler_job"]

# stored repeat marks, derived from the repeat rule (issue 6, measures)
from .mark import party_mark

__all__ += ["party_mark"]

# HRDA meetings (issue 5)
from .meeting import (
    ActionStatus,
    Meeting,
    MeetingAction,
    MeetingAgency,
    MeetingCase,
    MeetingState,
    Research,
)

__all__ += ["ActionStatus", "Meeting", "MeetingAction", "MeetingAgency", "MeetingCase", "MeetingState", "Research"]

# work lists: cases handed to another caseworker (issue 14)
from .handover import CaseHandover

__all__ += ["CaseHandover"]

# asking another agency to share a person's record (issue 14)
from .share_request import ShareRequest

__all__ += ["ShareRequest"]

# documents kept with a record (issue 16)
from .document import Document, DocumentChunk

__all__ += ["Document", "DocumentChunk"]

# the Community Safety Plan's delivery and local problem-solving (issue 18)
from .local_problem import LocalProblem, LocalProblemAction, LocalProblemPartner
from .plan import ActivityStatus, ActivityUpdate, Plan, PlanActivity, PlanActivityPartner, PlanIssue, PlanPriority

__all__ += ["ActivityStatus", "ActivityUpdate", "LocalProblem", "LocalProblemAction", "LocalProblemPartner", "Plan",
            "PlanActivity", "PlanActivityPartner", "PlanIssue", "PlanPriority"]

# orders and powers, and their breaches (issue 17 §2)
from .order import Order, OrderBreach, OrderIncident, OrderKind, OrderStatus

__all__ += ["Order", "OrderBreach", "OrderIncident", "OrderKind", "OrderStatus"]

# reviews after a death (issue 18 §3)
from .dardr import (
    DardrAgencyRequest,
    DardrFamilyContact,
    DardrRecommendation,
    DardrReview,
    LearningTheme,
    RecommendationStatus,
    ReviewDecision,
)

__all__ += ["DardrAgencyRequest", "DardrFamilyContact", "DardrRecommendation", "DardrReview", "LearningTheme",
            "RecommendationStatus", "ReviewDecision"]

# ASB case reviews (issue 17)
from .asb_review import Applicant, AsbRecommendation, AsbReview, AsbReviewPanel, ThresholdDecision

__all__ += ["Applicant", "AsbRecommendation", "AsbReview", "AsbReviewPanel", "ThresholdDecision"]
