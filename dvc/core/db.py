"""SQLAlchemy base and column types shared by every model."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import cache

from sqlalchemy import JSON, DateTime, MetaData
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached, registry
from sqlalchemy.types import TypeDecorator

# Stable constraint names so that migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Store aware datetimes as naive UTC (SQLite has no zones) and hand them back aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    registry = registry(metadata=MetaData(naming_convention=NAMING),
                        type_annotation_map={datetime: UTCDateTime(), dict: JSON, list: JSON})


def insert_unless_taken(session: Session, model, key: tuple[str, ...], **values):
    """Insert one row and return it as an object, or return None when a row with the same
    unique `key` exists already.

    One statement (INSERT ... ON CONFLICT DO NOTHING RETURNING id) on PostgreSQL and SQLite,
    where a look-up first and a savepoint took four round trips; the object is then made from
    the values as if it had been loaded (no ORM flush, no reading it back). Under PostgreSQL a
    concurrent insert of the same key waits for the other transaction to end."""
    statement = _insert_unless_taken(model.__table__, key, session.get_bind().dialect.name)
    new_id = session.execute(statement, values).scalar()
    if new_id is None:
        return None
    row = model(id=new_id, **values)
    make_transient_to_detached(row)
    session.add(row)
    return row


@cache  # made once per table (SQLAlchemy then skips building it and its cache key)
def _insert_unless_taken(table, key: tuple[str, ...], dialect: str):
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    return (insert(table).on_conflict_do_nothing(index_elements=list(key))
            .returning(table.c.id))
