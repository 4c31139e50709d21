"""Reading a data set's files one row at a time, with the file's physical line numbers.

A file is read as bytes, line by line, and each line decoded on its own, so a
byte that is not UTF-8 is reported on the line it is on (and the rest of the
file is still checked). The csv module counts the lines it has been given, so
a row's line is right even when a quoted cell holds a line break.
"""

from __future__ import annotations

import csv
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .schema import FILES, FileSpec, Invalid

BOM = b"\xef\xbb\xbf"
FILE_ORDER = [spec.name for spec in FILES]
NO_COLUMN = "-"  # the column part of a problem that is about a whole row or file

# A data set with problems on (nearly) every row of a million would otherwise hold a
# million messages; past this many the rest are counted, not kept.
MAX_PROBLEMS = 10_000


class Problems:
    """The problems found in a data set, each as `file:line: column: message`."""

    def __init__(self, limit: int = MAX_PROBLEMS) -> None:
        self.found: list[tuple[str, int, str, str]] = []
        self.limit = limit
        self.count = 0

    def add(self, file: str, line: int, column: str, message: str) -> None:
        self.count += 1
        if self.count <= self.limit:
            self.found.append((file, line, column, message))

    def merge(self, found: list[tuple[str, int, str, str]], count: int) -> None:
        """Add the problems another `Problems` found (`found`, of `count` in all)."""
        self.found.extend(found[:max(self.limit - len(self.found), 0)])
        self.count += count

    def __bool__(self) -> bool:
        return self.count > 0

    def __len__(self) -> int:
        return self.count

    def listed(self) -> list[str]:
        """The problems in file order (as the files are checked), then line order."""
        order = {name: i for i, name in enumerate(FILE_ORDER)}
        found = sorted(self.found, key=lambda p: (order.get(p[0], len(order)), p[0], p[1]))
        messages = [f"{file}:{line}: {column}: {message}" for file, line, column, message in found]
        if self.count > self.limit:
            messages.append(f"... and {self.count - self.limit} more problems")
        return messages


class Progress:
    """A progress bar on stderr, advanced by bytes read; on a terminal it redraws in place,
    elsewhere (when asked for) it prints a line per phase and per tenth of the work."""

    def __init__(self, total_bytes: int, *, enabled: bool, stream: Any = None) -> None:
        self.total = max(total_bytes, 1)
        self.done = 0
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.phase = ""
        self._last_tenth = -1

    def start(self, phase: str) -> None:
        self.phase = phase
        if self.enabled and not self.tty:
            self.stream.write(f"{phase}\n")
            self.stream.flush()
        self._draw()

    def advance(self, nbytes: int) -> None:
        self.done += nbytes
        self._draw()

    def note(self, message: str) -> None:
        if self.enabled and not self.tty:
            self.stream.write(f"{message}\n")
            self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        if not self.enabled:
            return
        fraction = min(self.done / self.total, 1.0)
        if self.tty:
            filled = int(fraction * 30)
            self.stream.write(f"\r[{'#' * filled}{' ' * (30 - filled)}] {fraction:4.0%} {self.phase:<40}")
            self.stream.flush()
            return
        tenth = int(fraction * 10)
        if tenth != self._last_tenth:
            self._last_tenth = tenth
            self.stream.write(f"{tenth * 10}%\n")
            self.stream.flush()


class NotARegularFile(OSError):
    """A data set's file that is a link, a folder or a device: never read."""


