"""A deterministic, streaming generator of demo records in the data-exchange format.

`records(incidents=N, seed=S, end=D)` yields `Record(dataset, file, row)`
day by day over about five financial years ending on `end`: the same
arguments always give the same records, and memory stays bounded however
many incidents are asked for (rows are yielded as each day is made; the
people that later incidents bring back are held in capped pools).

What it models, so that every measure and flag has something to count:
seasonal peaks in July and August and at weekends; a category mix where ASB
and violence are common and homicide rare; domestic abuse in about a sixth
of incidents, with couples whose abuse recurs within the year and
perpetrators who move on to new partners; repeat victims of personal ASB in
the priority areas; serious violence concentrated in the hotspots; rural
crime and fly-tipping in the rural hotspots; HRDA referrals (with repeats),
IDVA, MAPPA and perpetrator programmes; fraud-prevention work with savings.
"""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect
from collections.abc import Iterator
from functools import partial
from itertools import accumulate
from typing import NamedTuple

from .partners import DATASETS
from .people import (
    ASB_PERPETRATOR,
    ASB_VICTIM,
    DA_PERPETRATOR,
    DA_VICTIM,
    ELDER,
    OFFENDER,
    SO_VICTIM,
    SV_PERPETRATOR,
    SV_VICTIM,
    VICTIM,
    YOUNG,
    Couple,
    People,
    Pool,
    Profile,
    Row,
    Someone,
)
from .places import AREAS, LOCALITIES, Locality, areas_in
from .prevention import Prevention
from .referrals import Referrals

YEARS = 5  # financial years covered, the last one part-way through
SERIOUS_VIOLENCE = ("homicide", "violence_with_injury", "weapon_possession", "robbery")

# Police incidents that are not domestic abuse (per cent, roughly Dorset's recorded mix plus police-logged ASB).
POLICE_MIX = (
    ("asb", 20), ("violence_without_injury", 17), ("theft", 13), ("violence_with_injury", 10),
    ("criminal_damage", 7), ("public_order", 6), ("vehicle_crime", 5), ("burglary", 4), ("harassment", 3.5),
    ("drug_offence", 3), ("sexual_offence", 2.5), ("fraud", 2.5), ("other", 2), ("stalking", 1.2),
    ("weapon_possession", 1.2), ("robbery", 0.9), ("wildlife_crime", 0.5), ("arson", 0.3), ("fly_tipping", 0.3),
    ("heritage_crime", 0.15), ("homicide", 0.012),
)
DA_MIX = (
    ("violence_without_injury", 40), ("violence_with_injury", 20), ("harassment", 12), ("stalking", 8),
    ("criminal_damage", 8), ("other", 4.95), ("public_order", 4), ("sexual_offence", 3), ("homicide", 0.05),
)
POLICE_DA_SHARE = 0.21  # with the partners' DA, about 17% of all incidents
MONTH = (0.85, 0.85, 0.92, 0.97, 1.02, 1.10, 1.38, 1.40, 1.02, 0.97, 0.93, 1.0)  # July and August peak
WEEKDAY = (0.93, 0.92, 0.93, 0.97, 1.10, 1.20, 1.05)  # Monday first
REF_PREFIX = {"police": "DP", "council": "DC", "housing": "SNG", "fire": "DWF", "health": "NHS"}


class Record(NamedTuple):
    dataset: str  # a DataSetSpec key
    file: str  # areas, people, incidents, parties, referrals or prevention
    row: Row


def records(*, incidents: int, seed: int, end: dt.date | None = None) -> Iterator[Record]:
    """The demo records, in the order they are made (areas first, then day by day)."""
    return DemoGenerator(incidents=incidents, seed=seed, end=end or dt.date.today()).records()


def first_day(end: dt.date) -> dt.date:
    """1 April of the financial year `YEARS - 1` years before the one `end` falls in."""
    year = end.year if end >= dt.date(end.year, 4, 1) else end.year - 1
    return dt.date(year - (YEARS - 1), 4, 1)


