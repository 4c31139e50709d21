"""Demo fraud-prevention work: Friends Against Scams sessions and scam interventions (Trading Standards)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from .people import Row

# A year's activities at the default demo size (20,000 incidents); bigger demos scale them up.
PER_YEAR = (("friends_against_scams", 24), ("scam_intervention", 60), ("other", 8))


class Prevention:
    def __init__(self, rng: random.Random, emit: Callable[[Row], None], *, scale: float) -> None:
        self.rng = rng
        self.emit = emit
        self.rates = [(kind, per_year * scale / 365.25) for kind, per_year in PER_YEAR]
        self.count = 0

    def day(self, day: int) -> None:
        """The activities of one day: on average the yearly rate, spread evenly."""
        rng = self.rng
        for kind, rate in self.rates:
            n = int(rate) + (rng.random() < rate - int(rate))
            for _ in range(n):
                self._activity(kind, day)

    def _activity(self, kind: str, day: int) -> None:
        rng = self.rng
        self.count += 1
        friends = savings = ""
        if kind == "friends_against_scams":
            if rng.random() < 0.95:
                friends = str(rng.randint(3, 45))
            if rng.random() < 0.3:
                savings = f"{rng.randint(0, 200_000) / 100:.2f}"
        elif kind == "scam_intervention":
            if rng.random() < 0.9:
                # Most interventions save hundreds of pounds, a few save a life's savings.
                savings = f"{min(rng.lognormvariate(6.8, 1.2), 60_000):.2f}"
        elif rng.random() < 0.5:
            savings = f"{rng.randint(0, 50_000) / 100:.2f}"
        self.emit({"activity_ref": f"A{self.count:07d}", "occurred_on": dt.date.fromordinal(day).isoformat(),
                   "kind": kind, "friends_recruited": friends, "savings_gbp": savings})
