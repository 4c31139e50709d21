"""A database that cannot be reached: every page answers 503 with the service's error page, which
renders without the database, and never a traceback (tests/security/test_faults.py does the same
with a real server stopped and started)."""

from __future__ import annotations

from bench._pgcluster import free_port
from tests.conftest import Page, make_test_app


def test_pages_answer_503_with_the_error_page_when_the_database_is_unreachable(tmp_path):
    nowhere = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/casework"
    app = make_test_app(nowhere, tmp_path, TESTING=False)
    client = app.test_client()
    with client.session_transaction() as s:
        s["sid"] = "a session the server cannot look up"
    for path in ("/", "/people?surname=Smith", "/sign-in"):
        page = Page(client.get(path))
        assert page.status_code == 503, path
        assert page.h1 == "Service Unavailable" and "cannot reach its database" in page.text
        assert "Traceback" not in page.response.get_data(as_text=True)
        assert page.response.headers["Retry-After"] == "30"
    posted = client.post("/sign-in", data={"email": "a@example.org", "password": "whatever it is"})
    assert posted.status_code == 503
    app.extensions["casework.engine"].dispose()