class _Choice:
    """A weighted choice, fast enough to make a million incidents."""

    def __init__(self, options: tuple[tuple[object, float], ...] | list[tuple[object, float]]) -> None:
        self.values = [value for value, _ in options]
        self.cumulative = list(accumulate(weight for _, weight in options))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random) -> object:
        return self.values[bisect(self.cumulative, rng.random() * self.total)]


ANYWHERE = _Choice([(loc, loc.weight) for loc in LOCALITIES])
COUNTRYSIDE = _Choice([(loc, loc.weight * loc.rural) for loc in LOCALITIES])
DORSET_COUNCIL_AREA = _Choice([(loc, loc.weight) for loc in LOCALITIES if loc.dorset_council])
POLICE_CATEGORY = _Choice(POLICE_MIX)
DA_CATEGORY = _Choice(DA_MIX)
DATASET = _Choice([(spec.key, spec.share) for spec in DATASETS])
CJ_STATUS = _Choice((("", 40), ("entered", 25), ("withdrew", 20), ("concluded", 15)))
SO_CJ_STATUS = _Choice((("", 25), ("entered", 30), ("withdrew", 25), ("concluded", 20)))
PRIORITY_AREAS = frozenset(a.name for a in AREAS if a.asb_priority)


class DemoGenerator:
    def __init__(self, *, incidents: int, seed: int, end: dt.date) -> None:
        if incidents < 0:
            raise ValueError("the number of incidents cannot be negative")
        self.incidents = incidents
        self.rng = random.Random(seed)
        self.start = first_day(end).toordinal()
        self.end = end.toordinal()
        self._out: list[Record] = []
        self.people = {spec.key: People(self.rng, partial(self._emit, spec.key, "people"))
                       for spec in DATASETS if "people" in spec.files}
        self.recorded_by = {spec.key: spec.partner.kind for spec in DATASETS}
        self.counts = dict.fromkeys(self.recorded_by, 0)
        self.referrals = Referrals(self.rng, partial(self._emit, "police", "referrals"), self.end)
        self.prevention = Prevention(self.rng, partial(self._emit, "council", "prevention"),
                                     scale=max(0.25, incidents / 20_000))
        self.couples = {key: Pool(self.rng, 20_000) for key in ("police", "housing")}
        self._pools: dict[tuple[str, ...], Pool] = {}

    # --- the stream ---------------------------------------------------------

    def records(self) -> Iterator[Record]:
        for area in AREAS:
            yield Record("police", "areas", {
                "area": area.name, "locality": area.locality, "asb_priority": _flag(area.asb_priority),
                "sv_hotspot": _flag(area.sv_hotspot), "rural_hotspot": _flag(area.rural_hotspot)})
        make = {"police": self._police, "council": self._council, "housing": self._housing, "fire": self._fire,
                "health": self._health}
        for day, count in self._days():
            for _ in range(count):
                make[DATASET(self.rng)](day)  # type: ignore[index]
            self.prevention.day(day)
            yield from self._out
            self._out.clear()

    def _days(self) -> Iterator[tuple[int, int]]:
        """Each day and how many incidents it gets: exactly `incidents` in all, shaped by season and weekday."""
        days = range(self.start, self.end + 1)
        weights = [MONTH[dt.date.fromordinal(d).month - 1] * WEEKDAY[(d - 1) % 7] for d in days]
        total = sum(weights)
        cumulative, given = 0.0, 0
        for i, (day, weight) in enumerate(zip(days, weights, strict=True)):
            cumulative += weight
            target = self.incidents if i == len(weights) - 1 else round(self.incidents * cumulative / total)
            yield day, target - given
            given = target

    def _emit(self, dataset: str, file: str, row: Row) -> None:
        self._out.append(Record(dataset, file, row))

    # --- building blocks ----------------------------------------------------

    def _incident(self, ds: str, day: int, category: str, loc: Locality, *, da: bool = False, area: str = "",
                  rural: bool = False, alcohol: float = 0.1, drugs: float = 0.05, mental_health: float = 0.06,
                  asb_type: str = "") -> str:
        self.counts[ds] += 1
        ref = f"{REF_PREFIX[ds]}{self.counts[ds]:08d}"
        rng = self.rng
        self._emit(ds, "incidents", {
            "incident_ref": ref, "occurred_on": dt.date.fromordinal(day).isoformat(), "category": category,
            "domestic_abuse": _flag(da), "recorded_by": self.recorded_by[ds], "locality": loc.name, "area": area,
            "rural": _flag(rural), "alcohol": _flag(rng.random() < alcohol), "drugs": _flag(rng.random() < drugs),
            "mental_health": _flag(rng.random() < mental_health), "asb_type": asb_type})
        return ref

    def _party(self, ds: str, incident: str, person: Someone, role: str, cj_status: str = "") -> None:
        self._emit(ds, "parties", {"incident_ref": incident, "person_ref": person.ref, "role": role,
                                   "cj_status": cj_status})

    def _pool(self, *key: str) -> Pool:
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = Pool(self.rng, 2_000)
        return pool

    def _someone(self, ds: str, day: int, loc: Locality, profile: Profile, pool: Pool | None = None,
                 again: float = 0.0) -> Someone:
        """Someone from `pool` (with chance `again`, when one was involved within the year), else a new person."""
        if pool is not None and again and self.rng.random() < again:
            known = pool.pick(day)
            if known is not None:
                return known  # type: ignore[return-value]
        person = self.people[ds].new(profile, day, loc)
        if pool is not None:
            pool.add(person, day)
        return person

    def _area(self, loc: Locality, flag: str, chance: float) -> str:
        if self.rng.random() < chance:
            candidates = areas_in(loc.name, flag)
            if candidates:
                return self.rng.choice(candidates).name
        return ""

    def _cj(self, options: _Choice) -> str:
        return options(self.rng)  # type: ignore[return-value]

    # --- the partners' incidents ---------------------------------------------

    def _police(self, day: int) -> None:
        rng = self.rng
        if rng.random() < POLICE_DA_SHARE:
            self._domestic_abuse("police", day)
            return
        category: str = POLICE_CATEGORY(rng)  # type: ignore[assignment]
        if category == "asb":
            self._asb("police", day, ANYWHERE(rng), personal=0.3, nuisance=0.55)  # type: ignore[arg-type]
        elif category in SERIOUS_VIOLENCE:
            self._serious_violence(day, category)
        elif category == "sexual_offence":
            self._sexual_offence(day)
        elif category in ("violence_without_injury", "public_order", "harassment", "stalking"):
            self._personal_crime("police", day, category, ANYWHERE(rng))  # type: ignore[arg-type]
        elif category in ("wildlife_crime", "heritage_crime", "fly_tipping"):
            self._rural_crime("police", day, category)
        elif category == "drug_offence":
            loc: Locality = ANYWHERE(rng)  # type: ignore[assignment]
            ref = self._incident("police", day, category, loc, area=self._area(loc, "asb_priority", 0.3), drugs=1.0)
            self._party("police", ref, self._someone("police", day, loc, OFFENDER, self._pool("police", "offender",
                                                                                                  loc.name), 0.25),
                        "perpetrator")
        else:
            self._property("police", day, category)

    def _domestic_abuse(self, ds: str, day: int) -> None:
        rng = self.rng
        couples = self.couples[ds]
        couple: Couple | None = couples.pick(day) if rng.random() < 0.3 else None  # type: ignore[assignment]
        repeat = couple is not None
        if couple is None:
            moved_on: Couple | None = couples.pick(day) if rng.random() < 0.18 else None  # type: ignore[assignment]
            if moved_on is not None:
                # The perpetrator has a new partner; the old relationship has usually ended.
                perpetrator = moved_on.perpetrator
                if rng.random() < 0.6:
                    couples.forget(moved_on)
                home = perpetrator.home
            else:
                home = ANYWHERE(rng)  # type: ignore[assignment]
                perpetrator = self.people[ds].new(DA_PERPETRATOR, day, home)
            couple = Couple(self.people[ds].new(DA_VICTIM, day, home), perpetrator)
            couples.add(couple, day)
        category: str = DA_CATEGORY(rng)  # type: ignore[assignment]
        home = couple.victim.home
        ref = self._incident(ds, day, category, home, da=True, area=self._area(home, "any", 0.06),
                             alcohol=0.3, drugs=0.1, mental_health=0.1)
        police = ds == "police"
        self._party(ds, ref, couple.victim, "victim", self._cj(CJ_STATUS) if police else "")
        self._party(ds, ref, couple.perpetrator, "perpetrator")
        if rng.random() < 0.02:  # counter-allegations: each is recorded in both roles
            self._party(ds, ref, couple.victim, "perpetrator")
            self._party(ds, ref, couple.perpetrator, "victim")
        if police:
            self.referrals.after_domestic_abuse(day, couple.victim)
            self.referrals.perpetrator_programme(day, couple.perpetrator, repeat=repeat)
            if category == "violence_with_injury":
                self.referrals.mappa(day, couple.perpetrator, 2, 0.02)

    def _asb(self, ds: str, day: int, loc: Locality, *, personal: float, nuisance: float) -> None:
        rng = self.rng
        r = rng.random()
        asb_type = "personal" if r < personal else "nuisance" if r < personal + nuisance else "environmental"
        area = self._area(loc, "asb_priority", 0.55) or self._area(loc, "any", 0.08)
        ref = self._incident(ds, day, "asb", loc, area=area, asb_type=asb_type, alcohol=0.25, drugs=0.1,
                             mental_health=0.08)
        if asb_type == "personal":
            priority = area in PRIORITY_AREAS
            victims = self._pool(ds, "asb-victim", area or loc.name)
            self._party(ds, ref, self._someone(ds, day, loc, ASB_VICTIM, victims, 0.45 if priority else 0.12),
                        "victim")
        elif asb_type == "nuisance" and rng.random() < 0.4:
            self._party(ds, ref, self._someone(ds, day, loc, ASB_VICTIM), "victim")
        known = {"personal": 0.5, "nuisance": 0.35, "environmental": 0.1}[asb_type]
        if rng.random() < known:
            culprits = self._pool(ds, "asb-perpetrator", loc.name)
            self._party(ds, ref, self._someone(ds, day, loc, ASB_PERPETRATOR, culprits, 0.3), "perpetrator")

    def _serious_violence(self, day: int, category: str) -> None:
        rng = self.rng
        loc: Locality = ANYWHERE(rng)  # type: ignore[assignment]
        ref = self._incident("police", day, category, loc, area=self._area(loc, "sv_hotspot", 0.55), alcohol=0.4,
                             drugs=0.2, mental_health=0.08)
        known = category == "weapon_possession" or rng.random() < (0.9 if category == "homicide" else 0.6)
        if category != "weapon_possession":
            victim = self._someone("police", day, loc, SV_VICTIM, self._pool("police", "sv-victim", loc.name), 0.15)
            self._party("police", ref, victim, "victim", self._cj(CJ_STATUS) if known else "")
        if known:
            offender = self._someone("police", day, loc, SV_PERPETRATOR, self._pool("police", "sv-perpetrator",
                                                                                      loc.name), 0.2)
            self._party("police", ref, offender, "perpetrator")
            self.referrals.mappa(day, offender, 2, 0.03 if category != "homicide" else 0.5)

    def _sexual_offence(self, day: int) -> None:
        rng = self.rng
        loc: Locality = ANYWHERE(rng)  # type: ignore[assignment]
        ref = self._incident("police", day, "sexual_offence", loc, area=self._area(loc, "any", 0.1), alcohol=0.3,
                             drugs=0.08)
        known = rng.random() < 0.75
        self._party("police", ref, self._someone("police", day, loc, SO_VICTIM), "victim",
                    self._cj(SO_CJ_STATUS) if known else "")
        if known:
            offender = self._someone("police", day, loc, OFFENDER)
            self._party("police", ref, offender, "perpetrator")
            self.referrals.mappa(day, offender, 1, 0.15)

    def _personal_crime(self, ds: str, day: int, category: str, loc: Locality) -> None:
        rng = self.rng
        ref = self._incident(ds, day, category, loc, area=self._area(loc, "asb_priority", 0.2), alcohol=0.25)
        known = rng.random() < (0.85 if category in ("harassment", "stalking") else 0.6)
        self._party(ds, ref, self._someone(ds, day, loc, VICTIM), "victim",
                    self._cj(CJ_STATUS) if known and ds == "police" else "")
        if known:
            offender = self._someone(ds, day, loc, OFFENDER, self._pool(ds, "offender", loc.name), 0.2)
            self._party(ds, ref, offender, "perpetrator")
            if category in ("stalking", "harassment") and ds == "police":
                self.referrals.mappa(day, offender, 3, 0.01)

    def _property(self, ds: str, day: int, category: str) -> None:
        rng = self.rng
        loc: Locality = ANYWHERE(rng)  # type: ignore[assignment]
        rural = category != "fraud" and rng.random() < loc.rural
        area = self._area(loc, "rural_hotspot", 0.5) if rural else self._area(loc, "any", 0.1)
        ref = self._incident(ds, day, category, loc, area=area, rural=rural)
        if rng.random() < (0.5 if category == "theft" else 0.85):
            self._party(ds, ref, self._someone(ds, day, loc, ELDER if category == "fraud" else VICTIM), "victim")
        if rng.random() < 0.15:
            self._party(ds, ref, self._someone(ds, day, loc, OFFENDER, self._pool(ds, "offender", loc.name), 0.2),
                        "perpetrator")

    def _rural_crime(self, ds: str, day: int, category: str) -> None:
        rng = self.rng
        loc: Locality = (DORSET_COUNCIL_AREA if ds == "council" else COUNTRYSIDE)(rng)  # type: ignore[assignment]
        rural = rng.random() < (0.6 if category == "heritage_crime" else min(0.95, loc.rural * 2))
        area = self._area(loc, "rural_hotspot", 0.5) if rural else self._area(loc, "any", 0.1)
        ref = self._incident(ds, day, category, loc, area=area, rural=rural)
        if rng.random() < (0.08 if category == "fly_tipping" else 0.2):
            self._party(ds, ref, self._someone(ds, day, loc, OFFENDER), "perpetrator")

    def _council(self, day: int) -> None:
        r = self.rng.random()
        if r < 0.55:
            self._asb("council", day, DORSET_COUNCIL_AREA(self.rng), personal=0.25, nuisance=0.45)  # type: ignore[arg-type]
        elif r < 0.95:
            self._rural_crime("council", day, "fly_tipping")
        else:
            self._incident("council", day, "other", DORSET_COUNCIL_AREA(self.rng))  # type: ignore[arg-type]

    def _housing(self, day: int) -> None:
        rng = self.rng
        r = rng.random()
        if r < 0.08:
            self._domestic_abuse("housing", day)
        elif r < 0.8:
            self._asb("housing", day, ANYWHERE(rng), personal=0.55, nuisance=0.4)  # type: ignore[arg-type]
        elif r < 0.9:
            self._personal_crime("housing", day, "harassment", ANYWHERE(rng))  # type: ignore[arg-type]
        else:
            self._property("housing", day, "criminal_damage")

    def _fire(self, day: int) -> None:
        rng = self.rng
        loc: Locality = ANYWHERE(rng)  # type: ignore[assignment]
        r = rng.random()
        category = "arson" if r < 0.6 else "criminal_damage" if r < 0.85 else "other"
        rural = rng.random() < min(1.0, loc.rural * 1.5)
        area = self._area(loc, "rural_hotspot", 0.4) if rural else self._area(loc, "asb_priority", 0.2)
        ref = self._incident("fire", day, category, loc, area=area, rural=rural, alcohol=0.05)
        if rng.random() < 0.25:
            self._party("fire", ref, self._someone("fire", day, loc, VICTIM), "victim")
        if rng.random() < 0.06:
            self._party("fire", ref, self._someone("fire", day, loc, YOUNG), "perpetrator")

    def _health(self, day: int) -> None:
        rng = self.rng
        loc: Locality = ANYWHERE(rng)  # type: ignore[assignment]
        self._incident("health", day, "violence_with_injury", loc, da=rng.random() < 0.18,
                       area=self._area(loc, "sv_hotspot", 0.3), alcohol=0.45, drugs=0.12, mental_health=0.1)


def _flag(value: bool) -> str:
    return "y" if value else "n"
