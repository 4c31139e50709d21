"""Reading a data set's files: physical line numbers, byte-order marks, encodings, headers."""

from __future__ import annotations

import datetime as dt
import io

from casework.exchange.reader import Problems, Progress, read_rows
from casework.exchange.schema import INCIDENTS, PEOPLE, PREVENTION

HEADER = "person_ref,surname,forenames,date_of_birth,gender,postcode,mental_health,substance_misuse,complex_needs\r\n"


def _read(tmp_path, spec, content: bytes):
    path = tmp_path / spec.name
    path.write_bytes(content)
    problems = Problems()
    rows = list(read_rows(path, spec, problems))
    return rows, problems.listed()


def test_rows_are_parsed_with_their_physical_line_numbers(tmp_path):
    content = (HEADER + 'P1,"Smith\nJones",Ann,1980-01-02,female,dt11xj,y,n,\r\n'
               "P2,Brown,,,,,,,\r\n").encode()
    rows, problems = _read(tmp_path, PEOPLE, content)
    assert problems == []
    assert [r.line for r in rows] == [3, 4]  # the quoted line break makes row 1 end on line 3
    assert rows[0].values["surname"] == "Smith\nJones"
    assert rows[0].values["date_of_birth"] == dt.date(1980, 1, 2)
    assert rows[0].values["postcode"] == "DT1 1XJ"
    assert rows[1].values["mental_health"] is False and rows[1].values["gender"] is None


def test_a_byte_order_mark_is_accepted(tmp_path):
    rows, problems = _read(tmp_path, PEOPLE, b"\xef\xbb\xbf" + (HEADER + "P1,Smith,,,,,,,\r\n").encode())
    assert problems == []
    assert rows[0].values["person_ref"] == "P1"


def test_bytes_that_are_not_utf8_are_reported_on_their_line(tmp_path):
    content = (HEADER + "P1,Smith,,,,,,,\r\n").encode() + "P2,Núñez,,,,,,,\r\n".encode("latin-1")
    _rows, problems = _read(tmp_path, PEOPLE, content)
    assert problems == ["people.csv:3: -: not UTF-8 text (byte 0xfa at character 5); save the file as UTF-8"]


def test_unknown_and_missing_required_columns_are_header_problems(tmp_path):
    rows, problems = _read(tmp_path, PEOPLE, b"person_ref,surnme,forenames\r\nP1,Smith,Ann\r\n")
    assert rows == []
    assert problems[0].startswith("people.csv:1: surnme: unknown column; the columns of people.csv are person_ref,")
    assert problems[1] == "people.csv:1: surname: required column missing from the header"


def test_columns_may_come_in_any_order_and_left_out_ones_read_as_blank(tmp_path):
    rows, problems = _read(tmp_path, PREVENTION, b"kind,activity_ref,occurred_on\r\nother,A1,2024-05-01\r\n")
    assert problems == []
    assert rows[0].values["activity_ref"] == "A1"
    assert rows[0].values["savings_gbp"] is None


def test_every_bad_cell_of_a_row_is_reported(tmp_path):
    content = (b"incident_ref,occurred_on,category,recorded_by,domestic_abuse\r\n"
               b"I1,2023-02-30,assault,police,perhaps\r\n"
               b"I2,2023-02-01,,police,n\r\n"
               b"I3,2023-02-01\r\n")
    _rows, problems = _read(tmp_path, INCIDENTS, content)
    assert problems[0] == "incidents.csv:2: occurred_on: 2023-02-30 is not a real date"
    assert problems[1].startswith("incidents.csv:2: category: 'assault' is not a category; use one of: homicide,")
    assert problems[2] == "incidents.csv:2: domestic_abuse: 'perhaps' is not a flag: use y or n"
    assert problems[3] == "incidents.csv:3: category: required"
    assert problems[4] == "incidents.csv:4: -: 2 cells where the header has 5"
    assert len(problems) == 5


def test_an_empty_file_has_no_header(tmp_path):
    _rows, problems = _read(tmp_path, PEOPLE, b"")
    assert problems == ["people.csv:1: -: no header row: a file needs at least its header"]


def test_problems_past_the_limit_are_counted_not_kept():
    problems = Problems(limit=2)
    for line in range(2, 6):
        problems.add("people.csv", line, "surname", "required")
    assert problems.listed() == ["people.csv:2: surname: required", "people.csv:3: surname: required",
                                 "... and 2 more problems"]


def test_progress_is_silent_unless_asked_for():
    out = io.StringIO()
    bar = Progress(100, enabled=False, stream=out)
    bar.start("checking people.csv")
    bar.advance(50)
    assert out.getvalue() == ""
    bar = Progress(100, enabled=True, stream=out)
    bar.start("checking people.csv")
    bar.advance(50)
    assert "checking people.csv" in out.getvalue() and "50%" in out.getvalue()
