"""Orders and powers (issue 17 §2): the notices, orders and agreements partners use against
anti-social behaviour, domestic abuse and stalking, each of one person, held by one agency, with its
dates, conditions (encrypted), status, the incidents that led to it and the breaches recorded
against it. An order is seen by whoever may see its person (casework.policy.can_view_order)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Self

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Secret, enum_column
from .vocab import Labelled

ASBCPA = "Anti-social Behaviour, Crime and Policing Act 2014"


class OrderKind(Labelled):
    """The kinds of order or power, each with the law it comes from (`statute`) and its short name."""

    statute: str
    short: str

    def __new__(cls, value: str, label: str | None = None, short: str = "", statute: str = "") -> Self:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label or value
        obj.short = short
        obj.statute = statute
        return obj

    CPW = ("cpw", "Community protection warning", "CPW", f"{ASBCPA}, s.43(5)")
    CPN = ("cpn", "Community protection notice", "CPN", f"{ASBCPA}, s.43")
    FPN = ("fpn", "Fixed penalty notice", "FPN",
           f"{ASBCPA}, s.52 (a community protection notice) or s.68 (a public spaces protection order)")
    ABC = ("abc", "Acceptable behaviour contract", "ABC",
           "None: a voluntary written agreement (Home Office statutory guidance on the 2014 Act)")
    CIVIL_INJUNCTION = ("civil_injunction", "Civil injunction", "Injunction", f"{ASBCPA}, Part 1, s.1")
    CBO = ("cbo", "Criminal behaviour order", "CBO", f"{ASBCPA}, s.22")
    CLOSURE_NOTICE = ("closure_notice", "Closure notice", "Closure notice", f"{ASBCPA}, s.76")
    CLOSURE_ORDER = ("closure_order", "Closure order", "Closure order", f"{ASBCPA}, s.80")
    DVPN = ("dvpn", "Domestic violence protection notice", "DVPN", "Crime and Security Act 2010, s.24")
    DVPO = ("dvpo", "Domestic violence protection order", "DVPO", "Crime and Security Act 2010, s.28")
    DAPN = ("dapn", "Domestic abuse protection notice", "DAPN", "Domestic Abuse Act 2021, s.22")
    DAPO = ("dapo", "Domestic abuse protection order", "DAPO",
            "Domestic Abuse Act 2021, s.28 (on application) or s.31 (in other proceedings)")
    SPO = ("spo", "Stalking protection order", "SPO", "Stalking Protection Act 2019, s.2")
    INTERIM_SPO = ("interim_spo", "Interim stalking protection order", "Interim SPO",
                   "Stalking Protection Act 2019, s.5")
    RESTRAINING_ORDER = ("restraining_order", "Restraining order", "Restraining order",
                         ("Sentencing Act 2020, s.360 (on conviction) or Protection from Harassment Act 1997, "
                          "s.5A (on acquittal)"))
    NON_MOLESTATION = ("non_molestation", "Non-molestation order", "Non-molestation order",
                       "Family Law Act 1996, s.42")


class OrderStatus(Labelled):
    IN_FORCE = "in_force", "In force"
    VARIED = "varied", "Varied"
    DISCHARGED = "discharged", "Discharged"
    EXPIRED = "expired", "Expired"


class Order(Base):
    """One order or power given to a person. `owner_agency_id` is the agency that holds it."""

    __tablename__ = "order_power"
    __table_args__ = (Index("ix_order_power_issued_on_kind", "issued_on", "kind"),)

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[OrderKind] = enum_column(OrderKind)
    owner_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    applied_on: Mapped[dt.date | None]
    issued_on: Mapped[dt.date | None]  # made (by a court) or issued (a notice, a warning)
    served_on: Mapped[dt.date | None]
    expires_on: Mapped[dt.date | None] = mapped_column(index=True)
    review_on: Mapped[dt.date | None] = mapped_column(index=True)
    status: Mapped[OrderStatus] = enum_column(OrderStatus, default=OrderStatus.IN_FORCE)
    conditions = Secret(str)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    person = relationship("Person")
    incidents: Mapped[list[OrderIncident]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    breaches: Mapped[list[OrderBreach]] = relationship(cascade="all, delete-orphan", passive_deletes=True,
                                                       order_by="OrderBreach.breached_on")

    __mapper_args__ = {"version_id_col": version}


class OrderIncident(Base):
    """An incident that led to an order."""

    __tablename__ = "order_incident"
    __table_args__ = (UniqueConstraint("order_id", "incident_id"),)

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order_power.id", ondelete="CASCADE"))
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), index=True)


class OrderBreach(Base):
    """A breach of an order, on a date, optionally the incident it was recorded as."""

    __tablename__ = "order_breach"

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order_power.id", ondelete="CASCADE"), index=True)
    # The order's person again: what a person's erasure and merge reach (both follow the foreign keys
    # to a person, one level deep), so the account goes with them.
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    breached_on: Mapped[dt.date]
    incident_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("incident.id", ondelete="SET NULL"))
    details = Secret(str)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
