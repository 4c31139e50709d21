"""orders.csv (issue 17 §2; docs/data-exchange.md, "orders.csv"): checking its references, writing
its orders for the importing agency, and exporting them.

An order's row names its person and the incidents that led to it by ref (`incident_refs`, separated
by `;`); the importing agency holds every order it imports. Conditions are not in the file: free
text of several lines, kept encrypted in Casework and written on the order's page. Breaches are not
in it either. An order whose record exists is updated by a new import unless another agency holds
it or its person is restricted (then it is left as it is: counted as protected).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update

from ..models import Order, OrderIncident, RecordKind
from .bulk import insert_rows
from .records import INCIDENT, PERSON, SOURCE_REF
from .schema import ORDERS
from .usable import NOT_USABLE

if TYPE_CHECKING:
    from .importer import Writer
    from .reader import Row

ORDER = Order.__table__
ORDER_INCIDENT = OrderIncident.__table__
FIELDS = ("kind", "status", "applied_on", "issued_on", "served_on", "expires_on", "review_on")


def check_references(rows: Iterable[Row], *, need: Callable[[RecordKind, str, str, int, str], None],
                     people: set[str], incidents: set[str], people_usable: bool, incidents_usable: bool,
                     refs_seen: set[str], problems: Any) -> None:
    """The first pass over orders.csv (`casework.exchange.validate`): a ref given twice, and each
    person and incident ref not in the data set handed to `need` (looked up among the agency's)."""
    for row in rows:
        v = row.values
        if v["order_ref"] is not None:
            if v["order_ref"] in refs_seen:
                problems.add(ORDERS.name, row.line, "order_ref", f"{v['order_ref']} is given more than once in {ORDERS.name}")
            refs_seen.add(v["order_ref"])
        if v["person_ref"] is not None and v["person_ref"] not in people and people_usable:
            need(RecordKind.PERSON, v["person_ref"], ORDERS.name, row.line, "person_ref")
        for ref in v["incident_refs"] or ():
            if ref not in incidents and incidents_usable:
                need(RecordKind.INCIDENT, ref, ORDERS.name, row.line, "incident_refs")


def write_orders(writer: Writer) -> None:
    """The second pass: orders.csv's orders created or updated, with their incident links."""
    if ORDERS.name not in writer.files:
        return
    rows = list(writer._rows(ORDERS))
    counts = writer.report.files[ORDERS.name]
    if not rows:
        return
    people = writer._lookup(RecordKind.PERSON, PERSON, list({r.values["person_ref"] for r in rows}))
    incidents = writer._lookup(RecordKind.INCIDENT, INCIDENT,
                               list({ref for r in rows for ref in r.values["incident_refs"]}))
    refused = _not_usable(writer, rows, people, incidents)
    existing = writer._lookup(RecordKind.ORDER, ORDER, [r.values["order_ref"] for r in rows])
    free, _taken = writer._generated_ids(ORDER, [r.values["order_ref"] for r in rows
                                                 if r.values["order_ref"] not in existing])
    current = {r.id: r for r in writer.session.execute(select(ORDER).where(ORDER.c.id.in_(list(existing.values()))))}
    restricted = set(writer.session.scalars(select(PERSON.c.id).where(
        PERSON.c.id.in_([r.person_id for r in current.values()]), PERSON.c.restricted.is_(True))))
    # The incidents each existing order is linked to, in one query (a re-import names every order).
    linked: dict[uuid.UUID, set[uuid.UUID]] = {}
    for order_id, incident_id in writer.session.execute(select(ORDER_INCIDENT.c.order_id, ORDER_INCIDENT.c.incident_id)
                                                        .where(ORDER_INCIDENT.c.order_id.in_(list(current)))):
        linked.setdefault(order_id, set()).add(incident_id)
    inserts: list[dict[str, Any]] = []
    refs: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    relinked: list[uuid.UUID] = []
    for row in rows:
        v = row.values
        if row.line in refused:
            continue
        values = {name: v[name] for name in FIELDS} | {"person_id": people[v["person_ref"]]}
        order_id = existing.get(v["order_ref"])
        wanted = {incidents[ref] for ref in v["incident_refs"]}
        if order_id is not None and order_id in current:
            old = current[order_id]
            if old.owner_agency_id != writer.agency_id or old.person_id in restricted:
                counts.protected += 1
                continue
            have = linked.get(order_id, set())
            # Links to an incident the import leaves as it is (restricted, or another agency's) are
            # kept: an export leaves them out (casework.exchange.exporter), and importing it back
            # must not unlink them.
            wanted |= writer._protected(INCIDENT, list(have - wanted)) if have - wanted else set()
            changed = {k: val for k, val in values.items() if getattr(old, k) != val}
            if not changed and have == wanted:
                counts.unchanged += 1
                continue
            if changed:
                writer.session.execute(update(ORDER).where(ORDER.c.id == order_id).values(
                    **changed, updated_at=writer.now, version=ORDER.c.version + 1))
            relinked.append(order_id)
            counts.updated += 1
        else:
            order_id = free.get(v["order_ref"])
            if order_id is not None:
                writer.generated.add(order_id)
            else:
                order_id = writer.new_id()
            inserts.append({"id": order_id, "created_at": writer.now, "updated_at": writer.now,
                            "owner_agency_id": writer.agency_id, "conditions": None, "recorded_by_id": None,
                            "version": 1, **values})
            refs.append({"id": writer.new_id(), "agency_id": writer.agency_id, "kind": RecordKind.ORDER,
                         "ref": v["order_ref"], "record_id": order_id, "created_at": writer.now,
                         "updated_at": writer.now})
            counts.created += 1
        links += [{"id": writer.new_id(), "order_id": order_id, "incident_id": incident_id,
                   "created_at": writer.now, "updated_at": writer.now} for incident_id in sorted(wanted)]
    if relinked:
        writer.session.execute(delete(ORDER_INCIDENT).where(ORDER_INCIDENT.c.order_id.in_(relinked)))
    if inserts:
        # A ref whose order no longer exists is given to the new order.
        writer.session.execute(delete(SOURCE_REF).where(
            SOURCE_REF.c.agency_id == writer.agency_id, SOURCE_REF.c.kind == RecordKind.ORDER,
            SOURCE_REF.c.ref.in_([r["ref"] for r in refs])))
        insert_rows(writer.session, ORDER, inserts, now=writer.now)
        insert_rows(writer.session, SOURCE_REF, refs, now=writer.now)
    insert_rows(writer.session, ORDER_INCIDENT, links, now=writer.now)
    writer._written(ORDERS, len(rows))


def _not_usable(writer: Writer, rows: list[Row], people: dict[str, uuid.UUID],
                incidents: dict[str, uuid.UUID]) -> set[int]:
    """The lines naming, by an export's `casework:<id>` ref, a person or an incident of another
    agency that the importing agency may not use (as parties and referrals are refused)."""
    named_people = {people[r.values["person_ref"]] for r in rows if writer._named_existing(
        r.values["person_ref"], people[r.values["person_ref"]])}
    named_incidents = {incidents[ref] for r in rows for ref in r.values["incident_refs"]
                       if writer._named_existing(ref, incidents[ref])}
    ok_people = writer.usable.linkable_people(named_people) if named_people else set()
    ok_incidents = writer.usable.records(RecordKind.INCIDENT, named_incidents) if named_incidents else set()
    refused: set[int] = set()
    for row in rows:
        person_id = people[row.values["person_ref"]]
        if person_id in named_people and person_id not in ok_people:
            writer.not_usable.add(ORDERS.name, row.line, "person_ref", NOT_USABLE)
            refused.add(row.line)
        if any(incidents[ref] in named_incidents and incidents[ref] not in ok_incidents
               for ref in row.values["incident_refs"]):
            writer.not_usable.add(ORDERS.name, row.line, "incident_refs", NOT_USABLE)
            refused.add(row.line)
    return refused


def export_rows(session: Any, *, ref: Callable[[RecordKind, uuid.UUID], str], mine: Any, incident_filter: Any,
                survivor: Callable[[uuid.UUID], uuid.UUID]) -> tuple[list[list[Any]], set[uuid.UUID]]:
    """The export's orders.csv rows (the orders `mine` selects, of people who are not restricted),
    naming only incidents the export writes too; and the people they name (for people.csv)."""
    exported_incidents = select(INCIDENT.c.id).where(incident_filter)
    linked: dict[uuid.UUID, list[str]] = {}
    for order_id, incident_id in session.execute(
            select(ORDER_INCIDENT.c.order_id, ORDER_INCIDENT.c.incident_id)
            .where(ORDER_INCIDENT.c.incident_id.in_(exported_incidents))):
        linked.setdefault(order_id, []).append(ref(RecordKind.INCIDENT, incident_id))
    rows, people = [], set()
    query = (select(ORDER).join(PERSON, PERSON.c.id == ORDER.c.person_id)
             .where(mine, PERSON.c.restricted.is_(False)))
    for o in session.execute(query):
        person_id = survivor(o.person_id)
        people.add(person_id)
        rows.append([ref(RecordKind.ORDER, o.id), ref(RecordKind.PERSON, person_id), o.kind, o.status,
                     o.applied_on, o.issued_on, o.served_on, o.expires_on, o.review_on,
                     ";".join(sorted(linked.get(o.id, []))) or None])
    return rows, people
