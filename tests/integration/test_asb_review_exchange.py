"""asb_case_reviews.csv and incidents' reported_on in the data exchange (spec: asb-case-review.md):
a data set of our own, worked by hand (tests/data/asb_review/README.md), gives the yearly figures
and the thresholds by rule exactly; a wrong row writes nothing and is named with every other."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from casework.db import db
from casework.exchange import ImportFailed, export_dataset, import_dataset
from casework.models import AgencyKind, AsbReview, Incident
from tests.factories import AgencyFactory

DATA = Path(__file__).resolve().parent.parent / "data" / "asb_review"
EXPECTED = json.loads((DATA / "expected.json").read_text())


def test_the_data_set_gives_the_figures_and_thresholds_worked_by_hand(app_ctx, runner, tmp_path):
    agency = AgencyFactory(name="Dorset Police", kind=AgencyKind.POLICE)
    report = import_dataset(DATA, agency=agency)
    assert report.files["asb_case_reviews.csv"].created == 8
    assert db.session.query(Incident).filter(Incident.reported_on.is_not(None)).count() == 6
    db.session.commit()
    result = runner.invoke(args=["asb-reviews", "figures", "--year", "2025/26", "--as-of", "2026-05-01"])
    assert json.loads(result.output) == EXPECTED["figures"]

    export_dataset(tmp_path, agency=agency)
    with (tmp_path / "asb_case_reviews.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["review_ref"]: r["threshold_by_rule"] for r in rows} == EXPECTED["threshold_by_rule"]
    assert {r["review_ref"]: r["recommendations"] for r in rows}["A1"] == "2"
    with (tmp_path / "incidents.csv").open(encoding="utf-8") as f:
        assert {r["reported_on"] for r in csv.DictReader(f)} >= {"2025-04-10", ""}
    # Imported again (threshold_by_rule is ignored), nothing changes.
    again = import_dataset(tmp_path, agency=agency)
    assert again.files["asb_case_reviews.csv"].unchanged == 8


BAD_ROWS = [
    ("B1,P1,Elm Estate,2025-08-31,,,,,,,,", "asb_case_reviews.csv:2: person_ref: give exactly one"),
    ("B2,P1,,2025-08-31,met,,,,,,,", "asb_case_reviews.csv:3: decided_on: required with a decision"),
    ("B3,P1,,2025-08-31,not_met,2025-09-01,2025-09-02,,,,,", "asb_case_reviews.csv:4: review_held_on: only when"),
    ("B4,P1,,2025-08-31,met,2025-08-30,,,,,,", "asb_case_reviews.csv:5: decided_on: 2025-08-30 is before received_on"),
    ("B5,P1,,2025-08-31,met,2025-09-01,,,,2025-08-31,,", "asb_case_reviews.csv:6: appeal_received_on: 2025-08-31 is before"),
    ("B6,P9,,2025-08-31,,,,,,,,", "asb_case_reviews.csv:7: person_ref: no person P9"),
    ("B7,,Nowhere,2025-08-31,,,,,,,,", "asb_case_reviews.csv:8: area: no area called 'Nowhere'"),
    ("B7,P1,,2025-08-31,,,,x,,,,", "asb_case_reviews.csv:9: recommendations: 'x' is not a whole number"),
    ("B8,P1,,2025-08-31,maybe,2025-09-01,,,,,,", "asb_case_reviews.csv:10: decision: 'maybe' is not a decision"),
    ("B9,P1,,2025-08-31,met,2025-09-01,,,2025-08-01,,,", "asb_case_reviews.csv:11: outcome_sent_on: 2025-08-01 is before"),
]


def test_every_wrong_row_is_named_and_nothing_is_written(app_ctx, tmp_path):
    folder = tmp_path / "bad"
    shutil.copytree(DATA, folder)
    (folder / "expected.json").unlink()
    (folder / "README.md").unlink()
    header = (DATA / "asb_case_reviews.csv").read_text().splitlines()[0]
    (folder / "asb_case_reviews.csv").write_text("\n".join([header, *(row for row, _ in BAD_ROWS)]) + "\n")
    agency = AgencyFactory(name="Dorset Police", kind=AgencyKind.POLICE)
    with pytest.raises(ImportFailed) as failed:
        import_dataset(folder, agency=agency)
    problems = "\n".join(failed.value.problems)
    for _, message in BAD_ROWS:
        assert message in problems
    assert "B7 is given more than once" in problems
    assert db.session.query(AsbReview).count() == 0 and db.session.query(Incident).count() == 0
