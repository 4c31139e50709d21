"""Finding people: the search as every page that finds a person runs it (the people search page,
adding one to an incident, choosing a record to merge, linking one to a case): the GET form filled
from the query, the terms cleaned and one page of results, which `services.people_search` audits.
A bad term is an error on its field."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request
from flask_login import current_user
from wtforms import StringField

from ...forms import Form
from ...services import people_search
from .fields import DateInputField
from .record_pages import page_number


class SearchForm(Form):
    class Meta:
        csrf = False  # a GET form: nothing changes

    surname = StringField("Surname")
    forenames = StringField("Forenames")
    date_of_birth = DateInputField("Date of birth")
    postcode = StringField("Postcode")
    reference = StringField("Your agency's reference")


# The query values that mean a search was asked for (the date of birth comes in three boxes).
SEARCH_ARGS = ("surname", "forenames", "postcode", "reference",
               "date_of_birth-day", "date_of_birth-month", "date_of_birth-year")


@dataclass
class PersonSearch:
    form: SearchForm
    results: people_search.SearchResults | None  # None until a search is asked for, or when it is refused
    errors: list[dict[str, str]]

    @property
    def status(self) -> int:
        return 400 if self.errors else 200


def run_search() -> PersonSearch:
    """The search the request's query asks for, as the signed-in user may see it."""
    # An empty search (the form sent with nothing in it) is one too: it is told what to enter.
    searched = any(k in request.args for k in SEARCH_ARGS)
    form = SearchForm(formdata=request.args if searched else None)
    results = None
    if searched and form.validate():
        try:
            terms = people_search.clean_terms(
                surname=form.surname.data, forenames=form.forenames.data, date_of_birth=form.date_of_birth.data,
                postcode=form.postcode.data, reference=form.reference.data)
            results = people_search.search(viewer=current_user, terms=terms, page=page_number(),
                                           size=current_app.config["PAGE_SIZE"])
        except people_search.SearchError as e:
            getattr(form, e.field or "surname").errors = [str(e)]
    return PersonSearch(form=form, results=results, errors=form.error_list())
