"""Recognising an unchanged row of a re-imported extract without decrypting anything.

Partners send full extracts again and again, and most rows are what the system holds already. A
record an import writes (or finds unchanged) keeps `import_digest`: a keyed digest
(`crypto.import_digester`, keyed BLAKE2b under a key derived from the blind-index keys) of the row it was
written from, as the file gave it (the header and the row's cells, with the agency, and what the
row's values take from the database: an incident's area and locality as the partnership spells
it, a referral's person), and `import_digest_at`: the record's `updated_at` at that moment. A row
whose digest equals its record's, while the record's `updated_at` is still `import_digest_at`,
is unchanged: the record is not read, decrypted or written. Any other row is compared as before
(`importer.Writer._changes`).

An incident also keeps `parties_digest`, the sum of the digests of its rows in parties.csv, and
`parties_at`, the latest `updated_at` of the parties that import left. An incident whose row and
parties are unchanged in both senses (the same sum and as many parties, none changed since) is
passed over whole, parties and all, in one query for the data set (`unchanged`).

Why it cannot skip a change:
- the same cells under the same header make the same values: the digest covers every cell of the
  row (the ref too), encrypted columns included (in plain), and whatever else the values depend on;
- a record changed by anything but the import (a page, a merge, an erasure) has a later
  `updated_at` (every writer sets it: the ORM's `onupdate`, and Core statements get it too), so it
  no longer matches, and its row is compared in full; a party added, changed or removed changes
  the incident's count of parties or their latest `updated_at`;
- re-sealing under a new data key leaves the plain values and `updated_at` as they were: digests
  stay good. Rotating the index keys replaces the digest key: `keys rotate --index` forgets the
  stored digests (`services.keys`), and the next import compares every record in full, once.
A mismatch only ever costs the full comparison, never a wrong answer; a stored digest that matches
by chance (1 in 2^128) is the one risk taken.

Kinds of record: people, incidents (with their parties), referrals and prevention activities carry
a digest (they are the bulk of an extract, and people are encrypted). Areas (tens), orders and ASB
case reviews (hundreds; nothing encrypted in their files) are compared as before.
"""

from __future__ import annotations

import uuid
from typing import Any

from .. import crypto

DIGESTED = frozenset({"person", "incident", "referral", "prevention_activity"})
CELL, PART = "\x1f", "\x1e"  # between cells, between parts of a row's content
PARTIES_BYTES = 16
_PARTIES_MODULUS = 1 << (8 * PARTIES_BYTES)


class Digests:
    """The import digests of one agency's rows."""

    def __init__(self, ring: crypto.Keyring, agency_id: uuid.UUID) -> None:
        self._digest = crypto.import_digester(ring)
        self._agency = agency_id.hex
        self._prefixes: dict[tuple[str, tuple[str, ...]], str] = {}

    def prefix(self, table: str, header: tuple[str, ...]) -> str:
        """What every row of a file shares: the table, the agency and the header."""
        found = self._prefixes.get((table, header))
        if found is None:
            found = self._prefixes[(table, header)] = PART.join((table, self._agency, CELL.join(header), ""))
        return found

    def row(self, prefix: str, cells: list[str], context: str = "") -> bytes:
        """The digest of one row (`prefix` from `prefix`). Cells hold no control character (the check
        refuses them), so the separators cannot be forged by a cell."""
        return self._digest((prefix + CELL.join(cells) + PART + context).encode("utf-8", "surrogatepass"))


def context_of(table: str, values: dict[str, Any]) -> str:
    """What a row's values take from the database (a `Records` row's columns): an incident's area and
    locality, a referral's person."""
    if table == "incident":
        return incident_context(values["area_id"], values["locality"])
    if table == "referral":
        return values["person_id"].hex  # type: ignore[no-any-return]
    return ""


def incident_context(area_id: uuid.UUID | None, locality: str | None) -> str:
    return (area_id.hex if area_id is not None else "") + CELL + (locality or "")


def parties_digest(total: int) -> bytes:
    """An incident's parties digest: the sum of its rows' digests (the order of the rows does not
    matter), as `PARTIES_BYTES` bytes."""
    return (total % _PARTIES_MODULUS).to_bytes(PARTIES_BYTES)
