"""Production logging: JSON lines with a request id, and never a personal value from a request."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from casework import observability
from tests.conftest import make_test_app

CANARY = "Quorrelwood"
CANARY_DOB = "1987-03-14"
CANARY_POSTCODE = "DT1 9ZZ"
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


def _casework_handler() -> logging.Handler:
    (handler,) = [h for h in logging.getLogger().handlers if getattr(h, "_casework", False)]
    return handler


@pytest.fixture()
def json_lines(app_ctx: Flask, capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], list[dict]]]:
    """The app's log handler writing JSON (as in production); returns the lines written so far, parsed."""
    handler = _casework_handler()
    original = handler.formatter
    handler.setFormatter(observability.JsonFormatter())
    capsys.readouterr()

    def lines() -> list[dict]:
        err = capsys.readouterr().err
        sys.stderr.write(err)  # keep it in the test's report
        return [json.loads(line) for line in err.splitlines() if line.strip()]  # every line must be JSON

    try:
        yield lines
    finally:
        handler.setFormatter(original)


def request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "casework.request"]


def test_a_request_is_logged_as_one_json_line_with_its_request_id(client, json_lines):
    response = client.get("/healthz")

    (line,) = request_lines(json_lines())
    assert GENERATED_ID.match(response.headers["X-Request-ID"])
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert {k: line[k] for k in ("level", "method", "path", "status")} == {
        "level": "INFO", "method": "GET", "path": "/healthz", "status": 200}
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00") and line["message"].startswith("GET /healthz 200")
    assert "user_id" not in line


def test_a_safe_incoming_request_id_is_kept(client, json_lines):
    response = client.get("/healthz", headers={"X-Request-ID": "edge-7f3a.2_B"})

    assert response.headers["X-Request-ID"] == "edge-7f3a.2_B"
    assert request_lines(json_lines())[0]["request_id"] == "edge-7f3a.2_B"


@pytest.mark.parametrize("incoming", ["two words", "x" * 65, "<script>", "id;rm", "", "ünïcode"])
def test_an_unsafe_incoming_request_id_is_replaced(client, json_lines, incoming):
    response = client.get("/healthz", headers={"X-Request-ID": incoming})

    assert GENERATED_ID.match(response.headers["X-Request-ID"])
    assert request_lines(json_lines())[0]["request_id"] == response.headers["X-Request-ID"]


def test_lines_written_during_a_request_carry_its_request_id(app_ctx, client, json_lines):
    def _note(response):  # type: ignore[no-untyped-def]
        logging.getLogger("casework.test").warning("inside the request")
        return response

    # Appended directly: the session's app has served requests, so Flask refuses new hooks by decorator.
    app_ctx.after_request_funcs.setdefault(None, []).append(_note)
    try:
        response = client.get("/healthz")
    finally:
        app_ctx.after_request_funcs[None].remove(_note)

    inside = [line for line in json_lines() if line["logger"] == "casework.test"]
    assert [line["request_id"] for line in inside] == [response.headers["X-Request-ID"]]


def test_canary_personal_values_in_queries_and_forms_never_reach_the_logs(client, json_lines, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="casework")
    query = {"q": CANARY, "surname": CANARY, "dob": CANARY_DOB, "postcode": CANARY_POSTCODE}
    form = {"email": f"{CANARY.lower()}@example.org", "password": CANARY, "name": CANARY,
            "surname": CANARY, "date_of_birth": CANARY_DOB, "postcode": CANARY_POSTCODE}

    client.get("/", query_string=query)
    client.get("/no-such-page", query_string=query)
    client.get("/sign-in", query_string=query)
    client.post("/sign-in", data=form, query_string=query)
    client.post("/sign-in", data=form)  # a failed sign-in, from the form alone
    client.post("/admin/agencies", data=form)  # refused: not signed in

    lines = json_lines()
    logged = json.dumps(lines) + caplog.text + "".join(repr(vars(r)) for r in caplog.records)
    assert len(request_lines(lines)) == 6, "every request was logged (so this test can see a leak)"
    for value in (CANARY, CANARY.lower(), CANARY_DOB, CANARY_POSTCODE, CANARY_POSTCODE.replace(" ", "+")):
        assert value not in logged
    paths = {line["path"] for line in request_lines(lines)}
    assert paths == {"/", "/no-such-page", "/sign-in", "/admin/agencies"}


