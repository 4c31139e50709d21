"""Demo referrals: HRDA (with repeats), IDVA, MAPPA and perpetrator programmes.

They follow the rules in dash.md the way practitioners apply them: a victim
whose last HRDA referral is under a year old usually goes back to HRDA after
a new incident; three DA incidents in a year usually trigger an escalation
referral; otherwise a minority of DA victims score 14 or more on DASH or are
judged high risk. Referral dates never pass the end of the data.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from .people import Row, Someone

LOOK_BACK = 365


class Referrals:
    """Writes one data set's referrals."""

    def __init__(self, rng: random.Random, emit: Callable[[Row], None], end: int) -> None:
        self.rng = rng
        self.emit = emit
        self.end = end
        self.count = 0

    def _row(self, person: Someone, kind: str, referred_on: int, **columns: str) -> None:
        self.count += 1
        row = {"referral_ref": f"R{self.count:07d}", "person_ref": person.ref, "type": kind,
               "referred_on": _iso(referred_on), "started_on": "", "ended_on": "", "outcome": "",
               "criteria": "", "dash_score": "", "mappa_category": "", "mappa_level": ""}
        row.update(columns)
        self.emit(row)

    def after_domestic_abuse(self, day: int, victim: Someone) -> None:
        """HRDA and IDVA referrals that a DA incident against `victim` on `day` may lead to."""
        rng = self.rng
        victim.da_days = [d for d in victim.da_days if day - d <= LOOK_BACK] + [day]
        recent = len(victim.da_days)
        score, criteria = -1, ""
        if victim.hrda and day - victim.hrda <= LOOK_BACK:
            # A repeat: the case goes back to HRDA whatever the score (not within a fortnight of the last).
            if day - victim.hrda >= 14 and rng.random() < 0.85:
                score = rng.randint(4, 24)
                criteria = "dash" if score >= 14 else "escalation" if recent >= 3 else "professional_judgement"
        elif recent >= 3 and rng.random() < 0.6:
            score, criteria = rng.randint(3, 13), "escalation"
        elif rng.random() < 0.065:
            if rng.random() < 0.7:
                score, criteria = rng.randint(14, 24), "dash"
            else:
                score, criteria = rng.randint(6, 13), "professional_judgement"
        if score >= 0:
            on = min(day + rng.randint(0, 3), self.end)
            dash_score = "" if criteria == "professional_judgement" and rng.random() < 0.1 else str(score)
            self._row(victim, "hrda", on, criteria=criteria, dash_score=dash_score)
            victim.hrda = on
            if rng.random() < 0.55:
                self._row(victim, "idva", min(on + rng.randint(0, 5), self.end))
        elif rng.random() < 0.025:
            self._row(victim, "idva", min(day + rng.randint(0, 7), self.end))

    def perpetrator_programme(self, day: int, perpetrator: Someone, *, repeat: bool) -> None:
        """Perhaps refer a DA perpetrator to a programme: starts, ends and outcomes as they fall."""
        rng = self.rng
        if perpetrator.programme or rng.random() >= (0.07 if repeat else 0.015):
            return
        referred = day + rng.randint(7, 60)
        if referred > self.end:
            return
        perpetrator.programme = True
        columns = {}
        if rng.random() < 0.8:  # some never start
            started = referred + rng.randint(14, 75)
            if started <= self.end:
                columns["started_on"] = _iso(started)
                ended = started + rng.randint(40, 200)
                if ended <= self.end:  # otherwise still on it
                    columns["ended_on"] = _iso(ended)
                    columns["outcome"] = _weighted(rng, (("completed", 55), ("left_early", 30), ("removed", 15)))
        self._row(perpetrator, "perpetrator_programme", referred, **columns)

    def mappa(self, day: int, offender: Someone, category: int, chance: float) -> None:
        """Perhaps bring an offender under MAPPA some months after the offence (after sentence)."""
        rng = self.rng
        if offender.mappa or rng.random() >= chance:
            return
        referred = day + rng.randint(30, 300)
        if referred > self.end:
            return
        offender.mappa = True
        level = _weighted(rng, (("1", 80), ("2", 17), ("3", 3)))
        self._row(offender, "mappa", referred, mappa_category=str(category), mappa_level=level)


def _iso(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    r = rng.random() * sum(w for _, w in options)
    for value, weight in options:
        r -= weight
        if r < 0:
            return value
    return options[-1][0]
