"""The errors of casework.crypto."""

from __future__ import annotations


class CryptoError(Exception):
    """A value could not be encrypted or decrypted."""


class DecryptionError(CryptoError):
    """A stored value is not a valid ciphertext for where it is stored."""


class KeyringError(CryptoError):
    """The keyring file is missing, unreadable or malformed."""
