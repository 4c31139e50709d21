"""The bulk-writing helpers of the import (casework.exchange.bulk)."""

from __future__ import annotations

import time
import uuid

from casework.exchange.bulk import Ids, generated_id, generated_ref
from casework.models.base import new_id


def test_ids_are_distinct_ascending_version_7_uuids():
    make = Ids(batch=64)
    ids = [make() for _ in range(1000)]  # several batches, most of them within one millisecond
    assert len(set(ids)) == 1000
    assert ids == sorted(ids)  # new rows go to the end of an index on the id
    assert {(i.version, i.variant) for i in ids} == {(7, uuid.RFC_4122)}
    assert all(uuid.UUID(str(i)) == i for i in ids)


def test_a_record_id_carries_the_millisecond_it_was_made_and_74_random_bits():
    before = time.time_ns() // 1_000_000
    made = [new_id() for _ in range(200)]
    after = time.time_ns() // 1_000_000
    assert all(before <= i.int >> 80 <= after for i in made)
    assert {(i.version, i.variant) for i in made} == {(7, uuid.RFC_4122)}
    # The random bits differ between ids of the same millisecond.
    random_parts = {i.int & ((1 << 62) - 1) for i in made}
    assert len(random_parts) == 200


def test_a_generated_ref_carries_its_record_id():
    record_id = uuid.uuid4()
    assert generated_ref(record_id) == f"casework:{record_id}"
    assert generated_id(generated_ref(record_id)) == record_id
    assert generated_id("P0000001") is None
    assert generated_id("casework:not-a-uuid") is None
