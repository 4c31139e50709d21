"""The demo generator: deterministic, shaped like Dorset's data, and valid against the data-exchange rules."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter, defaultdict
from itertools import islice, pairwise

import pytest

from casework.crypto import normalise_postcode
from casework.demo import DATASETS, PARTNERS, records, write_dataset
from casework.demo.partners import COLUMNS
from casework.models.vocab import (
    AgencyKind,
    AsbType,
    Category,
    CjStatus,
    Gender,
    HrdaCriteria,
    PartyRole,
    PreventionKind,
    ProgrammeOutcome,
    ReferralType,
)

END = dt.date(2026, 11, 26)
SV = {"homicide", "violence_with_injury", "weapon_possession", "robbery"}
TYPE_COLUMNS = {
    "hrda": {"criteria", "dash_score"},
    "idva": set(),
    "mappa": {"mappa_category", "mappa_level"},
    "perpetrator_programme": {"started_on", "ended_on", "outcome"},
}


class Demo:
    """The generated rows by data set and file."""

    def __init__(self, incidents: int, seed: int) -> None:
        self.files: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
        for record in records(incidents=incidents, seed=seed, end=END):
            self.files[record.dataset, record.file].append(record.row)

    def rows(self, file: str, dataset: str | None = None) -> list[dict[str, str]]:
        keys = [spec.key for spec in DATASETS] if dataset is None else [dataset]
        return [row for key in keys for row in self.files.get((key, file), [])]

    def incidents_of(self, person_role: str, kind) -> dict[tuple[str, str], list[dt.date]]:  # type: ignore[no-untyped-def]
        """(data set, person ref) -> the dates of their incidents of `kind` in `person_role`."""
        found: dict[tuple[str, str], list[dt.date]] = defaultdict(list)
        for spec in DATASETS:
            incidents = {r["incident_ref"]: r for r in self.rows("incidents", spec.key) if kind(r)}
            for party in self.rows("parties", spec.key):
                incident = incidents.get(party["incident_ref"])
                if incident and party["role"] == person_role:
                    found[spec.key, party["person_ref"]].append(dt.date.fromisoformat(incident["occurred_on"]))
        return found


@pytest.fixture(scope="module")
def demo() -> Demo:
    return Demo(6_000, seed=7)


def _is_da(row: dict[str, str]) -> bool:
    return row["domestic_abuse"] == "y"


def _has_repeat_within_a_year(dates: list[dt.date]) -> bool:
    dates = sorted(dates)
    return any(0 < (b - a).days <= 365 for a, b in pairwise(dates))


def test_the_same_seed_gives_the_same_records_and_another_seed_does_not():
    first = list(islice(records(incidents=800, seed=11, end=END), 3000))
    again = list(islice(records(incidents=800, seed=11, end=END), 3000))
    other = list(islice(records(incidents=800, seed=12, end=END), 3000))
    assert first == again
    assert first != other


@pytest.mark.parametrize("incidents", [0, 1, 37, 2_500])
def test_exactly_the_requested_number_of_incidents_is_made(incidents):
    made = sum(1 for record in records(incidents=incidents, seed=1, end=END) if record.file == "incidents")
    assert made == incidents


def test_data_covers_five_financial_years_up_to_the_end(demo):
    dates = [dt.date.fromisoformat(r["occurred_on"]) for r in demo.rows("incidents")]
    assert min(dates) >= dt.date(2022, 4, 1)
    assert max(dates) <= END
    for start in (dt.date(2023, 4, 1), dt.date(2024, 4, 1), dt.date(2025, 4, 1)):
        in_year = [d for d in dates if start <= d < start.replace(year=start.year + 1)]
        assert len(in_year) > 1000, start


def test_july_and_august_are_the_busiest_months(demo):
    per_month = Counter(r["occurred_on"][5:7] for r in demo.rows("incidents"))
    # Per day, as April to November appear in five years and December to March in four.
    per_day = {month: per_month[month] / (31 if month in ("07", "08") else 30) for month in per_month}
    summer = min(per_day["07"], per_day["08"])
    assert all(summer > 1.15 * rate for month, rate in per_day.items() if month not in ("07", "08"))


def test_the_category_mix_is_realistic(demo):
    incidents = demo.rows("incidents")
    categories = Counter(r["category"] for r in incidents)
    assert categories.most_common(1)[0][0] == "asb"
    assert categories["violence_without_injury"] + categories["violence_with_injury"] > 0.2 * len(incidents)
    assert categories["homicide"] < 0.002 * len(incidents)
    assert 0.15 <= sum(map(_is_da, incidents)) / len(incidents) <= 0.20
    assert {"fly_tipping", "stalking", "sexual_offence", "arson", "wildlife_crime", "fraud"} <= set(categories)


def test_domestic_abuse_recurs_between_the_same_couple_within_a_year(demo):
    couples: dict[tuple[str, str], list[dt.date]] = defaultdict(list)
    incidents = {r["incident_ref"]: r for r in demo.rows("incidents", "police") if _is_da(r)}
    parties: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for party in demo.rows("parties", "police"):
        if party["incident_ref"] in incidents:
            parties[party["incident_ref"]][party["role"]].add(party["person_ref"])
    for ref, roles in parties.items():
        for victim in roles["victim"]:
            for perpetrator in roles["perpetrator"] - {victim}:
                couples[victim, perpetrator].append(dt.date.fromisoformat(incidents[ref]["occurred_on"]))
    recurring = [pair for pair, dates in couples.items() if _has_repeat_within_a_year(dates)]
    assert len(recurring) > 50
    victims = demo.incidents_of("victim", _is_da)
    repeat_share = sum(_has_repeat_within_a_year(d) for d in victims.values()) / len(victims)
    assert 0.08 < repeat_share < 0.5


def test_some_perpetrators_move_on_to_new_partners(demo):
    victims_of: dict[str, set[str]] = defaultdict(set)
    da = {r["incident_ref"] for r in demo.rows("incidents", "police") if _is_da(r)}
    by_incident: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for party in demo.rows("parties", "police"):
        if party["incident_ref"] in da:
            by_incident[party["incident_ref"]][party["role"]].add(party["person_ref"])
    for roles in by_incident.values():
        for perpetrator in roles["perpetrator"]:
            victims_of[perpetrator] |= roles["victim"] - {perpetrator}
    assert sum(len(v) >= 2 for v in victims_of.values()) > 20


def test_a_victim_can_also_be_recorded_as_perpetrator_in_the_same_incident(demo):
    roles: dict[tuple[str, str], set[str]] = defaultdict(set)
    for party in demo.rows("parties", "police"):
        roles[party["incident_ref"], party["person_ref"]].add(party["role"])
    assert any(r == {"victim", "perpetrator"} for r in roles.values())


def test_personal_asb_victims_repeat_most_in_the_priority_areas(demo):
    areas = {r["area"]: r for r in demo.rows("areas")}
    personal = {(spec.key, r["incident_ref"]): r for spec in DATASETS for r in demo.rows("incidents", spec.key)
                if r["asb_type"] == "personal"}
    dates: dict[tuple[str, str], list[tuple[dt.date, bool]]] = defaultdict(list)
    for spec in DATASETS:
        for party in demo.rows("parties", spec.key):
            incident = personal.get((spec.key, party["incident_ref"]))
            if incident and party["role"] == "victim":
                priority = incident["area"] != "" and areas[incident["area"]]["asb_priority"] == "y"
                dates[spec.key, party["person_ref"]].append((dt.date.fromisoformat(incident["occurred_on"]),
                                                             priority))
    repeaters = [d for d in dates.values() if _has_repeat_within_a_year([day for day, _ in d])]
    assert len(repeaters) > 10
    in_priority = sum(all(p for _, p in d) for d in repeaters)
    assert in_priority > len(repeaters) / 2


def test_serious_violence_concentrates_in_hotspots_and_rural_crime_in_rural_hotspots(demo):
    areas = {r["area"]: r for r in demo.rows("areas")}
    police = demo.rows("incidents", "police")

    def share_in(rows: list[dict[str, str]], flag: str) -> float:
        return sum(bool(r["area"]) and areas[r["area"]][flag] == "y" for r in rows) / len(rows)

    sv = [r for r in police if r["category"] in SV]
    assert share_in(sv, "sv_hotspot") > 2 * share_in([r for r in police if r["category"] not in SV], "sv_hotspot")
    rural = [r for r in police if r["rural"] == "y"]
    assert len(rural) > 50
    assert share_in(rural, "rural_hotspot") > 5 * share_in([r for r in police if r["rural"] == "n"], "rural_hotspot")
    assert any(r["category"] == "fly_tipping" and r["recorded_by"] == "council" for r in demo.rows("incidents"))
    assert {r["recorded_by"] for r in demo.rows("incidents")} == {"police", "council", "housing", "fire", "health"}


def test_every_kind_of_referral_is_made_with_its_details(demo):
    referrals = demo.rows("referrals")
    by_type: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in referrals:
        by_type[r["type"]].append(r)
    assert set(by_type) == {t.value for t in ReferralType}
    assert {r["criteria"] for r in by_type["hrda"]} == {c.value for c in HrdaCriteria}
    assert any(int(r["dash_score"]) >= 14 for r in by_type["hrda"] if r["dash_score"])
    hrda_dates: dict[str, list[dt.date]] = defaultdict(list)
    for r in by_type["hrda"]:
        hrda_dates[r["person_ref"]].append(dt.date.fromisoformat(r["referred_on"]))
    assert sum(_has_repeat_within_a_year(d) for d in hrda_dates.values()) > 5
    programmes = by_type["perpetrator_programme"]
    assert {r["outcome"] for r in programmes} >= {o.value for o in ProgrammeOutcome}
    assert any(r["started_on"] and not r["ended_on"] for r in programmes), "someone still on a programme"
    assert any(not r["started_on"] for r in programmes), "someone referred who never started"
    assert {r["mappa_category"] for r in by_type["mappa"]} >= {"1", "2"}
    levels = {r["mappa_level"] for r in by_type["mappa"]}
    assert "1" in levels and levels <= {"1", "2", "3"}


def test_programme_starters_can_reoffend_within_a_year(demo):
    perpetrators = demo.incidents_of("perpetrator", _is_da)
    starters = [(r["person_ref"], dt.date.fromisoformat(r["started_on"])) for r in demo.rows("referrals")
                if r["type"] == "perpetrator_programme" and r["started_on"]]
    reoffended = [p for p, s in starters
                  if any(0 < (d - s).days <= 365 for d in perpetrators.get(("police", p), []))]
    assert 0 < len(reoffended) < len(starters)


def test_fraud_prevention_records_friends_recruited_and_savings(demo):
    activities = demo.rows("prevention", "council")
    assert {a["kind"] for a in activities} == {k.value for k in PreventionKind}
    assert sum(int(a["friends_recruited"] or 0) for a in activities if a["kind"] == "friends_against_scams") > 0
    assert all(re.fullmatch(r"\d+\.\d\d", a["savings_gbp"]) for a in activities if a["savings_gbp"])
    assert any(a["savings_gbp"] == "" for a in activities)


def test_names_include_apostrophes_hyphens_and_accents(demo):
    people = demo.rows("people")
    surnames = {p["surname"] for p in people}
    forenames = {p["forenames"] for p in people}
    assert any("'" in s for s in surnames)
    assert any("-" in s for s in surnames)
    assert any(any(ord(c) > 127 for c in s) for s in surnames)
    assert any(any(ord(c) > 127 for c in f) for f in forenames)
    assert "" in forenames, "some forenames are not known"


def test_postcodes_are_valid_dorset_postcodes(demo):
    postcodes = [p["postcode"] for p in demo.rows("people") if p["postcode"]]
    assert postcodes
    for postcode in postcodes:
        assert normalise_postcode(postcode) == postcode
        assert re.match(r"(BH|DT|SP)\d", postcode)


def test_every_data_set_follows_the_data_exchange_rules(demo):
    area_names = {r["area"] for r in demo.rows("areas")}
    assert len(area_names) == len(demo.rows("areas"))
    for flag in ("asb_priority", "sv_hotspot", "rural_hotspot"):
        assert any(r[flag] == "y" for r in demo.rows("areas"))
    for spec in DATASETS:
        assert (spec.key, "areas") not in demo.files or spec.key == "police", "areas come with the first data set"
        for (key, file), rows in demo.files.items():
            if key == spec.key:
                assert file in spec.files
                assert all(list(row) == list(COLUMNS[file]) for row in rows), file
        people = _unique(demo.rows("people", spec.key), "person_ref")
        incidents = _unique(demo.rows("incidents", spec.key), "incident_ref")
        _unique(demo.rows("referrals", spec.key), "referral_ref")
        _unique(demo.rows("prevention", spec.key), "activity_ref")
        for person in people.values():
            assert person["surname"]
            assert person["gender"] in {g.value for g in Gender} | {""}
            if person["date_of_birth"]:
                assert dt.date.fromisoformat(person["date_of_birth"]) < END
        for incident in incidents.values():
            assert incident["category"] in {c.value for c in Category}
            assert incident["recorded_by"] == spec.partner.kind
            assert incident["recorded_by"] in {k.value for k in AgencyKind}
            assert incident["area"] in area_names | {""}
            if incident["category"] == "asb":
                assert incident["asb_type"] in {t.value for t in AsbType}
            else:
                assert incident["asb_type"] == ""
            assert all(incident[f] in ("y", "n") for f in ("domestic_abuse", "rural", "alcohol", "drugs",
                                                            "mental_health"))
        seen = set()
        for party in demo.rows("parties", spec.key):
            assert party["incident_ref"] in incidents and party["person_ref"] in people
            key = (party["incident_ref"], party["person_ref"], party["role"])
            assert key not in seen
            seen.add(key)
            assert party["role"] in {r.value for r in PartyRole}
            allowed = {s.value for s in CjStatus} | {""} if party["role"] == "victim" else {""}
            assert party["cj_status"] in allowed
        for referral in demo.rows("referrals", spec.key):
            assert referral["person_ref"] in people
            filled = {c for c in COLUMNS["referrals"][4:] if referral[c]}
            assert filled <= TYPE_COLUMNS[referral["type"]], referral
            dates = [referral[c] for c in ("referred_on", "started_on", "ended_on") if referral[c]]
            assert dates == sorted(dates) and dates[-1] <= END.isoformat(), referral
            if referral["outcome"]:
                assert referral["ended_on"]
            if referral["dash_score"]:
                assert 0 <= int(referral["dash_score"]) <= 24
    assert {p.name for p in PARTNERS} >= {spec.partner.name for spec in DATASETS}


def _unique(rows: list[dict[str, str]], column: str) -> dict[str, dict[str, str]]:
    by_ref = {row[column]: row for row in rows}
    assert len(by_ref) == len(rows), f"{column} repeats"
    assert all(1 <= len(ref) <= 64 and ref.isprintable() for ref in by_ref)
    return by_ref


def test_write_dataset_writes_each_partners_extract_in_import_order(tmp_path):
    written = write_dataset(tmp_path, incidents=300, seed=5, end=END)
    assert next(agency for agency, _, _ in written) == "Dorset Police"
    assert (written[0].directory / "areas.csv").exists()
    total = 0
    for (agency, kind, directory), spec in zip(written, DATASETS, strict=True):
        assert (agency, kind, directory) == (spec.partner.name, spec.partner.kind, tmp_path / spec.key)
        for name in spec.files:
            with (directory / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
                header, *rows = list(csv.reader(handle))
            assert header == list(COLUMNS[name])
            if name == "incidents":
                total += len(rows)
    assert total == 300
    in_memory = [r.row for r in records(incidents=300, seed=5, end=END) if r.dataset == "police" and r.file == "people"]
    with (tmp_path / "police" / "people.csv").open(encoding="utf-8", newline="") as handle:
        assert list(csv.DictReader(handle)) == in_memory


def test_every_measure_has_records_to_count_in_2024_25(demo):
    areas = {r["area"]: r for r in demo.rows("areas")}

    def in_area(row: dict[str, str], flag: str) -> bool:
        return bool(row["area"]) and areas[row["area"]][flag] == "y"

    police = [r for r in demo.rows("incidents", "police") if "2024-04-01" <= r["occurred_on"] <= "2025-03-31"]
    sexual = {r["incident_ref"] for r in police if r["category"] == "sexual_offence"}
    asb = [r for r in police if r["category"] == "asb"]
    so_victims = Counter(p["cj_status"] for p in demo.rows("parties", "police")
                         if p["incident_ref"] in sexual and p["role"] == "victim")
    assert any(r["category"] == "stalking" and _is_da(r) for r in police)  # DA2
    assert any(r["alcohol"] == "y" for r in police if r["incident_ref"] in sexual)  # SO2
    assert so_victims["withdrew"] and so_victims["entered"] and so_victims["concluded"]  # SO3
    assert any(in_area(r, "asb_priority") for r in asb)  # ASB2
    for factor in ("alcohol", "drugs", "mental_health"):  # ASB5 to ASB7
        assert any(r[factor] == "y" for r in asb)
    assert any(r["rural"] == "y" and in_area(r, "rural_hotspot") for r in police)  # RUR1, RUR2
    assert any(r["category"] in SV and in_area(r, "sv_hotspot") for r in police)  # SV1, SV2
