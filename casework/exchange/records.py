"""A data set's rows as the columns of their records, and a new record's row: its id, its personal
values sealed (`crypto.seal`, with the associated data the `Secret` attribute uses: table, column,
row id), its blind indexes (`crypto.person_indexes`) and the row of its ref. One definition, used by
the importing process and by the process that prepares a fresh data set's rows (`prepare`)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table

from .. import crypto
from ..models import (
    Incident,
    Party,
    Person,
    PreventionActivity,
    RecordKind,
    Referral,
    ReferralStatus,
    SourceRef,
    locality_key,
)
from ..models.person import INDEX_FIELDS
from ..models.reference import new_reference
from .bulk import Ids
from .digest import DIGESTED, Digests, context_of
from .reader import Row

PERSON = Person.__table__
INCIDENT = Incident.__table__
PARTY = Party.__table__
REFERRAL = Referral.__table__
ACTIVITY = PreventionActivity.__table__
SOURCE_REF = SourceRef.__table__
TABLES: dict[str, Table] = {table.name: table for table in (PERSON, INCIDENT, PARTY, REFERRAL, ACTIVITY, SOURCE_REF)}

# Columns a new record gets that the exchange format does not carry.
NEW_DEFAULTS: dict[str, dict[str, Any]] = {
    "person": {"address": None, "phone": None, "email": None, "safe_contact": None,
               "do_not_disclose_address": False, "restricted": False, "merged_into_id": None, "version": 1},
    "incident": {"restricted": False, "version": 1},
    "referral": {"status": ReferralStatus.CLOSED, "imported": True, "receiving_agency_id": None,
                 "children_in_household": None, "version": 1},
    "prevention_activity": {},
}
SECRETS: dict[str, tuple[str, ...]] = {"person": ("surname", "forenames", "date_of_birth", "postcode")}


class Records:
    """The columns of one agency's records, from a data set's rows, and the rows of new records."""

    def __init__(self, ring: crypto.Keyring, *, agency_id: uuid.UUID, now: dt.datetime,
                 areas: dict[str, uuid.UUID], localities: dict[str, str] | None = None,
                 new_id: Callable[[], uuid.UUID] | None = None) -> None:
        self.ring = ring
        self.agency_id = agency_id
        self.now = now
        self.areas = areas  # area name -> id
        self.localities = localities or {}  # the partnership's localities: locality_key(name) -> name
        self.new_id = new_id or Ids()
        self.digests = Digests(ring, agency_id)

    # --- the row's values, as the record's columns --------------------------------

    def locality(self, value: str | None) -> str | None:
        """A locality as the partnership's list spells it (the check refuses one not in the list)."""
        return None if value is None else self.localities.get(locality_key(value), value)

    def person(self, v: dict[str, Any]) -> dict[str, Any]:
        return {"surname": v["surname"], "forenames": v["forenames"], "date_of_birth": v["date_of_birth"],
                "postcode": v["postcode"], "gender": v["gender"], "mental_health": v["mental_health"],
                "substance_misuse": v["substance_misuse"], "complex_needs": v["complex_needs"]}

    def incident(self, v: dict[str, Any]) -> dict[str, Any]:
        return {"occurred_on": v["occurred_on"], "category": v["category"], "domestic_abuse": v["domestic_abuse"],
                "recorded_by": v["recorded_by"], "locality": self.locality(v["locality"]),
                "area_id": self.areas[v["area"]] if v["area"] is not None else None,
                "rural": v["rural"], "alcohol": v["alcohol"], "drugs": v["drugs"],
                "mental_health": v["mental_health"], "asb_type": v["asb_type"], "reported_on": v["reported_on"]}

    def referral(self, v: dict[str, Any], person_id: uuid.UUID) -> dict[str, Any]:
        return {"person_id": person_id, "type": v["type"], "referred_on": v["referred_on"],
                "started_on": v["started_on"], "ended_on": v["ended_on"], "outcome": v["outcome"],
                "criteria": v["criteria"], "dash_score": v["dash_score"],
                "mappa_category": v["mappa_category"], "mappa_level": v["mappa_level"]}

    def activity(self, v: dict[str, Any]) -> dict[str, Any]:
        return {"occurred_on": v["occurred_on"], "kind": v["kind"], "friends_recruited": v["friends_recruited"],
                "savings_pence": v["savings_gbp"]}

    def party(self, v: dict[str, Any], incident_id: uuid.UUID, person_id: uuid.UUID) -> dict[str, Any]:
        """A new party's row."""
        return {"id": self.new_id(), "incident_id": incident_id, "person_id": person_id,
                "role": v["role"], "cj_status": v["cj_status"], "created_at": self.now, "updated_at": self.now}

    # --- derived and sealed values ---------------------------------------------------

    def derived(self, table: Table, values: dict[str, Any]) -> dict[str, Any]:
        """Columns computed from the plain values: a person's blind indexes."""
        if table is not PERSON:
            return {}
        idx = crypto.person_indexes(self.ring, surname=values["surname"], forenames=values["forenames"],
                                    date_of_birth=values["date_of_birth"], postcode=values["postcode"])
        return {f"bi_{name}": getattr(idx, name) for name in INDEX_FIELDS}

    def seal(self, table: Table, column: str, row_id: uuid.UUID, value: Any) -> bytes | None:
        if value is None:
            return None
        return crypto.seal(self.ring, crypto.encode_plain(value), table=table.name, column=column, row_id=row_id)

    def unseal(self, table: Table, column: str, row_id: uuid.UUID, sealed: bytes | None) -> Any:
        if sealed is None:
            return None
        kind = dt.date if column == "date_of_birth" else str
        return crypto.decode_plain(crypto.unseal(self.ring, sealed, table=table.name, column=column, row_id=row_id),
                                   kind)

    def digest(self, table: Table, row: Row, values: dict[str, Any]) -> bytes:
        """The import digest (`digest`) of the row `values` were made of."""
        return self.digests.row(self.digests.prefix(table.name, row.header), row.cells, context_of(table.name, values))

    # --- a new record ------------------------------------------------------------------

    def new_record(self, table: Table, kind: RecordKind, ref: str, values: dict[str, Any],
                   record_id: uuid.UUID, line: Row) -> tuple[dict[str, Any], dict[str, Any]]:
        """The rows of a new record with the id `record_id`, made of the row `line`, and of its ref."""
        row = {"id": record_id, "created_at": self.now, "updated_at": self.now,
               "owner_agency_id": self.agency_id, **NEW_DEFAULTS[table.name], **values,
               **self.derived(table, values)}
        if "reference" in table.c:
            row["reference"] = new_reference(kind.value)
        for name in SECRETS.get(table.name, ()):
            row[name] = self.seal(table, name, record_id, values[name])
        if table.name in DIGESTED:
            row["import_digest"] = self.digest(table, line, values)
            row["import_digest_at"] = self.now
        ref_row = {"id": self.new_id(), "agency_id": self.agency_id, "kind": kind, "ref": ref,
                   "record_id": record_id, "created_at": self.now, "updated_at": self.now}
        return row, ref_row
