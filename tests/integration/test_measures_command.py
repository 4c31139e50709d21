"""`casework measures`: the shared sample data set, the JSON and CSV it prints, and bad arguments."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from casework.measures.definitions import MEASURES
from casework.measures.periods import today_in_london
from casework.measures.report import CSV_COLUMNS
from casework.models import Category
from tests.conftest import SAMPLE, SAMPLE_EXPECTED
from tests.integration.test_measures_engine import Records

D = dt.date


def json_kind(value: object) -> str:
    """As the shared comparison tool sees values: 1 and 1.0 agree; 1, True and "1" do not."""
    if isinstance(value, bool):
        return "bool"
    return "number" if isinstance(value, int | float) else type(value).__name__


def differences(expected: dict, actual: dict) -> list[str]:
    """The differences the partnership's compare_measures tool would report."""
    problems = [f"{key}: {actual.get(key)!r}" for key in ("period", "from", "to", "as_of")
                if actual.get(key) != expected.get(key)]
    fields = ("type", "target", "numerator", "denominator", "value", "trend", "follow_up_complete")
    for measure_id, want in expected["measures"].items():
        have = actual["measures"].get(measure_id)
        if have is None:
            problems.append(f"{measure_id}: missing")
            continue
        pairs = [(f, want[f], have.get(f)) for f in fields if f in want]
        pairs += [(f"previous.{f}", v, have.get("previous", {}).get(f)) for f, v in want["previous"].items()]
        problems += [f"{measure_id}.{f}: expected {w!r}, got {h!r}" for f, w, h in pairs
                     if json_kind(w) != json_kind(h) or w != h]
    problems += [f"{m}: not in the spec" for m in actual["measures"] if m not in expected["measures"]]
    return problems


def measures(runner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(["measures", *args])


def test_the_shared_sample_gives_exactly_the_expected_measures(runner):
    added = runner.invoke(["agencies", "add", "Dorset Police", "--kind", "police"])
    assert added.exit_code == 0, added.output
    imported = runner.invoke(["import", str(SAMPLE), "--agency", "Dorset Police", "--no-progress"])
    assert imported.exit_code == 0, imported.output

    result = measures(runner, "--period", "2024/25", "--as-of", "2026-01-01", "--format", "json")
    assert result.exit_code == 0, result.output
    actual = json.loads(result.output)
    expected = json.loads(SAMPLE_EXPECTED.read_text(encoding="utf-8"))
    assert differences(expected, actual) == []
    assert len(actual["measures"]) == 24

    as_csv = measures(runner, "--period", "2024/25", "--as-of", "2026-01-01", "--format", "csv")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(as_csv.output))}
    assert rows["DA1"]["numerator"] == "18" and rows["DA1"]["value"] == "0.225"
    assert rows["FR2"]["value"] == "8118.04" and rows["FR2"]["previous_value"] == "3809.52"


def test_json_output_has_the_spec_types(runner, session):
    records = Records(session)
    victim = records.person()
    records.da(D(2024, 5, 1), victims=[victim], category=Category.STALKING)
    records.activity(D(2024, 5, 1), pence=123_456)
    result = measures(runner, "--period", "2024/25", "--as-of", "2026-03-31")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert result.output.startswith('{\n "period": "2024/25",\n "from": "2024-04-01",\n "to": "2025-03-31",')
    m = doc["measures"]
    assert list(m) == [measure.id for measure in MEASURES]
    assert m["DA2"] == {"type": "count", "target": "reduce", "value": 1, "previous": {"value": 0},
                        "trend": "worsening"}
    assert m["DA1"]["numerator"] == 0 and m["DA1"]["denominator"] == 1 and m["DA1"]["value"] == 0
    assert m["DA4"]["follow_up_complete"] is True
    assert (m["FR2"]["value"], m["FR2"]["previous"]["value"]) == ("1234.56", "0.00")
    assert m["SO2"] == {"type": "proportion", "target": "reduce", "numerator": 0, "denominator": 0, "value": None,
                        "previous": {"numerator": 0, "denominator": 0, "value": None}, "trend": "n/a"}


def test_suppressed_csv_hides_small_numbers(runner, session):
    records = Records(session)
    for _ in range(3):
        records.incident(D(2024, 6, 1), category=Category.ASB)
    result = measures(runner, "--period", "2024/25", "--as-of", "2026-01-01", "--format", "csv", "--suppress")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert tuple(rows[0]) == CSV_COLUMNS
    asb1 = dict(zip(CSV_COLUMNS, rows[[r[0] for r in rows].index("ASB1")], strict=True))
    assert (asb1["value"], asb1["previous_value"], asb1["trend"]) == ("<5", "0", "worsening")


def test_as_of_defaults_to_today_in_london(runner):
    result = measures(runner, "--period", "2024/25")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["as_of"] == today_in_london().isoformat()


@pytest.mark.parametrize(("args", "complaint"), [
    (["--period", "2024/26"], "2024/26"),
    (["--period", "2024"], "2024"),
    (["--period", "2024/25", "--as-of", "2025-02-30"], "2025-02-30"),
    (["--period", "2024/25", "--as-of", "soon"], "soon"),
    (["--period", "2024/25", "--format", "xml"], "xml"),
    ([], "--period"),
])
def test_bad_arguments_get_one_line_and_a_non_zero_exit(runner, args, complaint):
    result = measures(runner, *args)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and complaint in lines[0]