def open_data_file(path: Path) -> BinaryIO:
    """Open a data set's file for reading, refusing (`NotARegularFile`) anything but a regular file
    reached without a symbolic link: the name is not followed (O_NOFOLLOW), and what was opened is
    checked before a byte is read, so a file swapped for a link after `find_files` looked is
    refused too."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if path.is_symlink():
            raise NotARegularFile(f"{path.name} is a link, not a file of the data set") from e
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotARegularFile(f"{path.name} is not a regular file")
    return os.fdopen(fd, "rb")


def regular_file_problem(path: Path) -> str | None:
    """Why `path` is not a file an import may read (a symbolic link, a folder, a device, a pipe),
    from the entry itself (never followed, never read); None for a regular file."""
    try:
        mode = path.lstat().st_mode
    except OSError as e:
        return f"cannot be read ({e.strerror})"
    if stat.S_ISLNK(mode):
        return "a link to another file, not a file of the data set's folder: nothing was read from it"
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    if not stat.S_ISREG(mode):
        return "not a regular file (a device or a pipe): nothing was read from it"
    return None


@dataclass
class Row:
    line: int
    values: dict[str, Any]
    ok: bool  # False when a cell of the row had a problem (its values are then partial)
    cells: list[str]  # as the file gave them (what an import digest covers: `digest`)
    header: tuple[str, ...]  # the file's header row, as given


# Control characters no cell may hold (tabs and line breaks aside): a NUL, say, which PostgreSQL
# cannot store in text and no name or date ever holds.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _Lines:
    """The decoded lines of a binary file, noting bytes that are not UTF-8."""

    def __init__(self, stream: BinaryIO, file: str, problems: Problems, progress: Progress | None) -> None:
        self.stream = stream
        self.file = file
        self.problems = problems
        self.progress = progress
        self.number = 0
        self.pending = 0

    def __iter__(self) -> Iterator[str]:
        for raw in self.stream:
            self.number += 1
            if self.number == 1 and raw.startswith(BOM):
                raw = raw[len(BOM):]
            self.pending += len(raw)
            if self.pending > 1 << 20 and self.progress is not None:
                self.progress.advance(self.pending)
                self.pending = 0
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                self.problems.add(self.file, self.number, NO_COLUMN,
                                  f"not UTF-8 text (byte 0x{raw[e.start]:02x} at character {e.start + 1}); "
                                  "save the file as UTF-8")
                text = raw.decode("utf-8", errors="replace")
            control = _CONTROL.search(text)
            if control is not None:
                self.problems.add(self.file, self.number, NO_COLUMN,
                                  f"a control character (U+{ord(control.group()):04X}) at character "
                                  f"{control.start() + 1}: text holds no such characters")
            yield text
        if self.progress is not None:
            self.progress.advance(self.pending)
            self.pending = 0


def read_rows(path: Path, spec: FileSpec, problems: Problems, *, progress: Progress | None = None,
              check_rows: bool = True, unusable: set[str] | None = None,
              wanted: Callable[[list[str]], bool] | None = None) -> Iterator[Row]:
    """The rows of one file, parsed; every problem of the header or a cell goes to `problems`.

    A file whose header is wrong yields no rows (its problems are the header's) and is
    added to `unusable`, so other files' references into it are not reported as well.
    With `wanted`, a row whose cells it refuses is passed over unparsed: the rows of a checked
    data set that a re-import has found unchanged (`unchanged`).
    """
    name = spec.name
    try:
        opened = open_data_file(path)
    except NotARegularFile as e:  # swapped for a link since the folder was listed: never read
        problems.add(name, 1, NO_COLUMN, str(e))
        if unusable is not None:
            unusable.add(name)
        return
    with opened as stream:
        lines = _Lines(stream, name, problems, progress)
        reader = csv.reader(lines, strict=True)
        positions: dict[str, int] | None = None
        header: list[str] | None = None
        try:
            header = next(reader, None)
        except csv.Error as e:
            problems.add(name, lines.number, NO_COLUMN, f"not a CSV header row ({e})")
        else:
            if not header:
                problems.add(name, 1, NO_COLUMN, "no header row: a file needs at least its header")
            else:
                positions = _check_header(header, spec, problems)
        if header is None or positions is None:
            if unusable is not None:
                unusable.add(name)
            return
        width = len(header)
        given = tuple(header)
        absent = {c.name: c.blank for c in spec.columns if c.name not in positions}
        present = [(n, i, spec.by_name[n].parse, spec.by_name[n].required, spec.by_name[n].blank)
                   for n, i in positions.items()]
        check = spec.check if check_rows else None
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                problems.add(name, lines.number, NO_COLUMN, f"not valid CSV ({e})")
                continue
            line = reader.line_num
            if not cells:
                continue  # a blank line
            if wanted is not None and len(cells) == width and not wanted(cells):
                continue
            if len(cells) != width:
                problems.add(name, line, NO_COLUMN,
                             f"{len(cells)} cells where the header has {width}")
                continue
            values = dict(absent)
            ok = True
            for column, i, parse, required, blank in present:
                cell = cells[i].strip()
                if not cell:
                    if required:
                        problems.add(name, line, column, "required")
                        ok = False
                    values[column] = blank
                    continue
                try:
                    values[column] = parse(cell)
                except Invalid as e:
                    problems.add(name, line, column, str(e))
                    values[column] = blank
                    ok = False
            if check is not None:
                for column, message in check(values):
                    problems.add(name, line, column, message)
                    ok = False
            yield Row(line, values, ok, cells, given)


def _check_header(header: list[str], spec: FileSpec, problems: Problems) -> dict[str, int] | None:
    positions: dict[str, int] = {}
    good = True
    for i, raw in enumerate(header):
        name = raw.strip()
        if name not in spec.by_name:
            problems.add(spec.name, 1, name or f"(column {i + 1})",
                         f"unknown column; the columns of {spec.name} are {', '.join(spec.header)}")
            good = False
        elif name in positions:
            problems.add(spec.name, 1, name, "the column is given twice")
            good = False
        else:
            positions[name] = i
    for column in spec.columns:
        if column.required and column.name not in positions:
            problems.add(spec.name, 1, column.name, "required column missing from the header")
            good = False
    return positions if good else None
