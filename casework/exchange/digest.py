"""Recognising an unchanged row of a re-imported extract without decrypting anything.

Partners send full extracts again and again, and most rows are what the system holds already. A
record an import writes (or finds unchanged) keeps `import_digest`: a keyed digest
(`crypto.import_digest`, HMAC under a key derived from the blind-index keys) of its values as the
import writes them (`records.Records`: the columns a row becomes, personal values in plain,
before sealing), bound to the record's id and `updated_at`. A row whose digest, computed with the
record's stored id and `updated_at`, equals the stored one is unchanged: the record is not read,
decrypted or written. Any other row is compared as before (`importer.Writer._changes`).

Why it cannot skip a change:
- the digest covers every column the row becomes, encrypted ones included (in plain);
- a record changed by anything but the import (a page, a merge, an erasure) has a later
  `updated_at` (every writer sets it: the ORM's `onupdate`, and Core statements get it too), so its
  digest no longer matches, and the row is compared in full;
- re-sealing under a new data key leaves the plain values and `updated_at` as they were: digests
  stay good. Rotating the index keys replaces the digest key: `keys rotate --index` forgets the
  stored digests (`services.keys`), and the next import compares every record in full, once.
A mismatch only ever costs the full comparison, never a wrong answer; a stored digest that matches
by chance (1 in 2^128) is the one risk taken.

Kinds of record: people, incidents, referrals and prevention activities carry a digest (they are
the bulk of an extract, and people are encrypted). Parties are compared as they are, in the
database's terms (no ref, no personal value: an incident's parties are read in one query per
chunk). Areas (tens), orders and ASB case reviews (hundreds; nothing encrypted in the file) are
compared as before.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import Enum
from typing import Any

from sqlalchemy import Table

from .. import crypto

DIGESTED = frozenset({"person", "incident", "referral", "prevention_activity"})


def content(values: dict[str, Any]) -> bytes:
    """The values (a `Records` row: column name to str, int, bool, date, enum, uuid or None) as the
    bytes a digest covers: `repr` of the column names and of the values, an enum by its value and
    a uuid by its number (their own `repr` is slow Python). Each column has one type, so different
    values give different bytes. Were Python to spell a value otherwise after an upgrade, every
    digest would differ once: a full comparison, never a wrong answer."""
    return repr((tuple(values), [v if type(v) in _AS_THEY_ARE else _spelt(v) for v in values.values()])).encode(
        "utf-8", "surrogatepass")


def _spelt(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value.int if isinstance(value, uuid.UUID) else repr(value)


_AS_THEY_ARE = frozenset({str, int, bool, type(None), dt.date})


def digest_of(ring: crypto.Keyring, table: Table, record_id: uuid.UUID, updated_at: dt.datetime,
              values: dict[str, Any]) -> bytes:
    return crypto.import_digest(ring, table=table.name, row_id=record_id, updated_at=updated_at,
                                content=content(values))

