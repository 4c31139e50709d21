"""What an import did, file by file."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class FileCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    protected: int = 0  # the ref leads to a record the agency may not change by import (see importer)


@dataclass
class ImportReport:
    """How many records of each file were created, updated, left unchanged (and, for parties,
    removed because the data set's incident no longer has them)."""

    agency: str
    files: dict[str, FileCounts] = field(default_factory=lambda: defaultdict(FileCounts))

    def lines(self) -> list[str]:
        out = []
        for name, c in self.files.items():
            text = f"{name}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
            text += f", {c.removed} removed" if c.removed else ""
            text += (f", {c.protected} left as they are (restricted, or held by another agency)"
                     if c.protected else "")
            out.append(text)
        return out
