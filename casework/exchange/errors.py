"""The error an import raises when a data set has problems."""

from __future__ import annotations


class ImportFailed(Exception):
    """A data set with problems: nothing was written. `.problems` are `file:line: column: message`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the data set; nothing was imported")
        self.problems = problems
