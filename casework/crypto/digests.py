"""Import digests: a keyed digest of the row an imported record was last written from (see the
package's "Import digests")."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from .indexes import _derived_key
from .keyring import Keyring

DIGEST_BYTES = 16


def import_digester(ring: Keyring) -> Callable[[bytes], bytes]:
    """The keyed digest (HMAC-SHA256, cut to `DIGEST_BYTES`) of a row's content, canonically encoded
    by the caller (`casework.exchange.digest`); the key is derived once, for millions of rows."""
    key = _derived_key(ring.index_keys["full_name"], "import_digest")

    def digest(content: bytes) -> bytes:
        return hmac.digest(key, content, "sha256")[:DIGEST_BYTES]

    return digest
