"""Import digests: a keyed digest of the row an imported record was last written from (see the
package's "Import digests")."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from .indexes import _derived_key
from .keyring import Keyring

DIGEST_BYTES = 16


def import_digester(ring: Keyring) -> Callable[[bytes], bytes]:
    """The keyed digest of a row's content, canonically encoded by the caller
    (`casework.exchange.digest`): BLAKE2b in its keyed mode (a MAC by design, as HMAC-SHA256 is, and
    three times faster at a row's size, which counts at millions of rows), `DIGEST_BYTES` long. The
    key is derived once, and the keyed state made once and copied for each row."""
    keyed = hashlib.blake2b(key=_derived_key(ring.index_keys["full_name"], "import_digest"),
                            digest_size=DIGEST_BYTES)

    def digest(content: bytes) -> bytes:
        state = keyed.copy()
        state.update(content)
        return state.digest()

    return digest
