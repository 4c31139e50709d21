"""Record ids: UUID version 7, ascending, made in bulk."""

from __future__ import annotations

import pickle
import uuid

from casework.models.base import new_id, new_ids


def test_ids_made_in_bulk_are_ordinary_ascending_version_7_uuids():
    ids = new_ids(5000)
    again = [uuid.UUID(str(u)) for u in ids]
    assert ids == again and [hash(u) for u in ids] == [hash(u) for u in again]
    assert [u.hex for u in ids] == [u.hex for u in again] and {u.version for u in ids} == {7}
    assert {u.variant for u in ids} == {uuid.RFC_4122} and {u.is_safe for u in ids} == {uuid.SafeUUID.unknown}
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert pickle.loads(pickle.dumps(ids)) == ids
    later = new_ids(10, after_millisecond=ids[-1].int >> 80)
    assert later[0] > ids[-1]
    assert new_id().version == 7
