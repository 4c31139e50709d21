"""The rules every form applies to every text field, the rules an import applies (issue 20, findings
11, 12 and 13): a length limit, no text a spreadsheet would run as a formula, a date of birth today
or in the past; and a request body larger than MAX_CONTENT_LENGTH is refused before it is read."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from wtforms import HiddenField, PasswordField, StringField, TextAreaField

from casework import values
from casework.db import db
from casework.forms import Form
from casework.models import Person
from tests.integration.people_support import dob_fields, make_world


@pytest.fixture()
def world(app_ctx):  # type: ignore[no-untyped-def]
    return make_world(app_ctx)


def people() -> int:
    return db.session.scalar(select(func.count()).select_from(Person)) or 0


def record(world, **fields):
    db.session.commit()
    before = people()
    response = world.post("/people/new", {"surname": "Okafor", "forenames": "Ada", "confirm": "yes", **fields})
    return response, people() - before


@pytest.mark.parametrize(("field", "value", "label"), [
    ("surname", "=1+1", "Surname"), ("forenames", "@SUM(1)", "Forenames"), ("surname", "-2+3", "Surname"),
    ("address", "+HYPERLINK(\"http://example.com\")", "Address"), ("postcode", " =A1", "Postcode"),
    ("safe_contact", "\t=cmd|' /C calc'!A0", "Safe-contact instructions"),
])
def test_a_form_refuses_text_a_spreadsheet_would_run_as_a_formula(world, field, value, label):
    response, saved = record(world, **{field: value})
    assert response.status_code == 400 and saved == 0
    assert f"{label} must not start with =, +, - or @" in response.get_data(as_text=True)


def test_a_form_refuses_text_longer_than_its_limit(world):
    response, saved = record(world, surname="S" * 201, address="a" * 10_001)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and saved == 0
    assert "Surname must be 200 characters or fewer (this has 201)" in page
    assert "Address must be 10,000 characters or fewer (this has 10,001)" in page


def test_real_names_places_and_phone_numbers_are_accepted(world):
    response, saved = record(world, surname="O'Brien-Smith", forenames="Mary-Ann", postcode="DT1 1XJ",
                             phone="+44 (0)1202 123456", address="1 High Street\nSturminster Newton",
                             safe_contact="- not after 6pm")
    assert response.status_code == 400, "a list item starting with '-' is a formula to a spreadsheet"
    response, saved = record(world, surname="O'Brien-Smith", forenames="Mary-Ann", postcode="DT1 1XJ",
                             phone="+44 (0)1202 123456", address="1 High Street\nSturminster Newton",
                             safe_contact="Not after 6pm - call the mobile")
    assert response.status_code == 302 and saved == 1


def test_a_date_of_birth_after_today_is_refused_with_the_imports_message(world):
    response, saved = record(world, **dob_fields(dt.date(9999, 12, 31)))
    assert response.status_code == 400 and saved == 0
    assert "Date of birth must be today or in the past" in response.get_data(as_text=True)


def test_a_request_larger_than_the_limit_is_refused_before_it_is_read(world, app_ctx):
    assert app_ctx.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    db.session.commit()
    before = people()
    response = world.post("/people/new", {"surname": "S" * (2 * 1024 * 1024), "confirm": "yes"})
    assert response.status_code == 413
    assert "Traceback" not in response.get_data(as_text=True)
    assert people() == before


def test_every_text_field_of_every_form_gets_the_rules(app_ctx):
    """Centrally: a form declares no length or formula check of its own, and passwords are only
    limited in length (they are never stored or shown)."""

    class Anything(Form):
        class Meta:
            csrf = False

        line = StringField("Line")
        paragraphs = TextAreaField("Paragraphs")
        secret = PasswordField("Secret")
        hidden = HiddenField("Hidden")

    from werkzeug.datastructures import MultiDict

    with app_ctx.test_request_context():
        form = Anything(formdata=MultiDict({"line": "x" * 201, "paragraphs": "=1+1", "secret": "=" + "p" * 300,
                                            "hidden": "@x"}))
        assert not form.validate()
        assert form.errors == {
            "line": ["Line must be 200 characters or fewer (this has 201)"],
            "paragraphs": ["Paragraphs " + values.FORMULA_MESSAGE],
            "secret": ["Secret must be 200 characters or fewer (this has 301)"],
            "hidden": ["Hidden " + values.FORMULA_MESSAGE],
        }
        assert Anything(formdata=MultiDict({"line": "Smith", "paragraphs": "a\n" * 4000,
                                            "secret": "=pass"})).validate()
