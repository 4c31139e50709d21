"""casework.crypto: ciphertexts, the keyring, blind indexes."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework import crypto
from casework.crypto import DecryptionError, Keyring, KeyringError

ROW = uuid.UUID("00000000-0000-4000-8000-000000000001")
OTHER_ROW = uuid.UUID("00000000-0000-4000-8000-000000000002")
WHERE = {"table": "person", "column": "surname", "row_id": ROW}


@pytest.fixture(scope="module")
def ring() -> Keyring:
    return Keyring.generate()


def sealed_value(ring: Keyring, value: str = "O'Brien") -> bytes:
    return crypto.seal(ring, crypto.encode_plain(value), **WHERE)


# --- ciphertexts ------------------------------------------------------------------------


@settings(max_examples=200)
@given(value=st.one_of(st.text(), st.dates()))
def test_any_text_or_date_reads_back_as_it_was_sealed(ring, value):
    kind = dt.date if isinstance(value, dt.date) else str
    sealed = crypto.seal(ring, crypto.encode_plain(value), **WHERE)
    assert crypto.decode_plain(crypto.unseal(ring, sealed, **WHERE), kind) == value


def test_the_stored_format_carries_version_key_id_nonce_and_tag(ring):
    sealed = sealed_value(ring, "Nunez")
    assert sealed[0] == crypto.FORMAT_VERSION
    assert crypto.key_id_of(sealed) == ring.active
    assert len(sealed) == crypto.OVERHEAD + len(b"Nunez")
    assert b"Nunez" not in sealed


def test_the_same_value_sealed_twice_gives_different_ciphertexts(ring):
    first, second = sealed_value(ring), sealed_value(ring)
    assert first != second
    assert first[crypto.HEADER.size:crypto.HEADER.size + crypto.NONCE_BYTES] != \
        second[crypto.HEADER.size:crypto.HEADER.size + crypto.NONCE_BYTES]


@pytest.mark.parametrize("elsewhere", [
    {"row_id": OTHER_ROW},
    {"column": "forenames"},
    {"table": "case"},
], ids=["other row", "other column", "other table"])
def test_a_ciphertext_moved_to_another_cell_does_not_decrypt(ring, elsewhere):
    sealed = sealed_value(ring)
    with pytest.raises(DecryptionError, match="does not authenticate"):
        crypto.unseal(ring, sealed, **(WHERE | elsewhere))


@pytest.mark.parametrize("length", [0, 1, crypto.HEADER.size, crypto.OVERHEAD - 1])
def test_a_ciphertext_too_short_to_hold_header_nonce_and_tag_is_truncated(ring, length):
    with pytest.raises(DecryptionError, match=r"person\.surname of row .*: ciphertext is truncated"):
        crypto.unseal(ring, sealed_value(ring)[:length], **WHERE)


def test_a_ciphertext_missing_its_last_byte_does_not_authenticate(ring):
    with pytest.raises(DecryptionError, match="does not authenticate"):
        crypto.unseal(ring, sealed_value(ring)[:-1], **WHERE)


@settings(max_examples=200)
@given(data=st.data())
def test_flipping_any_bit_of_a_ciphertext_is_detected(ring, data):
    sealed = bytearray(sealed_value(ring, "Siân O'Brien-Núñez"))
    position = data.draw(st.integers(0, len(sealed) - 1))
    bit = data.draw(st.integers(0, 7))
    sealed[position] ^= 1 << bit
    with pytest.raises(DecryptionError, match=r"person\.surname of row"):
        crypto.unseal(ring, bytes(sealed), **WHERE)


def test_a_changed_version_byte_names_the_unknown_format(ring):
    sealed = bytearray(sealed_value(ring))
    sealed[0] = 9
    with pytest.raises(DecryptionError, match="unknown ciphertext format 9"):
        crypto.unseal(ring, bytes(sealed), **WHERE)


def test_a_value_under_a_key_not_in_the_keyring_names_the_key(ring):
    other = Keyring.generate()
    other.add_data_key()
    other.add_data_key()
    sealed = crypto.seal(other, b"x", **WHERE)
    with pytest.raises(DecryptionError, match="encrypted under key 3, which is not in the keyring"):
        crypto.unseal(ring, sealed, **WHERE)


def test_reading_the_key_id_of_a_truncated_value_is_a_clear_error():
    with pytest.raises(DecryptionError, match="truncated"):
        crypto.key_id_of(b"\x01\x00")


def test_values_under_an_old_key_read_after_a_new_key_is_made_and_reseal_moves_them():
    ring = Keyring.generate()
    old = crypto.seal(ring, b"Nunez", **WHERE)
    assert ring.add_data_key() == 2
    new = crypto.reseal(ring, old, **WHERE)
    assert (crypto.key_id_of(old), crypto.key_id_of(new)) == (1, 2)
    assert crypto.unseal(ring, old, **WHERE) == crypto.unseal(ring, new, **WHERE) == b"Nunez"
    assert crypto.reseal(ring, new, **WHERE) is new
    ring.retire_data_key(1)
    with pytest.raises(DecryptionError, match="key 1, which is not in the keyring"):
        crypto.unseal(ring, old, **WHERE)
    with pytest.raises(KeyringError, match="active key cannot be retired"):
        ring.retire_data_key(2)


def test_datetimes_and_other_types_are_refused():
    with pytest.raises(crypto.CryptoError, match="datetimes"):
        crypto.encode_plain(dt.datetime(2024, 1, 1))  # type: ignore[arg-type]
    with pytest.raises(crypto.CryptoError, match="type int"):
        crypto.encode_plain(5)  # type: ignore[arg-type]


# --- the keyring ------------------------------------------------------------------------


def test_a_saved_keyring_is_owner_only_and_loads_back_equal(tmp_path):
    ring = Keyring.generate()
    ring.add_data_key()
    ring.begin_index_rotation()
    ring.save(tmp_path / "keys" / "keyring.json")
    assert stat.S_IMODE(os.stat(tmp_path / "keys" / "keyring.json").st_mode) == 0o600
    assert Keyring.load(tmp_path / "keys" / "keyring.json") == ring


@pytest.mark.parametrize("content, message", [
    ("not json", "cannot be read"),
    ('{"format": 2}', "unknown format 2"),
    ('{"format": 1}', "malformed"),
    ('[1]', "malformed"),
])
def test_a_broken_keyring_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "keyring.json"
    path.write_text(content)
    with pytest.raises(KeyringError, match=message):
        Keyring.load(path)


def test_a_keyring_whose_active_key_is_missing_is_refused(tmp_path):
    doc = json.loads(Keyring.generate().to_json())
    doc["active"] = 7
    (tmp_path / "k.json").write_text(json.dumps(doc))
    with pytest.raises(KeyringError, match="active key 7 is not in it"):
        Keyring.load(tmp_path / "k.json")


def test_a_missing_keyring_file_is_a_clear_error(tmp_path):
    with pytest.raises(KeyringError, match="does not exist"):
        Keyring.load(tmp_path / "nowhere.json")


def test_a_keyring_takes_up_a_file_another_process_rewrote(tmp_path):
    path = tmp_path / "keyring.json"
    web = Keyring.load_or_create(path)
    old = crypto.seal(web, b"x", **WHERE)
    rotator = Keyring.load(path)
    rotator.add_data_key()
    rotator.begin_index_rotation()
    rotator.finish_index_rotation()
    rotator.save()
    new = crypto.seal(rotator, b"y", **WHERE)

    web.reload_if_changed()
    assert web == rotator
    assert crypto.unseal(web, new, **WHERE) == b"y"
    assert crypto.unseal(web, old, **WHERE) == b"x"
    assert crypto.key_id_of(crypto.seal(web, b"z", **WHERE)) == 2


# --- normalisation and blind indexes ----------------------------------------------------


@pytest.mark.parametrize("spelling", ["O'Brien", "OBRIEN", "o brien", "O’BRIEN", " o-Brien ", "ＯＢｒｉｅｎ"])
def test_spellings_of_obrien_normalise_alike(spelling):
    assert crypto.normalise_name(spelling) == "obrien"


@pytest.mark.parametrize("spelling", ["Núñez", "NUNEZ", "Nun\u0303ez", "nuñez"])
def test_accents_are_removed(spelling):
    assert crypto.normalise_name(spelling) == "nunez"


def test_letters_without_a_decomposition_are_folded():
    assert crypto.normalise_name("Søren Łukasz Straße") == "sorenlukaszstrasse"


@pytest.mark.parametrize("value, expected", [
    ("dt11xj", "DT1 1XJ"), ("DT1 1XJ", "DT1 1XJ"), (" sw1a  2aa", "SW1A 2AA"), ("not a postcode", None),
])
def test_postcodes_are_normalised_or_refused(value, expected):
    assert crypto.normalise_postcode(value) == expected


def indexes(ring: Keyring, surname: str, forenames: str = "Siân", dob: dt.date | None = dt.date(1980, 2, 29),
            postcode: str | None = "DT1 1XJ", **kw: bool) -> crypto.PersonIndexes:
    return crypto.person_indexes(ring, surname=surname, forenames=forenames, date_of_birth=dob,
                                 postcode=postcode, **kw)


def test_person_indexes_match_across_spellings_and_are_8_bytes(ring):
    a = indexes(ring, "O'Brien", postcode="dt11xj")
    b = indexes(ring, "OBRIEN", forenames="SIAN", postcode="DT1 1XJ")
    assert a == b
    # A surname of one part has no part indexes: its part is the whole, indexed as the surname.
    assert (a.surname_part1, a.surname_part2, a.surname_part3) == (None, None, None)
    assert all(len(v) == crypto.INDEX_BYTES == 8 for v in vars(a).values() if v is not None)


def test_each_index_has_a_key_of_its_own(ring):
    assert len(set(ring.index_keys.values())) == len(crypto.INDEX_NAMES)
    # The same input under two indexes gives unrelated values.
    assert crypto.index_of(ring, "surname", "Smith") != crypto.index_of(ring, "phonetic", "Smith")


def test_the_single_term_lookups_agree_with_the_person_indexes(ring):
    idx = indexes(ring, "Núñez", forenames="María José")
    assert crypto.index_of(ring, "surname", "NUNEZ") == idx.surname
    assert crypto.index_of(ring, "phonetic", "Nunez") == idx.phonetic
    assert crypto.index_of(ring, "dob", dt.date(1980, 2, 29)) == idx.dob
    assert crypto.index_of(ring, "postcode", "dt1 1xj") == idx.postcode
    assert crypto.full_name_index(ring, "nunez", "Maria-Jose") == idx.full_name
    assert crypto.phonetic_yob_index(ring, "Nunez", 1980) == idx.phonetic_yob


def test_unknown_values_have_no_index(ring):
    idx = crypto.person_indexes(ring, surname="Smith", forenames=None, date_of_birth=None, postcode="nowhere")
    assert idx.surname and idx.phonetic
    assert (idx.full_name, idx.dob, idx.postcode, idx.phonetic_yob) == (None, None, None, None)


def test_a_phonetic_index_matches_a_sound_alike_surname(ring):
    assert crypto.index_of(ring, "phonetic", "Smith") == crypto.index_of(ring, "phonetic", "Smyth")


def test_pending_index_keys_give_new_indexes_and_finishing_makes_them_current():
    ring = Keyring.generate()
    before = indexes(ring, "Nunez")
    with pytest.raises(KeyringError, match="no blind-index rotation is in progress"):
        indexes(ring, "Nunez", pending=True)
    ring.begin_index_rotation()
    pending = indexes(ring, "Nunez", pending=True)
    assert indexes(ring, "Nunez") == before
    assert (set(vars(pending).values()) - {None}).isdisjoint(vars(before).values())
    ring.finish_index_rotation()
    assert ring.pending_index_keys is None
    assert indexes(ring, "Nunez") == pending


def test_log_tags_are_keyed_so_a_list_of_surnames_cannot_reverse_them():
    a, b = Keyring.generate(), Keyring.generate()
    assert crypto.hash_terms("Smith", a) == crypto.hash_terms("Smith", a)
    assert crypto.hash_terms("Smith", a) != crypto.hash_terms("Smith", b)
    assert len(crypto.hash_terms("Smith", a)) == 12


def test_a_value_under_a_key_another_process_just_made_reads_at_once(tmp_path):
    path = tmp_path / "keyring.json"
    web = Keyring.load_or_create(path)
    web.reload_if_changed(at_most_every=3600)  # checked just now: the hot path will not look again
    rotator = Keyring.load(path)
    rotator.add_data_key()
    rotator.save()
    assert crypto.unseal(web, crypto.seal(rotator, b"y", **WHERE), **WHERE) == b"y"
    assert web.active == 2
