"""Malformed data sets: each file of a small data set (the sample's first rows) broken every way
below. An import of any of them changes no row, exits non-zero, names the problem, and never prints a
traceback or a file's content that is not the data set's."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import SAMPLE
from tests.factories import AgencyFactory
from tests.integration.test_import_export import snapshot

SECRET = "Zqsecretfilecontent-7d1f"


def _small(folder: Path) -> Path:
    """The sample cut to its first incidents, with the parties, people and referrals they need."""
    import csv
    import io

    def read(name: str) -> tuple[list[str], list[list[str]]]:
        header, *rows = list(csv.reader(io.StringIO((SAMPLE / name).read_text(encoding="utf-8-sig"))))
        return header, rows

    def write(name: str, header: list[str], rows: list[list[str]]) -> None:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([header, *rows])
        (folder / name).write_text(out.getvalue(), encoding="utf-8")

    folder.mkdir()
    tables = {name: read(name) for name in FILES}
    incidents = tables["incidents.csv"][1][:12]
    kept = {row[0] for row in incidents}
    parties = [row for row in tables["parties.csv"][1] if row[0] in kept]
    named = {row[1] for row in parties}
    referrals = [row for row in tables["referrals.csv"][1] if row[1] in named][:10]
    people = [row for row in tables["people.csv"][1] if row[0] in named]
    for name, rows in (("incidents.csv", incidents), ("parties.csv", parties), ("people.csv", people),
                       ("referrals.csv", referrals), ("areas.csv", tables["areas.csv"][1]),
                       ("prevention.csv", tables["prevention.csv"][1][:12])):
        write(name, tables[name][0], rows)
    return folder


def _cut(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 + 3])


FILES = sorted(p.name for p in SAMPLE.glob("*.csv"))
MUTATIONS: dict[str, Callable[[Path], None]] = {
    "garbage bytes": lambda p: p.write_bytes(os.urandom(2048)),
    "not UTF-8": lambda p: p.write_bytes(p.read_bytes() + "Núñez,é\n".encode("latin-1")),
    "cut mid-line": _cut,
    "empty": lambda p: p.write_bytes(b""),
    "header only, wrong": lambda p: p.write_bytes(b"what,is,this\n1,2,3\n"),
    "a row too long": lambda p: p.write_bytes(p.read_bytes() + b"x," * 40 + b"x\n"),
    "an open quote": lambda p: p.write_bytes(p.read_bytes() + b'"never closed,\n'),
    "a NUL": lambda p: p.write_bytes(p.read_bytes().replace(b"\n", b"\x00\n", 3)),
    "a folder": lambda p: (p.unlink(), p.mkdir()),  # type: ignore[func-returns-value]
    "a million commas": lambda p: p.write_bytes(p.read_bytes() + b"," * 1_000_000 + b"\n"),
}


@pytest.fixture()
def police(session):  # type: ignore[no-untyped-def]
    agency = AgencyFactory(name="Dorset Police")
    session.commit()  # kept when a failed import rolls the command's session back (the test still undoes it)
    return agency


def _import(runner, folder: Path):  # type: ignore[no-untyped-def]
    return runner.invoke(["import", str(folder), "--agency", "Dorset Police"])


def _clean(result) -> str:  # type: ignore[no-untyped-def]
    output = result.output + (result.stderr if result.stderr_bytes else "")
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output
    return output


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_a_broken_file_changes_nothing_and_is_named(runner, police, tmp_path, mutation):
    """Each mutation applied to every file in turn."""
    for name in FILES:
        folder = _small(tmp_path / f"{name}-{mutation.replace(' ', '-')}")
        MUTATIONS[mutation](folder / name)
        before = snapshot()
        result = _import(runner, folder)
        output = _clean(result)
        assert result.exit_code != 0, (name, mutation, output[-500:])
        assert name in output, (name, mutation, output[-500:])
        assert snapshot() == before, (name, mutation)


def test_the_small_data_set_itself_imports(runner, police, tmp_path):
    """(So the broken ones fail for what was broken.)"""
    result = _import(runner, _small(tmp_path / "good"))
    assert result.exit_code == 0, result.output


def test_a_link_to_a_file_outside_the_data_set_is_refused_unread(runner, police, tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text(f"{SECRET}\n")
    folder = _small(tmp_path / "linked")
    (folder / "people.csv").unlink()
    (folder / "people.csv").symlink_to(secret)
    before = snapshot()
    result = _import(runner, folder)
    output = _clean(result)
    assert result.exit_code != 0 and snapshot() == before
    assert SECRET not in output


@pytest.mark.parametrize(("column", "value"), [
    ("surname", "x" * 2_000_000),  # issue 20 finding 11
    ("date_of_birth", "9999-12-31"),  # finding 13
    ("surname", "=1+1"),  # finding 12
], ids=["2 MB surname", "future birth", "formula"])
def test_values_the_forms_refuse_are_refused_by_the_import(runner, police, tmp_path, column, value):
    folder = _small(tmp_path / "values")
    people = folder / "people.csv"
    header, first, *rest = people.read_text().splitlines()
    cells = first.split(",")
    cells[header.split(",").index(column)] = value
    people.write_text("\n".join([header, ",".join(cells), *rest]) + "\n")
    before = snapshot()
    result = _import(runner, folder)
    _clean(result)
    assert result.exit_code != 0 and snapshot() == before
