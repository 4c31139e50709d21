"""The bulk-writing helpers of the import (casework.exchange.bulk)."""

from __future__ import annotations

import uuid

from casework.exchange.bulk import Ids, generated_id, generated_ref


def test_ids_are_distinct_random_version_4_uuids():
    make = Ids(batch=64)
    ids = [make() for _ in range(1000)]  # several batches
    assert len(set(ids)) == 1000
    assert {(i.version, i.variant) for i in ids} == {(4, uuid.RFC_4122)}
    assert all(uuid.UUID(str(i)) == i for i in ids)


def test_a_generated_ref_carries_its_record_id():
    record_id = uuid.uuid4()
    assert generated_ref(record_id) == f"casework:{record_id}"
    assert generated_id(generated_ref(record_id)) == record_id
    assert generated_id("P0000001") is None
    assert generated_id("casework:not-a-uuid") is None
