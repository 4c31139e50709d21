"""Checking a large data set in a process of its own, on another core, while this one writes it.

The check (`validate.check_files`: every cell, the refs given twice, the references within the
data set) needs no database, so a child process does it from the files alone, started fresh: it
shares nothing with this process, and no database connection crosses a fork (see `context`). What it
cannot answer, the references to people and incidents outside the data set, it sends back a batch
at a time; they are looked up here, in the import's own session, once the writing is done. The
lookup must give the answer the database gave before the import: the rows the import wrote carry
the data set's own refs, which are not such references, and the records it gave the ids of their
`casework:<id>` refs are left out (the same id may be spelt another way, in capitals say).

Nothing is committed on the child's word alone: the import waits for the child to report every
file checked (`finish`), and any problem, or a child that stopped without reporting, fails the
import, which the caller then rolls back as with any failed import. A child outlives its parent
only until its files are read (on Linux it is killed with the parent).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ..models import RecordKind
from .reader import Problems
from .validate import Lookup, Waiting, check_files


def context() -> Any:
    """How the import's child processes start: forked from a fork server, a clean process that
    multiprocessing starts once per importing process (as with spawn: not forked from it, so it
    holds no database connection, thread or lock of it), with the modules a child runs imported
    once. A child then starts in milliseconds, not the second of CPU that importing Casework
    anew costs each spawned child. When the importing process dies the fork server ends, and its
    children are killed with it (`_die_with_parent`). Where there is no fork server (Windows),
    spawn."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    forkserver = multiprocessing.get_context("forkserver")
    forkserver.set_forkserver_preload(["casework.exchange.apart", "casework.exchange.prepare"])
    return forkserver


class CheckStopped(RuntimeError):
    """The checking process stopped without reporting: the data set is not known to be good."""


class CheckApart:
    """The check of `files` running in a child process (started at once)."""

    def __init__(self, files: dict[str, Path], *, area_names: set[str], localities: set[str],
                 lower_priority: bool = True) -> None:
        starter = context()
        self.receive, send = starter.Pipe(duplex=False)
        self.process = starter.Process(target=_check, args=(files, area_names, localities, send, lower_priority),
                                       daemon=True, name="casework import check")
        self.process.start()
        send.close()  # the child holds the sending end: end-of-file here when it stops

    def finish(self, lookup: Lookup, problems: Problems) -> None:
        """Wait for the check to end. Its problems, and those of the references it sent (looked up
        with `lookup`, which reports to `problems` too), go to `problems`."""
        while True:
            try:
                message = self.receive.recv()
            except EOFError:
                self.process.join(timeout=5)
                raise CheckStopped(f"the check of the data set stopped before it ended "
                                   f"(exit code {self.process.exitcode}); nothing was imported") from None
            if message[0] == "refs":
                lookup(RecordKind(message[1]), message[2])
            elif message[0] == "done":
                problems.merge(message[1], message[2])
                return
            else:
                raise CheckStopped(f"the check of the data set failed; nothing was imported:\n{message[1]}")

    def close(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.receive.close()


def _check(files: dict[str, Path], area_names: set[str], localities: set[str], send: Connection,
           lower_priority: bool = True) -> None:
    """The child process: check the files, send the references to look up, then the problems. At a
    lower priority when asked: the importing process waits for it only once it has written
    everything (which takes longer than the check, unless most rows are unchanged)."""
    _die_with_parent()
    _fewer_collections()
    if lower_priority and hasattr(os, "nice"):
        os.nice(10)
    try:
        problems = Problems()

        def settle(kind: RecordKind, waiting: Waiting) -> None:
            send.send(("refs", kind.value, waiting))

        check_files(files, problems=problems, area_names=area_names, localities=localities, settle=settle)
        send.send(("done", problems.found, problems.count))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the import
        send.send(("error", traceback.format_exc()))
    finally:
        send.close()


def _die_with_parent() -> None:
    """On Linux, the kernel kills this process when its parent (the fork server, which ends with
    the importing process) dies: a killed import leaves no child reading its files."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _fewer_collections() -> None:
    """Python's cyclic garbage collector, tuned for a process that makes millions of short-lived
    containers (each row's values, each chunk's tuples) and frees them by reference counting: what
    the process holds already is frozen out of every collection, and the youngest generation is
    collected once 50,000 containers are allocated and not yet freed, not 700 (collections cost a
    quarter of a preparation's time: 58 s of CPU at a million incidents, not 75)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
