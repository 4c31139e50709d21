"""The equality information a person may agree to give (special category data, sealed on
`Person`): the Office for National Statistics' 2021 census questions for England and Wales.
Each code is stored; pages show the label. docs/marac-return.md says how the MARAC return reads them."""

from __future__ import annotations

from .vocab import Labelled

# (code, label, group): the census's 19 ethnic groups under its 5 headings.
ETHNIC_GROUPS = {
    "asian": "Asian, Asian British or Asian Welsh",
    "black": "Black, Black British, Black Welsh, Caribbean or African",
    "mixed": "Mixed or Multiple ethnic groups",
    "white": "White",
    "other": "Other ethnic group",
}
ETHNICITIES: list[tuple[str, str, str]] = [
    ("asian_bangladeshi", "Bangladeshi", "asian"),
    ("asian_chinese", "Chinese", "asian"),
    ("asian_indian", "Indian", "asian"),
    ("asian_pakistani", "Pakistani", "asian"),
    ("asian_other", "Any other Asian background", "asian"),
    ("black_african", "African", "black"),
    ("black_caribbean", "Caribbean", "black"),
    ("black_other", "Any other Black, Black British or Caribbean background", "black"),
    ("mixed_white_asian", "White and Asian", "mixed"),
    ("mixed_white_black_african", "White and Black African", "mixed"),
    ("mixed_white_black_caribbean", "White and Black Caribbean", "mixed"),
    ("mixed_other", "Any other Mixed or Multiple background", "mixed"),
    ("white_british", "English, Welsh, Scottish, Northern Irish or British", "white"),
    ("white_irish", "Irish", "white"),
    ("white_gypsy_traveller", "Gypsy or Irish Traveller", "white"),
    ("white_roma", "Roma", "white"),
    ("white_other", "Any other White background", "white"),
    ("other_arab", "Arab", "other"),
    ("other_any", "Any other ethnic group", "other"),
]
ETHNICITY_LABELS = {code: f"{ETHNIC_GROUPS[group]}: {label}" for code, label, group in ETHNICITIES}
PREFER_NOT = "prefer_not_to_say"


class Disability(Labelled):
    """The census question: a condition or illness lasting 12 months or more that reduces the
    ability to carry out day-to-day activities."""

    A_LOT = "yes_a_lot", "Yes, limited a lot"
    A_LITTLE = "yes_a_little", "Yes, limited a little"
    NO = "no", "No"
    PREFER_NOT = PREFER_NOT, "Prefers not to say"


class SexualOrientation(Labelled):
    STRAIGHT = "straight", "Straight or heterosexual"
    GAY_LESBIAN = "gay_lesbian", "Gay or lesbian"
    BISEXUAL = "bisexual", "Bisexual"
    OTHER = "other", "Another sexual orientation"
    PREFER_NOT = PREFER_NOT, "Prefers not to say"


class GenderIdentity(Labelled):
    """The census question: is the gender you identify with the same as your sex registered at birth?"""

    SAME = "same", "Yes, the same as the sex registered at birth"
    DIFFERENT = "different", "No, different from the sex registered at birth"
    PREFER_NOT = PREFER_NOT, "Prefers not to say"
