"""Loading the demo: the partner agencies, then each partner's extract through the ordinary importer.

The demo goes through `casework.exchange.import_dataset` like any partner's
data, so what it loads has passed the same checks, and a demo that would not
import is a bug in the generator, reported as such.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, text

from ..db import db
from ..models import Agency, CaseKind, Incident, Person, PreventionActivity, Referral
from ..services import agencies as agency_service
from .cases import make_cases
from .partners import PARTNERS
from .writer import DataSet, write_dataset


class DemoFailed(Exception):
    """The generated demo data did not import: a fault in the generator, not in anyone's input."""

    def __init__(self, dataset: DataSet, problems: list[str]) -> None:
        self.dataset = dataset
        self.problems = problems
        super().__init__(f"The demo data for {dataset.agency} did not import ({len(problems)} problems)")


@dataclass
class Loaded:
    """What one partner's extract brought."""

    agency: str
    incidents: int = 0
    people: int = 0
    referrals: int = 0
    prevention: int = 0


@dataclass
class DemoSummary:
    added_agencies: list[str] = field(default_factory=list)
    loaded: list[Loaded] = field(default_factory=list)
    cases: Counter[CaseKind] = field(default_factory=Counter)  # opened by the demo, per kind
    cases_seconds: float = 0.0


def has_incidents() -> bool:
    """True when the database holds any incident at all (the demo is then left alone by `--if-empty`)."""
    return db.session.scalar(select(Incident.id).limit(1)) is not None


def ensure_partners() -> tuple[dict[str, Agency], list[str]]:
    """The demo's partner agencies by name, adding those not there yet; also the names added."""
    found: dict[str, Agency] = {}
    added: list[str] = []
    for partner in PARTNERS:
        agency = agency_service.by_name(partner.name)
        if agency is None:
            agency = agency_service.add(name=partner.name, kind=partner.kind)
            added.append(agency.name)
        found[partner.name] = agency
    return found, added


def add_demo_users(*, agencies: Mapping[str, Agency]) -> None:
    """The demo sign-ins: one user per role in the partner agencies, made by the accounts
    feature (`casework.services.users.create_demo_users`); `casework users demo-sign-ins` prints them."""
    from ..services.users import create_demo_users

    create_demo_users(agencies=agencies)
    set_demo_routes(agencies=agencies)


# Dorset's referral routes: HRDA to the council's HRDA chair (the HRDA coordinator), IDVA to the
# Domestic Abuse Forum's IDVA service, MAPPA and the perpetrator programme to the Probation Service.
DEMO_ROUTES = (
    ("hrda", "Dorset Council", "hrda_chair"),
    ("idva", "Dorset Domestic Abuse Forum", "caseworker"),
    ("mappa", "Probation Service (Dorset)", "caseworker"),
    ("perpetrator_programme", "Probation Service (Dorset)", "caseworker"),
)


def set_demo_routes(*, agencies: Mapping[str, Agency]) -> None:
    """Set the demo's referral routes (`DEMO_ROUTES`), leaving any route already set as it is."""
    from ..models import ReferralType, Role
    from ..services import referral_routes

    for kind, agency_name, role in DEMO_ROUTES:
        agency = agencies.get(agency_name) or agency_service.by_name(agency_name)
        if agency is None or referral_routes.route_to(ReferralType(kind), agency.id) is not None:
            continue
        referral_routes.set_route(ReferralType(kind), agency=agency, role=Role(role), by=None)


def load_demo(*, incidents: int, seed: int, end: dt.date | None = None, progress: bool = False) -> DemoSummary:
    """Add the partner agencies, generate the demo, import each partner's extract, add the demo
    users and open the cases their caseworkers would have (`casework.demo.cases`). Flushes, never
    commits."""
    from ..exchange import ImportFailed, import_dataset

    partners, added = ensure_partners()
    summary = DemoSummary(added_agencies=added)
    with tempfile.TemporaryDirectory(prefix="casework-demo-") as tmp:
        for dataset in write_dataset(Path(tmp), incidents=incidents, seed=seed, end=end):
            agency = partners[dataset.agency]
            try:
                import_dataset(dataset.directory, agency=agency, progress=progress)
            except ImportFailed as e:
                raise DemoFailed(dataset, [str(p) for p in e.problems]) from e
            summary.loaded.append(_loaded(agency))
    add_demo_users(agencies=partners)
    db.session.flush()
    started = time.monotonic()
    summary.cases = make_cases(incidents=incidents, seed=seed, today=end or dt.date.today())
    summary.cases_seconds = time.monotonic() - started
    from . import board  # the partnership board's material (issue 18)

    board.add_meetings(today=end or dt.date.today())
    board.add_equality(seed=seed, today=end or dt.date.today())
    board.add_review(today=end or dt.date.today())
    from .live_referrals import add_live_referrals  # what the caseworker, chair and IDVA find waiting

    add_live_referrals(today=end or dt.date.today())
    if summary.cases and db.session.get_bind().dialect.name == "postgresql":
        # Fresh statistics for the planner, as an import gives its tables (see analyse_after_bulk_writing).
        db.session.execute(text('ANALYZE "case", case_person, case_incident, case_note, case_task'))
    from .plan import load_plan_demo  # the Community Safety Plan and local problems (issue 18)

    load_plan_demo(agencies=partners, today=end or dt.date.today())
    return summary


def _loaded(agency: Agency) -> Loaded:
    def count(model: type) -> int:
        owned = model.owner_agency_id == agency.id  # type: ignore[attr-defined]
        return db.session.scalar(select(func.count()).select_from(model).where(owned)) or 0

    return Loaded(agency=agency.name, incidents=count(Incident), people=count(Person), referrals=count(Referral),
                  prevention=count(PreventionActivity))
