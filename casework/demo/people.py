"""Demo people, and the bounded pools that bring the same people back in later incidents."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from . import names
from .places import INWARD_LETTERS, Locality

Row = dict[str, str]


class Someone:
    """A person the generator may involve again, with what it must remember about them."""

    __slots__ = ("da_days", "home", "hrda", "last", "mappa", "programme", "ref")

    def __init__(self, ref: str, home: Locality) -> None:
        self.ref = ref
        self.home = home
        self.last = 0  # ordinal of the day they were last involved
        self.hrda = 0  # ordinal of their last HRDA referral, 0 for none
        self.da_days: list[int] = []  # their recent DA incidents as victim
        self.programme = False  # referred to a perpetrator programme
        self.mappa = False


class Couple:
    """A DA victim and the perpetrator abusing them."""

    __slots__ = ("last", "perpetrator", "victim")

    def __init__(self, victim: Someone, perpetrator: Someone) -> None:
        self.victim = victim
        self.perpetrator = perpetrator
        self.last = 0


class Pool:
    """Entries seen recently (people or couples), for later incidents to involve again.

    Bounded: when full a new entry replaces a random one, and an entry found
    idle longer than the look-back is forgotten, so memory does not grow with
    the number of incidents.
    """

    def __init__(self, rng: random.Random, cap: int) -> None:
        self.rng = rng
        self.cap = cap
        self.items: list[Someone | Couple] = []

    def add(self, entry: Someone | Couple, day: int) -> None:
        entry.last = day
        if len(self.items) < self.cap:
            self.items.append(entry)
        else:
            self.items[self.rng.randrange(self.cap)] = entry

    def pick(self, day: int, within: int = 365) -> Someone | Couple | None:
        """A random entry last involved within `within` days before `day` (not on it), or None.

        Entries found idle for longer are forgotten on the way, so the pool
        keeps to the people still active and repeats stay as likely in the
        fifth year as in the second.
        """
        items = self.items
        for _ in range(4):  # an entry already involved today is passed over, not forgotten
            while items:
                i = self.rng.randrange(len(items))
                entry = items[i]
                if day - entry.last <= within:
                    break
                items[i] = items[-1]
                items.pop()
            else:
                return None
            if entry.last < day:  # same-day incidents are never repeats of each other
                entry.last = day
                return entry
        return None

    def forget(self, entry: Someone | Couple) -> None:
        """Let an entry go: it reads as long idle, so the next pick to meet it drops it."""
        entry.last = -(10**6)


@dataclass(frozen=True)
class Profile:
    """Who tends to be in a role: ages, sex, and complex-needs markers."""

    min_age: int
    max_age: int
    female: float
    mental_health: float
    substance_misuse: float
    complex_needs: float


DA_VICTIM = Profile(18, 70, 0.78, 0.15, 0.08, 0.05)
DA_PERPETRATOR = Profile(18, 65, 0.16, 0.15, 0.30, 0.08)
ASB_VICTIM = Profile(18, 90, 0.55, 0.10, 0.03, 0.03)
ASB_PERPETRATOR = Profile(13, 60, 0.28, 0.15, 0.30, 0.10)
SV_VICTIM = Profile(15, 45, 0.25, 0.08, 0.15, 0.04)
SV_PERPETRATOR = Profile(14, 40, 0.10, 0.10, 0.30, 0.08)
SO_VICTIM = Profile(13, 70, 0.86, 0.15, 0.05, 0.04)
OFFENDER = Profile(15, 65, 0.20, 0.10, 0.25, 0.06)
VICTIM = Profile(16, 88, 0.50, 0.06, 0.03, 0.02)
ELDER = Profile(62, 96, 0.60, 0.05, 0.01, 0.02)
YOUNG = Profile(11, 24, 0.25, 0.10, 0.15, 0.05)


class People:
    """Makes people for one data set: writes each one's row once, the first time they appear."""

    def __init__(self, rng: random.Random, emit: Callable[[Row], None]) -> None:
        self.rng = rng
        self.emit = emit
        self.count = 0

    def new(self, profile: Profile, day: int, home: Locality) -> Someone:
        rng = self.rng
        self.count += 1
        ref = f"P{self.count:07d}"
        gender, forenames = self._gender_and_forenames(profile)
        surname = rng.choice(names.AWKWARD_SURNAMES if rng.random() < 0.09 else names.COMMON_SURNAMES)
        born = ""
        if rng.random() < 0.96:
            age_days = int(rng.uniform(profile.min_age, profile.max_age + 1) * 365.25)
            born = dt.date.fromordinal(day - age_days).isoformat()
        postcode = ""
        if rng.random() < 0.94:
            postcode = (f"{rng.choice(home.districts)} {rng.randrange(10)}"
                        f"{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}")
        self.emit({
            "person_ref": ref, "surname": surname, "forenames": forenames, "date_of_birth": born,
            "gender": gender, "postcode": postcode,
            "mental_health": _flag(rng.random() < profile.mental_health),
            "substance_misuse": _flag(rng.random() < profile.substance_misuse),
            "complex_needs": _flag(rng.random() < profile.complex_needs),
        })
        return Someone(ref, home)

    def _gender_and_forenames(self, profile: Profile) -> tuple[str, str]:
        rng = self.rng
        r = rng.random()
        pool: tuple[str, ...]
        odd: tuple[str, ...]
        if r < 0.01:
            gender, pool, odd = "non_binary", names.NEUTRAL_FORENAMES, ()
        elif r < 0.025:
            gender, pool, odd = "unknown", names.NEUTRAL_FORENAMES, ()
        elif rng.random() < profile.female:
            gender, pool, odd = "female", names.FEMALE_FORENAMES, names.AWKWARD_FEMALE_FORENAMES
        else:
            gender, pool, odd = "male", names.MALE_FORENAMES, names.AWKWARD_MALE_FORENAMES
        if rng.random() < 0.015:
            gender = ""  # not recorded
        if rng.random() < 0.01:
            return gender, ""  # forenames not known
        return gender, rng.choice(odd if odd and rng.random() < 0.09 else pool)


def _flag(value: bool) -> str:
    return "y" if value else "n"
