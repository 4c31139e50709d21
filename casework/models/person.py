from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, event, text
from sqlalchemy.orm import Mapped, mapped_column

from .. import crypto
from .base import Base, ImportDigest, Secret, enum_column
from .reference import COLUMN_LENGTH, default_for
from .vocab import Gender

SEARCHED_INDEXES = ("surname", "full_name", "phonetic", "dob", "postcode",
                    "surname_part1", "surname_part2", "surname_part3", "forename")
SPARSE_INDEXES = ("surname_part1", "surname_part2", "surname_part3")
INDEX_FIELDS = tuple(f.name for f in dataclasses.fields(crypto.PersonIndexes))


def _only_set(name: str) -> dict[str, Any]:
    """A sparse blind index's condition on both databases (only the rows with a value); none for the others."""
    if name not in SPARSE_INDEXES:
        return {}
    return {"sqlite_where": text(f"bi_{name} IS NOT NULL"), "postgresql_where": text(f"bi_{name} IS NOT NULL")}


class Person(ImportDigest, Base):
    """One identity across the partnership. Names, dates of birth, addresses and contact details
    are encrypted; blind indexes let us find a person without decrypting anyone else."""

    __tablename__ = "person"

    surname = Secret(str, nullable=False)
    forenames = Secret(str)
    date_of_birth = Secret(dt.date)
    postcode = Secret(str)
    address = Secret(str)
    phone = Secret(str)
    email = Secret(str)
    safe_contact = Secret(str)  # when and how it is safe to contact them
    # Equality information (special category data), asked with the person's agreement and only then
    # kept by the equality service; the values are casework.models.equality's codes.
    ethnicity = Secret(str)
    disability = Secret(str)
    sexual_orientation = Secret(str)
    gender_identity = Secret(str)
    equality_agreed_on: Mapped[dt.date | None]

    gender: Mapped[Gender | None] = enum_column(Gender, nullable=True)
    do_not_disclose_address: Mapped[bool] = mapped_column(default=False)
    mental_health: Mapped[bool] = mapped_column(default=False)
    substance_misuse: Mapped[bool] = mapped_column(default=False)
    complex_needs: Mapped[bool] = mapped_column(default=False)
    restricted: Mapped[bool] = mapped_column(default=False)

    owner_agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"))
    version: Mapped[int] = mapped_column(default=1)
    # The short reference people read and type (casework.models.reference), unique.
    reference: Mapped[str] = mapped_column(String(COLUMN_LENGTH), default=default_for("person"), index=True, unique=True)

    # Blind indexes (see casework.crypto): HMACs of normalised values.
    bi_surname: Mapped[bytes | None] = mapped_column(LargeBinary(8))
    bi_full_name: Mapped[bytes | None] = mapped_column(LargeBinary(8))
    bi_phonetic: Mapped[bytes | None] = mapped_column(LargeBinary(8))
    bi_dob: Mapped[bytes | None] = mapped_column(LargeBinary(8))
    bi_postcode: Mapped[bytes | None] = mapped_column(LargeBinary(8))
    bi_phonetic_yob: Mapped[bytes | None] = mapped_column(LargeBinary(8), index=True)
    # Each part of a surname of two or more parts (at most three), and the first forename.
    bi_surname_part1: Mapped[bytes | None] = mapped_column(LargeBinary(8))
    bi_surname_part2: Mapped[bytes | None] = mapped_column(LargeBinary(8))
    bi_surname_part3: Mapped[bytes | None] = mapped_column(LargeBinary(8))
    bi_forename: Mapped[bytes | None] = mapped_column(LargeBinary(8))

    # A search lists one blind-index value's people newest first (the people search service):
    # with the record's date in the index that is a range scan that stops after a page, and a count
    # that never reads the table, however common the name; with `restricted` too, the count that
    # leaves out restricted people (a notice, never a result) reads the table for those alone.
    # A surname's parts are there for a few people in a hundred: their indexes hold only those (a
    # lookup `= ?` implies IS NOT NULL, so both databases use them; with every NULL in it, SQLite's
    # statistics made a full index look unselective and it scanned the table instead).
    __table_args__ = tuple(Index(f"ix_person_bi_{name}", f"bi_{name}", "created_at", "restricted",
                                 **_only_set(name))
                           for name in SEARCHED_INDEXES) + (
        # the records merged into a person (an ASB case review's victim): the few merged ones only
        Index("ix_person_merged_into_id", "merged_into_id", sqlite_where=text("merged_into_id IS NOT NULL"),
              postgresql_where=text("merged_into_id IS NOT NULL")),)
    __mapper_args__ = {"version_id_col": version}

    def refresh_indexes(self, ring: crypto.Keyring | None = None) -> None:
        idx = crypto.person_indexes(
            ring or crypto.current(),
            surname=self.surname, forenames=self.forenames,
            date_of_birth=self.date_of_birth, postcode=self.postcode,
        )
        merged = self.merged_into_id is not None  # a merged record never matches a search again
        for name in INDEX_FIELDS:
            setattr(self, f"bi_{name}", None if merged else getattr(idx, name))

    @property
    def display_name(self) -> str:
        return f"{self.forenames} {self.surname}" if self.forenames else (self.surname or "")


@event.listens_for(Person, "before_insert")
@event.listens_for(Person, "before_update")
def _index_person(_mapper: object, _conn: object, person: Person) -> None:
    person.refresh_indexes()