def test_a_signed_in_users_requests_log_their_id_only(client, json_lines, user_factory, login):
    user = user_factory(email=f"{CANARY.lower()}@example.org")
    signed_in = login(user)

    signed_in.get("/account")

    line = request_lines(json_lines())[-1]
    assert line["user_id"] == str(user.id) and line["status"] == 200
    assert CANARY.lower() not in json.dumps(line)


def test_an_exception_is_logged_by_type_and_place_without_its_message():
    try:
        raise ValueError(f"duplicate surname {CANARY}")
    except ValueError:
        record = logging.getLogger("casework").makeRecord(
            "casework", logging.ERROR, __file__, 1, "Exception on /people [POST]", (), sys.exc_info())

    line = json.loads(observability.JsonFormatter().format(record))

    assert line["exception"]["type"] == "builtins.ValueError"
    assert any("test_logging.py" in frame for frame in line["exception"]["stack"])
    assert CANARY not in json.dumps(line)


def test_json_lines_are_the_default_in_production_and_text_elsewhere(app, database_url, tmp_path: Path):
    try:
        make_test_app(database_url, tmp_path, ENV="production", KEYRING_FILE=app.config["KEYRING_FILE"])
        assert isinstance(_casework_handler().formatter, observability.JsonFormatter)
        make_test_app(database_url, tmp_path, LOG_FORMAT="json")
        assert isinstance(_casework_handler().formatter, observability.JsonFormatter)
        make_test_app(database_url, tmp_path)
        assert isinstance(_casework_handler().formatter, observability.TextFormatter)
        with pytest.raises(ValueError, match="LOG_FORMAT must be json or text"):
            make_test_app(database_url, tmp_path, LOG_FORMAT="xml")
    finally:
        observability.configure_logging(app.config)


def test_a_caseworkers_journey_with_canary_values_leaves_none_in_the_logs(app_ctx, client, json_lines, caplog,
                                                                          user_factory, runner, tmp_path,
                                                                          monkeypatch):
    """Sign in, record a person, search for them, open them, erase them, run the scheduled jobs (issue 7)."""
    monkeypatch.setitem(app_ctx.config, "AUDIT_CHECKPOINT_FILE", str(tmp_path / "audit-checkpoints"))
    import pyotp

    from casework import crypto
    from casework.scheduler import Job, execute, jobs
    from tests.fixtures_auth import PASSWORD

    caplog.set_level(logging.DEBUG)
    user = user_factory(email=f"{CANARY.lower()}.worker@example.org")
    dob = dict(zip(("date_of_birth-day", "date_of_birth-month", "date_of_birth-year"), CANARY_DOB.split("-")[::-1],
                   strict=True))
    person = {"surname": CANARY, "forenames": f"{CANARY}ina", "postcode": CANARY_POSTCODE, **dob,
              "address": f"1 {CANARY} Row", "phone": "07700 900987", "email": f"{CANARY.lower()}@example.net",
              "safe_contact": f"Ask for {CANARY}"}

    client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    signed = client.post("/sign-in/code", data={"code": pyotp.TOTP(user.totp_secret).now()})
    assert signed.status_code == 302 and "/sign-in" not in signed.location
    created = client.post("/people/new", data=person)
    if created.status_code == 200:  # a possible duplicate was shown first: record them anyway
        created = client.post("/people/new", data={**person, "confirm": "new"})
    client.get("/people", query_string={"surname": CANARY, "postcode": CANARY_POSTCODE})
    from sqlalchemy import select

    from casework.db import db
    from casework.models import Person

    found = list(db.session.scalars(select(Person).where(
        Person.bi_surname == crypto.index_of(crypto.current(), "surname", CANARY))))
    for p in found:
        client.get(f"/people/{p.id}")
        client.post(f"/people/{p.id}/address")
    for job in jobs.JOBS[:5]:
        execute(Job(job.name + "_journey", job.title, "every 1 seconds", job.body))
    if found:
        assert runner.invoke(["erase", str(found[0].id), "--reason", f"asked by {CANARY}", "--yes"]).exit_code == 0

    lines = json_lines()
    logged = json.dumps(lines) + caplog.text + "".join(repr(vars(r)) for r in caplog.records)
    assert len(request_lines(lines)) >= 4 + 2 * len(found)
    assert found, "the person was recorded, so the journey saw their pages"
    for value in (CANARY, CANARY.lower(), CANARY_DOB, CANARY_POSTCODE, CANARY_POSTCODE.replace(" ", "+"),
                  "07700 900987", "14/03/1987"):
        assert value not in logged
