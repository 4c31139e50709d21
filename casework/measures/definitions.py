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
    """A measure of the plan: `name` and `explanation` are plain English for the board; the exact
    definition is the spec's (docs/measures.md) and lives in `casework.measures.figures`."""

    id: str
    type: MeasureType
    target: Target
    priority: Priority
    name: str
    explanation: str
    money: bool = False  # a sum of money, reported as a string with two decimal places

    @property
    def target_words(self) -> str:
        return "The aim is to reduce this" if self.target is Target.REDUCE else "The aim is to increase this"


_C, _P, _S = MeasureType.COUNT, MeasureType.PROPORTION, MeasureType.SUM
_R, _I = Target.REDUCE, Target.INCREASE
_DA, _SO, _ASB, _RUR = Priority.DOMESTIC_ABUSE, Priority.SEXUAL_OFFENCES, Priority.ASB, Priority.RURAL_CRIME
_FR, _SV, _HRDA = Priority.FRAUD, Priority.SERIOUS_VIOLENCE, Priority.HRDA

MEASURES: tuple[Measure, ...] = (
    Measure("DA1", _P, _R, _DA, "Repeat victims of domestic abuse",
            "Share of domestic abuse incidents where a victim had also been a victim of domestic abuse "
            "in the year before."),
    Measure("DA2", _C, _R, _DA, "Domestic stalking reported to the police",
            "Stalking incidents recorded by the police that are domestic abuse."),
    Measure("DA3", _P, _R, _DA, "Repeat perpetrators of domestic abuse",
            "Share of domestic abuse incidents where a perpetrator had also been a perpetrator of domestic "
            "abuse in the year before."),
    Measure("DA4", _P, _R, _DA, "Reoffending after a perpetrator programme",
            "Share of people starting a perpetrator programme who perpetrate domestic abuse within a year of "
            "starting."),
    Measure("SO1", _C, _R, _SO, "Sexual offences reported to the police",
            "Sexual offences recorded by the police."),
    Measure("SO2", _P, _R, _SO, "Sexual offences involving alcohol",
            "Share of sexual offences recorded by the police where alcohol was a factor."),
    Measure("SO3", _P, _R, _SO, "Victims of sexual offences who withdraw from prosecution",
            "Share of victims of police-recorded sexual offences who entered the criminal justice process "
            "and then withdrew."),
    Measure("ASB1", _C, _R, _ASB, "Anti-social behaviour reported to the police",
            "Anti-social behaviour incidents recorded by the police."),
    Measure("ASB2", _C, _R, _ASB, "Anti-social behaviour in priority areas",
            "Anti-social behaviour incidents recorded by the police in the areas made an ASB priority."),
    Measure("ASB3", _P, _R, _ASB, "Repeat victims of personal anti-social behaviour",
            "Share of victims of personal anti-social behaviour who had also been victims of it in the year "
            "before."),
    Measure("ASB4", _P, _R, _ASB, "Repeat perpetrators of anti-social behaviour",
            "Share of perpetrators of anti-social behaviour who had also been perpetrators of it in the year "
            "before."),
    Measure("ASB5", _P, _R, _ASB, "Anti-social behaviour involving alcohol",
            "Share of police-recorded anti-social behaviour incidents where alcohol was a factor."),
    Measure("ASB6", _P, _R, _ASB, "Anti-social behaviour involving drugs",
            "Share of police-recorded anti-social behaviour incidents where drugs were a factor."),
    Measure("ASB7", _P, _R, _ASB, "Anti-social behaviour involving mental health",
            "Share of police-recorded anti-social behaviour incidents where mental health was a factor."),
    Measure("RUR1", _C, _R, _RUR, "Rural crime reported to the police",
            "Rural incidents recorded by the police."),
    Measure("RUR2", _C, _R, _RUR, "Rural crime in hotspots",
            "Rural incidents recorded by the police in the rural crime hotspots."),
    Measure("RUR3", _C, _R, _RUR, "Fly-tipping", "Fly-tipping incidents recorded by any partner."),
    Measure("FR1", _S, _I, _FR, "Friends Against Scams recruited",
            "People recruited as Friends Against Scams."),
    Measure("FR2", _S, _I, _FR, "Money saved from fraud",
            "Losses to fraud prevented by prevention work, in pounds.", money=True),
    Measure("SV1", _C, _R, _SV, "Serious violence reported to the police",
            "Homicide, violence with injury, weapon possession and robbery recorded by the police."),
    Measure("SV2", _C, _R, _SV, "Serious violence in hotspots",
            "Serious violence recorded by the police in the serious violence hotspots."),
    Measure("SV3", _P, _R, _SV, "Repeat victims of serious violence",
            "Share of victims of serious violence who had also been victims of it in the year before."),
    Measure("SV4", _P, _R, _SV, "Repeat perpetrators of serious violence",
            "Share of perpetrators of serious violence who had also been perpetrators of it in the year "
            "before."),
    Measure("HRDA1", _P, _R, _HRDA, "Repeat referrals to HRDA",
            "Share of referrals to the high risk domestic abuse meeting (HRDA) for someone referred in the "
            "year before."),
)

BY_ID: dict[str, Measure] = {m.id: m for m in MEASURES}
