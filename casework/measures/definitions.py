"""The 24 measures of the Community Safety Plan (spec: measures, version 1), in the spec's order."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class MeasureType(str, enum.Enum):
    COUNT = "count"
    PROPORTION = "proportion"
    SUM = "sum"


class Target(str, enum.Enum):
    REDUCE = "reduce"
    INCREASE = "increase"


class Priority(str, enum.Enum):
    """The plan's priorities, which group the measures on the dashboard."""

    DOMESTIC_ABUSE = "Domestic abuse and stalking"
    SEXUAL_OFFENCES = "Sexual offences"
    ASB = "Anti-social behaviour"
    RURAL_CRIME = "Rural crime"
    FRAUD = "Fraud"
    SERIOUS_VIOLENCE = "Serious violence"
    HRDA = "High risk domestic abuse"


@dataclass(frozen=True)
class Measure:
    id: str
    type: MeasureType
    target: Target
    priority: Priority
    definition: str
    money: bool = False  # a sum of money, reported as a string with two decimal places


_C, _P, _S = MeasureType.COUNT, MeasureType.PROPORTION, MeasureType.SUM
_R, _I = Target.REDUCE, Target.INCREASE
_DA, _SO, _ASB, _RUR = Priority.DOMESTIC_ABUSE, Priority.SEXUAL_OFFENCES, Priority.ASB, Priority.RURAL_CRIME

MEASURES: tuple[Measure, ...] = (
    Measure("DA1", _P, _R, _DA, "Domestic abuse incidents that are repeat victim events"),
    Measure("DA2", _C, _R, _DA, "Domestic abuse stalking incidents recorded by the police"),
    Measure("DA3", _P, _R, _DA, "Domestic abuse incidents that are repeat perpetrator events"),
    Measure("DA4", _P, _R, _DA, "Perpetrator programme starters who perpetrate domestic abuse within a year"),
    Measure("SO1", _C, _R, _SO, "Sexual offences recorded by the police"),
    Measure("SO2", _P, _R, _SO, "Sexual offences with alcohol identified as a factor"),
    Measure("SO3", _P, _R, _SO, "Victims of sexual offences who withdrew from proceedings"),
    Measure("ASB1", _C, _R, _ASB, "Anti-social behaviour incidents recorded by the police"),
    Measure("ASB2", _C, _R, _ASB, "Anti-social behaviour incidents in priority locations"),
    Measure("ASB3", _P, _R, _ASB, "Repeat victims of personal anti-social behaviour"),
    Measure("ASB4", _P, _R, _ASB, "Repeat perpetrators of anti-social behaviour"),
    Measure("ASB5", _P, _R, _ASB, "Anti-social behaviour incidents with alcohol as a factor"),
    Measure("ASB6", _P, _R, _ASB, "Anti-social behaviour incidents with drugs as a factor"),
    Measure("ASB7", _P, _R, _ASB, "Anti-social behaviour incidents with mental health as a factor"),
    Measure("RUR1", _C, _R, _RUR, "Rural crimes recorded by the police"),
    Measure("RUR2", _C, _R, _RUR, "Rural crimes in rural crime hotspots"),
    Measure("RUR3", _C, _R, _RUR, "Fly-tipping incidents"),
    Measure("FR1", _S, _I, Priority.FRAUD, "Friends Against Scams recruited"),
    Measure("FR2", _S, _I, Priority.FRAUD, "Financial loss prevented", money=True),
    Measure("SV1", _C, _R, Priority.SERIOUS_VIOLENCE, "Serious violence recorded by the police"),
    Measure("SV2", _C, _R, Priority.SERIOUS_VIOLENCE, "Serious violence in hot spot areas"),
    Measure("SV3", _P, _R, Priority.SERIOUS_VIOLENCE, "Repeat victims of serious violence"),
    Measure("SV4", _P, _R, Priority.SERIOUS_VIOLENCE, "Repeat perpetrators of serious violence"),
    Measure("HRDA1", _P, _R, Priority.HRDA, "Repeat referrals to HRDA"),
)

BY_ID: dict[str, Measure] = {m.id: m for m in MEASURES}
