"""`casework demo`: the partners and their extracts load through the importer; `--if-empty` leaves data alone."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from casework.db import db
from casework.demo import PARTNERS
from casework.models import Agency, Area, Incident, Person, PreventionActivity, Referral

END = "2026-11-26"


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_loads_the_partners_and_their_records(runner):
    assert _count(Incident) == 0
    result = runner.invoke(["demo", "--incidents", "500", "--seed", "3", "--end", END])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded (500 incidents, seed 3)" in result.output
    names = set(db.session.scalars(select(Agency.name)))
    assert {p.name for p in PARTNERS} <= names
    assert _count(Incident) == 500
    assert _count(Area) == 28
    assert _count(Referral) > 0 and _count(PreventionActivity) > 0
    recorders = {kind.value for kind in db.session.scalars(select(Incident.recorded_by).distinct())}
    assert recorders == {"police", "council", "housing", "fire", "health"}
    surnames = [p.surname for p in db.session.scalars(select(Person))]
    assert any("'" in s or any(ord(c) > 127 for c in s) for s in surnames), "awkward names survive encryption"
    assert "Dorset Police: " in result.output


def test_if_empty_loads_nothing_when_there_are_incidents_and_loading_again_changes_nothing(runner):
    assert runner.invoke(["demo", "--if-empty", "--incidents", "300", "--end", END]).exit_code == 0
    counts = (_count(Incident), _count(Person), _count(Referral), _count(Agency))
    assert counts[0] == 300

    result = runner.invoke(["demo", "--if-empty", "--incidents", "300", "--end", END])
    assert result.exit_code == 0
    assert "already holds incidents" in result.output
    # Without --if-empty the same seed and end import the same records again: refs update, never duplicate.
    assert runner.invoke(["demo", "--incidents", "300", "--end", END]).exit_code == 0
    assert (_count(Incident), _count(Person), _count(Referral), _count(Agency)) == counts


def test_existing_partner_agencies_are_kept_not_duplicated(runner):
    assert runner.invoke(["agencies", "add", "Dorset Police", "--kind", "police"]).exit_code == 0
    result = runner.invoke(["demo", "--incidents", "50", "--end", END])
    assert result.exit_code == 0, result.output
    assert "Added agency Dorset Police" not in result.output
    assert "Added agency Dorset Council" in result.output
    assert db.session.scalar(select(func.count()).where(Agency.name == "Dorset Police")) == 1


def test_demo_data_gives_every_measure_something_to_count(runner):
    assert runner.invoke(["demo", "--incidents", "3000", "--seed", "1", "--end", END]).exit_code == 0
    result = runner.invoke(["measures", "--period", "2024/25", "--as-of", END, "--format", "json"])
    assert result.exit_code == 0, result.output
    measures = json.loads(result.output)["measures"]
    for measure_id, figure in measures.items():
        counted = figure.get("numerator", figure["value"])
        assert counted not in (0, "0.00", None), measure_id
        assert figure["previous"]["value"] is not None, measure_id


def test_a_demo_that_does_not_import_is_reported_and_loads_nothing(runner, monkeypatch):
    from casework.demo import loader

    real = loader.write_dataset

    def broken(directory, **kwargs):  # type: ignore[no-untyped-def]
        written = real(directory, **kwargs)
        with (written[0].directory / "incidents.csv").open("a", encoding="utf-8") as handle:
            handle.write("BROKEN1,2024-05-01,murder,n,police,Poole,,n,n,n,n,\r\n")
        return written

    monkeypatch.setattr(loader, "write_dataset", broken)
    result = runner.invoke(["demo", "--incidents", "40", "--end", END])
    assert result.exit_code != 0
    assert "did not import" in result.output and "incidents.csv:" in result.output and "murder" in result.output
    assert _count(Incident) == 0 and _count(Agency) == 0


def test_generate_writes_the_extracts_for_benchmarks(runner, tmp_path):
    target = tmp_path / "bench"
    result = runner.invoke(["demo", "generate", str(target), "--incidents", "200", "--seed", "2", "--end", END])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in target.iterdir()) == ["council", "fire", "health", "housing", "police"]
    assert "Dorset Police" in result.output
    assert _count(Incident) == 0

    again = runner.invoke(["demo", "generate", str(target), "--incidents", "200"])
    assert again.exit_code != 0 and "is not empty" in again.output
