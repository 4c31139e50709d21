"""All of Casework's cryptography: keys, ciphertexts, blind indexes and rotation.

Nothing else in the code base imports `cryptography` or `hmac`.

Ciphertexts
    AES-256-GCM with a fresh random 96-bit nonce per value. Stored format::

        version (1 byte, 0x01) | key id (4 bytes, big-endian) | nonce (12) | ciphertext + tag (16)

    The associated data binds the value to its table, column and row id (and
    to the header), so a ciphertext copied to another row or column, or with
    its header altered, fails to decrypt.

Keyring
    A JSON file (owner-only): data keys by id with one active key (older keys
    are kept for reading until rotation has moved every value off them), one
    HMAC key per blind index, and the audit trail's HMAC key. Losing the
    keyring loses the data: keep a copy apart from the database backups.

Blind indexes
    HMAC-SHA256 under a key of the index's own, over a normalised value,
    truncated to 8 bytes. 64 bits keep accidental collisions negligible at
    partnership scale (expected false matches among ten million people: far
    below one) while storing less; every candidate found through an index is
    decrypted and shown to the caseworker, so a collision can never merge
    records by itself.

    What they give away: to someone holding the database but not the keyring,
    equal indexes show which people share a surname, a date of birth or a
    postcode (never what it is). The date of birth and the postcode have indexes
    of their own, not only combined with the surname, because the people search
    takes either alone (`services.people_search`); the duplicate rules combine
    them in the query (`services.people`). So an encrypted database is still to
    be kept private.

    Parts of a surname and the first forename have indexes too (`surname_part`,
    `forename`), so that "O'Connor" finds "O'Connor-Núñez" and a forename puts its
    matches first. A surname of two or more parts (split at spaces and hyphens:
    "O'Connor-Núñez", "de la Cruz") has one index per part, at most three (the
    first two and the last); a surname of one part has none, as its part is the
    whole. Their keys are derived from the surname's and the full name's (so the
    keyring keeps its keys, and `keys rotate --index` replaces them with those).
    What they give away besides: which people share a part of a surname (that
    two double-barrelled names share "Jones", not that it is "Jones", nor that a
    part equals someone's whole surname: the keys differ), how many parts a
    surname has (up to three), and which people share a first forename.

Import digests
    An imported record keeps a keyed BLAKE2b digest (16 bytes) of the row it
    was last imported from, so that importing the same extract again
    recognises an unchanged row without decrypting anything
    (`casework.exchange.digest`). Keyed, as the blind indexes are: a plain hash
    of a name, a date of birth or a postcode is reversed by trying the likely
    values. Its key is derived from the full name's index key (one-way), so
    `keys rotate --index` replaces it too; the rotation forgets every stored
    digest (nothing keyed by a retired key stays), and the next import compares
    each record in full, once. The agency and the row's own ref are covered
    too: equal values in two records give unrelated digests.

The package, one module a concern (everything public is re-exported here, so
callers write `from casework import crypto` and `crypto.seal(...)`):
`errors`, `keyring` (the keys and the running app's keyring), `ciphertexts`
(one cell's value), `indexes` (normalisation and blind indexes), `digests` (import digests), `chain` (the
audit trail's MACs, log tags), `backup` (backup files), `documents` (documents
and the upload spool) and `accounts` (passwords, one-time codes, tokens).
"""

from __future__ import annotations

from .accounts import (
    PASSWORD_HASH_DEFAULTS,
    RECOVERY_ALPHABET,
    hash_password,
    new_recovery_code,
    new_token,
    new_totp_secret,
    prepare_dummy_password_hash,
    recovery_code_digest,
    token_digest,
    totp_now,
    totp_step_matched,
    totp_uri,
    verify_password,
)
from .backup import (
    BACKUP_CHUNK,
    BACKUP_HEADER,
    BACKUP_MAGIC,
    BACKUP_VERSION,
    BackupEncryptor,
    BackupFileError,
    backup_key_id,
    decrypt_backup,
)
from .chain import chain_mac, hash_terms, macs_equal
from .ciphertexts import (
    FORMAT_VERSION,
    HEADER,
    NONCE_BYTES,
    OVERHEAD,
    TAG_BYTES,
    decode_plain,
    encode_plain,
    key_id_of,
    reseal,
    seal,
    unseal,
)
from .digests import DIGEST_BYTES, import_digester
from .documents import (
    DOCUMENT_CHUNK,
    DOCUMENT_CHUNK_OVERHEAD,
    DOCUMENT_VERSION,
    DocumentSealer,
    EphemeralSpool,
    new_document_key,
)
from .errors import CryptoError, DecryptionError, KeyringError
from .indexes import (
    DERIVED_INDEXES,
    INDEX_BYTES,
    SURNAME_PARTS,
    PersonIndexes,
    first_forename,
    full_name_index,
    index_of,
    normalise_name,
    normalise_postcode,
    person_indexes,
    phonetic,
    phonetic_yob_index,
    surname_parts,
    swapped_phonetic_indexes,
)
from .keyring import INDEX_NAMES, Keyring, current

__all__ = [
    "BACKUP_CHUNK", "BACKUP_HEADER", "BACKUP_MAGIC", "BACKUP_VERSION", "DERIVED_INDEXES", "DIGEST_BYTES", "DOCUMENT_CHUNK",
    "DOCUMENT_CHUNK_OVERHEAD", "DOCUMENT_VERSION", "FORMAT_VERSION", "HEADER", "INDEX_BYTES", "INDEX_NAMES",
    "NONCE_BYTES", "OVERHEAD", "PASSWORD_HASH_DEFAULTS", "RECOVERY_ALPHABET", "SURNAME_PARTS", "TAG_BYTES",
    "BackupEncryptor", "BackupFileError", "CryptoError", "DecryptionError", "DocumentSealer", "EphemeralSpool",
    "Keyring", "KeyringError", "PersonIndexes",
    "backup_key_id", "chain_mac", "current", "decode_plain", "decrypt_backup", "encode_plain", "first_forename",
    "full_name_index", "hash_password", "hash_terms", "import_digester", "index_of", "key_id_of", "macs_equal", "new_document_key",
    "new_recovery_code", "new_token", "new_totp_secret", "normalise_name", "normalise_postcode", "person_indexes",
    "phonetic", "phonetic_yob_index", "prepare_dummy_password_hash", "recovery_code_digest", "reseal", "seal",
    "surname_parts", "swapped_phonetic_indexes", "token_digest", "totp_now", "totp_step_matched", "totp_uri",
    "unseal", "verify_password",
]
