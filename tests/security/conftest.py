"""Fixtures of the attack tests: the two agencies' records (tests/security/world.py) and helpers to
walk every route of the app."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

from tests.security.world import World, build

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.fixture()
def world(app_ctx: Flask, reset_throttles: None) -> World:
    return build(app_ctx)


def rules(app: Flask) -> list[tuple[str, Rule]]:
    """Every (method, rule) the app answers, HEAD and OPTIONS aside."""
    return [(method, rule) for rule in app.url_map.iter_rules()
            for method in sorted((rule.methods or set()) & set(METHODS))]


def uuid_arguments(rule: Rule) -> list[str]:
    from werkzeug.routing.converters import UUIDConverter

    return [name for name, conv in rule._converters.items() if isinstance(conv, UUIDConverter)]


def record_kind(endpoint: str, argument: str, values: dict[str, Any]) -> str | None:
    """The kind of record a route's id argument names (None: not a case record, e.g. a user for the
    administrators, who manage every agency's). An argument this does not know fails the tests that
    use it: add it here, so a new route's ids are attacked too."""
    if argument in ("user_id", "agency_id", "route_id"):  # (a referral route: administrators' settings)
        return None
    if argument == "request_id":
        # A request to share names a person only by a sealed token; another agency's request answers
        # 404 (tests/integration/test_share_requests.py).
        return None
    if argument in ("plan_id", "priority_id", "activity_id", "problem_id", "problem_action_id"):
        # The plan and the local problems (issue 18) are the partnership's, read by everyone signed in,
        # about no person; an id not found answers 404 (tests/integration/test_plan.py and
        # test_local_problems.py test who may change them).
        return None
    if argument in ("review_id", "report_request_id", "recommendation_id"):
        # A review after a death is seen only by the users named on it, whatever their agency: any
        # other id answers 404 (tests/integration/test_dardr.py).
        # An ASB case review application is seen by the coordinator, its panel, its caseworker and the
        # receiving agency's managers, not by agency; one the user may not see answers 404, and a
        # recommendation is marked done only by its owner agency or the coordinator
        # (tests/integration/test_asb_reviews.py).
        return None
    if argument == "record_id":
        return "case" if ".case_" in endpoint or values.get("kind") == "case" else "person"
    if argument == "case_id" and endpoint.startswith(("meetings.", "printing.meeting_case")):
        return "meeting_case"
    if argument == "meeting_case_id":
        return "meeting_case"
    if argument == "document_id":
        # The world holds no documents: an unknown document answers 404, another agency's too
        # (tests/integration/test_documents.py).
        return None
    known = {"person_id": "person", "other_id": "person", "incident_id": "incident", "case_id": "case",
             "referral_id": "referral", "assessment_id": "assessment", "meeting_id": "meeting",
             "action_id": "action", "party_id": "party", "reminder_id": "reminder", "order_id": "order"}
    if argument not in known:
        raise AssertionError(f"{endpoint}: no record kind known for <uuid:{argument}>; add it to "
                             "tests/security/conftest.py record_kind()")
    return known[argument]


def url(app: Flask, endpoint: str, values: dict[str, Any]) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


def random_id() -> uuid.UUID:
    return uuid.uuid4()


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    """A response's text, with the members of a zip file (an .ods or .xlsx export) read out."""
    import io
    import zipfile

    data = response.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "\n".join(z.read(name).decode("utf-8", "replace") for name in z.namelist())
    return data.decode("utf-8", "replace")
