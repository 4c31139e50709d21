"""The rules every value follows wherever it enters the system: a form (`casework.forms`, applied to
every text field of every form) or an import (`casework.exchange.schema`). One definition, so a value
one way refuses is refused the other way too. Pure functions, no Flask; each answers with the
problem (a message for the user, without the field's name) or None.

Lengths
    A text on one line (a name, a place, a reference, a phone number, an email address) holds at
    most `MAX_LINE` characters; a text of several lines (notes, reasons, a summary, an address) at
    most `MAX_PARAGRAPHS`.

Formulas (docs/data-exchange.md, "Text a spreadsheet would run as a formula")
    Partners open exported files in spreadsheets, which run a cell that starts with `=`, `+`, `-`
    or `@` as a formula (some after a leading tab or carriage return). No such text is stored, so
    none is ever exported: `formula_problem` refuses a text whose first character, after any
    spaces, tabs and line breaks, is `=`, `@`, `+` or `-` (or their full-width forms), except a
    sign followed only by digits, spaces, brackets and full stops (a phone number such as
    `+44 (0)1202 123456`, or a lone `-`): without a letter or another symbol nothing in it can call
    a function, name a cell or reach another program. No real name, place or postcode starts with
    any of these characters.

Dates of birth
    A date of birth is today or in the past (`date_of_birth_problem`).
"""

from __future__ import annotations

import datetime as dt
import re

MAX_LINE = 200
MAX_PARAGRAPHS = 10_000

FORMULA_STARTS = frozenset("=@+-\uff1d\uff20\uff0b\uff0d")  # and the full-width = @ + -
SIGNS = frozenset("+-\uff0b\uff0d")
_HARMLESS_AFTER_A_SIGN = frozenset("0123456789 ().")
FORMULA_MESSAGE = ("must not start with =, +, - or @ (a spreadsheet would run it as a formula); "
                   "a phone number may start with +")


def length_problem(value: str, limit: int) -> str | None:
    """Too long: the message says the limit and how long the text is."""
    if len(value) > limit:
        return f"must be {limit:,} characters or fewer (this has {len(value):,})"
    return None


# Whether a text may trip the formula rule at all (its first character is one `formula_problem`
# looks at or past): one C-level match, for checking millions of cells (an export).
may_be_formula = re.compile(r"[\s=@+\-\uff1d\uff20\uff0b\uff0d]").match


def formula_problem(value: str) -> str | None:
    """Text a spreadsheet would run as a formula (see the module's docstring for the exact rule)."""
    text = value.lstrip()  # spaces, tabs and line breaks: a spreadsheet may skip them to find a formula
    if not text or text[0] not in FORMULA_STARTS:
        return None
    if text[0] in SIGNS and set(text[1:]) <= _HARMLESS_AFTER_A_SIGN:
        return None
    return FORMULA_MESSAGE


def date_of_birth_problem(value: dt.date, *, today: dt.date | None = None) -> str | None:
    """A date of birth after today."""
    if value > (today or dt.date.today()):
        return "must be today or in the past"
    return None
