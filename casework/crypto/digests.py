"""Import digests: a keyed digest of an imported record's values (see the package's "Import digests")."""

from __future__ import annotations

import datetime as dt
import hmac
import uuid

from .indexes import _derived_key
from .keyring import Keyring

DIGEST_BYTES = 16

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def import_digest(ring: Keyring, *, table: str, row_id: uuid.UUID, updated_at: dt.datetime, content: bytes) -> bytes:
    """The keyed digest of a record's imported values (`content`, canonically encoded by the caller),
    bound to its table, id and `updated_at` (see "Import digests" in the package's docstring)."""
    key = _derived_key(ring.index_keys["full_name"], "import_digest")
    stamp = (updated_at - _EPOCH) // _MICROSECOND
    return hmac.digest(key, b"%s\x00%s%d\x00%s" % (table.encode(), row_id.bytes, stamp, content),
                       "sha256")[:DIGEST_BYTES]
